/**
 * Parley event protocol, version 1: the one envelope every event travels in, whatever the
 * transport (WebSocket, Electron IPC, in-process). Schemas are the source of truth; types are
 * inferred from them. Imports nothing from Node, Electron or the DOM.
 */
import { z } from 'zod';
import { ModelRef, Sha256Hex } from './common';
import {
  AgentAdmission,
  AgentEnvelope,
  AgentIntentClass,
  AgentMode,
  AgentStreamConfig,
  ArbiterVerdict,
  PressureLevel,
  StreamState,
  TerminalReason,
} from './agents';
import { Action, CommitStage, PatchOperation, ProposalError, Verdict } from './world';
import { LoadTrigger, PooledModelState, UnloadReason } from './models';

export { ModelRef };

export const ENVELOPE_VERSION = 1 as const;

export const EventClass = z.enum(['authoritative', 'telemetry']);
export type EventClass = z.infer<typeof EventClass>;

/**
 * The full event taxonomy of ARCHITECTURE.md with each type's class. The class decides what an
 * overflow policy may drop: authoritative events are never dropped.
 *
 * Turn lifecycle events are authoritative although the turn's text is only a preview: a client
 * needs every ACK and every terminal event to keep its turn state machine correct.
 */
export const EVENT_CLASS = {
  session_started: 'authoritative',
  session_closed: 'authoritative',
  config_changed: 'authoritative',
  turn_accepted: 'authoritative',
  turn_rejected: 'authoritative',
  turn_cancelled: 'authoritative',
  turn_failed: 'authoritative',
  turn_final: 'telemetry',
  token_delta: 'telemetry',
  model_selected: 'telemetry',
  model_loading: 'telemetry',
  model_ready: 'telemetry',
  model_switching: 'telemetry',
  model_unloaded: 'telemetry',
  model_failed: 'telemetry',
  commit_succeeded: 'authoritative',
  commit_failed: 'authoritative',
  agent_admission: 'telemetry',
  agent_stream_lifecycle: 'telemetry',
  agent_token_delta: 'telemetry',
  agent_envelope: 'telemetry',
  arbiter_decision: 'authoritative',
  stream_overflow: 'authoritative',
} as const satisfies Record<string, EventClass>;

export type EventType = keyof typeof EVENT_CLASS;
export const EVENT_TYPES = Object.keys(EVENT_CLASS) as EventType[];

/** Events after which a turn has ended. Exactly one of them follows each `turn_accepted`. */
export const TERMINAL_TURN_EVENTS = [
  'commit_succeeded',
  'commit_failed',
  'turn_cancelled',
  'turn_failed',
  'turn_rejected',
] as const satisfies readonly EventType[];
export type TerminalTurnEventType = (typeof TERMINAL_TURN_EVENTS)[number];

export function isTerminalTurnEvent(type: EventType): type is TerminalTurnEventType {
  return (TERMINAL_TURN_EVENTS as readonly EventType[]).includes(type);
}

// ---------------------------------------------------------------------------------------------
// Payloads of the events the runtime emits. A type listed in EVENT_CLASS without a schema here
// would be reserved (defined and classed, not yet sent); today every type has one.

export const RejectReason = z.enum(['turn_in_progress', 'session_closed', 'empty_text', 'text_too_long']);
export type RejectReason = z.infer<typeof RejectReason>;

export const CancelReason = z.enum(['client_cancel', 'session_closed']);
export type CancelReason = z.infer<typeof CancelReason>;

export const OverflowPolicy = z.enum(['drop_telemetry', 'fail']);
export type OverflowPolicy = z.infer<typeof OverflowPolicy>;

export const PAYLOAD_SCHEMAS = {
  session_started: z.object({
    npc_id: z.string(),
    model: ModelRef,
    scenario_id: z.string(),
    /** Hash of the world state the session starts from. */
    state_hash: Sha256Hex,
  }),
  session_closed: z.object({ reason: z.string() }),
  turn_accepted: z.object({
    /** The player's line, as received. */
    text: z.string(),
    model: ModelRef,
  }),
  turn_rejected: z.object({
    reason: RejectReason,
    message: z.string(),
    /** The turn that was running, for `turn_in_progress`. */
    active_turn_id: z.string().nullable(),
  }),
  turn_cancelled: z.object({
    reason: CancelReason,
    /** How many `token_delta` events of this turn had been published. */
    tokens_emitted: z.number().int().nonnegative(),
  }),
  turn_failed: z.object({
    code: z.string(),
    message: z.string(),
    tokens_emitted: z.number().int().nonnegative(),
  }),
  token_delta: z.object({
    /** 0-based index of this delta within its turn. */
    index: z.number().int().nonnegative(),
    text: z.string(),
  }),
  turn_final: z.object({
    /** What the NPC says (the reply before its action lines). A preview: nothing is canonical until `commit_succeeded`. */
    text: z.string(),
    token_count: z.number().int().nonnegative(),
    /** Actions the reply proposes, in order (indexes are used by verdicts). Pending: applied only by a commit. */
    proposals: z.array(Action),
    /** Action lines that could not be read. Any of them fails the commit (rule `well-formed-proposals`). */
    proposal_errors: z.array(ProposalError),
  }),
  /** Every turn, right after its ACK and agent admissions: the model the turn will speak with. */
  model_selected: z.object({
    model: ModelRef,
    /** The model's pool state at selection: `ready` means no load wait. */
    state: PooledModelState,
    /** Load time a prewarm hid from this turn (the whole load if it finished, else the part done). */
    prewarm: z.object({ trigger: LoadTrigger, hidden_ms: z.number().nonnegative() }).nullable(),
  }),
  /** The session's NPC speaks with another model than on its previous turn (a designer's choice). */
  model_switching: z.object({ from: ModelRef, to: ModelRef }),
  /**
   * Pool lifecycle events reach every live session; `turn_id` is set only in the session whose turn
   * caused them. Progress is reported at most every 5%.
   */
  model_loading: z.object({
    model: ModelRef,
    /** 0..1 */
    progress: z.number().min(0).max(1),
    trigger: LoadTrigger,
  }),
  model_ready: z.object({ model: ModelRef, load_ms: z.number().nonnegative(), trigger: LoadTrigger }),
  model_unloaded: z.object({ model: ModelRef, reason: UnloadReason }),
  model_failed: z.object({
    model: ModelRef,
    code: z.string(),
    message: z.string(),
    /** After a worker crash: when the pool restarts it; null when it will not (circuit open, bad file). */
    restart_in_ms: z.number().nonnegative().nullable(),
  }),
  commit_succeeded: z.object({
    /** Ledger-wide commit sequence number (1, 2, ...), shared by committed and failed attempts. */
    commit_seq: z.number().int().positive(),
    /** SHA-256 over the canonical JSON of the provenance record; also the record's id. */
    provenance_hash: Sha256Hex,
    /** The committed spoken text: a client that lost telemetry can still show what is canonical. */
    text: z.string(),
    /** World state hash after the commit. */
    state_hash: Sha256Hex,
    state_hash_before: Sha256Hex,
    /** The JSON Patch (RFC 6902) the commit applied to world state. */
    patch: z.array(PatchOperation),
    /** Every governance rule's verdict (all passed). */
    verdicts: z.array(Verdict),
  }),
  commit_failed: z.object({
    /** E.g. `governance_failed`, `extension_failed`, `extension_timeout`, `proposal_invalid`, `ledger_error`. */
    code: z.string(),
    message: z.string(),
    stage: CommitStage,
    /** Verdicts of every rule when governance ran; empty when an extension failed first. */
    verdicts: z.array(Verdict),
    /** The failed attempt's ledger record; null only when the ledger itself failed. */
    commit_seq: z.number().int().positive().nullable(),
    provenance_hash: Sha256Hex.nullable(),
    /** World state hash, unchanged by the failed attempt. */
    state_hash: Sha256Hex,
  }),
  config_changed: z.object({
    /** Who made the change: the client's label (connection or window). */
    changed_by: z.string(),
    changes: z.array(z.object({ key: z.string(), from: z.unknown(), to: z.unknown() })),
    /** The whole config after the change; it applies from the next turn. */
    config: AgentStreamConfig,
    /** Config version after the change (1, 2, ...), runtime-wide. */
    version: z.number().int().positive(),
  }),
  agent_admission: z.object({
    mode: AgentMode,
    pressure: PressureLevel,
    /** Config version the turn planned with. */
    config_version: z.number().int().nonnegative(),
    plan_hash: Sha256Hex,
    /** One per intent request, in planning order. */
    admissions: z.array(AgentAdmission),
  }),
  agent_stream_lifecycle: z.object({
    stream_id: z.string(),
    agent: z.string(),
    intent: AgentIntentClass,
    critical: z.boolean(),
    state: StreamState,
    /** Set when `state` is `ended`. */
    terminal_reason: TerminalReason.nullable(),
    /** Why it ended, for timeout, failed, shed and cancel. */
    message: z.string().nullable(),
    tokens: z.number().int().nonnegative(),
    /** ms since the stream was queued. */
    elapsed_ms: z.number().nonnegative(),
  }),
  agent_token_delta: z.object({
    stream_id: z.string(),
    index: z.number().int().nonnegative(),
    text: z.string(),
  }),
  agent_envelope: z.object({
    /** True for a shadow preview: planned, not executed, never part of a commit. */
    preview: z.boolean(),
    envelope: AgentEnvelope,
    envelope_hash: Sha256Hex,
  }),
  arbiter_decision: z.object({
    mode: AgentMode,
    accepted: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative(),
    /** Accepted envelopes that take part in the commit (pilot). */
    committed: z.number().int().nonnegative(),
    /** Accepted envelopes with blocking conditions that take part in the commit. */
    blocking: z.number().int().nonnegative(),
    /** In decision order: accepted first (in acceptance order), then rejected. */
    verdicts: z.array(ArbiterVerdict),
    decision_hash: Sha256Hex,
  }),
  stream_overflow: z.object({
    policy: z.literal('drop_telemetry'),
    /** First and last seq of the telemetry events this subscription did not deliver. */
    from_seq: z.number().int().positive(),
    to_seq: z.number().int().positive(),
    /** Events in [from_seq, to_seq] not delivered: every one of them (only telemetry is ever dropped). */
    dropped: z.number().int().positive(),
  }),
} as const;

export type EmittedEventType = keyof typeof PAYLOAD_SCHEMAS;
export type EventPayload<T extends EmittedEventType> = z.infer<(typeof PAYLOAD_SCHEMAS)[T]>;

const envelopeBase = {
  v: z.literal(ENVELOPE_VERSION),
  /** Unique id of this event. */
  event_id: z.string().min(1),
  /** Per-session, strictly increasing, starting at 1. */
  seq: z.number().int().positive(),
  session_id: z.string().min(1),
  /** Null for session-level events. */
  turn_id: z.string().min(1).nullable(),
  /** Epoch milliseconds from the runtime's clock. */
  timestamp: z.number().nonnegative(),
};

function envelopeOf<T extends EmittedEventType>(type: T) {
  return z.object({
    ...envelopeBase,
    type: z.literal(type),
    class: z.literal(EVENT_CLASS[type]),
    payload: PAYLOAD_SCHEMAS[type],
  });
}

export const EventEnvelope = z.discriminatedUnion('type', [
  envelopeOf('session_started'),
  envelopeOf('session_closed'),
  envelopeOf('turn_accepted'),
  envelopeOf('turn_rejected'),
  envelopeOf('turn_cancelled'),
  envelopeOf('turn_failed'),
  envelopeOf('token_delta'),
  envelopeOf('turn_final'),
  envelopeOf('model_selected'),
  envelopeOf('model_loading'),
  envelopeOf('model_switching'),
  envelopeOf('model_ready'),
  envelopeOf('model_unloaded'),
  envelopeOf('model_failed'),
  envelopeOf('commit_succeeded'),
  envelopeOf('commit_failed'),
  envelopeOf('stream_overflow'),
  envelopeOf('config_changed'),
  envelopeOf('agent_admission'),
  envelopeOf('agent_stream_lifecycle'),
  envelopeOf('agent_token_delta'),
  envelopeOf('agent_envelope'),
  envelopeOf('arbiter_decision'),
]);
export type EventEnvelope = z.infer<typeof EventEnvelope>;
export type EnvelopeOf<T extends EmittedEventType> = Extract<EventEnvelope, { type: T }>;
