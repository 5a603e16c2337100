/**
 * Commands a client sends to the runtime and the control frames the runtime answers with. The
 * same command schemas serve the WebSocket endpoint and the Electron IPC channels.
 */
import { z } from 'zod';
import { EventEnvelope, OverflowPolicy } from './protocol';
import { ScenarioSummary } from './scenario';
import { Sha256Hex } from './common';
import {
  AgentIntentClass,
  AgentStreamConfig,
  AgentStreamConfigPatch,
  PressureLevel,
  PressureStatus,
  RolloutGate,
  TerminalReason,
} from './agents';
import { CommitSummary, VerifyReport, WorldState } from './world';
import { ModelRef } from './common';
import {
  DiscoveredModel,
  ModelPoolConfig,
  ModelPoolConfigPatch,
  ModelPoolStatus,
  NpcModelSetting,
  NpcSamplingPatch,
  PooledModelState,
  PrewarmHint,
} from './models';

/** Version a client names in `hello`. Bumped on any incompatible change of commands or envelope. */
export const PROTOCOL_VERSION = 1 as const;

/** Path of the WebSocket endpoint, on the same origin as the served inspector. */
export const STREAM_PATH = '/v1/stream';

/** Longest player line a turn accepts (characters). */
export const MAX_TURN_TEXT = 4_000;

export const ErrorCode = {
  /** The frame is not JSON. */
  malformed_json: 'malformed_json',
  /** JSON, but not a valid command (unknown `type`, missing or wrong fields). */
  invalid_command: 'invalid_command',
  unknown_command: 'unknown_command',
  frame_too_large: 'frame_too_large',
  /** `hello` is required before any other command. */
  hello_required: 'hello_required',
  /** No credential, or a wrong one: a wrong token, or a pairing code that is unknown, used or expired. */
  unauthorized: 'unauthorized',
  /** Too many invalid frames in a short time; the connection is closed. */
  rate_limited: 'rate_limited',
  unsupported_protocol: 'unsupported_protocol',
  unknown_session: 'unknown_session',
  unknown_npc: 'unknown_npc',
  unknown_scenario: 'unknown_scenario',
  /** No such turn, or it is not the session's active turn (already ended). */
  unknown_turn: 'unknown_turn',
  /** No committed record with this commit_seq in the session (absent, another session's, or a failed attempt). */
  unknown_commit: 'unknown_commit',
  /** No such agent stream, or it has already ended. */
  unknown_stream: 'unknown_stream',
  /** No model with this id: not in the models folder, not embedded, not known to the backend. */
  unknown_model: 'unknown_model',
  /** The model file failed validation before load (not GGUF, truncated, missing keys, absurd sizes). */
  invalid_model: 'invalid_model',
  /** The model cannot be used now: its worker crash-looped (circuit open), or the pool has no room. */
  model_unavailable: 'model_unavailable',
  /** The turn's ledger transaction has begun; it can no longer be cancelled. */
  commit_in_progress: 'commit_in_progress',
  /** A subscription asked for seqs the session's buffer no longer holds; read the ledger. */
  resume_gap: 'resume_gap',
  /** The subscription's queue overflowed under the `fail` policy; resubscribe from the last seq. */
  subscription_overflow: 'subscription_overflow',
  already_subscribed: 'already_subscribed',
  /** `session.unsubscribe` for a session this client is not subscribed to. */
  not_subscribed: 'not_subscribed',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Client-chosen correlation id, echoed in the `result` or `error` frame that answers a command. */
const RequestId = z.string().min(1).max(128).optional();

const SessionId = z.string().min(1).max(200);

/**
 * First frame of every connection. Credentials, exactly one unless the upgrade request carried
 * `Authorization: Bearer <token>`: the launch `token` (local tools read it from the connection file),
 * or a one-time `pair` code (the inspector page gets one in its address; the answer then carries the
 * token so the page can reconnect).
 */
export const HelloCommand = z.object({
  type: z.literal('hello'),
  id: RequestId,
  protocol: z.number().int(),
  token: z.string().min(1).max(512).optional(),
  pair: z.string().min(1).max(512).optional(),
  /** Ask for telemetry bursts as `event.batch` frames (several events in one frame). */
  batch: z.boolean().default(false),
});

/** Mints a one-time pairing link for a browser (for example when the printed one was used). */
export const AuthPairCommand = z.object({
  type: z.literal('auth.pair'),
  id: RequestId,
});

export const SessionCreateCommand = z.object({
  type: z.literal('session.create'),
  id: RequestId,
  /** Scenario to play; the runtime's default scenario when absent. */
  scenario_id: z.string().min(1).max(200).optional(),
  /** NPC to talk to; the scenario's default NPC when absent. */
  npc_id: z.string().min(1).max(200).optional(),
});

export const ScenarioListCommand = z.object({
  type: z.literal('scenario.list'),
  id: RequestId,
});

export const WorldGetCommand = z.object({
  type: z.literal('world.get'),
  id: RequestId,
  session_id: SessionId,
});

export const LedgerCommitsCommand = z.object({
  type: z.literal('ledger.commits'),
  id: RequestId,
  session_id: SessionId,
  /** Only records with a greater commit_seq (paging). */
  after_seq: z.number().int().nonnegative().default(0),
  limit: z.number().int().positive().max(1000).default(200),
});

export const LedgerVerifyCommand = z.object({
  type: z.literal('ledger.verify'),
  id: RequestId,
  /** Verify the chain and replay only this session; the whole ledger when absent. */
  session_id: SessionId.optional(),
});

export const SessionExportCommand = z.object({
  type: z.literal('session.export'),
  id: RequestId,
  session_id: SessionId,
  /** Include the session's buffered events (telemetry and authoritative) in the bundle. */
  include_telemetry: z.boolean().default(false),
});

/**
 * Starts a new session from a committed turn of another: same scenario and NPC, and the world exactly as
 * that commit left it. The original session is untouched.
 */
export const SessionForkCommand = z.object({
  type: z.literal('session.fork'),
  id: RequestId,
  session_id: SessionId,
  /** A committed record (outcome `committed`) of that session. */
  commit_seq: z.number().int().positive(),
});

export const SessionListCommand = z.object({
  type: z.literal('session.list'),
  id: RequestId,
});

/**
 * Reads a page of a session's buffered events (the runtime's in-memory log, the newest few thousand),
 * for a client that evicted them. Read-only: no subscription is made or changed.
 */
export const SessionEventsCommand = z.object({
  type: z.literal('session.events'),
  id: RequestId,
  session_id: SessionId,
  /** Only events with a smaller seq; absent: the newest buffered events. */
  before_seq: z.number().int().positive().optional(),
  limit: z.number().int().positive().max(1000).default(500),
});

export const SessionSubscribeCommand = z.object({
  type: z.literal('session.subscribe'),
  id: RequestId,
  session_id: SessionId,
  /** First seq to deliver (inclusive). 1 replays the whole buffer; a resuming client sends last seen + 1. */
  from_seq: z.number().int().positive().default(1),
  overflow_policy: OverflowPolicy.default('drop_telemetry'),
});

export const SessionUnsubscribeCommand = z.object({
  type: z.literal('session.unsubscribe'),
  id: RequestId,
  session_id: SessionId,
});

export const TurnStartCommand = z.object({
  type: z.literal('turn.start'),
  id: RequestId,
  session_id: SessionId,
  /** Length is checked by the session, which answers with `turn_rejected` rather than a schema error. */
  text: z.string().max(MAX_TURN_TEXT * 4),
});

export const TurnCancelCommand = z.object({
  type: z.literal('turn.cancel'),
  id: RequestId,
  session_id: SessionId,
  turn_id: z.string().min(1).max(200),
});

export const AgentsConfigGetCommand = z.object({
  type: z.literal('agents.config.get'),
  id: RequestId,
});

export const AgentsConfigSetCommand = z.object({
  type: z.literal('agents.config.set'),
  id: RequestId,
  /** Only the flags to change. Applies from the next turn of every session. */
  changes: AgentStreamConfigPatch,
});

export const AgentsPressureSetCommand = z.object({
  type: z.literal('agents.pressure.set'),
  id: RequestId,
  /** Force a pressure level (testing); null or absent returns to the computed level. */
  level: PressureLevel.nullable().default(null),
});

export const AgentsStatusCommand = z.object({
  type: z.literal('agents.status'),
  id: RequestId,
});

export const AgentCancelCommand = z.object({
  type: z.literal('agent.cancel'),
  id: RequestId,
  stream_id: z.string().min(1).max(300),
});

export const ModelsStatusCommand = z.object({
  type: z.literal('models.status'),
  id: RequestId,
});

export const ModelsListCommand = z.object({
  type: z.literal('models.list'),
  id: RequestId,
});

export const ModelsConfigSetCommand = z.object({
  type: z.literal('models.config.set'),
  id: RequestId,
  /** Only the limits to change; applies at once (a lower cap or budget evicts idle models now). */
  changes: ModelPoolConfigPatch,
});

export const ModelsLoadCommand = z.object({
  type: z.literal('models.load'),
  id: RequestId,
  /** Loads ahead of need (a manual prewarm); also resets a tripped circuit breaker. */
  model: ModelRef,
});

export const ModelsUnloadCommand = z.object({
  type: z.literal('models.unload'),
  id: RequestId,
  model: ModelRef,
});

export const ModelsHintCommand = z.object({
  type: z.literal('models.hint'),
  id: RequestId,
  /** The designer picked this NPC (`npc_selected`) or the player is typing to it (`typing`). */
  hint: PrewarmHint,
  scenario_id: z.string().min(1).max(200),
  npc_id: z.string().min(1).max(200),
});

export const NpcSettingsGetCommand = z.object({
  type: z.literal('npc.settings.get'),
  id: RequestId,
  scenario_id: z.string().min(1).max(200).optional(),
});

export const NpcSettingsSetCommand = z.object({
  type: z.literal('npc.settings.set'),
  id: RequestId,
  scenario_id: z.string().min(1).max(200),
  npc_id: z.string().min(1).max(200),
  /** The model this NPC speaks with from its next turn; null returns to the default. Absent: unchanged. */
  model: ModelRef.nullable().optional(),
  /** Sampling and seed (recorded in each commit's provenance); null returns to the scenario's. */
  sampling: NpcSamplingPatch.nullable().optional(),
});

export const Command = z.discriminatedUnion('type', [
  HelloCommand,
  AuthPairCommand,
  SessionCreateCommand,
  SessionListCommand,
  SessionEventsCommand,
  SessionSubscribeCommand,
  SessionUnsubscribeCommand,
  TurnStartCommand,
  TurnCancelCommand,
  ScenarioListCommand,
  WorldGetCommand,
  LedgerCommitsCommand,
  LedgerVerifyCommand,
  SessionExportCommand,
  SessionForkCommand,
  AgentsConfigGetCommand,
  AgentsConfigSetCommand,
  AgentsPressureSetCommand,
  AgentsStatusCommand,
  AgentCancelCommand,
  ModelsStatusCommand,
  ModelsListCommand,
  ModelsConfigSetCommand,
  ModelsLoadCommand,
  ModelsUnloadCommand,
  ModelsHintCommand,
  NpcSettingsGetCommand,
  NpcSettingsSetCommand,
]);
export type Command = z.infer<typeof Command>;
export type CommandInput = z.input<typeof Command>;
export type CommandType = Command['type'];
export const COMMAND_TYPES = Command.options.map((o) => o.shape.type.value);

// ---------------------------------------------------------------------------------------------
// Results, one per command type.

/** Where a forked session starts: the session and the committed record it was forked from. */
export const ForkOrigin = z.object({
  session_id: z.string(),
  commit_seq: z.number().int().positive(),
});
export type ForkOrigin = z.infer<typeof ForkOrigin>;

export const SessionSummary = z.object({
  session_id: z.string(),
  scenario_id: z.string(),
  npc_id: z.string(),
  created_at: z.number(),
  /** Seq of the newest event so far (0 before the first). */
  last_seq: z.number().int().nonnegative(),
  active_turn_id: z.string().nullable(),
  /** Only for a forked session: where its world starts. */
  forked_from: ForkOrigin.optional(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const HelloResult = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  server: z.string(),
  /** Per-connection limit on one inbound frame, bytes. */
  max_frame_bytes: z.number().int().positive(),
  /** Whether telemetry may arrive as `event.batch` frames (asked for with `batch: true`). */
  batch: z.boolean(),
  /** The server pings this often; a client that does not answer two pings in a row is dropped. */
  heartbeat_ms: z.number().int().positive(),
  /** Only when the client paired with a one-time code: the launch token, for reconnecting. */
  token: z.string().optional(),
});
export const AuthPairResult = z.object({
  /** The inspector's address with a one-time code in its fragment (`#pair=…`). */
  page_url: z.string(),
  /** Epoch ms after which the code is refused (it is also refused once used). */
  expires_at: z.number(),
});
export type AuthPairResult = z.infer<typeof AuthPairResult>;
export const SessionCreateResult = SessionSummary;
export const SessionForkResult = SessionSummary;
export const SessionListResult = z.object({ sessions: z.array(SessionSummary) });
export const SessionSubscribeResult = z.object({
  session_id: z.string(),
  /** Seq of the first event this subscription will deliver. */
  from_seq: z.number().int().positive(),
  overflow_policy: OverflowPolicy,
});
export const SessionEventsResult = z.object({
  session_id: z.string(),
  /** Ascending by seq: the newest `limit` buffered events before `before_seq`. */
  events: z.array(EventEnvelope),
  /** The oldest seq the runtime still buffers for the session; null when it buffers none. */
  oldest_buffered_seq: z.number().int().positive().nullable(),
  /** True when older buffered events remain; ask again with before_seq = the first event's seq. */
  more: z.boolean(),
});
export const SessionUnsubscribeResult = z.object({ session_id: z.string() });
export const TurnStartResult = z.object({
  turn_id: z.string(),
  accepted: z.boolean(),
});
export const TurnCancelResult = z.object({ turn_id: z.string(), cancelled: z.literal(true) });
export const ScenarioListResult = z.object({
  scenarios: z.array(ScenarioSummary),
  default_scenario_id: z.string(),
});
export const WorldGetResult = z.object({
  session_id: z.string(),
  scenario_id: z.string(),
  state: WorldState,
  state_hash: Sha256Hex,
  /** The session's newest committed record, null before its first commit. */
  last_commit_seq: z.number().int().positive().nullable(),
});
export const LedgerCommitsResult = z.object({
  session_id: z.string(),
  commits: z.array(CommitSummary),
  /** True when more records follow; ask again with after_seq = the last commit_seq. */
  more: z.boolean(),
});
export const LedgerVerifyResult = VerifyReport;
/** A session's ledger row, as a bundle carries it. */
export const BundleSession = z.object({
  session_id: z.string(),
  run_id: z.string(),
  scenario_id: z.string(),
  scenario_hash: Sha256Hex,
  npc_id: z.string(),
  created_at: z.number(),
  initial_state_hash: Sha256Hex,
  /** A forked session's origin (docs/ledger.md, forks); null or absent otherwise. */
  parent_session_id: z.string().nullable().optional(),
  parent_commit_seq: z.number().int().positive().nullable().optional(),
});
export const BundleCommit = z.object({
  commit_seq: z.number().int().positive(),
  provenance_hash: Sha256Hex,
  provenance_json: z.string(),
  final_text: z.string(),
});
/**
 * A session as one portable JSON document (format in docs/ledger.md); replay it with `npm run verify`.
 * Version 2 is a forked session's: `ancestors` carries the sessions it was forked from.
 */
export const SessionBundle = z.object({
  format: z.literal('parley-session-bundle'),
  version: z.union([z.literal(1), z.literal(2)]),
  session: BundleSession,
  /** The scenario as the ledger stores it (canonical JSON text of the file's content). */
  scenario_json: z.string(),
  commits: z.array(BundleCommit),
  /**
   * Version 2 only: the fork's parent, its parent's parent, ... (nearest first), each with its records up
   * to and including the commit the next one was forked from. Forks keep their scenario, so
   * `scenario_json` serves every one of them.
   */
  ancestors: z.array(z.object({ session: BundleSession, commits: z.array(BundleCommit) })).optional(),
  /** The session's buffered events, when asked for: telemetry for inspection, never replayed. */
  telemetry: z.array(EventEnvelope).optional(),
});
export type SessionBundle = z.infer<typeof SessionBundle>;
export const SessionExportResult = SessionBundle;

export const AgentInfo = z.object({
  name: z.string(),
  intent: AgentIntentClass,
  critical: z.boolean(),
  needs: z.enum(['player_line', 'reply']),
  description: z.string(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

export const AgentsConfigResult = z.object({
  config: AgentStreamConfig,
  defaults: AgentStreamConfig,
  /** 0 until the first change. */
  version: z.number().int().nonnegative(),
  agents: z.array(AgentInfo),
});
export type AgentsConfigResult = z.infer<typeof AgentsConfigResult>;

export const AgentsStatusResult = z.object({
  pressure: PressureStatus,
  /** Streams running now, runtime-wide. */
  active_streams: z.array(z.string()),
  queued_streams: z.array(z.string()),
  /** Streams ended since the runtime started, by terminal reason. */
  terminal_counts: z.record(TerminalReason, z.number().int().nonnegative()),
  gates: z.array(RolloutGate),
  config_version: z.number().int().nonnegative(),
});
export type AgentsStatusResult = z.infer<typeof AgentsStatusResult>;

export const ModelsListResult = z.object({
  /** The folder scanned for `.gguf` files; null when none is configured. */
  models_dir: z.string().nullable(),
  models: z.array(DiscoveredModel),
});
export type ModelsListResult = z.infer<typeof ModelsListResult>;

export const ModelsHintResult = z.object({
  model: ModelRef,
  /** False when prewarm is off or the model is already loaded or loading. */
  prewarming: z.boolean(),
});

export const RESULT_SCHEMAS = {
  hello: HelloResult,
  'auth.pair': AuthPairResult,
  'session.create': SessionCreateResult,
  'session.list': SessionListResult,
  'session.events': SessionEventsResult,
  'session.subscribe': SessionSubscribeResult,
  'session.unsubscribe': SessionUnsubscribeResult,
  'turn.start': TurnStartResult,
  'turn.cancel': TurnCancelResult,
  'scenario.list': ScenarioListResult,
  'world.get': WorldGetResult,
  'ledger.commits': LedgerCommitsResult,
  'ledger.verify': LedgerVerifyResult,
  'session.export': SessionExportResult,
  'session.fork': SessionForkResult,
  'agents.config.get': AgentsConfigResult,
  'agents.config.set': AgentsConfigResult,
  'agents.pressure.set': PressureStatus,
  'agents.status': AgentsStatusResult,
  'agent.cancel': z.object({ stream_id: z.string(), cancelled: z.literal(true) }),
  'models.status': ModelPoolStatus,
  'models.list': ModelsListResult,
  'models.config.set': ModelPoolConfig,
  'models.load': z.object({ model: ModelRef, state: PooledModelState }),
  'models.unload': z.object({ model: ModelRef, unloaded: z.literal(true) }),
  'models.hint': ModelsHintResult,
  'npc.settings.get': z.object({ settings: z.array(NpcModelSetting) }),
  'npc.settings.set': NpcModelSetting,
} as const satisfies Record<CommandType, z.ZodType>;
export type ResultOf<T extends CommandType> = z.infer<(typeof RESULT_SCHEMAS)[T]>;

// ---------------------------------------------------------------------------------------------
// Server → client frames. Events travel as bare envelopes (their `type` is an event type, never
// dotted); control frames have dotted types.

export const ProtocolError = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  /** Extra machine-readable facts, e.g. `{ oldest_seq }` for `resume_gap`. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ProtocolError = z.infer<typeof ProtocolError>;

export const ResultFrame = z.object({
  type: z.literal('result'),
  id: z.string().nullable(),
  command: z.enum(COMMAND_TYPES as [CommandType, ...CommandType[]]),
  result: z.unknown(),
});
export const ErrorFrame = z.object({
  type: z.literal('error'),
  /** The `id` of the command this answers, null when the frame could not be read. */
  id: z.string().nullable(),
  error: ProtocolError,
});
export const SubscriptionEndedFrame = z.object({
  type: z.literal('subscription.ended'),
  session_id: z.string(),
  /** Seq of the last event this subscription delivered (0 if none). Resubscribe from last_seq + 1. */
  last_seq: z.number().int().nonnegative(),
  error: ProtocolError,
});

/**
 * Several events in one frame, in seq order, for a client that asked for batches in `hello`. Only
 * a burst of telemetry is batched; a batch that holds an authoritative event ends with it.
 */
export const EventBatchFrame = z.object({
  type: z.literal('event.batch'),
  events: z.array(EventEnvelope).min(1),
});

export const ControlFrame = z.discriminatedUnion('type', [ResultFrame, ErrorFrame, SubscriptionEndedFrame]);
export type ControlFrame = z.infer<typeof ControlFrame>;
export type ResultFrame = z.infer<typeof ResultFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type SubscriptionEndedFrame = z.infer<typeof SubscriptionEndedFrame>;
export type EventBatchFrame = z.infer<typeof EventBatchFrame>;

export const ServerFrame = z.union([ControlFrame, EventBatchFrame, EventEnvelope]);
export type ServerFrame = z.infer<typeof ServerFrame>;
