/**
 * Agent control plane cost per turn (section 4 of bench/run.ts), in the benchmark's own process.
 *
 * Measured: one turn of the control plane with AGENT_REQUESTS intent requests, from the requests to the
 * arbiter's decision: `planSpawns` (policy + scheduler), one envelope per planned spawn (a real
 * envelope when the spawn executes, a shadow preview otherwise, built as the turn's pass builds them),
 * and `decideStaged` (the merge arbiter). The agents' own work (their `run`) is not part of it: their
 * drafts are made beforehand.
 *
 * Floor: building the same turn's own events the way `Session.publishEvent` does (payload validated
 * against `PAYLOAD_SCHEMAS[type]`, then the envelope object) for a typical turn: `turn_accepted`,
 * AGENT_TURN_TOKENS `token_delta`s, `turn_final`, `commit_succeeded`. Event log and fan-out are not
 * part of it. The two run in alternating rounds.
 */
import { performance } from 'node:perf_hooks';
import { decideStaged, envelopeOf, previewEnvelope } from '../src/main/runtime/agents/control-plane';
import type { Staged } from '../src/main/runtime/agents/arbiter';
import type { EnvelopeDraft } from '../src/main/runtime/agents/contracts';
import { planSpawns, type PlanContext, type SequenceCounters } from '../src/main/runtime/agents/scheduler';
import { systemClock } from '../src/main/runtime/core/clock';
import { buildEvent } from '../src/main/runtime/interaction/session';
import { sha256Hex } from '../src/main/runtime/core/hash';
import {
  AGENT_INTENT,
  AGENT_NAMES,
  AgentStreamConfig,
  agentMode,
  type AgentIntentRequest,
  type AgentName,
} from '../src/shared/agents';
import type { EmittedEventType, EventPayload } from '../src/shared/protocol';
import { RULE_IDS, type Action, type PatchOperation, type Verdict } from '../src/shared/world';

export const AGENT_REQUESTS = 50;
export const AGENT_TURN_TOKENS = 40;
/** turn_accepted, the token_deltas, turn_final, commit_succeeded. */
export const AGENT_TURN_EVENTS = AGENT_TURN_TOKENS + 3;
const SEED = 0x5eed_a9e7;

const RUN_ID = 'bench';
const SESSION_ID = `${RUN_ID}.s1`;

/** PILOT, every agent a pilot agent, a budget above the request count: every admitted request is planned. */
export const AGENT_BENCH_CONFIG: AgentStreamConfig = AgentStreamConfig.parse({
  agentStreamsEnabled: true,
  agentStreamPilotAgents: [...AGENT_NAMES],
  agentStreamMaxSpawnsPerTurn: 64,
});

/** mulberry32: a small seeded generator, so every run plans the same requests. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` requests, round-robin over the built-in agents (one intent class each), relevance 0.25..1. */
export function benchRequests(count: number, seed = SEED): AgentIntentRequest[] {
  const random = seeded(seed);
  return Array.from({ length: count }, (_, i): AgentIntentRequest => {
    const agent = AGENT_NAMES[i % AGENT_NAMES.length] as AgentName;
    const relevance = Math.round((0.25 + 0.75 * random()) * 100) / 100;
    return {
      request_id: `${agent}:${Math.floor(i / AGENT_NAMES.length) + 1}`,
      agent,
      intent: AGENT_INTENT[agent],
      relevance,
      reason: `bench request ${i}: relevance ${relevance.toFixed(2)}`,
    };
  });
}

/** What each built-in agent typically hands back (shapes as in builtin-agents.ts), made before the clock starts. */
const DRAFTS: Readonly<Record<AgentName, EnvelopeDraft>> = {
  safety: {
    decision: 'allow',
    confidence: 1,
    evidence_refs: ['reply:text', 'reply:action/0', 'reply:action/1'],
    blocking_conditions: [],
    summary: 'nothing blocked',
  },
  quest_gate: {
    decision: 'allow',
    confidence: 0.9,
    evidence_refs: ['world:/quests/cellar_rats/status'],
    blocking_conditions: [],
    summary: 'no quest changes in the reply',
    data: { ready_to_start: [], ready_to_complete: [], not_ready: [] },
  },
  lore: {
    decision: 'allow',
    confidence: 0.8,
    evidence_refs: ['reply:text'],
    blocking_conditions: [],
    summary: 'no contradiction with the lore',
    data: { contradictions: [] },
  },
  emotion: {
    decision: 'propose',
    confidence: 0.7,
    evidence_refs: ['world:/relationships/mira/player', 'player:text'],
    blocking_conditions: [],
    summary: 'mira toward player: 10 → 12, warming',
    data: { current: 10, projected: 12, trajectory: 'warming', tone: 'polite', from_actions: 2 },
  },
  next_move: {
    decision: 'predict',
    confidence: 0.6,
    evidence_refs: ['player:text', 'world:/inventories/player/coin'],
    blocking_conditions: [],
    summary: 'next: ask for supper (0.45), ask about the bridge (0.30)',
    data: {
      predictions: [
        { move: 'ask for supper', p: 0.45 },
        { move: 'ask about the bridge', p: 0.3 },
      ],
      prewarm: [{ npc_id: 'mira', model: { backend: 'scripted', model_id: 'wayside-mira' } }],
    },
  },
};

/** Per-turn means of one round, ms. */
export interface AgentRound {
  readonly planning: number;
  readonly envelopes: number;
  readonly arbitration: number;
  /** planning + envelopes + arbitration. */
  readonly total: number;
}

/** What one turn of the plane looks like (the same every turn: same requests, same config). */
export interface AgentTurnShape {
  readonly requests: number;
  readonly planned: number;
  readonly executed: number;
  readonly previews: number;
  readonly belowThreshold: number;
  readonly accepted: number;
  /** Rejected as conflicts (same agent and intent as an accepted envelope). */
  readonly duplicates: number;
  readonly meanEnvelopeBytes: number;
}

export interface AgentPlaneResult {
  readonly plane: AgentRound[];
  /** Building the turn's events alone, per-turn mean of each round (EVENT_TURN_FACTOR × the turns), ms. */
  readonly events: number[];
  readonly shape: AgentTurnShape;
  readonly meanEventBytes: number;
}

export interface AgentPlaneOptions {
  /** Control-plane turns per round; the events side runs EVENT_TURN_FACTOR times as many. */
  readonly turns: number;
  /** Control-plane warm-up turns; the events side, likewise scaled. */
  readonly warmup: number;
  readonly rounds: number;
}

/**
 * A turn's events cost a small fraction of its planning and arbitration: the events side runs this many
 * times the turns, so its rounds are not a few milliseconds long (too short against GC pauses and JIT
 * tiering). Figures are per-turn means either way.
 */
export const EVENT_TURN_FACTOR = 10;

/** Runs the control plane for consecutive turns of one session; sequence counters carry over, as in a run. */
class PlaneTurns {
  private readonly requests = benchRequests(AGENT_REQUESTS);
  private counters: SequenceCounters = {};
  private turn = 0;
  shape: AgentTurnShape | undefined;

  round(turns: number): AgentRound {
    let planning = 0;
    let envelopes = 0;
    let arbitration = 0;
    for (let i = 0; i < turns; i++) {
      const ctx: PlanContext = {
        runId: RUN_ID,
        sessionId: SESSION_ID,
        turnId: `${SESSION_ID}.t${++this.turn}`,
        mode: agentMode(AGENT_BENCH_CONFIG),
        pressure: 'LOW',
        config: AGENT_BENCH_CONFIG,
      };
      const t0 = performance.now();
      const { plan, counters } = planSpawns(ctx, this.requests, this.counters);
      const t1 = performance.now();
      const now = systemClock.now();
      const staged: Staged[] = plan.spawns.map((spawn) => ({
        stream_id: spawn.stream.stream_id,
        preview: !spawn.execute,
        envelope: spawn.execute
          ? envelopeOf(spawn, DRAFTS[spawn.stream.agent as AgentName], now)
          : previewEnvelope(spawn, plan.mode, now),
      }));
      const t2 = performance.now();
      const result = decideStaged(plan, staged);
      const t3 = performance.now();
      planning += t1 - t0;
      envelopes += t2 - t1;
      arbitration += t3 - t2;
      this.counters = counters;

      // Outside the clock: every envelope must have been valid, or the figure would measure rejections.
      const invalid = result.verdicts.find((v) => !v.accepted && !v.reason.startsWith('duplicate of '));
      if (invalid !== undefined)
        throw new Error(`agent bench: envelope of ${invalid.stream_id} rejected: ${invalid.reason}`);
      if (this.shape === undefined) {
        const bytes = staged.reduce((n, s) => n + Buffer.byteLength(JSON.stringify(s.envelope)), 0);
        const executed = plan.spawns.filter((s) => s.execute).length;
        this.shape = {
          requests: this.requests.length,
          planned: plan.spawns.length,
          executed,
          previews: plan.spawns.length - executed,
          belowThreshold: plan.admissions.filter((a) => !a.policy_accepted).length,
          accepted: result.accepted,
          duplicates: result.rejected,
          meanEnvelopeBytes: staged.length === 0 ? 0 : bytes / staged.length,
        };
      }
    }
    return {
      planning: planning / turns,
      envelopes: envelopes / turns,
      arbitration: arbitration / turns,
      total: (planning + envelopes + arbitration) / turns,
    };
  }
}

/** The parts of a typical committed turn's payloads that exist before its events are built. */
interface TurnMaterial {
  readonly playerText: string;
  readonly tokens: readonly string[];
  readonly spoken: string;
  readonly proposals: readonly Action[];
  readonly patch: readonly PatchOperation[];
  readonly verdicts: readonly Verdict[];
  readonly stateBefore: string;
  readonly stateAfter: string;
  readonly provenanceHash: string;
}

const MODEL = { backend: 'scripted', model_id: 'wayside-mira' } as const;

function turnMaterial(): TurnMaterial {
  const reply =
    'A room is four silver a night. Breakfast is included, though the cook is in a mood. ' +
    'Here is your key; the stairs creak, so mind the third one, and the fire in the common room ' +
    'burns until the last guest goes up. Will you want stew tonight as well?';
  const words = reply.split(' ');
  const tokens = Array.from({ length: AGENT_TURN_TOKENS }, (_, i) => {
    const word = words[i % words.length] as string;
    return i === 0 ? word : ` ${word}`;
  });
  return {
    playerText: 'I need a room to sleep in.',
    tokens,
    spoken: tokens.join(''),
    proposals: [
      { kind: 'sell_item', item: 'room_key', to: 'player', count: 1, price: 4 },
      { kind: 'adjust_relationship', toward: 'player', delta: 2 },
    ],
    patch: [
      { op: 'replace', path: '/inventories/mira/items/room_key', value: 2 },
      { op: 'add', path: '/inventories/player/items/room_key', value: 1 },
      { op: 'replace', path: '/inventories/player/coin', value: 8 },
      { op: 'replace', path: '/inventories/mira/coin', value: 44 },
      { op: 'replace', path: '/relationships/mira/player', value: 12 },
    ],
    verdicts: RULE_IDS.map((rule) => ({ rule, ok: true, message: `${rule}: passed`, failures: [] })),
    stateBefore: sha256Hex('state before'),
    stateAfter: sha256Hex('state after'),
    provenanceHash: sha256Hex('provenance'),
  };
}

/** Builds the events of consecutive turns of one session with the session's `buildEvent` (no log, no fan-out). */
class EventTurns {
  private seq = 0;
  private turn = 0;
  private readonly material = turnMaterial();
  /** Kept, as the session keeps its events (log, subscribers): the envelope must really be built. */
  last: unknown = null;

  /** Only for sizing a sample turn; null while timed. */
  constructor(private readonly collect: unknown[] | null = null) {}

  private event<T extends EmittedEventType>(type: T, turnId: string, payload: EventPayload<T>): void {
    const event = buildEvent(SESSION_ID, ++this.seq, turnId, systemClock.now(), type, payload);
    this.last = event;
    this.collect?.push(event);
  }

  oneTurn(): void {
    const m = this.material;
    const turnId = `${SESSION_ID}.t${++this.turn}`;
    this.event('turn_accepted', turnId, { text: m.playerText, model: MODEL });
    let index = 0;
    for (const text of m.tokens) this.event('token_delta', turnId, { index: index++, text });
    this.event('turn_final', turnId, {
      text: m.spoken,
      token_count: index,
      proposals: [...m.proposals],
      proposal_errors: [],
    });
    this.event('commit_succeeded', turnId, {
      commit_seq: this.turn,
      provenance_hash: m.provenanceHash,
      text: m.spoken,
      state_hash: m.stateAfter,
      state_hash_before: m.stateBefore,
      patch: [...m.patch],
      verdicts: [...m.verdicts],
    });
  }

  /** Per-turn mean, ms. */
  round(turns: number): number {
    const firstSeq = this.seq;
    const t0 = performance.now();
    for (let i = 0; i < turns; i++) this.oneTurn();
    const elapsed = performance.now() - t0;
    if (this.seq - firstSeq !== turns * AGENT_TURN_EVENTS)
      throw new Error(`event bench: ${this.seq - firstSeq} events for ${turns} turns`);
    return elapsed / turns;
  }
}

/** Mean serialized size of one turn's events. */
function meanEventBytes(): number {
  const events: unknown[] = [];
  new EventTurns(events).oneTurn();
  return events.reduce<number>((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0) / events.length;
}

/** Warm-up on both sides, then `rounds` alternating rounds of `turns` turns each. */
export function agentPlaneCost(options: AgentPlaneOptions): AgentPlaneResult {
  const plane = new PlaneTurns();
  const events = new EventTurns();
  plane.round(options.warmup);
  events.round(options.warmup * EVENT_TURN_FACTOR);
  const planeRounds: AgentRound[] = [];
  const eventRounds: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    planeRounds.push(plane.round(options.turns));
    eventRounds.push(events.round(options.turns * EVENT_TURN_FACTOR));
  }
  if (plane.shape === undefined) throw new Error('agent bench: no turns ran');
  return { plane: planeRounds, events: eventRounds, shape: plane.shape, meanEventBytes: meanEventBytes() };
}
