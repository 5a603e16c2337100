import { MAX_TURN_TEXT, type ForkOrigin, type SessionSummary } from '../../../shared/commands';
import { parseModelOutput, type ParsedOutput } from '../../../shared/proposals';
import {
  EVENT_CLASS,
  PAYLOAD_SCHEMAS,
  type EmittedEventType,
  type EnvelopeOf,
  type EventEnvelope,
  type EventPayload,
  type OverflowPolicy,
  type RejectReason,
} from '../../../shared/protocol';
import { initialWorldState } from '../../../shared/scenario';
import type { AgentEnvelope } from '../../../shared/agents';
import type { AcceptedEnvelope, WorldState } from '../../../shared/world';
import type { AgentControlPlane, TurnAgentPass } from '../agents/control-plane';
import type { ConfigChange } from '../agents/config-store';
import { prepareCommit, type PreparedCommit } from '../authority/commit';
import type { ExtensionManager } from '../authority/extensions';
import type { CommitInput, CommitReceipt, SessionRow } from '../authority/ledger';
import type { LoadedScenario } from '../authority/scenario-loader';
import { deepFreeze, stateHash } from '../authority/world-state';
import type { Clock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { hashCanonical, sha256Hex } from '../core/hash';
import type { Logger } from '../core/logger';
import type { ModelRef } from '../../../shared/common';
import type { NpcModelSetting } from '../../../shared/models';
import type { GenerationRequest, ModelInfo } from '../models/backend';
import type { Lease, ModelPool, PoolEvent } from '../models/model-pool';
import type { NpcSettings } from '../models/npc-settings';
import { EventLog } from './event-log';
import { buildPrompt, npcConfig, type NpcConfig } from './npc';
import { DEFAULT_QUEUE_CAPACITY, type SubscriberQueueOptions } from './subscriber-queue';
import { Subscription, type SubscriptionSink } from './subscription';

/** Where sessions and commit attempts are recorded. The ledger implements it. */
export interface CommitSink {
  registerSession(session: SessionRow, scenarioJson: string): void;
  session(sessionId: string): SessionRow | undefined;
  commit(input: CommitInput): CommitReceipt;
}

export interface SessionDeps {
  readonly runId: string;
  readonly clock: Clock;
  readonly models: ModelPool;
  /** The model and sampling of each NPC, resolved at every turn. */
  readonly npcSettings: NpcSettings;
  readonly ledger: CommitSink;
  readonly extensions: ExtensionManager;
  /** The agent-stream control plane: every turn runs a pass through it. */
  readonly agents: AgentControlPlane;
  readonly logger: Logger;
  readonly eventLogCapacity?: number;
  readonly queue?: SubscriberQueueOptions;
  /** Validate every published payload against its schema (cheap; on by default). */
  readonly validateEvents?: boolean;
}

interface ActiveTurn {
  readonly id: string;
  readonly playerText: string;
  /** Created when the turn's work starts, after the ACK is out (constructing one is not free). */
  controller: AbortController | undefined;
  reply: string;
  tokens: number;
  prompt: GenerationRequest | undefined;
  /** The NPC's model and sampling for this turn, resolved at its start. */
  readonly setting: NpcModelSetting;
  model: ModelInfo | undefined;
  lease: Lease | undefined;
  /** The turn's control-plane pass; set right after the ACK. */
  agents: TurnAgentPass | undefined;
}

/** A session's turn lifecycle. At most one turn is active; `closed` is final. */
export type SessionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'streaming'; readonly turn: ActiveTurn }
  | { readonly kind: 'committing'; readonly turn: ActiveTurn }
  | { readonly kind: 'closed' };

type SessionAction =
  | { readonly type: 'start'; readonly turn: ActiveTurn }
  | { readonly type: 'commit' }
  | { readonly type: 'end' }
  | { readonly type: 'close' };

/** The one place session state changes. Illegal transitions throw: they are bugs, not user errors. */
export function transition(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case 'start':
      if (state.kind !== 'idle') break;
      return { kind: 'streaming', turn: action.turn };
    case 'commit':
      if (state.kind !== 'streaming') break;
      return { kind: 'committing', turn: state.turn };
    case 'end':
      if (state.kind !== 'streaming' && state.kind !== 'committing') break;
      return { kind: 'idle' };
    case 'close':
      return { kind: 'closed' };
  }
  throw new Error(`illegal session transition '${action.type}' from '${state.kind}'`);
}

export interface SubscribeOptions {
  /** First seq to deliver, inclusive. */
  readonly fromSeq: number;
  readonly policy: OverflowPolicy;
  /** Called once when the subscription closes, for whatever reason. */
  readonly onClosed?: (sub: Subscription) => void;
}

export type StartTurnResult =
  | { readonly accepted: true; readonly turnId: string }
  | { readonly accepted: false; readonly turnId: string; readonly reason: RejectReason };

/** A forked session's start: the world right after a committed record of another session. */
export interface SessionFork {
  readonly from: ForkOrigin;
  /** That session's world right after that record. */
  readonly state: WorldState;
}

/** The session's world: replaced as a whole, and only after a commit's transaction succeeded. */
export interface SessionWorld {
  readonly state: WorldState;
  readonly hash: string;
  readonly lastCommitSeq: number | null;
}

/**
 * Builds one event envelope (validating its payload first, when asked). Throws on an invalid payload,
 * before anything is published.
 */
export function buildEvent<T extends EmittedEventType>(
  sessionId: string,
  seq: number,
  turnId: string | null,
  timestamp: number,
  type: T,
  payload: EventPayload<T>,
  validate = true,
): EnvelopeOf<T> {
  if (validate) {
    const parsed = PAYLOAD_SCHEMAS[type].safeParse(payload);
    if (!parsed.success) throw new Error(`invalid ${type} payload: ${parsed.error.message}`);
  }
  return {
    v: 1,
    event_id: `${sessionId}.e${seq}`,
    seq,
    session_id: sessionId,
    turn_id: turnId,
    timestamp,
    type,
    class: EVENT_CLASS[type],
    payload,
  } as EnvelopeOf<T>;
}

/**
 * One conversation with one NPC of one scenario. Owns the session's seq counter, its bounded event
 * log, its subscriptions, its world state and the turn state machine.
 *
 * Turn policy: one active turn; a `turn.start` while a turn runs is answered with `turn_rejected`
 * (reason `turn_in_progress`) and the running turn is untouched.
 *
 * Cancel versus commit: a cancel that arrives before the commit's ledger transaction starts wins
 * (`turn_cancelled`, nothing written, world unchanged), including while extension workloads and
 * governance run. The transaction, the world swap and `commit_succeeded`/`commit_failed` then happen
 * in one synchronous step, so no cancel can arrive in between; a cancel after it gets `unknown_turn`.
 */
export class InteractionSession {
  private state: SessionState = { kind: 'idle' };
  private seq = 0;
  private turnCounter = 0;
  private subscriptionCounter = 0;
  /** The model the previous turn spoke with: a different one now is announced as `model_switching`. */
  private lastModel: ModelRef;
  private running: Promise<void> = Promise.resolve();
  private readonly log: EventLog;
  private readonly subscriptions = new Set<Subscription>();
  private world: SessionWorld;
  /** Envelopes the arbiter accepted last turn: carried into the next turn's agent context. */
  private blackboard: readonly AgentEnvelope[] = [];
  readonly npc: NpcConfig;
  readonly createdAt: number;
  /** Where a forked session's world starts; undefined for a session that starts from its scenario. */
  readonly forkedFrom: ForkOrigin | undefined;

  /**
   * Registers the session in the ledger (throws if it cannot), then publishes `session_started`. A fork
   * starts from the given world instead of the scenario's initial one, and the ledger records its origin.
   */
  constructor(
    readonly id: string,
    readonly scenario: LoadedScenario,
    npcId: string,
    private readonly deps: SessionDeps,
    fork?: SessionFork,
  ) {
    this.npc = npcConfig(scenario.scenario, npcId);
    this.log = new EventLog(deps.eventLogCapacity);
    this.createdAt = deps.clock.now();
    this.forkedFrom = fork?.from;
    const state = deepFreeze(structuredClone(fork?.state) ?? initialWorldState(scenario.scenario));
    this.world = { state, hash: stateHash(state), lastCommitSeq: null };
    deps.ledger.registerSession(
      {
        session_id: id,
        run_id: deps.runId,
        scenario_id: scenario.scenario.id,
        scenario_hash: scenario.contentHash,
        npc_id: npcId,
        created_at: this.createdAt,
        initial_state_hash: this.world.hash,
        parent_session_id: fork?.from.session_id ?? null,
        parent_commit_seq: fork?.from.commit_seq ?? null,
      },
      scenario.canonical,
    );
    this.lastModel = deps.npcSettings.resolve(scenario.scenario.id, npcId).model;
    this.publishEvent('session_started', null, {
      npc_id: npcId,
      model: this.lastModel,
      scenario_id: scenario.scenario.id,
      state_hash: this.world.hash,
    });
  }

  /** Every event the session still buffers, oldest first. */
  bufferedEvents(): EventEnvelope[] {
    return this.log.since(1);
  }

  /**
   * A page of the buffered events before `beforeSeq` (`session.events`): up to `limit`, oldest first,
   * with the oldest seq still buffered and whether older buffered events remain.
   */
  eventPage(
    beforeSeq: number | undefined,
    limit: number,
  ): { events: EventEnvelope[]; oldestBufferedSeq: number | null; more: boolean } {
    const page = this.log.before(beforeSeq, limit);
    return { ...page, oldestBufferedSeq: this.log.oldestSeq ?? null };
  }

  /** The world as of the session's last successful commit. */
  get worldState(): SessionWorld {
    return this.world;
  }

  get activeTurnId(): string | null {
    return this.state.kind === 'streaming' || this.state.kind === 'committing' ? this.state.turn.id : null;
  }

  get lastSeq(): number {
    return this.seq;
  }

  summary(): SessionSummary {
    return {
      session_id: this.id,
      scenario_id: this.scenario.scenario.id,
      npc_id: this.npc.id,
      created_at: this.createdAt,
      last_seq: this.seq,
      active_turn_id: this.activeTurnId,
      ...(this.forkedFrom === undefined ? {} : { forked_from: this.forkedFrom }),
    };
  }

  /** Resolves when the running turn (if any) has fully ended. */
  whenIdle(): Promise<void> {
    return this.running;
  }

  /**
   * Starts a turn. `turn_accepted` (or `turn_rejected`) is published synchronously, before this
   * method returns and before any asynchronous work of the turn begins.
   */
  startTurn(text: string): StartTurnResult {
    const turnId = `${this.id}.t${++this.turnCounter}`;
    const reject = (reason: RejectReason, message: string): StartTurnResult => {
      this.publishEvent('turn_rejected', turnId, { reason, message, active_turn_id: this.activeTurnId });
      return { accepted: false, turnId, reason };
    };
    if (this.state.kind === 'closed') return reject('session_closed', 'the session is closed');
    if (this.state.kind !== 'idle')
      return reject(
        'turn_in_progress',
        `turn ${this.state.turn.id} is still running; cancel it or wait for it to end`,
      );
    if (text.trim().length === 0) return reject('empty_text', 'the player line is empty');
    if (text.length > MAX_TURN_TEXT)
      return reject(
        'text_too_long',
        `the player line has ${text.length} characters; the limit is ${MAX_TURN_TEXT}`,
      );

    const turn: ActiveTurn = {
      id: turnId,
      playerText: text,
      controller: undefined,
      reply: '',
      tokens: 0,
      prompt: undefined,
      setting: this.deps.npcSettings.resolve(this.scenario.scenario.id, this.npc.id),
      model: undefined,
      lease: undefined,
      agents: undefined,
    };
    this.state = transition(this.state, { type: 'start', turn });
    this.publishEvent('turn_accepted', turnId, { text, model: turn.setting.model });
    this.running = this.runTurn(turn);
    return { accepted: true, turnId };
  }

  /**
   * Cancels the active turn: aborts generation and publishes `turn_cancelled` synchronously, so no
   * `token_delta` of the turn can follow. Nothing is committed.
   */
  cancelTurn(turnId: string, reason: 'client_cancel' | 'session_closed' = 'client_cancel'): void {
    const state = this.state;
    if ((state.kind !== 'streaming' && state.kind !== 'committing') || state.turn.id !== turnId)
      throw new RuntimeError('unknown_turn', `turn ${turnId} is not the active turn of session ${this.id}`, {
        active_turn_id: this.activeTurnId,
      });
    // While committing, the ledger transaction has not started (it runs synchronously once the
    // extension workloads and governance are done), so the cancel still wins.
    // Agent streams end first, while the turn is live, so their `ended` events precede its end.
    state.turn.agents?.cancel(
      'manual_cancel',
      reason === 'session_closed' ? 'the session closed' : 'the turn was cancelled',
    );
    this.state = transition(state, { type: 'end' });
    state.turn.controller?.abort(new Error('turn cancelled'));
    this.publishEvent('turn_cancelled', turnId, { reason, tokens_emitted: state.turn.tokens });
  }

  /**
   * Ends a streamed turn at the commit boundary: `turn_final` (a preview carrying the pending
   * proposals), then extension workloads and governance, then one ledger transaction recording the
   * attempt's provenance, then `commit_succeeded` (world swapped) or `commit_failed` (world untouched).
   */
  private async finalizeTurn(turn: ActiveTurn): Promise<void> {
    this.state = transition(this.state, { type: 'commit' });
    const output = parseModelOutput(turn.reply);
    this.publishEvent('turn_final', turn.id, {
      text: output.spoken,
      token_count: turn.tokens,
      proposals: output.proposals,
      proposal_errors: output.errors,
    });
    // The merge arbiter first: accepted pilot envelopes take part in the commit.
    turn.agents?.replyReady(output);
    const arbitrated = (await turn.agents?.settle()) ?? null;
    if (!this.isCommitting(turn)) return; // cancelled while the agent streams ran
    if (arbitrated !== null) {
      this.blackboard = arbitrated.blackboard.map((e) => e.envelope);
      this.prewarmPredicted(
        arbitrated.blackboard.filter((e) => e.effect === 'commit').map((e) => e.envelope),
      );
    }
    const envelopes = arbitrated?.commit ?? [];
    const before = this.world;
    const prepared = await prepareCommit(this.deps.extensions, {
      scenario: this.scenario.scenario,
      npcId: this.npc.id,
      npc: this.npc.spec,
      before: before.state,
      output,
      envelopes,
      ...(turn.controller === undefined ? {} : { signal: turn.controller.signal }),
    });
    // Cancelled while extensions or governance ran: the cancel won, nothing is written.
    if (!this.isCommitting(turn)) return;
    // From here to the terminal event everything is synchronous.
    this.writeCommit(turn, output, before, prepared, envelopes);
  }

  /**
   * Predictive prewarm from the agent plane: a pilot `next_move` envelope names the NPCs the player
   * is likely to speak with next (`data.prewarm: [{npc_id}]`); their models load now.
   */
  private prewarmPredicted(envelopes: readonly AgentEnvelope[]): void {
    const { models, npcSettings } = this.deps;
    if (!models.config.prewarm) return;
    const scenarioId = this.scenario.scenario.id;
    for (const e of envelopes) {
      const list = e.data.prewarm;
      if (!Array.isArray(list)) continue;
      for (const item of list as unknown[]) {
        const npcId = (item as { npc_id?: unknown } | null)?.npc_id;
        if (typeof npcId !== 'string' || !Object.hasOwn(this.scenario.scenario.npcs, npcId)) continue;
        models.prewarm(npcSettings.resolve(scenarioId, npcId).model, 'agent_prediction', {
          sessionId: this.id,
          turnId: null,
        });
      }
    }
  }

  /** The model the session's NPC spoke with last (or will speak with first). */
  get currentModel(): ModelRef {
    return this.lastModel;
  }

  /** Records a change of the agent flags in this session's stream (it applies from the next turn). */
  publishConfigChanged(change: ConfigChange): void {
    if (this.state.kind === 'closed') return;
    this.publishEvent('config_changed', null, {
      changed_by: change.changed_by,
      changes: change.changes,
      config: change.config,
      version: change.version,
    });
  }

  /** Starts the turn's control-plane pass; its events belong to the turn and stop when it ends. */
  private beginAgents(turn: ActiveTurn): void {
    turn.agents = this.deps.agents.beginTurn(
      {
        runId: this.deps.runId,
        sessionId: this.id,
        turnId: turn.id,
        scenario: this.scenario.scenario,
        npcId: this.npc.id,
        npc: this.npc.spec,
        playerText: turn.playerText,
        world: this.world.state,
        previous: this.blackboard,
      },
      (type, payload) => {
        if (this.isActive(turn) || this.isCommitting(turn)) this.publishEvent(type, turn.id, payload);
      },
    );
    turn.agents.start();
  }

  private writeCommit(
    turn: ActiveTurn,
    output: ParsedOutput,
    before: SessionWorld,
    prepared: PreparedCommit,
    envelopes: readonly AcceptedEnvelope[],
  ): void {
    const { failure, after, afterHash } = prepared;
    let receipt: CommitReceipt;
    try {
      receipt = this.deps.ledger.commit(this.commitInput(turn, output, before, prepared, envelopes));
    } catch (err) {
      this.deps.logger.error('ledger write failed', { session: this.id, turn: turn.id, error: String(err) });
      this.state = transition(this.state, { type: 'end' });
      this.publishEvent('commit_failed', turn.id, {
        code: 'ledger_error',
        message: `the ledger refused the commit: ${(err as Error).message}`,
        stage: 'ledger',
        verdicts: prepared.verdicts,
        commit_seq: null,
        provenance_hash: null,
        state_hash: before.hash,
      });
      return;
    }
    this.state = transition(this.state, { type: 'end' });
    if (failure !== null || after === null || afterHash === null) {
      this.publishEvent('commit_failed', turn.id, {
        code: failure?.code ?? 'internal',
        message: failure?.message ?? 'no state after the commit',
        stage: failure?.stage ?? 'extensions',
        verdicts: prepared.verdicts,
        commit_seq: receipt.commit_seq,
        provenance_hash: receipt.provenance_hash,
        state_hash: before.hash,
      });
      return;
    }
    this.world = { state: after, hash: afterHash, lastCommitSeq: receipt.commit_seq };
    this.publishEvent('commit_succeeded', turn.id, {
      commit_seq: receipt.commit_seq,
      provenance_hash: receipt.provenance_hash,
      text: output.spoken,
      state_hash: afterHash,
      state_hash_before: before.hash,
      patch: prepared.patch,
      verdicts: prepared.verdicts,
    });
  }

  /** Builds, validates, logs and fans out one event. Returns it. */
  publishEvent<T extends EmittedEventType>(
    type: T,
    turnId: string | null,
    payload: EventPayload<T>,
  ): EnvelopeOf<T> {
    const event = buildEvent(
      this.id,
      this.seq + 1,
      turnId,
      this.deps.clock.now(),
      type,
      payload,
      this.deps.validateEvents !== false,
    );
    this.seq = event.seq;
    this.log.append(event);
    for (const sub of this.subscriptions) sub.offer(event);
    return event;
  }

  /** Throws `resume_gap` when the buffer no longer holds `fromSeq`, `invalid_command` when it is in the future. */
  assertCanSubscribe(fromSeq: number): void {
    const oldest = this.log.oldestSeq ?? this.seq + 1;
    if (fromSeq < oldest)
      throw new RuntimeError(
        'resume_gap',
        `session ${this.id} no longer buffers seq ${fromSeq}; the oldest buffered seq is ${oldest}. ` +
          'Events before it are gone from memory (committed turns are in the ledger); subscribe from oldest_seq.',
        { requested_seq: fromSeq, oldest_seq: oldest },
      );
    if (fromSeq > this.seq + 1)
      throw new RuntimeError(
        'invalid_command',
        `from_seq ${fromSeq} is beyond the next seq of session ${this.id} (${this.seq + 1})`,
        { next_seq: this.seq + 1 },
      );
  }

  /** Subscribes from `fromSeq` (inclusive): buffered events are replayed at once, then live ones follow. */
  subscribe(sink: SubscriptionSink, options: SubscribeOptions): Subscription {
    const { fromSeq, policy, onClosed } = options;
    this.assertCanSubscribe(fromSeq);
    const sub = new Subscription(
      `${this.id}.sub${++this.subscriptionCounter}`,
      this.id,
      policy,
      sink,
      this.deps.queue,
      (s) => {
        this.subscriptions.delete(s);
        onClosed?.(s);
      },
    );
    this.subscriptions.add(sub);
    for (const event of this.log.since(fromSeq)) sub.offer(event);
    return sub;
  }

  /** Deepest subscriber queue as a fraction of its capacity. */
  get queueFill(): number {
    const capacity = this.deps.queue?.capacity ?? DEFAULT_QUEUE_CAPACITY;
    let worst = 0;
    for (const sub of this.subscriptions) worst = Math.max(worst, sub.queued / capacity);
    return worst;
  }

  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  /** Cancels the active turn, publishes `session_closed`, ends every subscription. Idempotent. */
  async close(reason = 'closed'): Promise<void> {
    if (this.state.kind === 'closed') return;
    const active = this.activeTurnId;
    if (active !== null) this.cancelTurn(active, 'session_closed');
    await this.running;
    this.state = transition(this.state, { type: 'close' });
    this.publishEvent('session_closed', null, { reason });
    for (const sub of [...this.subscriptions]) sub.close();
  }

  private isActive(turn: ActiveTurn): boolean {
    return this.state.kind === 'streaming' && this.state.turn === turn;
  }

  private isCommitting(turn: ActiveTurn): boolean {
    return this.state.kind === 'committing' && this.state.turn === turn;
  }

  private async runTurn(turn: ActiveTurn): Promise<void> {
    if (!this.isActive(turn)) return; // cancelled from inside the ACK's delivery
    turn.controller = new AbortController();
    const { signal } = turn.controller;
    try {
      this.beginAgents(turn);
      const lease = await this.acquireModel(turn);
      if (lease === undefined || !this.isActive(turn)) return;
      turn.model = lease.model.info;
      const { sampling } = turn.setting;
      turn.prompt = buildPrompt(
        this.scenario.scenario,
        {
          ...this.npc,
          sampling: {
            temperature: sampling.temperature,
            topP: sampling.top_p,
            maxTokens: sampling.max_tokens,
            seed: sampling.seed,
          },
        },
        this.world.state,
        turn.playerText,
      );
      for await (const chunk of lease.model.stream(turn.prompt, signal)) {
        if (!this.isActive(turn)) return;
        turn.reply += chunk.text;
        this.publishEvent('token_delta', turn.id, { index: turn.tokens++, text: chunk.text });
      }
      if (!this.isActive(turn)) return;
      await this.finalizeTurn(turn);
    } catch (err) {
      if (this.isCommitting(turn)) {
        // A bug past the decision (the ledger's own errors are handled in writeCommit): end the turn.
        this.deps.logger.error('commit aborted', { session: this.id, turn: turn.id, error: String(err) });
        turn.agents?.cancel('manual_cancel', 'the commit was aborted by an internal error');
        this.state = transition(this.state, { type: 'end' });
        this.publishEvent('commit_failed', turn.id, {
          code: 'internal',
          message: `the commit was aborted by an internal error: ${String(err)}`,
          stage: 'ledger',
          verdicts: [],
          commit_seq: null,
          provenance_hash: null,
          state_hash: this.world.hash,
        });
        return;
      }
      if (!this.isActive(turn)) return; // cancelled: the abort surfaced as an error
      // A dead worker says so (`worker_crashed`, `watchdog_timeout`); other backend errors are generic.
      const reason = err instanceof RuntimeError ? err.details?.reason : undefined;
      this.failTurn(
        turn,
        typeof reason === 'string' ? reason : 'backend_error',
        err instanceof Error ? err.message : String(err),
      );
    } finally {
      turn.lease?.release();
    }
  }

  /**
   * Selects the turn's model (announcing a switch and any load time a prewarm hid), then waits for the
   * pool to have it loaded. The pool's own lifecycle events reach the session through
   * `publishPoolEvent`. On failure ends the turn.
   */
  private async acquireModel(turn: ActiveTurn): Promise<Lease | undefined> {
    const model = turn.setting.model;
    const { models } = this.deps;
    if (!this.isActive(turn)) return undefined; // cancelled while the agent pass started
    try {
      if (model.backend !== this.lastModel.backend || model.model_id !== this.lastModel.model_id)
        this.publishEvent('model_switching', turn.id, { from: this.lastModel, to: model });
      this.lastModel = model;
      const selection = models.select(model);
      this.publishEvent('model_selected', turn.id, { model, ...selection });
      const lease = await models.acquire(model, { sessionId: this.id, turnId: turn.id });
      // Cancelled while waiting: give the model back at once.
      if (!this.isActive(turn)) lease.release();
      else turn.lease = lease;
      return lease;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A cancelled turn has ended: nothing of it may follow its terminal event.
      if (!this.isActive(turn)) return undefined;
      const code = err instanceof RuntimeError ? err.code : 'load_failed';
      this.failTurn(turn, code, `model ${model.model_id} is not available: ${message}`);
      return undefined;
    }
  }

  /**
   * A pool lifecycle event, published in this session: as part of the active turn when that turn
   * caused it, else as a session-level event.
   */
  publishPoolEvent(event: PoolEvent): void {
    if (this.state.kind === 'closed') return;
    const active = this.state.kind === 'streaming' ? this.state.turn.id : null;
    const turnId =
      event.cause !== null && event.cause.sessionId === this.id && event.cause.turnId === active
        ? active
        : null;
    switch (event.type) {
      case 'model_loading':
        this.publishEvent(event.type, turnId, {
          model: event.model,
          progress: event.progress,
          trigger: event.trigger,
        });
        return;
      case 'model_ready':
        this.publishEvent(event.type, turnId, {
          model: event.model,
          load_ms: event.load_ms,
          trigger: event.trigger,
        });
        return;
      case 'model_unloaded':
        this.publishEvent(event.type, turnId, { model: event.model, reason: event.reason });
        return;
      case 'model_failed':
        this.publishEvent(event.type, turnId, {
          model: event.model,
          code: event.code,
          message: event.message,
          restart_in_ms: event.restart_in_ms,
        });
        return;
    }
  }

  private failTurn(turn: ActiveTurn, code: string, message: string): void {
    this.deps.logger.warn('turn failed', { session: this.id, turn: turn.id, code, message });
    turn.agents?.cancel('manual_cancel', `the turn failed (${code})`);
    this.state = transition(this.state, { type: 'end' });
    turn.controller?.abort(new Error('turn failed'));
    this.publishEvent('turn_failed', turn.id, { code, message, tokens_emitted: turn.tokens });
  }

  private commitInput(
    turn: ActiveTurn,
    output: ParsedOutput,
    before: SessionWorld,
    prepared: PreparedCommit,
    envelopes: readonly AcceptedEnvelope[],
  ): CommitInput {
    const model = turn.model;
    const prompt = turn.prompt;
    if (model === undefined || prompt === undefined) throw new Error('turn has no model output to commit');
    const s = turn.setting.sampling;
    return {
      outcome: prepared.failure === null ? 'committed' : 'failed',
      run_id: this.deps.runId,
      session_id: this.id,
      turn_id: turn.id,
      npc_id: this.npc.id,
      scenario: { id: this.scenario.scenario.id, content_hash: this.scenario.contentHash },
      model: model.ref,
      model_content_hash: model.contentHash,
      sampling: { temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens, seed: s.seed },
      prompt_hash: hashCanonical(prompt.messages),
      player_text_hash: sha256Hex(turn.playerText),
      final_text_hash: sha256Hex(turn.reply),
      token_count: turn.tokens,
      proposals: output.proposals,
      proposal_errors: output.errors,
      agent_envelopes: [...envelopes],
      verdicts: prepared.verdicts,
      patch: prepared.patch,
      state_hash_before: before.hash,
      state_hash_after:
        prepared.failure === null && prepared.afterHash !== null ? prepared.afterHash : before.hash,
      failure: prepared.failure,
      committed_at: this.deps.clock.now(),
      final_text: turn.reply,
    };
  }
}
