import {
  INTENT_CLASSES,
  type AgentAdmission,
  type AgentIntentRequest,
  type AgentMode,
  type AgentStreamConfig,
  type PlannedSpawn,
  type PressureLevel,
  type SpawnPlan,
} from '../../../shared/agents';
import { hashCanonical } from '../core/hash';
import { admit } from './policy';

export interface PlanContext {
  readonly runId: string;
  readonly sessionId: string;
  readonly turnId: string;
  readonly mode: AgentMode;
  readonly pressure: PressureLevel;
  readonly config: Pick<
    AgentStreamConfig,
    'agentStreamSpawnThreshold' | 'agentStreamPilotAgents' | 'agentStreamMaxSpawnsPerTurn'
  >;
}

/** Agent name → last stream sequence used, run-scoped. */
export type SequenceCounters = Readonly<Record<string, number>>;

export interface PlanResult {
  readonly plan: SpawnPlan;
  /** The counters after this plan; pass them to the next plan of the run. */
  readonly counters: SequenceCounters;
}

export function streamId(runId: string, agent: string, sequence: number): string {
  return `agent_${runId}_${agent}_${sequence}`;
}

interface Scored {
  readonly request: AgentIntentRequest;
  readonly policy: ReturnType<typeof admit>;
}

/** Planning order: critical first, then intent priority, score, agent name, request id (all descending/ascending fixed). */
function compare(a: Scored, b: Scored): number {
  const sa = INTENT_CLASSES[a.request.intent];
  const sb = INTENT_CLASSES[b.request.intent];
  return (
    Number(sb.critical) - Number(sa.critical) ||
    sb.priority - sa.priority ||
    b.policy.score - a.policy.score ||
    (a.request.agent < b.request.agent ? -1 : a.request.agent > b.request.agent ? 1 : 0) ||
    (a.request.request_id < b.request.request_id ? -1 : a.request.request_id > b.request.request_id ? 1 : 0)
  );
}

/**
 * The intent scheduler: a deterministic spawn plan from the turn context and its intent requests.
 * A pure function: the same context, requests and counters give the same plan, ids and hash.
 *
 * Every request gets an admission. A policy-accepted request is planned (given a stream id) unless
 * HIGH pressure suppresses it (only critical intents are allowlisted then) or the turn's spawn budget
 * (`agentStreamMaxSpawnsPerTurn`) is used up. Planned spawns run only when the policy's
 * `executionAccepted` holds (PILOT, pilot agent); the others become shadow previews. Shadow and pilot
 * runs of the same turns therefore plan the same stream ids.
 */
export function planSpawns(
  ctx: PlanContext,
  requests: readonly AgentIntentRequest[],
  counters: SequenceCounters,
): PlanResult {
  const next: Record<string, number> = { ...counters };
  const scored: Scored[] = requests
    .map((request) => ({ request, policy: admit(request, ctx) }))
    .sort(compare);
  const budget = ctx.config.agentStreamMaxSpawnsPerTurn;
  const spawns: PlannedSpawn[] = [];
  const admissions: AgentAdmission[] = [];
  for (const { request, policy } of scored) {
    const spec = INTENT_CLASSES[request.intent];
    const admission = {
      request_id: request.request_id,
      agent: request.agent,
      intent: request.intent,
      critical: spec.critical,
      relevance: request.relevance,
      score: policy.score,
      threshold: policy.threshold,
      policy_accepted: policy.policyAccepted,
    };
    const suppress = (reason: string): void => {
      admissions.push({ ...admission, execution_accepted: false, execution_reason: reason, stream_id: null });
    };
    if (!policy.policyAccepted) {
      suppress(policy.executionReason);
      continue;
    }
    if (ctx.pressure === 'HIGH' && !spec.critical) {
      suppress(`HIGH pressure: intent '${request.intent}' is not allowlisted (only critical intents spawn)`);
      continue;
    }
    if (spawns.length >= budget) {
      suppress(`spawn budget used: ${budget} of agentStreamMaxSpawnsPerTurn=${budget} already planned`);
      continue;
    }
    const sequence = (next[request.agent] ?? 0) + 1;
    next[request.agent] = sequence;
    const id = streamId(ctx.runId, request.agent, sequence);
    spawns.push({
      stream: {
        stream_id: id,
        run_id: ctx.runId,
        session_id: ctx.sessionId,
        turn_id: ctx.turnId,
        agent: request.agent,
        sequence,
      },
      request_id: request.request_id,
      intent: request.intent,
      critical: spec.critical,
      priority: spec.priority,
      score: policy.score,
      execute: policy.executionAccepted,
      needs: spec.needs,
    });
    admissions.push({
      ...admission,
      execution_accepted: policy.executionAccepted,
      execution_reason: `${policy.executionReason} (${id})`,
      stream_id: id,
    });
  }
  const body = { turn_id: ctx.turnId, mode: ctx.mode, pressure: ctx.pressure, spawns, admissions };
  return { plan: { ...body, plan_hash: hashCanonical(body) }, counters: next };
}
