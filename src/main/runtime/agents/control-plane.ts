import {
  type AgentEnvelope,
  INTENT_CLASSES,
  agentMode,
  type AgentStreamConfig,
  type PlannedSpawn,
  type PressureLevel,
  type PressureSignals,
  type PressureStatus,
  type SpawnPlan,
  type TerminalReason,
} from '../../../shared/agents';
import type { AgentInfo, AgentsStatusResult } from '../../../shared/commands';
import type { EventPayload } from '../../../shared/protocol';
import type { ParsedOutput } from '../../../shared/proposals';
import type { Clock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import type { Logger } from '../core/logger';
import { MergeArbiter, type ArbiterResult, type Staged } from './arbiter';
import { BUILTIN_AGENTS } from './builtin-agents';
import { AgentConfigStore } from './config-store';
import { intentRequests, type AgentDefinition, type AgentTurnContext } from './contracts';
import { computeGates, type TurnRecord } from './gates';
import { PressureMonitor } from './pressure';
import { planSpawns, type PlanContext, type SequenceCounters } from './scheduler';
import { StreamManager, type EarlyEnd, type StreamOutcome } from './stream-manager';

export type AgentEventType =
  'agent_admission' | 'agent_stream_lifecycle' | 'agent_token_delta' | 'agent_envelope' | 'arbiter_decision';

/** Publishes one agent-plane event of the turn. The session guards it: nothing after the turn's end. */
export type AgentEventPublisher = <T extends AgentEventType>(type: T, payload: EventPayload<T>) => void;

export interface ControlPlaneOptions {
  readonly runId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Default: the built-in agents. */
  readonly agents?: readonly AgentDefinition[];
  /** Initial flags (validated); default: conservative (SHADOW, no pilot agents). */
  readonly config?: Partial<AgentStreamConfig>;
  /** Pause after each piece of text an agent streams, ms. Default 20. */
  readonly tokenIntervalMs?: number;
  readonly terminalCacheSize?: number;
  /** Live signals besides the streams: deepest subscriber queue fill, event-loop delay p99. */
  readonly signals?: () => Pick<PressureSignals, 'queue_fill' | 'event_loop_delay_ms'>;
  /** Turn records kept for the rollout gates. Default 200. */
  readonly historySize?: number;
}

const AGENT_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * The agent-stream control plane, one per runtime: config flags, pressure, the scheduler's run-scoped
 * counters, the stream manager, and the turn records behind the rollout gates. Each turn gets a
 * `TurnAgentPass` from `beginTurn`.
 */
export class AgentControlPlane {
  readonly config: AgentConfigStore;
  readonly streams: StreamManager;
  readonly pressure: PressureMonitor;
  readonly agents: readonly AgentDefinition[];
  readonly runId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tokenIntervalMs: number;
  private counters: SequenceCounters = {};
  private readonly history: TurnRecord[] = [];
  private readonly historySize: number;
  /** Ended streams by mode of their turn, reason and criticality (for the gates). */
  readonly ended = { pilot: new Map<TerminalReason, number>(), shedCritical: 0, shedNonCritical: 0 };

  constructor(options: ControlPlaneOptions) {
    this.runId = options.runId;
    this.clock = options.clock;
    this.logger = options.logger;
    this.agents = options.agents ?? BUILTIN_AGENTS;
    const names = new Set<string>();
    for (const a of this.agents) {
      if (!AGENT_NAME.test(a.name))
        throw new Error(`agent name '${a.name}' must match ${String(AGENT_NAME)}`);
      if (names.has(a.name)) throw new Error(`two agents are named '${a.name}'`);
      names.add(a.name);
    }
    this.tokenIntervalMs = options.tokenIntervalMs ?? 20;
    this.historySize = options.historySize ?? 200;
    this.config = new AgentConfigStore(options.config, () => this.clock.now());
    this.streams = new StreamManager({
      clock: this.clock,
      maxConcurrent: this.config.config.agentStreamMaxConcurrent,
      ...(options.terminalCacheSize === undefined ? {} : { terminalCacheSize: options.terminalCacheSize }),
    });
    this.config.onChange((c) => {
      this.streams.setMaxConcurrent(c.config.agentStreamMaxConcurrent);
    });
    const signals = options.signals ?? (() => ({ queue_fill: 0, event_loop_delay_ms: 0 }));
    this.pressure = new PressureMonitor(() => ({
      active_streams: this.streams.activeIds.length,
      queued_streams: this.streams.queuedIds.length,
      max_concurrent: this.streams.maxConcurrent,
      ...signals(),
    }));
  }

  agentInfo(): AgentInfo[] {
    return this.agents.map((a) => ({
      name: a.name,
      intent: a.intent,
      critical: INTENT_CLASSES[a.intent].critical,
      needs: INTENT_CLASSES[a.intent].needs,
      description: INTENT_CLASSES[a.intent].description,
    }));
  }

  /** Forces (or, with null, releases) the pressure level. Forcing HIGH sheds at once when shedding is on. */
  forcePressure(level: PressureLevel | null): PressureStatus {
    this.pressure.force(level);
    const status = this.pressure.status();
    if (status.level === 'HIGH' && this.config.config.agentStreamPressureSheddingEnabled)
      this.streams.shedNonCritical(`pressure forced to HIGH: non-critical streams shed`);
    return this.pressure.status();
  }

  cancelStream(streamId: string): void {
    if (this.streams.cancel(streamId, 'manual_cancel', 'cancelled by a client')) return;
    const ended = this.streams.outcome(streamId);
    throw new RuntimeError(
      'unknown_stream',
      ended === undefined
        ? `no running or queued agent stream '${streamId}'`
        : `agent stream '${streamId}' has already ended (${ended.reason})`,
      ended === undefined ? undefined : { ended: ended.reason },
    );
  }

  /**
   * Starts a turn's control-plane pass: reads the config and pressure once, sheds under HIGH pressure
   * (when enabled), plans and publishes `agent_admission`. `start()` on the pass then starts the
   * streams that need only the player's line; the rest start when the reply is final.
   */
  beginTurn(turn: AgentTurnContext, publish: AgentEventPublisher): TurnAgentPass {
    const config = this.config.config;
    const version = this.config.version;
    let pressure = this.pressure.status();
    if (pressure.level === 'HIGH' && config.agentStreamPressureSheddingEnabled) {
      this.streams.shedNonCritical(
        `HIGH pressure (${pressure.reason}): shed before planning turn ${turn.turnId}`,
      );
      pressure = this.pressure.status();
    }
    const requests = intentRequests(this.agents, turn);
    const ctx: PlanContext = {
      runId: this.runId,
      sessionId: turn.sessionId,
      turnId: turn.turnId,
      mode: agentMode(config),
      pressure: pressure.level,
      config,
    };
    const countersBefore = this.counters;
    const { plan, counters } = planSpawns(ctx, requests, countersBefore);
    this.counters = counters;
    publish('agent_admission', {
      mode: plan.mode,
      pressure: plan.pressure,
      config_version: version,
      plan_hash: plan.plan_hash,
      admissions: plan.admissions,
    });
    const record: TurnRecord = {
      turn_id: turn.turnId,
      config_version: version,
      ctx,
      requests,
      countersBefore,
      plan,
      staged: [],
      decision_hash: null,
      executed: plan.spawns.filter((s) => s.execute).length,
    };
    this.history.push(record);
    if (this.history.length > this.historySize) this.history.shift();
    return new TurnAgentPass(this, turn, plan, config, publish, record);
  }

  /** @internal Counts an ended stream for the gates. */
  noteEnded(mode: SpawnPlan['mode'], outcome: StreamOutcome): void {
    if (mode === 'pilot')
      this.ended.pilot.set(outcome.reason, (this.ended.pilot.get(outcome.reason) ?? 0) + 1);
    if (outcome.reason === 'pressure_shed') {
      if (outcome.critical) this.ended.shedCritical++;
      else this.ended.shedNonCritical++;
    }
  }

  get records(): readonly TurnRecord[] {
    return this.history;
  }

  status(): AgentsStatusResult {
    return {
      pressure: this.pressure.status(),
      active_streams: this.streams.activeIds,
      queued_streams: this.streams.queuedIds,
      terminal_counts: this.streams.terminalCounts,
      gates: computeGates({
        records: this.history,
        config: this.config,
        ended: this.ended,
        decide: decideStaged,
      }),
      config_version: this.config.version,
    };
  }

  /** Ends every stream (`engine_dispose`). */
  dispose(): void {
    this.streams.dispose();
  }
}

/** Wraps an agent's draft into a full envelope with its stream's identity. */
export function envelopeOf(
  spawn: PlannedSpawn,
  draft: Awaited<ReturnType<AgentDefinition['run']>>,
  now: number,
): AgentEnvelope {
  return {
    v: 1,
    stream: spawn.stream,
    intent: spawn.intent,
    decision: draft.decision,
    confidence: draft.confidence,
    evidence_refs: [...draft.evidence_refs],
    blocking_conditions: [...draft.blocking_conditions],
    summary: draft.summary,
    data: { ...draft.data },
    created_at: now,
  };
}

/** The shadow preview of a planned spawn that does not run (SHADOW, or not a pilot agent). */
export function previewEnvelope(spawn: PlannedSpawn, mode: SpawnPlan['mode'], now: number): AgentEnvelope {
  return {
    v: 1,
    stream: spawn.stream,
    intent: spawn.intent,
    decision: 'preview',
    confidence: spawn.score,
    evidence_refs: [`request:${spawn.request_id}`],
    blocking_conditions: [],
    summary: `${mode === 'shadow' ? 'SHADOW' : 'not a pilot agent'}: would run ${spawn.stream.agent} for ${spawn.intent} (score ${spawn.score.toFixed(2)})`,
    data: {},
    created_at: now,
  };
}

/**
 * One turn's control-plane pass. SHADOW: nothing runs; at `settle` every planned spawn is staged as a
 * preview and arbitrated. PILOT: planned spawns of pilot agents run as streams (their previews for the
 * others), and their accepted envelopes go into the commit. A critical stream that ends without an
 * envelope (timeout, failure, cancel) fails closed: the arbiter gets a blocking envelope in its place.
 */
export class TurnAgentPass {
  private readonly outcomes = new Map<string, Promise<StreamOutcome>>();
  private readonly spawned = new Set<string>();
  private reply: ParsedOutput | null = null;
  private cancelled = false;

  constructor(
    private readonly plane: AgentControlPlane,
    private readonly turn: AgentTurnContext,
    readonly plan: SpawnPlan,
    private readonly config: AgentStreamConfig,
    private readonly publish: AgentEventPublisher,
    private readonly record: TurnRecord,
  ) {}

  /** Starts the streams that need only the player's line. Call once the pass is reachable for `cancel`. */
  start(): void {
    this.spawnPhase('player_line');
  }

  /** The NPC's reply is final: starts the streams that read it. */
  replyReady(output: ParsedOutput): void {
    if (this.cancelled || this.reply !== null) return;
    this.reply = output;
    this.spawnPhase('reply');
  }

  /** Ends this turn's streams at once (synchronously: their `ended` events precede the turn's end). */
  cancel(reason: EarlyEnd, message: string): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const id of this.spawned) this.plane.streams.cancel(id, reason, message);
  }

  private spawnPhase(phase: PlannedSpawn['needs']): void {
    const definitions = new Map(this.plane.agents.map((a) => [a.name, a]));
    for (const spawn of this.plan.spawns) {
      // A listener of an earlier stream's events may have cancelled the turn.
      if (this.cancelled) return;
      if (!spawn.execute || spawn.needs !== phase) continue;
      const agent = definitions.get(spawn.stream.agent);
      if (agent === undefined) continue;
      // Known before it starts: its own `started` event may be what triggers a cancel.
      this.spawned.add(spawn.stream.stream_id);
      this.outcomes.set(spawn.stream.stream_id, this.spawn(spawn, agent));
    }
  }

  private spawn(spawn: PlannedSpawn, agent: AgentDefinition): Promise<StreamOutcome> {
    const { stream } = spawn;
    const base = {
      stream_id: stream.stream_id,
      agent: stream.agent,
      intent: spawn.intent,
      critical: spawn.critical,
    };
    const { clock, tokenIntervalMs } = this.plane;
    const queuedAt = clock.now();
    const lifecycle = (state: 'queued' | 'started', tokens: number): void => {
      this.publish('agent_stream_lifecycle', {
        ...base,
        state,
        terminal_reason: null,
        message: null,
        tokens,
        elapsed_ms: clock.now() - queuedAt,
      });
    };
    const turn = this.turn;
    const reply = spawn.needs === 'reply' ? this.reply : null;
    return this.plane.streams.spawn({
      identity: stream,
      critical: spawn.critical,
      timeoutMs: this.config.agentStreamTimeoutMs,
      observer: {
        queued: () => {
          lifecycle('queued', 0);
        },
        started: () => {
          lifecycle('started', 0);
        },
        token: (index, text) => {
          this.publish('agent_token_delta', { stream_id: stream.stream_id, index, text });
        },
        ended: (outcome) => {
          this.plane.noteEnded(this.plan.mode, outcome);
          this.publish('agent_stream_lifecycle', {
            ...base,
            state: 'ended',
            terminal_reason: outcome.reason,
            message: outcome.message,
            tokens: outcome.tokens,
            elapsed_ms: outcome.elapsed_ms,
          });
        },
      },
      run: async (signal, emit) => {
        const draft = await agent.run({
          turn,
          stream,
          reply,
          signal,
          say: async (text) => {
            signal.throwIfAborted();
            emit(text);
            await clock.sleep(tokenIntervalMs, signal);
          },
        });
        return envelopeOf(spawn, draft, clock.now());
      },
    });
  }

  /**
   * Waits for every stream of the turn, stages envelopes (previews for spawns that did not run), lets
   * the arbiter decide and publishes `agent_envelope`s and `arbiter_decision`. Returns null when the
   * turn was cancelled meanwhile (nothing more is published).
   */
  async settle(): Promise<ArbiterResult | null> {
    const ids = [...this.outcomes.keys()];
    const ended = await Promise.all(this.outcomes.values());
    if (this.cancelled) return null;
    const outcomes = new Map(ids.map((id, i) => [id, ended[i] as StreamOutcome]));
    const now = this.plane.clock.now();
    const staged: Staged[] = [];
    for (const spawn of this.plan.spawns) {
      const id = spawn.stream.stream_id;
      if (!spawn.execute) {
        staged.push({ stream_id: id, preview: true, envelope: previewEnvelope(spawn, this.plan.mode, now) });
        continue;
      }
      const outcome = outcomes.get(id);
      if (outcome?.reason === 'completed')
        staged.push({ stream_id: id, preview: false, envelope: outcome.result });
      else
        staged.push({
          stream_id: id,
          preview: false,
          envelope: undefined,
          missing:
            outcome === undefined
              ? 'never started'
              : `ended with ${outcome.reason}${outcome.message === null ? '' : ` (${outcome.message})`}`,
        });
    }
    let result = decideStaged(this.plan, staged);
    // Fail closed: a critical intent that should have run and has no accepted envelope gets a
    // blocking stand-in (timeout, failure, cancel, or an envelope the arbiter refused).
    const covered = new Set(
      result.verdicts.filter((v) => v.accepted && v.effect === 'commit').map((v) => `${v.agent}/${v.intent}`),
    );
    const standIns: Staged[] = [];
    for (const spawn of this.plan.spawns) {
      if (!spawn.execute || !spawn.critical || covered.has(`${spawn.stream.agent}/${spawn.intent}`)) continue;
      covered.add(`${spawn.stream.agent}/${spawn.intent}`);
      const verdict = result.verdicts.find((v) => v.stream_id === spawn.stream.stream_id);
      standIns.push({
        stream_id: spawn.stream.stream_id,
        preview: false,
        envelope: this.failClosed(spawn, verdict?.reason ?? 'gave no envelope', now),
        replaces: true,
      });
    }
    if (standIns.length > 0) {
      staged.push(...standIns);
      result = decideStaged(this.plan, staged);
    }
    // Every envelope the arbiter could read is shown, in staging order; the verdicts say which counted.
    for (const s of staged) {
      const read = result.readable.get(s);
      if (read !== undefined)
        this.publish('agent_envelope', {
          preview: s.preview,
          envelope: read.envelope,
          envelope_hash: read.hash,
        });
    }
    this.record.staged = staged;
    this.record.decision_hash = result.decision_hash;
    this.publish('arbiter_decision', {
      mode: result.mode,
      accepted: result.accepted,
      rejected: result.rejected,
      committed: result.commit.length,
      blocking: result.blocking,
      verdicts: result.verdicts,
      decision_hash: result.decision_hash,
    });
    return result;
  }

  /** The envelope standing in for a critical stream without an accepted envelope: it blocks. */
  private failClosed(spawn: PlannedSpawn, why: string, now: number): AgentEnvelope {
    return {
      v: 1,
      stream: spawn.stream,
      intent: spawn.intent,
      decision: 'block',
      confidence: 1,
      evidence_refs: [`stream:${spawn.stream.stream_id}`],
      blocking_conditions: [
        {
          code: 'critical_agent_missing',
          message: `critical agent '${spawn.stream.agent}' gave no accepted envelope: ${why}`,
        },
      ],
      summary: `fail closed: critical agent '${spawn.stream.agent}' gave no accepted envelope (${why})`,
      data: {},
      created_at: now,
    };
  }
}

/** The arbiter over staged envelopes; also how the determinism gate re-decides recorded turns. */
export function decideStaged(plan: SpawnPlan, staged: readonly Staged[]): ArbiterResult {
  const arbiter = new MergeArbiter(plan);
  for (const s of staged) arbiter.stage(s);
  return arbiter.decide();
}
