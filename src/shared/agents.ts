/**
 * The agent-stream control plane's contracts (docs/agents.md): intent classes, intent requests,
 * admissions, spawn plans, stream identities, agent envelopes, arbiter decisions, the control
 * plane's config flags, pressure and rollout gates. Shared by the runtime (which decides) and the
 * renderer (which shows). Imports nothing from Node, Electron or the DOM.
 */
import { z } from 'zod';
import { Sha256Hex } from './common';

// ---------------------------------------------------------------------------------------------
// Intents and agents

export const AGENT_INTENT_CLASSES = [
  'safety_check',
  'lore_consistency',
  'quest_readiness',
  'relationship_trajectory',
  'next_move_discovery',
] as const;
export const AgentIntentClass = z.enum(AGENT_INTENT_CLASSES);
export type AgentIntentClass = z.infer<typeof AgentIntentClass>;

export interface IntentClassSpec {
  /** Higher first: orders spawns and accepted envelopes. */
  readonly priority: number;
  /** Multiplies a request's relevance into its spawn score. */
  readonly weight: number;
  /** Critical intents may block a commit, are never shed and may spawn under HIGH pressure. */
  readonly critical: boolean;
  /** `reply`: the stream starts when the NPC's reply is final (it reads the line and its actions). */
  readonly needs: 'player_line' | 'reply';
  readonly description: string;
}

export const INTENT_CLASSES: Readonly<Record<AgentIntentClass, IntentClassSpec>> = {
  safety_check: {
    priority: 100,
    weight: 1,
    critical: true,
    needs: 'reply',
    description:
      "Checks the NPC's line and its actions against the scenario's safety list; may block the commit.",
  },
  quest_readiness: {
    priority: 60,
    weight: 0.9,
    critical: false,
    needs: 'reply',
    description:
      'Checks that quests the reply starts or completes are ready (the world meets their conditions).',
  },
  lore_consistency: {
    priority: 50,
    weight: 0.8,
    critical: false,
    needs: 'reply',
    description: "Scans the reply for statements that contradict the scenario's lore.",
  },
  relationship_trajectory: {
    priority: 40,
    weight: 0.7,
    critical: false,
    needs: 'reply',
    description:
      "Proposes where the NPC's feeling toward the player is heading, from the line and the reply.",
  },
  next_move_discovery: {
    priority: 20,
    weight: 0.6,
    critical: false,
    needs: 'player_line',
    description: "Speculates on the player's next move (feeds predictive prewarm).",
  },
};

/** Built-in agents, one per intent class. Names appear in stream ids and in `agentStreamPilotAgents`. */
export const AGENT_NAMES = ['safety', 'quest_gate', 'lore', 'emotion', 'next_move'] as const;
export const AgentName = z.enum(AGENT_NAMES);
export type AgentName = z.infer<typeof AgentName>;

export const AGENT_INTENT: Readonly<Record<AgentName, AgentIntentClass>> = {
  safety: 'safety_check',
  quest_gate: 'quest_readiness',
  lore: 'lore_consistency',
  emotion: 'relationship_trajectory',
  next_move: 'next_move_discovery',
};

/** An agent's wish to run for one intent this turn, with how relevant it thinks it is. */
export const AgentIntentRequest = z.object({
  /** Unique within the turn, e.g. `lore:2`. */
  request_id: z.string().min(1).max(100),
  agent: z.string().min(1).max(64),
  intent: AgentIntentClass,
  /** 0..1: how much this turn needs the intent. */
  relevance: z.number().min(0).max(1),
  /** Why the request was made (one line). */
  reason: z.string().max(300),
});
export type AgentIntentRequest = z.infer<typeof AgentIntentRequest>;

// ---------------------------------------------------------------------------------------------
// Modes, pressure, config

export const AgentMode = z.enum(['shadow', 'pilot']);
export type AgentMode = z.infer<typeof AgentMode>;

export const PressureLevel = z.enum(['LOW', 'MEDIUM', 'HIGH']);
export type PressureLevel = z.infer<typeof PressureLevel>;

export const PressureSignals = z.object({
  active_streams: z.number().int().nonnegative(),
  queued_streams: z.number().int().nonnegative(),
  max_concurrent: z.number().int().positive(),
  /** Deepest subscriber queue as a fraction of its capacity, 0..1+. */
  queue_fill: z.number().nonnegative(),
  /** Event-loop delay p99 over the last sampling window, ms. */
  event_loop_delay_ms: z.number().nonnegative(),
});
export type PressureSignals = z.infer<typeof PressureSignals>;

export const PressureStatus = z.object({
  level: PressureLevel,
  /** The level the signals alone give. */
  computed: PressureLevel,
  /** Set from the UI (for testing); overrides the computed level. */
  forced: PressureLevel.nullable(),
  signals: PressureSignals,
  /** Which signal decided the computed level. */
  reason: z.string(),
});
export type PressureStatus = z.infer<typeof PressureStatus>;

/**
 * The control plane's flags. Defaults are conservative: SHADOW mode (nothing runs), no pilot agents.
 * A change takes effect from the next turn (a running turn keeps the config it started with), except
 * `agentStreamMaxConcurrent`, a runtime-wide cap that applies to the next stream start.
 */
export const AgentStreamConfig = z.strictObject({
  /** false = SHADOW: plan and show, never execute. true = PILOT: agents in the pilot list run. */
  agentStreamsEnabled: z.boolean().default(false),
  /** Most agent streams running at once, runtime-wide; further spawns wait. Applies at once. */
  agentStreamMaxConcurrent: z.number().int().min(1).max(64).default(4),
  /** Spawn score an intent request needs to pass policy, 0..1. */
  agentStreamSpawnThreshold: z.number().min(0).max(1).default(0.5),
  /** A stream still running after this long ends with `timeout`. */
  agentStreamTimeoutMs: z.number().int().min(10).max(120_000).default(2_000),
  /** Agents that really run in PILOT mode; the others stay in shadow. */
  agentStreamPilotAgents: z
    .array(AgentName)
    .max(AGENT_NAMES.length)
    .refine((names) => new Set(names).size === names.length, 'each agent at most once')
    .default([]),
  /** Most streams one turn may plan. */
  agentStreamMaxSpawnsPerTurn: z.number().int().min(1).max(64).default(3),
  /** Under HIGH pressure, end non-critical running streams (`pressure_shed`) before planning. */
  agentStreamPressureSheddingEnabled: z.boolean().default(true),
});
export type AgentStreamConfig = z.infer<typeof AgentStreamConfig>;
export type AgentStreamConfigKey = keyof AgentStreamConfig;
export const AGENT_CONFIG_KEYS = Object.keys(AgentStreamConfig.shape) as AgentStreamConfigKey[];
export const DEFAULT_AGENT_CONFIG: AgentStreamConfig = AgentStreamConfig.parse({});

/** A partial change of the flags, validated key by key; unknown keys are refused. */
export const AgentStreamConfigPatch = z
  .strictObject({
    agentStreamsEnabled: AgentStreamConfig.shape.agentStreamsEnabled.unwrap(),
    agentStreamMaxConcurrent: AgentStreamConfig.shape.agentStreamMaxConcurrent.unwrap(),
    agentStreamSpawnThreshold: AgentStreamConfig.shape.agentStreamSpawnThreshold.unwrap(),
    agentStreamTimeoutMs: AgentStreamConfig.shape.agentStreamTimeoutMs.unwrap(),
    agentStreamPilotAgents: AgentStreamConfig.shape.agentStreamPilotAgents.unwrap(),
    agentStreamMaxSpawnsPerTurn: AgentStreamConfig.shape.agentStreamMaxSpawnsPerTurn.unwrap(),
    agentStreamPressureSheddingEnabled: AgentStreamConfig.shape.agentStreamPressureSheddingEnabled.unwrap(),
  })
  .partial();
export type AgentStreamConfigPatch = z.infer<typeof AgentStreamConfigPatch>;

export function agentMode(config: Pick<AgentStreamConfig, 'agentStreamsEnabled'>): AgentMode {
  return config.agentStreamsEnabled ? 'pilot' : 'shadow';
}

// ---------------------------------------------------------------------------------------------
// Admission, plan, streams

/** The policy engine's and scheduler's answer to one intent request. */
export const AgentAdmission = z.object({
  request_id: z.string(),
  agent: z.string(),
  intent: AgentIntentClass,
  critical: z.boolean(),
  relevance: z.number(),
  score: z.number(),
  threshold: z.number(),
  /** The score passes the threshold: policy would admit it. */
  policy_accepted: z.boolean(),
  /** The request really spawns a running stream, in this mode, under this pressure and budget. */
  execution_accepted: z.boolean(),
  /** Deterministic explanation of the admission or suppression. */
  execution_reason: z.string(),
  /** The planned stream (also for shadow spawns, which are planned but not run); null if not planned. */
  stream_id: z.string().nullable(),
});
export type AgentAdmission = z.infer<typeof AgentAdmission>;

export const StreamIdentity = z.object({
  /** `agent_<runId>_<agent>_<sequence>`. */
  stream_id: z.string().regex(/^agent_.+_[a-z][a-z0-9_]*_\d+$/, 'agent_<runId>_<agent>_<sequence>'),
  run_id: z.string(),
  session_id: z.string(),
  turn_id: z.string(),
  agent: z.string(),
  /** Run-scoped, per agent, from 1. */
  sequence: z.number().int().positive(),
});
export type StreamIdentity = z.infer<typeof StreamIdentity>;

export const PlannedSpawn = z.object({
  stream: StreamIdentity,
  request_id: z.string(),
  intent: AgentIntentClass,
  critical: z.boolean(),
  priority: z.number().int(),
  score: z.number(),
  /** Runs as a real stream (PILOT and allowlisted); otherwise staged as a shadow preview. */
  execute: z.boolean(),
  needs: z.enum(['player_line', 'reply']),
});
export type PlannedSpawn = z.infer<typeof PlannedSpawn>;

export const SpawnPlan = z.object({
  turn_id: z.string(),
  mode: AgentMode,
  pressure: PressureLevel,
  /** In planning order (critical, then priority, score, agent, request id). */
  spawns: z.array(PlannedSpawn),
  admissions: z.array(AgentAdmission),
  /** SHA-256 over the canonical plan (spawns and admissions): equal inputs give equal hashes. */
  plan_hash: Sha256Hex,
});
export type SpawnPlan = z.infer<typeof SpawnPlan>;

export const TERMINAL_REASONS = [
  'completed',
  'timeout',
  'manual_cancel',
  'engine_dispose',
  'pressure_shed',
  'failed',
] as const;
export const TerminalReason = z.enum(TERMINAL_REASONS);
export type TerminalReason = z.infer<typeof TerminalReason>;

export const StreamState = z.enum(['queued', 'started', 'ended']);
export type StreamState = z.infer<typeof StreamState>;

// ---------------------------------------------------------------------------------------------
// Envelopes and arbitration

export const AgentDecision = z.enum(['allow', 'block', 'flag', 'propose', 'predict', 'preview']);
export type AgentDecision = z.infer<typeof AgentDecision>;

export const BlockingCondition = z.object({
  code: z.string().min(1).max(64),
  message: z.string().min(1).max(500),
});
export type BlockingCondition = z.infer<typeof BlockingCondition>;

/** What an agent stream hands to the merge arbiter. */
export const AgentEnvelope = z.strictObject({
  v: z.literal(1),
  stream: StreamIdentity,
  intent: AgentIntentClass,
  decision: AgentDecision,
  /** 0..1 */
  confidence: z.number().min(0).max(1),
  /** What the decision rests on: `world:/inventories/mira/items/ale`, `lore:inn-age`, `reply:action/0`, ... */
  evidence_refs: z.array(z.string().max(300)).max(32),
  /** Any entry blocks the commit (governance rule `agent-blocks`). */
  blocking_conditions: z.array(BlockingCondition).max(16),
  /** One line for people. */
  summary: z.string().max(500),
  /** Intent-specific findings, e.g. predicted next moves or a relationship trajectory. */
  data: z.record(z.string(), z.unknown()),
  created_at: z.number().nonnegative(),
});
export type AgentEnvelope = z.infer<typeof AgentEnvelope>;

export const ArbiterVerdict = z.object({
  stream_id: z.string(),
  agent: z.string(),
  intent: z.string(),
  accepted: z.boolean(),
  /** `commit`: takes part in the commit (pilot). `shadow`: a preview, shown only. */
  effect: z.enum(['commit', 'shadow']),
  /** Why accepted or rejected (deterministic). */
  reason: z.string(),
  blocking: z.boolean(),
  /** Position among accepted envelopes (0-based); null when rejected. */
  order: z.number().int().nonnegative().nullable(),
  envelope_hash: Sha256Hex.nullable(),
});
export type ArbiterVerdict = z.infer<typeof ArbiterVerdict>;

// ---------------------------------------------------------------------------------------------
// Rollout gates

export const GateStatus = z.enum(['pass', 'fail', 'pending']);
export type GateStatus = z.infer<typeof GateStatus>;

export const GATE_IDS = [
  'shadow-divergence',
  'deterministic-planning',
  'pilot-terminal-reasons',
  'pressure-shedding',
  'rollback',
] as const;
export const RolloutGate = z.object({
  id: z.enum(GATE_IDS),
  title: z.string(),
  status: GateStatus,
  /** The computed figures, one line. */
  detail: z.string(),
  figures: z.record(z.string(), z.number()),
});
export type RolloutGate = z.infer<typeof RolloutGate>;
