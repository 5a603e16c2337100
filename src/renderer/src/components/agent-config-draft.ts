/**
 * The Agents view's flags form: which flags it edits, with their limits (read from the shared schema),
 * and the change an edited draft amounts to. Pure functions, tested without React.
 */
import { AgentStreamConfig, type AgentStreamConfigPatch } from '../../../shared/agents';

type NumberFlag =
  | 'agentStreamMaxConcurrent'
  | 'agentStreamSpawnThreshold'
  | 'agentStreamTimeoutMs'
  | 'agentStreamMaxSpawnsPerTurn';
type BooleanFlag = 'agentStreamPressureSheddingEnabled';
export type FlagKey = NumberFlag | BooleanFlag;

export type FlagField =
  | {
      readonly kind: 'number';
      readonly key: NumberFlag;
      readonly label: string;
      readonly min: number | null;
      readonly max: number | null;
      readonly step: number;
    }
  | { readonly kind: 'boolean'; readonly key: BooleanFlag; readonly label: string };

function numberField(key: NumberFlag, label: string): FlagField {
  const schema = AgentStreamConfig.shape[key].unwrap();
  return {
    kind: 'number',
    key,
    label,
    min: schema.minValue,
    max: schema.maxValue,
    step: schema.format === 'safeint' ? 1 : 0.05,
  };
}

export const FLAG_FIELDS: readonly FlagField[] = [
  numberField('agentStreamMaxConcurrent', 'Most streams at once'),
  numberField('agentStreamSpawnThreshold', 'Spawn threshold'),
  numberField('agentStreamTimeoutMs', 'Stream timeout (ms)'),
  numberField('agentStreamMaxSpawnsPerTurn', 'Most spawns per turn'),
  {
    kind: 'boolean',
    key: 'agentStreamPressureSheddingEnabled',
    label: 'Shed non-critical streams under HIGH',
  },
];

/** What the user typed or ticked, by flag; a flag left alone is absent (it shows the config's value). */
export type FlagDraft = Partial<Record<FlagKey, string | boolean>>;

/** The value the form shows for a flag: the draft's, else the config's. */
export function flagValue(config: AgentStreamConfig, draft: FlagDraft, key: FlagKey): string | boolean {
  const edited = draft[key];
  if (edited !== undefined) return edited;
  const value = config[key];
  return typeof value === 'boolean' ? value : String(value);
}

export interface DraftChanges {
  /** Only the flags whose drafted value differs from the config's. */
  changes: AgentStreamConfigPatch;
  /** Entries that are not numbers. Ranges are the runtime's to check (it answers with the limits). */
  errors: string[];
}

export function draftChanges(config: AgentStreamConfig, draft: FlagDraft): DraftChanges {
  const changes: AgentStreamConfigPatch = {};
  const errors: string[] = [];
  for (const field of FLAG_FIELDS) {
    const edited = draft[field.key];
    if (edited === undefined) continue;
    if (field.kind === 'boolean') {
      if ((edited === true) !== config[field.key]) changes[field.key] = edited === true;
      continue;
    }
    const text = String(edited).trim();
    const value = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) errors.push(`${field.key}: “${text}” is not a number`);
    else if (value !== config[field.key]) changes[field.key] = value;
  }
  return { changes, errors };
}
