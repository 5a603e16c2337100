/** Valid agent-plane payloads and command results for tests, shaped like the runtime's. */
import {
  AGENT_INTENT,
  AGENT_NAMES,
  DEFAULT_AGENT_CONFIG,
  INTENT_CLASSES,
  TERMINAL_REASONS,
  type AgentAdmission,
  type AgentDecision,
  type AgentMode,
  type AgentName,
  type AgentStreamConfig,
  type ArbiterVerdict,
  type BlockingCondition,
  type PressureLevel,
  type PressureStatus,
  type StreamState,
  type TerminalReason,
} from '../../../shared/agents';
import type { AgentsConfigResult, AgentsStatusResult } from '../../../shared/commands';
import type { EventPayload } from '../../../shared/protocol';
import { HASH } from './envelopes';

export const RUN_ID = 'run1';

export function streamIdOf(agent: AgentName, sequence = 1): string {
  return `agent_${RUN_ID}_${agent}_${sequence}`;
}

/**
 * One admission. By default policy-accepted and planned (with a stream id) but not executed, as in
 * SHADOW mode; `planned: false` leaves the stream id out.
 */
export function admission(
  agent: AgentName,
  overrides: Partial<AgentAdmission> & { planned?: boolean } = {},
): AgentAdmission {
  const { planned = true, ...rest } = overrides;
  const intent = AGENT_INTENT[agent];
  return {
    request_id: `${agent}:1`,
    agent,
    intent,
    critical: INTENT_CLASSES[intent].critical,
    relevance: 0.8,
    score: 0.8 * INTENT_CLASSES[intent].weight,
    threshold: 0.5,
    policy_accepted: true,
    execution_accepted: false,
    execution_reason: 'SHADOW mode: planned, not executed',
    stream_id: planned ? streamIdOf(agent) : null,
    ...rest,
  };
}

export function admissionPayload(
  admissions: AgentAdmission[],
  mode: AgentMode = 'shadow',
  pressure: PressureLevel = 'LOW',
): EventPayload<'agent_admission'> {
  return { mode, pressure, config_version: 0, plan_hash: HASH, admissions };
}

export function lifecycle(
  agent: AgentName,
  state: StreamState,
  overrides: Partial<EventPayload<'agent_stream_lifecycle'>> = {},
): EventPayload<'agent_stream_lifecycle'> {
  const intent = AGENT_INTENT[agent];
  return {
    stream_id: streamIdOf(agent),
    agent,
    intent,
    critical: INTENT_CLASSES[intent].critical,
    state,
    terminal_reason: state === 'ended' ? 'completed' : null,
    message: null,
    tokens: 0,
    elapsed_ms: state === 'queued' ? 0 : 12,
    ...overrides,
  };
}

export function agentEnvelope(
  agent: AgentName,
  options: {
    preview?: boolean;
    decision?: AgentDecision;
    summary?: string;
    blocking?: BlockingCondition[];
  } = {},
): EventPayload<'agent_envelope'> {
  const preview = options.preview ?? true;
  return {
    preview,
    envelope: {
      v: 1,
      stream: {
        stream_id: streamIdOf(agent),
        run_id: RUN_ID,
        session_id: 's1',
        turn_id: 't1',
        agent,
        sequence: 1,
      },
      intent: AGENT_INTENT[agent],
      decision: options.decision ?? (preview ? 'preview' : 'allow'),
      confidence: 0.9,
      evidence_refs: [],
      blocking_conditions: options.blocking ?? [],
      summary: options.summary ?? `${agent}: fine`,
      data: {},
      created_at: 1_700_000_000_000,
    },
    envelope_hash: HASH,
  };
}

export function verdict(agent: AgentName, overrides: Partial<ArbiterVerdict> = {}): ArbiterVerdict {
  return {
    stream_id: streamIdOf(agent),
    agent,
    intent: AGENT_INTENT[agent],
    accepted: true,
    effect: 'shadow',
    reason: 'accepted: preview',
    blocking: false,
    order: 0,
    envelope_hash: HASH,
    ...overrides,
  };
}

export function arbiterPayload(
  verdicts: ArbiterVerdict[],
  mode: AgentMode = 'shadow',
): EventPayload<'arbiter_decision'> {
  const accepted = verdicts.filter((v) => v.accepted);
  return {
    mode,
    accepted: accepted.length,
    rejected: verdicts.length - accepted.length,
    committed: accepted.filter((v) => v.effect === 'commit').length,
    blocking: accepted.filter((v) => v.blocking && v.effect === 'commit').length,
    verdicts,
    decision_hash: HASH,
  };
}

export function configChanged(
  version: number,
  changes: { key: keyof AgentStreamConfig; from: unknown; to: unknown }[],
  changedBy = 'ws:1',
): EventPayload<'config_changed'> {
  const config = { ...DEFAULT_AGENT_CONFIG } as Record<string, unknown>;
  for (const c of changes) config[c.key] = c.to;
  return { changed_by: changedBy, changes, config: config as AgentStreamConfig, version };
}

/** `overrides` may be a command's `changes` as written (absent flags may be undefined). */
export function agentsConfig(
  overrides: { [K in keyof AgentStreamConfig]?: AgentStreamConfig[K] | undefined } = {},
  version = 0,
): AgentsConfigResult {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return {
    config: { ...DEFAULT_AGENT_CONFIG, ...given },
    defaults: DEFAULT_AGENT_CONFIG,
    version,
    agents: AGENT_NAMES.map((name) => {
      const intent = AGENT_INTENT[name];
      const spec = INTENT_CLASSES[intent];
      return { name, intent, critical: spec.critical, needs: spec.needs, description: spec.description };
    }),
  };
}

export function pressure(level: PressureLevel = 'LOW', forced: PressureLevel | null = null): PressureStatus {
  return {
    level: forced ?? level,
    computed: level,
    forced,
    signals: {
      active_streams: 0,
      queued_streams: 0,
      max_concurrent: 4,
      queue_fill: 0,
      event_loop_delay_ms: 3,
    },
    reason: 'all signals low',
  };
}

export function agentsStatus(overrides: Partial<AgentsStatusResult> = {}): AgentsStatusResult {
  const terminal = Object.fromEntries(TERMINAL_REASONS.map((r) => [r, r === 'completed' ? 2 : 0]));
  return {
    pressure: pressure(),
    active_streams: [],
    queued_streams: [],
    terminal_counts: terminal as Record<TerminalReason, number>,
    gates: [
      {
        id: 'shadow-divergence',
        title: 'Shadow divergence',
        status: 'pass',
        detail: '0 of 4',
        figures: {},
      },
      { id: 'rollback', title: 'Rollback', status: 'pending', detail: 'no rollback yet', figures: {} },
    ],
    config_version: 0,
    ...overrides,
  };
}
