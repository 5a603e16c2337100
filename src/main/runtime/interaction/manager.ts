import type { SessionSummary } from '../../../shared/commands';
import { RuntimeError } from '../core/errors';
import {
  InteractionSession,
  type NpcConfig,
  type SessionDeps,
  type StartTurnResult,
  type SubscribeOptions,
} from './session';
import type { Subscription, SubscriptionSink } from './subscription';

export interface ManagerOptions extends SessionDeps {
  readonly npcs: readonly NpcConfig[];
  /** NPC for `session.create` without an npc_id. Defaults to the first. */
  readonly defaultNpcId?: string;
}

/** Owns every session of a runtime: creates them, routes turn commands and subscriptions to them. */
export class InteractionManager {
  private readonly sessions = new Map<string, InteractionSession>();
  private readonly npcs = new Map<string, NpcConfig>();
  private readonly defaultNpc: NpcConfig;
  private sessionCounter = 0;
  private disposed = false;

  constructor(private readonly options: ManagerOptions) {
    for (const npc of options.npcs) this.npcs.set(npc.id, npc);
    const fallback = options.defaultNpcId ?? options.npcs[0]?.id;
    const npc = fallback === undefined ? undefined : this.npcs.get(fallback);
    if (npc === undefined)
      throw new Error(`default NPC '${String(fallback)}' is not among the configured NPCs`);
    this.defaultNpc = npc;
  }

  createSession(npcId?: string): InteractionSession {
    if (this.disposed) throw new RuntimeError('internal', 'the runtime is shutting down');
    const npc = npcId === undefined ? this.defaultNpc : this.npcs.get(npcId);
    if (npc === undefined)
      throw new RuntimeError('unknown_npc', `no NPC '${npcId ?? ''}'`, { known: [...this.npcs.keys()] });
    const id = `${this.options.runId}.s${++this.sessionCounter}`;
    const session = new InteractionSession(id, npc, this.options);
    this.sessions.set(id, session);
    return session;
  }

  get(sessionId: string): InteractionSession {
    const session = this.sessions.get(sessionId);
    if (session === undefined) throw new RuntimeError('unknown_session', `no session '${sessionId}'`);
    return session;
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
