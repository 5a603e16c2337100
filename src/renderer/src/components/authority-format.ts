/**
 * How the authority plane's data reads in the inspector: actions as short chips, JSON Patch
 * operations as one line each, values as compact JSON. Pure functions, tested without React.
 */
import { z } from 'zod';
import { Sha256Hex } from '../../../shared/common';
import type { ScenarioSummary } from '../../../shared/scenario';
import { CommitStage, PatchOperation, type Action } from '../../../shared/world';

/** A scenario's display names; ids stand in where a name is unknown (or no scenario is loaded). */
export interface Names {
  character(id: string): string;
  item(id: string): string;
  quest(id: string): string;
  readonly currency: string;
}

export function namesOf(scenario: ScenarioSummary | undefined): Names {
  return {
    character: (id) => scenario?.characters[id]?.name ?? id,
    item: (id) => scenario?.items[id]?.name ?? id,
    quest: (id) => scenario?.quests[id]?.title ?? id,
    currency: scenario?.currency ?? 'coin',
  };
}

export interface ActionText {
  /** Compact, with ids as the model wrote them: `sell_item room_key → player (4)`. */
  readonly label: string;
  /** A sentence with display names, for the tooltip. */
  readonly title: string;
}

const times = (count: number): string => (count === 1 ? '' : ` ×${count}`);
const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

/** `actor` is the proposing NPC's character name: it gives, sells and feels. */
export function describeAction(action: Action, names: Names, actor: string): ActionText {
  const c = names.currency;
  switch (action.kind) {
    case 'give_item':
      return {
        label: `give_item ${action.item}${times(action.count)} → ${action.to}`,
        title: `${actor} gives ${action.count} × ${names.item(action.item)} to ${names.character(action.to)}`,
      };
    case 'sell_item':
      return {
        label: `sell_item ${action.item}${times(action.count)} → ${action.to} (${action.price})`,
        title: `${actor} sells ${action.count} × ${names.item(action.item)} to ${names.character(action.to)} for ${action.price} ${c}`,
      };
    case 'give_coin':
      return {
        label: `give_coin ${action.amount} → ${action.to}`,
        title: `${actor} pays ${action.amount} ${c} to ${names.character(action.to)}`,
      };
    case 'adjust_relationship':
      return {
        label: `adjust_relationship ${action.toward} ${signed(action.delta)}`,
        title: `${actor}'s feeling toward ${names.character(action.toward)} changes by ${signed(action.delta)}`,
      };
    case 'start_quest':
    case 'complete_quest':
    case 'fail_quest': {
      const verb = { start_quest: 'starts', complete_quest: 'completes', fail_quest: 'fails' }[action.kind];
      return {
        label: `${action.kind} ${action.quest}`,
        title: `${actor} ${verb} the quest “${names.quest(action.quest)}”`,
      };
    }
    case 'set_flag':
      return {
        label: `set_flag ${action.flag} = ${formatValue(action.value)}`,
        title: `${actor} sets the flag ${action.flag} to ${formatValue(action.value)}`,
      };
  }
}

const VALUE_MAX = 80;

/** Compact JSON, shortened to one readable line. */
export function formatValue(value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) return String(value);
  return json.length > VALUE_MAX ? `${json.slice(0, VALUE_MAX - 1)}…` : json;
}

export interface PatchLine {
  readonly op: PatchOperation['op'];
  readonly path: string;
  /** `12 → 8`, `+ 1`, `(was 3)`, `= 3`, `from /a`: what the op does at `path`. */
  readonly change: string;
  /** `test` ops only guard the others (they assert the value the change starts from). */
  readonly guard: boolean;
}

/**
 * One line per operation. A `replace` or `remove` right after a `test` of the same path reads as a
 * change from the tested value: `replace /inventories/player/coin 12 → 8`.
 */
export function describePatch(patch: readonly PatchOperation[]): PatchLine[] {
  return patch.map((op, i) => {
    const previous = patch[i - 1];
    const before = previous?.op === 'test' && previous.path === op.path ? formatValue(previous.value) : null;
    switch (op.op) {
      case 'replace':
        return {
          op: op.op,
          path: op.path,
          change: before === null ? `→ ${formatValue(op.value)}` : `${before} → ${formatValue(op.value)}`,
          guard: false,
        };
      case 'remove':
        return { op: op.op, path: op.path, change: before === null ? '' : `(was ${before})`, guard: false };
      case 'add':
        return { op: op.op, path: op.path, change: formatValue(op.value), guard: false };
      case 'test':
        return { op: op.op, path: op.path, change: `= ${formatValue(op.value)}`, guard: true };
      case 'move':
      case 'copy':
        return { op: op.op, path: op.path, change: `from ${op.from}`, guard: false };
    }
  });
}

/** The whole line as text, e.g. for copying or a tooltip. */
export function patchLineText(line: PatchLine): string {
  return [line.op, line.path, line.change].filter((part) => part !== '').join(' ');
}

const RecordFacts = z.object({
  patch: z.array(PatchOperation).catch([]),
  committed_at: z.number().nullable().catch(null),
  state_hash_before: Sha256Hex.nullable().catch(null),
  state_hash_after: Sha256Hex.nullable().catch(null),
  failure: z.object({ stage: CommitStage, code: z.string(), message: z.string() }).nullable().catch(null),
});

export type RecordFacts = z.infer<typeof RecordFacts>;

/**
 * What the timeline shows of a provenance record. Records are read defensively: version 1 records
 * (before world state) lack most fields, and a field that does not read is shown as absent.
 */
export function recordFacts(record: Readonly<Record<string, unknown>>): RecordFacts {
  return RecordFacts.parse({
    patch: record['patch'],
    committed_at: record['committed_at'] ?? null,
    state_hash_before: record['state_hash_before'] ?? null,
    state_hash_after: record['state_hash_after'] ?? null,
    failure: record['failure'] ?? null,
  });
}
