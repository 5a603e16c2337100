/**
 * The authority plane's data: world state, the actions an NPC may propose, governance verdicts,
 * JSON Patches and provenance records. Shared by the runtime (which decides and records them) and
 * the renderer (which shows them). Imports nothing from Node, Electron or the DOM.
 */
import { z } from 'zod';
import { ModelRef, Sha256Hex } from './common';

/** An id inside a scenario: characters, items, flags, quests, NPCs. */
export const Id = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'an id: lowercase letters, digits, _ or -, starting with a letter');
export type Id = z.infer<typeof Id>;

/** Relationship scores run from -100 (hostile) to 100 (devoted). */
export const RELATIONSHIP_MIN = -100;
export const RELATIONSHIP_MAX = 100;

export const FlagValue = z.union([z.boolean(), z.number().int(), z.string().max(200)]);
export type FlagValue = z.infer<typeof FlagValue>;

export const QuestStatus = z.enum(['locked', 'available', 'active', 'completed', 'failed']);
export type QuestStatus = z.infer<typeof QuestStatus>;

export const Inventory = z.object({
  /** Coin held, in the scenario's currency. */
  coin: z.number().int(),
  /** Item id → count held. */
  items: z.record(z.string(), z.number().int()),
});
export type Inventory = z.infer<typeof Inventory>;

/**
 * The mutable part of a world: everything a commit may change. The static part (characters, items,
 * quest definitions, NPCs) stays in the scenario. Its state hash is SHA-256 over its canonical JSON.
 */
export const WorldState = z.object({
  /** Character id → inventory. Every character has one. */
  inventories: z.record(z.string(), Inventory),
  flags: z.record(z.string(), FlagValue),
  /** From character → toward character → score in [-100, 100]. */
  relationships: z.record(z.string(), z.record(z.string(), z.number().int())),
  quests: z.record(z.string(), z.object({ status: QuestStatus })),
});
export type WorldState = z.infer<typeof WorldState>;

// ---------------------------------------------------------------------------------------------
// Actions: what model output may propose (see docs/actions.md). The proposing NPC is always the
// actor: it gives its own items and coin, changes its own feelings.

const Count = z.number().int().positive().max(1_000_000);

export const ACTION_SCHEMAS = {
  /** The NPC gives `count` of `item` from its inventory to character `to`. */
  give_item: z.strictObject({ kind: z.literal('give_item'), item: Id, to: Id, count: Count.default(1) }),
  /** The NPC hands over `count` of `item` and character `to` pays `price` coin in total. */
  sell_item: z.strictObject({
    kind: z.literal('sell_item'),
    item: Id,
    to: Id,
    count: Count.default(1),
    price: z.number().int().nonnegative().max(1_000_000),
  }),
  /** The NPC pays `amount` coin to character `to`. */
  give_coin: z.strictObject({ kind: z.literal('give_coin'), to: Id, amount: Count }),
  /** The NPC's relationship toward `toward` changes by `delta`. */
  adjust_relationship: z.strictObject({
    kind: z.literal('adjust_relationship'),
    toward: Id,
    delta: z.number().int().min(-200).max(200),
  }),
  start_quest: z.strictObject({ kind: z.literal('start_quest'), quest: Id }),
  complete_quest: z.strictObject({ kind: z.literal('complete_quest'), quest: Id }),
  fail_quest: z.strictObject({ kind: z.literal('fail_quest'), quest: Id }),
  set_flag: z.strictObject({ kind: z.literal('set_flag'), flag: Id, value: FlagValue }),
} as const;

export type ActionKind = keyof typeof ACTION_SCHEMAS;
export const ACTION_KINDS = Object.keys(ACTION_SCHEMAS) as [ActionKind, ...ActionKind[]];
export const ActionKindSchema = z.enum(ACTION_KINDS);

export const Action = z.discriminatedUnion('kind', [
  ACTION_SCHEMAS.give_item,
  ACTION_SCHEMAS.sell_item,
  ACTION_SCHEMAS.give_coin,
  ACTION_SCHEMAS.adjust_relationship,
  ACTION_SCHEMAS.start_quest,
  ACTION_SCHEMAS.complete_quest,
  ACTION_SCHEMAS.fail_quest,
  ACTION_SCHEMAS.set_flag,
]);
export type Action = z.infer<typeof Action>;
export type ActionInput = z.input<typeof Action>;
export type ActionOf<K extends ActionKind> = Extract<Action, { kind: K }>;

/** An action line of the model output that could not be read as an action. Never guessed at. */
export const ProposalError = z.object({
  /** 1-based line of the model output. */
  line: z.number().int().positive(),
  /** The line as the model wrote it (truncated to 300 characters). */
  text: z.string(),
  message: z.string(),
});
export type ProposalError = z.infer<typeof ProposalError>;

// ---------------------------------------------------------------------------------------------
// JSON Patch (RFC 6902), as extensions produce it and the ledger records it.

const Pointer = z.string().regex(/^(\/[^/]*)*$/, 'a JSON Pointer');
export const PatchOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), path: Pointer, value: z.unknown() }),
  z.object({ op: z.literal('remove'), path: Pointer }),
  z.object({ op: z.literal('replace'), path: Pointer, value: z.unknown() }),
  z.object({ op: z.literal('move'), path: Pointer, from: Pointer }),
  z.object({ op: z.literal('copy'), path: Pointer, from: Pointer }),
  z.object({ op: z.literal('test'), path: Pointer, value: z.unknown() }),
]);
export type PatchOperation = z.infer<typeof PatchOperation>;

// ---------------------------------------------------------------------------------------------
// Governance

export const RULE_IDS = [
  'well-formed-proposals',
  'allowed-actions',
  'ownership',
  'non-negative-balances',
  'quest-preconditions',
  'turn-limits',
  'agent-blocks',
] as const;
export const RuleId = z.enum(RULE_IDS);
export type RuleId = z.infer<typeof RuleId>;

/** One rule's judgement of one commit attempt. Every rule gives one, pass or fail. */
export const Verdict = z.object({
  rule: RuleId,
  ok: z.boolean(),
  /** One line: why it passed, or the first failure. */
  message: z.string(),
  /** Every failure, with the index of the action it concerns (null: the turn as a whole). */
  failures: z.array(
    z.object({ action_index: z.number().int().nonnegative().nullable(), message: z.string() }),
  ),
});
export type Verdict = z.infer<typeof Verdict>;

export const CommitStage = z.enum(['extensions', 'governance', 'ledger']);
export type CommitStage = z.infer<typeof CommitStage>;

// ---------------------------------------------------------------------------------------------
// Provenance

/** An agent envelope the merge arbiter accepted into a commit (PILOT mode), in acceptance order. */
export const AcceptedEnvelope = z.object({
  stream_id: z.string(),
  agent: z.string(),
  intent: z.string(),
  decision: z.string(),
  confidence: z.number(),
  /** SHA-256 of the whole envelope's canonical JSON (the envelope travels in `agent_envelope`). */
  envelope_hash: Sha256Hex,
  /** A blocking condition the envelope raised; `agent-blocks` fails the commit when any is set. */
  block: z.string().nullable(),
});
export type AcceptedEnvelope = z.infer<typeof AcceptedEnvelope>;

export const Sampling = z.object({
  temperature: z.number(),
  top_p: z.number(),
  max_tokens: z.number().int(),
  seed: z.number().int(),
});

/**
 * One record per commit attempt, succeeded or failed, hashed as canonical JSON (SHA-256). Each names
 * the previous record's hash, so the ledger is one hash chain. Version 1 records (walking skeleton)
 * lack the world-state fields; verify checks their chain only.
 */
export const ProvenanceRecordV2 = z.object({
  v: z.literal(2),
  commit_seq: z.number().int().positive(),
  prev_provenance_hash: Sha256Hex.nullable(),
  outcome: z.enum(['committed', 'failed']),
  run_id: z.string(),
  session_id: z.string(),
  turn_id: z.string(),
  npc_id: z.string(),
  scenario: z.object({ id: z.string(), content_hash: Sha256Hex }),
  model: ModelRef,
  model_content_hash: z.string(),
  sampling: Sampling,
  prompt_hash: Sha256Hex,
  player_text_hash: Sha256Hex,
  /** SHA-256 of the whole model output (spoken line and action lines), stored in the ledger row. */
  final_text_hash: Sha256Hex,
  token_count: z.number().int().nonnegative(),
  proposals: z.array(Action),
  proposal_errors: z.array(ProposalError),
  agent_envelopes: z.array(AcceptedEnvelope),
  verdicts: z.array(Verdict),
  /** The patch applied (committed) or the one that was refused (failed; empty if none was made). */
  patch: z.array(PatchOperation),
  state_hash_before: Sha256Hex,
  /** Equals `state_hash_before` for a failed attempt: nothing changed. */
  state_hash_after: Sha256Hex,
  failure: z.object({ stage: CommitStage, code: z.string(), message: z.string() }).nullable(),
  committed_at: z.number(),
});
export type ProvenanceRecordV2 = z.infer<typeof ProvenanceRecordV2>;

/** A ledger row as clients see it. */
export const CommitSummary = z.object({
  commit_seq: z.number().int().positive(),
  session_id: z.string(),
  turn_id: z.string(),
  outcome: z.enum(['committed', 'failed']),
  provenance_hash: Sha256Hex,
  /** The provenance record; version 1 records have fewer fields. */
  record: z.record(z.string(), z.unknown()),
});
export type CommitSummary = z.infer<typeof CommitSummary>;

export const Divergence = z.object({
  commit_seq: z.number().int().positive(),
  session_id: z.string().nullable(),
  kind: z.enum([
    'row_hash',
    'chain',
    'sequence',
    'text_hash',
    'state_before',
    'patch',
    'state_after',
    'rederive',
    'record',
    'session',
  ]),
  message: z.string(),
});
export type Divergence = z.infer<typeof Divergence>;

/** What verify and replay report. */
export const VerifyReport = z.object({
  ok: z.boolean(),
  commits_checked: z.number().int().nonnegative(),
  sessions_checked: z.number().int().nonnegative(),
  /** Hash of the newest record checked (the chain head), null for an empty ledger. */
  head_hash: Sha256Hex.nullable(),
  /** The first divergence by commit sequence, null when everything verifies. */
  first_divergence: Divergence.nullable(),
  /** Session id → state hash after the replay (up to the divergence, if any). */
  state_hashes: z.record(z.string(), Sha256Hex),
});
export type VerifyReport = z.infer<typeof VerifyReport>;
