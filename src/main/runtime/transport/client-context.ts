import type { Command, CommandType, ControlFrame, ResultOf } from '../../../shared/commands';
import { DEFAULT_AGENT_CONFIG } from '../../../shared/agents';
import type { EventEnvelope } from '../../../shared/protocol';
import { RuntimeError } from '../core/errors';
import type { Subscription } from '../interaction/subscription';
import type { ParleyRuntime } from '../runtime';

/** Where a client's frames go. Transports implement it (a WebSocket, an Electron webContents). */
export interface FrameSink {
  /** Returns false when the transport is saturated; it then calls `ClientContext.writable()` later. */
  sendEvent(event: EventEnvelope): boolean;
  sendControl(frame: ControlFrame): void;
}

/** Commands every transport executes alike; `hello` and `auth.pair` are the WebSocket connection's own. */
export type Executable = Exclude<Command, { type: 'hello' | 'auth.pair' }>;

export interface Executed {
  readonly result: ResultOf<CommandType>;
  readonly start?: () => void;
}

/**
 * One client's view of the runtime, whatever the transport: executes commands and owns the client's
 * subscriptions (at most one per session). Authentication is the transport's job.
 */
export class ClientContext {
  private readonly subscriptions = new Map<string, Subscription>();
  private closed = false;

  constructor(
    private readonly runtime: ParleyRuntime,
    private readonly sink: FrameSink,
    /** Who this client is, as audit records name it (`config_changed.changed_by`). */
    readonly label: string,
  ) {}

  /**
   * Executes one validated command. Throws (or, for the slow ledger commands, rejects) with a
   * RuntimeError carrying a protocol code on refusal. Send the result, then call `start` if present:
   * it starts event delivery (a subscription's replay), so the client reads the result before the
   * events it announces. Turn commands always answer synchronously.
   */
  execute(command: Executable): Executed | Promise<Executed> {
    if (this.closed) throw new RuntimeError('internal', 'the connection is closed');
    const runtime = this.runtime;
    const { manager } = runtime;
    switch (command.type) {
      case 'session.create':
        return { result: manager.createSession(command.scenario_id, command.npc_id).summary() };
      case 'scenario.list':
        return {
          result: {
            scenarios: runtime.scenarios.summaries(),
            default_scenario_id: runtime.scenarios.defaultId,
          },
        };
      case 'world.get': {
        const session = manager.get(command.session_id);
        const world = session.worldState;
        return {
          result: {
            session_id: session.id,
            scenario_id: session.scenario.scenario.id,
            state: world.state,
            state_hash: world.hash,
            last_commit_seq: world.lastCommitSeq,
          },
        };
      }
      case 'ledger.commits':
        return { result: runtime.commits(command.session_id, command.after_seq, command.limit) };
      case 'ledger.verify':
        return runtime.verify(command.session_id).then((result) => ({ result }));
      case 'session.export':
        return { result: runtime.exportSession(command.session_id, command.include_telemetry) };
      case 'session.fork':
        return { result: runtime.forkSession(command.session_id, command.commit_seq) };
      case 'session.list':
        return { result: { sessions: manager.list() } };
      case 'session.events': {
        const session = manager.get(command.session_id);
        const page = session.eventPage(command.before_seq, command.limit);
        return {
          result: {
            session_id: session.id,
            events: page.events,
            oldest_buffered_seq: page.oldestBufferedSeq,
            more: page.more,
          },
        };
      }
      case 'session.subscribe':
        return this.subscribe(command);
      case 'session.unsubscribe': {
        const sub = this.subscriptions.get(command.session_id);
        if (sub === undefined)
          throw new RuntimeError(
            'not_subscribed',
            `this client has no subscription to '${command.session_id}'`,
          );
        sub.close();
        return { result: { session_id: command.session_id } };
      }
      case 'turn.start': {
        const result = manager.startTurn(command.session_id, command.text);
        return { result: { turn_id: result.turnId, accepted: result.accepted } };
      }
      case 'turn.cancel':
        manager.cancelTurn(command.session_id, command.turn_id);
        return { result: { turn_id: command.turn_id, cancelled: true } };
      case 'agents.config.get':
        return { result: this.agentConfig() };
      case 'agents.config.set':
        runtime.agents.config.set(command.changes, this.label);
        return { result: this.agentConfig() };
      case 'agents.pressure.set':
        return { result: runtime.agents.forcePressure(command.level) };
      case 'agents.status':
        return { result: runtime.agents.status() };
      case 'agent.cancel':
        runtime.agents.cancelStream(command.stream_id);
        return { result: { stream_id: command.stream_id, cancelled: true } };
      case 'models.status':
        return { result: runtime.models.status() };
      case 'models.list':
        return runtime.discoverModels().then((result) => ({ result }));
      case 'models.config.set':
        return { result: runtime.models.configure(command.changes) };
      case 'models.load': {
        if (!runtime.models.has(command.model))
          throw new RuntimeError(
            'unknown_model',
            `no model backend '${command.model.backend}' is configured`,
          );
        runtime.models.prewarm(command.model, 'manual');
        return { result: { model: command.model, state: runtime.models.stateOf(command.model) } };
      }
      case 'models.unload':
        runtime.models.unload(command.model);
        return { result: { model: command.model, unloaded: true } };
      case 'models.hint':
        return {
          result: runtime.hint(command.hint, command.scenario_id, command.npc_id),
        };
      case 'npc.settings.get':
        return { result: { settings: runtime.npcSettings.list(command.scenario_id) } };
      case 'npc.settings.set':
        return {
          result: runtime.npcSettings.set(command.scenario_id, command.npc_id, {
            model: command.model,
            sampling: command.sampling,
          }),
        };
    }
  }

  private agentConfig(): ResultOf<'agents.config.get'> {
    const { config } = this.runtime.agents;
    return {
      config: config.config,
      defaults: DEFAULT_AGENT_CONFIG,
      version: config.version,
      agents: this.runtime.agents.agentInfo(),
    };
  }

  /** The transport can take events again. */
  writable(): void {
    for (const sub of [...this.subscriptions.values()]) sub.resume();
  }

  /** Ends every subscription of this client. */
  close(): void {
    this.closed = true;
    for (const sub of [...this.subscriptions.values()]) sub.close();
  }

  private subscribe(command: Extract<Command, { type: 'session.subscribe' }>): Executed {
    const { session_id: sessionId, from_seq: fromSeq, overflow_policy: policy } = command;
    if (this.subscriptions.has(sessionId))
      throw new RuntimeError('already_subscribed', `this client is already subscribed to '${sessionId}'`);
    const session = this.runtime.manager.get(sessionId);
    session.assertCanSubscribe(fromSeq);
    const start = (): void => {
      if (this.closed || this.subscriptions.has(sessionId)) return;
      const sub = session.subscribe(
        {
          deliver: (event) => this.sink.sendEvent(event),
          ended: ({ lastSeq, error }) => {
            this.sink.sendControl({
              type: 'subscription.ended',
              session_id: sessionId,
              last_seq: lastSeq,
              error,
            });
          },
        },
        {
          fromSeq,
          policy,
          onClosed: (s) => {
            if (this.subscriptions.get(sessionId) === s) this.subscriptions.delete(sessionId);
          },
        },
      );
      if (!sub.isClosed) this.subscriptions.set(sessionId, sub);
    };
    return { result: { session_id: sessionId, from_seq: fromSeq, overflow_policy: policy }, start };
  }
}
