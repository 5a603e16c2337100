import type { SessionSummary } from '../../../shared/commands';
import type { ScenarioCatalog } from '../authority/scenario-catalog';
import { RuntimeError } from '../core/errors';
import type { LoadedScenario } from '../authority/scenario-loader';
import {
  InteractionSession,
  type SessionDeps,
  type SessionFork,
  type StartTurnResult,
  type SubscribeOptions,
} from './session';
import type { Subscription, SubscriptionSink } from './subscription';

export interface ManagerOptions extends SessionDeps {
  readonly scenarios: ScenarioCatalog;
}

/** Owns every session of a runtime: creates them, routes turn commands and subscriptions to them. */
export class InteractionManager {
  private readonly sessions = new Map<string, InteractionSession>();
  private sessionCounter = 0;
  private disposed = false;

  constructor(private readonly options: ManagerOptions) {}

  /** A session in `scenarioId` (default: the runtime's default) with `npcId` (default: the scenario's). */
  createSession(scenarioId?: string, npcId?: string): InteractionSession {
    if (this.disposed) throw new RuntimeError('internal', 'the runtime is shutting down');
    const scenario = this.options.scenarios.get(scenarioId);
    const npc = npcId ?? scenario.scenario.default_npc;
    if (!Object.hasOwn(scenario.scenario.npcs, npc))
      throw new RuntimeError('unknown_npc', `scenario '${scenario.scenario.id}' has no NPC '${npc}'`, {
        known: Object.keys(scenario.scenario.npcs),
      });
    return this.open(scenario, npc);
  }

  /**
   * A session forked from a committed record of another: `scenario` and `npcId` are that session's,
   * `fork.state` its world right after the record (the runtime rebuilds it from the ledger).
   */
  forkSession(scenario: LoadedScenario, npcId: string, fork: SessionFork): InteractionSession {
    if (this.disposed) throw new RuntimeError('internal', 'the runtime is shutting down');
    return this.open(scenario, npcId, fork);
  }

  private open(scenario: LoadedScenario, npc: string, fork?: SessionFork): InteractionSession {
    // A run id given again (a fixed --run-id, a test) must not reuse a session id the ledger holds.
    let id: string;
    do id = `${this.options.runId}.s${++this.sessionCounter}`;
    while (this.options.ledger.session(id) !== undefined);
    const session = new InteractionSession(id, scenario, npc, this.options, fork);
    this.sessions.set(id, session);
    // Predictive prewarm: a new session will speak soon. Registered first, so it sees the pool's events.
    const { models } = this.options;
    if (models.config.prewarm)
      models.prewarm(session.currentModel, 'session_open', { sessionId: id, turnId: null });
    return session;
  }

  find(sessionId: string): InteractionSession | undefined {
    return this.sessions.get(sessionId);
  }

  get(sessionId: string): InteractionSession {
    const session = this.sessions.get(sessionId);
    if (session === undefined) throw new RuntimeError('unknown_session', `no session '${sessionId}'`);
    return session;
  }

  forEach(fn: (session: InteractionSession) => void): void {
    for (const s of this.sessions.values()) fn(s);
  }

  /** Deepest subscriber queue of any session, as a fraction of its capacity (a pressure signal). */
  queueFill(): number {
    let worst = 0;
    for (const s of this.sessions.values()) worst = Math.max(worst, s.queueFill);
    return worst;
  }

  list(): SessionSummary[] {
    return [...this.sessions.values()].map((s) => s.summary());
  }

  subscribe(sessionId: string, sink: SubscriptionSink, options: SubscribeOptions): Subscription {
    return this.get(sessionId).subscribe(sink, options);
  }

  startTurn(sessionId: string, text: string): StartTurnResult {
    return this.get(sessionId).startTurn(text);
  }

  cancelTurn(sessionId: string, turnId: string): void {
    this.get(sessionId).cancelTurn(turnId);
  }

  async closeSession(sessionId: string, reason = 'closed'): Promise<void> {
    await this.get(sessionId).close(reason);
  }

  /** Cancels running turns, closes every session and waits for their turns to end. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all([...this.sessions.values()].map((s) => s.close('runtime_shutdown')));
  }
}
