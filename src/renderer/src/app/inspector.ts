/**
 * The inspector's controller: wires the bridge to the store and turns user intents into commands.
 * Lives outside React; components call its methods and read the store, never the bridge.
 */
import type { AgentStreamConfig, AgentStreamConfigPatch, PressureLevel } from '../../../shared/agents';
import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope, EventType } from '../../../shared/protocol';
import { BridgeError, type Bridge, type BridgeStatus } from '../bridge/types';
import { animationFrameScheduler, createEventBatcher, type FrameScheduler } from '../events/event-batcher';
import { configBehind, withPilotAgent } from '../store/agent-control-reducer';
import type { AppStore } from '../store/app-store';
import type { CommandFailure } from '../store/feedback-slice';
import { lastCommitSeq } from '../store/provenance-reducer';
import { selectActiveTurnId } from '../store/selectors';
import { coalesce } from './coalesce';

/** Pages of `ledger.commits` one refresh reads at most (200 records each, the command's default). */
const MAX_COMMIT_PAGES = 50;

/** Events of the selected session after which the Agents view reads `agents.status` again (when shown). */
const AGENT_STATUS_EVENTS: ReadonlySet<EventType> = new Set([
  'arbiter_decision',
  'commit_succeeded',
  'commit_failed',
  'config_changed',
]);

/** The one key of the runtime-wide agent reads (coalesced like the per-session ones). */
const AGENTS = 'agents';

/** Flags to change, or how to change them given the config as the previous change left it. */
export type AgentConfigChange =
  AgentStreamConfigPatch | ((config: AgentStreamConfig) => AgentStreamConfigPatch);

/** Which scenario and NPC a new session plays; the runtime's defaults for whatever is left out. */
export interface NewSessionChoice {
  scenarioId?: string;
  npcId?: string;
}

export interface InspectorOptions {
  bridge: Bridge;
  store: AppStore;
  /** When batched events are applied. Default: once per animation frame. */
  scheduler?: FrameScheduler;
}

/** User intents. None of the returned promises rejects: failures land in the store's `commandError`. */
export interface Inspector {
  refreshSessions(): Promise<void>;
  /** Reads the scenarios a session can play (done on every connect). */
  loadScenarios(): Promise<void>;
  /** Creates a session, selects it and subscribes to it. */
  createSession(choice?: NewSessionChoice): Promise<void>;
  /**
   * Selects a session, subscribes to it (once; later selections reuse the subscription) and reads
   * its world state and provenance records. Both are read again after each of its commit attempts.
   */
  selectSession(sessionId: string): Promise<void>;
  refreshWorld(sessionId: string): Promise<void>;
  /** Reads the session's ledger records newer than those already held. */
  refreshCommits(sessionId: string): Promise<void>;
  /** Verifies the ledger chain and replays the session from it (`ledger.verify`). */
  verifySession(sessionId: string): Promise<void>;
  /** Starts a turn in the selected session. True when the runtime accepted it. */
  sendTurn(text: string): Promise<boolean>;
  /** Cancels the selected session's running turn, if any. */
  cancelActiveTurn(): Promise<void>;
  /**
   * Reads the agent plane's config and status. Done when the Agents view opens (and on reconnect while
   * it is shown); the view reads status again after each arbiter decision, commit attempt and config
   * change of the selected session.
   */
  refreshAgents(): Promise<void>;
  /** Reads the agent flags, their defaults and the agents (`agents.config.get`). Failures show in the view. */
  loadAgentConfig(): Promise<void>;
  /** Reads pressure, streams and rollout gates (`agents.status`). Failures show in the view. */
  refreshAgentStatus(): Promise<void>;
  /**
   * Changes agent flags (`agents.config.set`; they apply from the next turn). Changes are sent one at a
   * time, a function of the config being applied to the config the previous change left. True when the
   * runtime took the change; a refusal (e.g. a value out of range) shows in the Agents view.
   */
  setAgentConfig(change: AgentConfigChange): Promise<boolean>;
  /** Adds an agent to `agentStreamPilotAgents`, or removes it. */
  setPilotAgent(agent: string, enabled: boolean): Promise<boolean>;
  /** Forces the pressure level (`agents.pressure.set`); null returns to the computed level. */
  setPressure(level: PressureLevel | null): Promise<void>;
  /** Cancels a queued or running agent stream (`agent.cancel`). */
  cancelAgentStream(streamId: string): Promise<void>;
  /** Applies buffered events now (tests, and before reading the store after a burst). */
  flush(): void;
  /** Detaches from the bridge and the store. The bridge belongs to whoever created it. */
  dispose(): void;
}

export function createInspector({
  bridge,
  store,
  scheduler = animationFrameScheduler,
}: InspectorOptions): Inspector {
  /** Sessions this inspector has subscribed to (or is subscribing to). */
  const subscribed = new Set<string>();

  const fail = (command: string, error: unknown): void => {
    store.getState().reportCommandError(toFailure(command, error));
  };

  const refreshWorld = coalesce(async (sessionId) => {
    store.getState().worldRequested(sessionId);
    try {
      store.getState().worldLoaded(await bridge.request({ type: 'world.get', session_id: sessionId }));
    } catch (error) {
      store.getState().worldFailed(sessionId, describe(error));
    }
  });

  const refreshCommits = coalesce(async (sessionId) => {
    store.getState().commitsRequested(sessionId);
    try {
      for (let page = 1; ; page++) {
        const { commits, more } = await bridge.request({
          type: 'ledger.commits',
          session_id: sessionId,
          after_seq: lastCommitSeq(store.getState().provenance, sessionId),
        });
        const done = !more || page === MAX_COMMIT_PAGES || commits.length === 0;
        store.getState().commitsLoaded(sessionId, commits, done);
        if (done) return;
      }
    } catch (error) {
      store.getState().commitsFailed(sessionId, describe(error));
    }
  });

  /** After a batch: a commit attempt newer than what is held means world state or ledger moved on. */
  const refreshAfter = (events: readonly EventEnvelope[]): void => {
    const world = new Set<string>();
    const ledger = new Set<string>();
    const state = store.getState();
    for (const event of events) {
      if (event.type !== 'commit_succeeded' && event.type !== 'commit_failed') continue;
      const seq = event.payload.commit_seq;
      if (seq === null) continue; // The ledger itself failed: there is no record to read.
      const id = event.session_id;
      if (seq > lastCommitSeq(state.provenance, id)) ledger.add(id);
      const held = state.world.sessions[id]?.snapshot;
      if (event.type === 'commit_succeeded' && (held == null || seq > (held.last_commit_seq ?? 0)))
        world.add(id);
    }
    for (const id of world) void refreshWorld(id);
    for (const id of ledger) void refreshCommits(id);
  };

  const loadAgentConfig = coalesce(async () => {
    store.getState().agentConfigRequested();
    try {
      store.getState().agentConfigLoaded(await bridge.request({ type: 'agents.config.get' }));
    } catch (error) {
      store.getState().agentConfigFailed(describe(error));
    }
  });

  const refreshAgentStatus = coalesce(async () => {
    store.getState().agentStatusRequested();
    try {
      const status = await bridge.request({ type: 'agents.status' });
      store.getState().agentStatusLoaded(status);
      // Someone changed the flags since the config held was read (no subscribed session told us).
      if (configBehind(store.getState().agentControl, status.config_version)) void loadAgentConfig(AGENTS);
    } catch (error) {
      store.getState().agentStatusFailed(describe(error));
    }
  });

  const refreshAgents = async (): Promise<void> => {
    await Promise.all([loadAgentConfig(AGENTS), refreshAgentStatus(AGENTS)]);
  };

  /** After a batch: the config moved past the one held; the selected session's agent plane moved on. */
  const refreshAgentsAfter = (events: readonly EventEnvelope[]): void => {
    const state = store.getState();
    const selected = state.sessions.selectedId;
    const configMoved = events.some(
      (e) => e.type === 'config_changed' && configBehind(state.agentControl, e.payload.version),
    );
    const statusMoved =
      state.sidePanel === 'agents' &&
      events.some((e) => e.session_id === selected && AGENT_STATUS_EVENTS.has(e.type));
    if (configMoved) void loadAgentConfig(AGENTS);
    if (statusMoved) void refreshAgentStatus(AGENTS);
  };

  /** Config changes go one at a time, so a change computed from the config sees the previous one. */
  let configQueue: Promise<unknown> = Promise.resolve();
  const setAgentConfig = (change: AgentConfigChange): Promise<boolean> => {
    const run = async (): Promise<boolean> => {
      store.getState().agentConfigSetStarted();
      try {
        let changes = change;
        if (typeof changes === 'function') {
          let held = store.getState().agentControl.config;
          if (held === null) {
            held = await bridge.request({ type: 'agents.config.get' });
            store.getState().agentConfigLoaded(held);
          }
          changes = changes(held.config);
        }
        if (Object.keys(changes).length === 0) return true;
        store.getState().agentConfigLoaded(await bridge.request({ type: 'agents.config.set', changes }));
      } catch (error) {
        store.getState().agentConfigSetFailed(describe(error));
        return false;
      }
      void refreshAgentStatus(AGENTS);
      return true;
    };
    const result = configQueue.then(run);
    configQueue = result;
    return result;
  };

  const batcher = createEventBatcher<EventEnvelope>((events) => {
    store.getState().ingestEvents(events);
    refreshAfter(events);
    refreshAgentsAfter(events);
  }, scheduler);

  const loadScenarios = async (): Promise<void> => {
    try {
      const { scenarios, default_scenario_id } = await bridge.request({ type: 'scenario.list' });
      store.getState().setScenarios(scenarios, default_scenario_id);
    } catch (error) {
      store.getState().scenariosFailed(describe(error));
    }
  };

  const refreshSessions = async (): Promise<void> => {
    try {
      const { sessions } = await bridge.request({ type: 'session.list' });
      store.getState().setSessions(sessions);
    } catch (error) {
      fail('session.list', error);
    }
  };

  const subscribe = async (sessionId: string, fromSeq?: number): Promise<void> => {
    if (subscribed.has(sessionId)) return;
    subscribed.add(sessionId);
    batcher.flush();
    let from = fromSeq ?? (store.getState().dialogue.sessions[sessionId]?.lastSeq ?? 0) + 1;
    // At most one retry: a `resume_gap` names the oldest seq still buffered.
    for (let attempt = 0; ; attempt++) {
      try {
        await bridge.request({ type: 'session.subscribe', session_id: sessionId, from_seq: from });
        return;
      } catch (error) {
        if (error instanceof BridgeError && error.code === 'already_subscribed') return;
        const oldest = error instanceof BridgeError ? error.details['oldest_seq'] : undefined;
        if (
          attempt === 0 &&
          error instanceof BridgeError &&
          error.code === 'resume_gap' &&
          typeof oldest === 'number'
        ) {
          fail(
            'session.subscribe',
            new BridgeError(
              'resume_gap',
              `Events ${from}–${oldest - 1} are no longer buffered; showing from seq ${oldest}.`,
            ),
          );
          from = oldest;
          continue;
        }
        subscribed.delete(sessionId);
        fail('session.subscribe', error);
        return;
      }
    }
  };

  const onSubscriptionEnded = (frame: SubscriptionEndedFrame): void => {
    subscribed.delete(frame.session_id);
    const { code } = frame.error;
    if (code === 'subscription_overflow' || code === 'resume_gap') {
      // The subscription fell behind or could not resume: continue right after the last delivered event.
      void subscribe(frame.session_id, frame.last_seq + 1);
      return;
    }
    fail('session.subscribe', new BridgeError(code, frame.error.message));
  };

  const onStatus = (status: BridgeStatus): void => {
    store.getState().setConnection(status);
    if (status.state === 'connected') {
      void refreshSessions();
      void loadScenarios();
      if (store.getState().sidePanel === 'agents') void refreshAgents();
    }
  };

  const detach = [
    bridge.onEvent((event) => {
      batcher.push(event);
    }),
    bridge.onSubscriptionEnded(onSubscriptionEnded),
    bridge.onStatus(onStatus),
    // The Agents view reads the control plane whenever it opens.
    store.subscribe((state, previous) => {
      if (state.sidePanel === 'agents' && previous.sidePanel !== 'agents') void refreshAgents();
    }),
  ];

  const openSession = async (sessionId: string): Promise<void> => {
    store.getState().selectSession(sessionId);
    await Promise.all([subscribe(sessionId), refreshWorld(sessionId), refreshCommits(sessionId)]);
  };

  return {
    refreshSessions,
    loadScenarios,
    refreshWorld,
    refreshCommits,

    async createSession(choice = {}) {
      store.getState().clearCommandError();
      let sessionId: string;
      try {
        const session = await bridge.request({
          type: 'session.create',
          ...(choice.scenarioId === undefined ? {} : { scenario_id: choice.scenarioId }),
          ...(choice.npcId === undefined ? {} : { npc_id: choice.npcId }),
        });
        store.getState().upsertSession(session);
        sessionId = session.session_id;
      } catch (error) {
        fail('session.create', error);
        return;
      }
      await openSession(sessionId);
    },

    selectSession: openSession,

    async verifySession(sessionId) {
      const state = store.getState();
      if (state.provenance.sessions[sessionId]?.verify.state === 'running') return;
      const throughSeq = lastCommitSeq(state.provenance, sessionId);
      state.verifyStarted(sessionId);
      try {
        const report = await bridge.request({ type: 'ledger.verify', session_id: sessionId });
        store.getState().verifyDone(sessionId, report, throughSeq);
      } catch (error) {
        store.getState().verifyFailed(sessionId, describe(error));
      }
    },

    async sendTurn(text) {
      const sessionId = store.getState().sessions.selectedId;
      if (sessionId === null) return false;
      store.getState().clearCommandError();
      try {
        const { turn_id, accepted } = await bridge.request({
          type: 'turn.start',
          session_id: sessionId,
          text,
        });
        store.getState().recordTurnStart(sessionId, turn_id, text, accepted);
        return accepted;
      } catch (error) {
        fail('turn.start', error);
        return false;
      }
    },

    async cancelActiveTurn() {
      const state = store.getState();
      const sessionId = state.sessions.selectedId;
      const turnId = selectActiveTurnId(state);
      if (sessionId === null || turnId === null) return;
      try {
        await bridge.request({ type: 'turn.cancel', session_id: sessionId, turn_id: turnId });
      } catch (error) {
        fail('turn.cancel', error);
      }
    },

    refreshAgents,
    loadAgentConfig: () => loadAgentConfig(AGENTS),
    refreshAgentStatus: () => refreshAgentStatus(AGENTS),
    setAgentConfig,

    setPilotAgent: (agent, enabled) =>
      setAgentConfig((config) => {
        const list = withPilotAgent(config.agentStreamPilotAgents, agent, enabled);
        return list === config.agentStreamPilotAgents ? {} : { agentStreamPilotAgents: list };
      }),

    async setPressure(level) {
      store.getState().clearCommandError();
      try {
        store.getState().agentPressureLoaded(await bridge.request({ type: 'agents.pressure.set', level }));
      } catch (error) {
        fail('agents.pressure.set', error);
        return;
      }
      void refreshAgentStatus(AGENTS);
    },

    async cancelAgentStream(streamId) {
      store.getState().clearCommandError();
      try {
        await bridge.request({ type: 'agent.cancel', stream_id: streamId });
      } catch (error) {
        fail('agent.cancel', error);
      }
    },

    flush: () => {
      batcher.flush();
    },

    dispose() {
      for (const d of detach) d();
      batcher.dispose();
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof BridgeError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function toFailure(command: string, error: unknown): CommandFailure {
  if (error instanceof BridgeError) return { command, code: error.code, message: error.message };
  return { command, code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
