/** Builds valid event envelopes (and the authority plane's payloads) for tests, with per-session seqs like the runtime's. */
import type { SessionSummary } from '../../../shared/commands';
import {
  EVENT_CLASS,
  type EmittedEventType,
  type EnvelopeOf,
  type EventEnvelope,
  type EventPayload,
} from '../../../shared/protocol';
import type { ScenarioSummary } from '../../../shared/scenario';
import {
  RULE_IDS,
  type Action,
  type CommitSummary,
  type PatchOperation,
  type RuleId,
  type Verdict,
  type WorldState,
} from '../../../shared/world';

export const MODEL = { backend: 'scripted', model_id: 'test-npc' } as const;
export const HASH = 'ab'.repeat(32);
/** World state hashes: before and after the first commit. */
export const STATE_0 = '00'.repeat(32);
export const STATE_1 = '11'.repeat(32);
export const STATE_2 = '22'.repeat(32);

export interface EnvelopeFactory {
  <T extends EmittedEventType>(type: T, turnId: string | null, payload: EventPayload<T>): EnvelopeOf<T>;
  /** The seq the next envelope will get. */
  readonly nextSeq: number;
}

export function envelopes(sessionId = 's1', firstSeq = 1): EnvelopeFactory {
  let seq = firstSeq - 1;
  const make = <T extends EmittedEventType>(type: T, turnId: string | null, payload: EventPayload<T>) => {
    seq++;
    return {
      v: 1,
      event_id: `${sessionId}.${seq}`,
      seq,
      session_id: sessionId,
      turn_id: turnId,
      timestamp: 1_700_000_000_000 + seq,
      type,
      class: EVENT_CLASS[type],
      payload,
    } as unknown as EnvelopeOf<T>;
  };
  return Object.defineProperty(make, 'nextSeq', { get: () => seq + 1 }) as EnvelopeFactory;
}

export const SELL_KEY: Action = { kind: 'sell_item', item: 'room_key', to: 'player', count: 1, price: 4 };
export const BRIBE: Action = { kind: 'give_coin', to: 'player', amount: 50 };

/** The patch selling one room key for 4 coin, as the runtime's extensions write it. */
export const SELL_KEY_PATCH: PatchOperation[] = [
  { op: 'test', path: '/inventories/mira/items/room_key', value: 3 },
  { op: 'replace', path: '/inventories/mira/items/room_key', value: 2 },
  { op: 'add', path: '/inventories/player/items/room_key', value: 1 },
  { op: 'test', path: '/inventories/player/coin', value: 12 },
  { op: 'replace', path: '/inventories/player/coin', value: 8 },
];

/** One verdict per rule; the rules in `failing` fail with `message`. */
export function verdicts(failing: Partial<Record<RuleId, string>> = {}): Verdict[] {
  return RULE_IDS.map((rule) => {
    const message = failing[rule];
    return message === undefined
      ? { rule, ok: true, message: 'ok', failures: [] }
      : { rule, ok: false, message, failures: [{ action_index: 0, message }] };
  });
}

export function committedPayload(
  commitSeq: number,
  text: string,
  patch: PatchOperation[] = [],
): EventPayload<'commit_succeeded'> {
  return {
    commit_seq: commitSeq,
    provenance_hash: HASH,
    text,
    state_hash: STATE_1,
    state_hash_before: STATE_0,
    patch,
    verdicts: verdicts(),
  };
}

export function failedPayload(
  failing: Partial<Record<RuleId, string>> = {
    'turn-limits': '50 coin given away; the limit is 20 per turn',
  },
  commitSeq: number | null = 1,
): EventPayload<'commit_failed'> {
  return {
    code: 'governance_failed',
    message: Object.values(failing).join('; '),
    stage: 'governance',
    verdicts: verdicts(failing),
    commit_seq: commitSeq,
    provenance_hash: commitSeq === null ? null : HASH,
    state_hash: STATE_0,
  };
}

/** A turn that streams `tokens` and then ends with a preview and a commit (no actions). */
export function committedTurn(
  ev: EnvelopeFactory,
  turnId: string,
  playerText: string,
  tokens: readonly string[],
  commitSeq = 1,
): EventEnvelope[] {
  const text = tokens.join('');
  return [
    ev('turn_accepted', turnId, { text: playerText, model: MODEL }),
    ...tokens.map((t, index) => ev('token_delta', turnId, { index, text: t })),
    ev('turn_final', turnId, { text, token_count: tokens.length, proposals: [], proposal_errors: [] }),
    ev('commit_succeeded', turnId, committedPayload(commitSeq, text)),
  ];
}

export function sessionSummary(
  id: string,
  createdAt = 1,
  overrides: Partial<SessionSummary> = {},
): SessionSummary {
  return {
    session_id: id,
    scenario_id: 'wayside-inn',
    npc_id: 'mira',
    created_at: createdAt,
    last_seq: 0,
    active_turn_id: null,
    ...overrides,
  };
}

export const SCENARIO: ScenarioSummary = {
  scenario_id: 'wayside-inn',
  title: 'The Wayside Inn',
  description: '',
  content_hash: HASH,
  default_npc: 'mira',
  player: 'player',
  currency: 'silver',
  npcs: [
    { npc_id: 'mira', name: 'Mira Thornbury', model: MODEL, actions: ['sell_item', 'give_coin'] },
    { npc_id: 'wren', name: 'Wren', model: MODEL, actions: ['give_item'] },
  ],
  characters: { player: { name: 'Traveller' }, mira: { name: 'Mira Thornbury' }, wren: { name: 'Wren' } },
  items: { room_key: { name: 'Room key' }, stew: { name: 'Bowl of stew' } },
  quests: { rat_trouble: { title: 'Rats in the Cellar' } },
};

export const WORLD: WorldState = {
  inventories: {
    player: { coin: 12, items: { walking_staff: 1 } },
    mira: { coin: 60, items: { room_key: 3, stew: 12 } },
  },
  flags: { rats_in_cellar: true, stew_of_the_day: 'mutton' },
  relationships: { mira: { player: 5 } },
  quests: { rat_trouble: { status: 'available' } },
};

export function commitSummary(
  commitSeq: number,
  outcome: 'committed' | 'failed' = 'committed',
  sessionId = 's1',
): CommitSummary {
  return {
    commit_seq: commitSeq,
    session_id: sessionId,
    turn_id: `t${commitSeq}`,
    outcome,
    provenance_hash: HASH,
    record: { v: 2, commit_seq: commitSeq, outcome, patch: outcome === 'committed' ? SELL_KEY_PATCH : [] },
  };
}
