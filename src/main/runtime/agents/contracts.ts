/**
 * Runtime-side contracts of the agent plane: what an agent is, what it sees of a turn, and what it
 * hands back. The wire contracts (requests, admissions, plans, envelopes) live in src/shared/agents.
 */
import type {
  AgentDecision,
  AgentEnvelope,
  AgentIntentClass,
  AgentIntentRequest,
  BlockingCondition,
  StreamIdentity,
} from '../../../shared/agents';
import type { ParsedOutput } from '../../../shared/proposals';
import type { Npc, Scenario } from '../../../shared/scenario';
import type { WorldState } from '../../../shared/world';

export type {
  AgentIntentClass,
  AgentIntentRequest,
  AgentEnvelope,
  SpawnPlan,
  StreamIdentity,
} from '../../../shared/agents';

/** Everything an agent may look at for one turn. Frozen: agents read it, never change it. */
export interface AgentTurnContext {
  readonly runId: string;
  readonly sessionId: string;
  readonly turnId: string;
  readonly scenario: Scenario;
  readonly npcId: string;
  readonly npc: Npc;
  readonly playerText: string;
  /** World state at the start of the turn (the session's last commit). */
  readonly world: WorldState;
  /** Envelopes the arbiter accepted in the session's previous turn: the blackboard carried forward. */
  readonly previous: readonly AgentEnvelope[];
}

/** What an agent asks for, before the plane names it (request id, agent, intent). */
export interface IntentWish {
  readonly relevance: number;
  readonly reason: string;
}

/** An agent's finding; the plane wraps it into an `AgentEnvelope` with the stream's identity. */
export interface EnvelopeDraft {
  readonly decision: AgentDecision;
  readonly confidence: number;
  readonly evidence_refs: readonly string[];
  readonly blocking_conditions: readonly BlockingCondition[];
  readonly summary: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface AgentRunContext {
  readonly turn: AgentTurnContext;
  readonly stream: StreamIdentity;
  /** The NPC's parsed reply; null for agents that need only the player's line. */
  readonly reply: ParsedOutput | null;
  /** Aborted when the stream ends early (timeout, cancel, shed, dispose). */
  readonly signal: AbortSignal;
  /** Streams one piece of the agent's working text (`agent_token_delta`), paced by the plane's clock. */
  say(text: string): Promise<void>;
}

/** One auxiliary agent. Rule-based ones ship built in; one could as well call a model from the pool. */
export interface AgentDefinition {
  /** Lowercase, `[a-z][a-z0-9_]*`: it appears in stream ids. */
  readonly name: string;
  readonly intent: AgentIntentClass;
  /** What this agent wants to run for in this turn (usually zero or one wish). */
  wishes(turn: AgentTurnContext): readonly IntentWish[];
  run(ctx: AgentRunContext): Promise<EnvelopeDraft>;
}

/** Builds the turn's intent requests from every agent's wishes, in agent order. */
export function intentRequests(
  agents: readonly AgentDefinition[],
  turn: AgentTurnContext,
): AgentIntentRequest[] {
  return agents.flatMap((agent) =>
    agent.wishes(turn).map((wish, i) => ({
      request_id: `${agent.name}:${i + 1}`,
      agent: agent.name,
      intent: agent.intent,
      relevance: Math.min(1, Math.max(0, wish.relevance)),
      reason: wish.reason,
    })),
  );
}
