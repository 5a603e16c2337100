import {
  INTENT_CLASSES,
  type AgentIntentRequest,
  type AgentMode,
  type AgentStreamConfig,
  type PressureLevel,
} from '../../../shared/agents';

/** Score taken off non-critical requests by pressure: the busier the runtime, the pickier the policy. */
export const PRESSURE_PENALTY: Readonly<Record<PressureLevel, number>> = { LOW: 0, MEDIUM: 0.1, HIGH: 0.25 };

export interface PolicyContext {
  readonly mode: AgentMode;
  readonly pressure: PressureLevel;
  readonly config: Pick<AgentStreamConfig, 'agentStreamSpawnThreshold' | 'agentStreamPilotAgents'>;
}

export interface PolicyAdmission {
  readonly score: number;
  readonly threshold: number;
  /** The score passes the threshold. */
  readonly policyAccepted: boolean;
  /** Policy passes and the mode lets it run (PILOT, and the agent is a pilot agent). */
  readonly executionAccepted: boolean;
  readonly executionReason: string;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
const fmt = (x: number): string => x.toFixed(2);

/** relevance × the intent's weight, less the pressure penalty for non-critical intents; in [0, 1]. */
export function spawnScore(request: AgentIntentRequest, pressure: PressureLevel): number {
  const spec = INTENT_CLASSES[request.intent];
  const penalty = spec.critical ? 0 : PRESSURE_PENALTY[pressure];
  return round4(Math.min(1, Math.max(0, request.relevance * spec.weight - penalty)));
}

/**
 * The policy engine: a pure function of the request and the context, so the same inputs always give
 * the same admission and reason. Budget and pressure suppression are the scheduler's.
 */
export function admit(request: AgentIntentRequest, ctx: PolicyContext): PolicyAdmission {
  const score = spawnScore(request, ctx.pressure);
  const threshold = ctx.config.agentStreamSpawnThreshold;
  const base = { score, threshold };
  if (score < threshold)
    return {
      ...base,
      policyAccepted: false,
      executionAccepted: false,
      executionReason: `score ${fmt(score)} < threshold ${fmt(threshold)}: not admitted`,
    };
  const passes = `score ${fmt(score)} ≥ threshold ${fmt(threshold)}`;
  if (ctx.mode === 'shadow')
    return {
      ...base,
      policyAccepted: true,
      executionAccepted: false,
      executionReason: `${passes}; SHADOW mode (agentStreamsEnabled=false): planned, not executed`,
    };
  if (!ctx.config.agentStreamPilotAgents.includes(request.agent as never))
    return {
      ...base,
      policyAccepted: true,
      executionAccepted: false,
      executionReason: `${passes}; agent '${request.agent}' is not in agentStreamPilotAgents: shadow preview only`,
    };
  return {
    ...base,
    policyAccepted: true,
    executionAccepted: true,
    executionReason: `${passes}; PILOT agent '${request.agent}': runs`,
  };
}
