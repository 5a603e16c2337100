/**
 * The Models view's two forms: the pool's limits (shown in MiB and seconds, sent in bytes and ms) and
 * one NPC's model and sampling. What an edited draft amounts to as a change. Pure functions, tested
 * without React. Ranges are the runtime's to check (its refusal names the limits); the forms only
 * catch entries that are not numbers.
 */
import type { ModelRef } from '../../../shared/common';
import type {
  ModelPoolConfig,
  ModelPoolConfigPatch,
  NpcModelSetting,
  NpcSampling,
  NpcSamplingPatch,
} from '../../../shared/models';
import type { NpcSettingsChange } from '../app/inspector';
import { modelKey, sameModel } from '../store/models-reducer';

// ---------------------------------------------------------------------------------------------
// Pool limits

export type PoolFieldKey = 'max_loaded' | 'memory_budget_mib' | 'idle_ttl_s' | 'prewarm';

export interface PoolField {
  readonly key: PoolFieldKey;
  readonly label: string;
  readonly kind: 'number' | 'boolean';
  readonly hint: string;
}

export const POOL_FIELDS: readonly PoolField[] = [
  { key: 'max_loaded', label: 'Most models loaded', kind: 'number', hint: '1–64, across all sessions' },
  {
    key: 'memory_budget_mib',
    label: 'Memory budget (MiB)',
    kind: 'number',
    hint: 'RAM of the loaded models',
  },
  { key: 'idle_ttl_s', label: 'Idle unload after (s)', kind: 'number', hint: '0 keeps models until evicted' },
  {
    key: 'prewarm',
    label: 'Predictive prewarm',
    kind: 'boolean',
    hint: 'session open, NPC selected, typing',
  },
];

export type PoolDraft = Partial<Record<PoolFieldKey, string | boolean>>;

const MIB = 1024 ** 2;

/** The config's value in the form's unit. */
function poolConfigValue(config: ModelPoolConfig, key: PoolFieldKey): number | boolean {
  switch (key) {
    case 'max_loaded':
      return config.max_loaded;
    case 'memory_budget_mib':
      return Math.round((config.memory_budget_bytes / MIB) * 100) / 100;
    case 'idle_ttl_s':
      return config.idle_ttl_ms / 1_000;
    case 'prewarm':
      return config.prewarm;
  }
}

/** The value the form shows: the draft's, else the config's. */
export function poolFieldValue(
  config: ModelPoolConfig,
  draft: PoolDraft,
  key: PoolFieldKey,
): string | boolean {
  const edited = draft[key];
  if (edited !== undefined) return edited;
  const value = poolConfigValue(config, key);
  return typeof value === 'boolean' ? value : String(value);
}

export interface PoolDraftChanges {
  /** Only the limits whose drafted value differs from the config's, in the command's units. */
  changes: ModelPoolConfigPatch;
  errors: string[];
}

export function poolDraftChanges(config: ModelPoolConfig, draft: PoolDraft): PoolDraftChanges {
  const changes: ModelPoolConfigPatch = {};
  const errors: string[] = [];
  for (const field of POOL_FIELDS) {
    const edited = draft[field.key];
    if (edited === undefined) continue;
    if (field.kind === 'boolean') {
      if ((edited === true) !== config.prewarm) changes.prewarm = edited === true;
      continue;
    }
    const value = parseNumber(edited);
    if (value === null) {
      errors.push(`${field.label}: “${String(edited).trim()}” is not a number`);
      continue;
    }
    if (value === poolConfigValue(config, field.key)) continue;
    if (field.key === 'max_loaded') changes.max_loaded = value;
    else if (field.key === 'memory_budget_mib') changes.memory_budget_bytes = Math.round(value * MIB);
    else changes.idle_ttl_ms = Math.round(value * 1_000);
  }
  return { changes, errors };
}

function parseNumber(text: string | boolean): number | null {
  const trimmed = String(text).trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

// ---------------------------------------------------------------------------------------------
// One NPC's model and sampling

export type SamplingKey = keyof NpcSampling;

export const SAMPLING_FIELDS: readonly {
  readonly key: SamplingKey;
  readonly label: string;
  readonly step: number;
}[] = [
  { key: 'temperature', label: 'temperature', step: 0.05 },
  { key: 'top_p', label: 'top_p', step: 0.01 },
  { key: 'max_tokens', label: 'max_tokens', step: 1 },
  { key: 'seed', label: 'seed', step: 1 },
];

/** What the user picked or typed; absent fields show the setting's values. `model` is a `modelKey`. */
export type NpcDraft = Partial<Record<SamplingKey | 'model', string>>;

/** `backend/model_id` back to a reference: the backend never has a slash, a model id may. */
export function modelFromKey(key: string): ModelRef | null {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) return null;
  return { backend: key.slice(0, slash), model_id: key.slice(slash + 1) };
}

export function npcFieldValue(setting: NpcModelSetting, draft: NpcDraft, key: SamplingKey | 'model'): string {
  const edited = draft[key];
  if (edited !== undefined) return edited;
  return key === 'model' ? modelKey(setting.model) : String(setting.sampling[key]);
}

export interface NpcDraftChange {
  /** Only what differs from the setting: the model, and the sampling fields that changed. */
  change: NpcSettingsChange;
  /** How many fields change. */
  count: number;
  errors: string[];
}

export function npcDraftChange(setting: NpcModelSetting, draft: NpcDraft): NpcDraftChange {
  const change: NpcSettingsChange = {};
  const errors: string[] = [];
  let count = 0;
  if (draft.model !== undefined) {
    const model = modelFromKey(draft.model);
    if (model === null) errors.push(`model: “${draft.model}” is not backend/model_id`);
    else if (!sameModel(model, setting.model)) {
      change.model = model;
      count++;
    }
  }
  const sampling: NpcSamplingPatch = {};
  for (const { key } of SAMPLING_FIELDS) {
    const edited = draft[key];
    if (edited === undefined) continue;
    const value = parseNumber(edited);
    if (value === null) errors.push(`${key}: “${edited.trim()}” is not a number`);
    else if (value !== setting.sampling[key]) {
      sampling[key] = value;
      count++;
    }
  }
  if (Object.keys(sampling).length > 0) change.sampling = sampling;
  return { change, count, errors };
}
