/**
 * The inspector's controller: wires the bridge to the store and turns user intents into commands.
 * Lives outside React; components call its methods and read the store, never the bridge.
 */
import type { AgentStreamConfig, AgentStreamConfigPatch, PressureLevel } from '../../../shared/agents';
import type { ModelRef } from '../../../shared/common';
import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { ModelPoolConfigPatch, NpcSamplingPatch, PrewarmHint } from '../../../shared/models';
import type { EventEnvelope, EventType, OverflowPolicy } from '../../../shared/protocol';
import { timerDelay, type Delay } from '../bridge/socket';
import { BridgeError, type Bridge, type BridgeStatus } from '../bridge/types';
import { animationFrameScheduler, createEventBatcher, type FrameScheduler } from '../events/event-batcher';
import { configBehind, withPilotAgent } from '../store/agent-control-reducer';
import type { AppState, AppStore } from '../store/app-store';
import { activeTurnId, retryLine } from '../store/dialogue-reducer';
import type { CommandFailure } from '../store/feedback-slice';
import { canLoadOlder, OLDER_PAGE, olderBeforeSeq } from '../store/event-log-reducer';
import { lastCommitSeq } from '../store/provenance-reducer';
import { policyFor } from '../store/subscription-reducer';
import {
  selectActiveTurnId,
  selectModelsScenarioId,
  selectSessionNpcId,
  selectSessionScenarioId,
} from '../store/selectors';
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

/** Tabs that show `agents.status` (the Agents view and the rollout gates): it is read when one opens. */
const AGENT_STATUS_PANELS: ReadonlySet<AppState['sidePanel']> = new Set(['agents', 'gates']);

/** The one key of the runtime-wide agent reads (coalesced like the per-session ones). */
const AGENTS = 'agents';

/** The one key of the runtime-wide model reads. */
const MODELS = 'models';

/** While the Models view is shown, `models.status` is read this long after the previous read ended. */
export const MODEL_STATUS_POLL_MS = 1_000;

/** Model events of a burst (load progress in every session) cost one `models.status` read per this window. */
export const MODEL_EVENT_REFRESH_MS = 200;

/** Events after which the Models view reads the pool's status again (when shown). */
const MODEL_EVENTS: ReadonlySet<EventType> = new Set([
  'model_selected',
  'model_switching',
  'model_loading',
  'model_ready',
  'model_unloaded',
  'model_failed',
]);

/** Flags to change, or how to change them given the config as the previous change left it. */
export type AgentConfigChange =
  AgentStreamConfigPatch | ((config: AgentStreamConfig) => AgentStreamConfigPatch);

/** An NPC's model and sampling to change: null returns a field to its default, absent leaves it. */
export interface NpcSettingsChange {
  model?: ModelRef | null;
  sampling?: NpcSamplingPatch | null;
}

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
  /** Timer for the Models view's status polling and its throttled refreshes. Default: `setTimeout`. */
  delay?: Delay;
}

/** User intents. None of the returned promises rejects: failures land in the store's `commandError`. */
export interface Inspector {
  refreshSessions(): Promise<void>;
  /** Reads the scenarios a session can play (done on every connect). */
  loadScenarios(): Promise<void>;
  /** Creates a session, selects it and subscribes to it. */
  createSession(choice?: NewSessionChoice): Promise<void>;
  /**
   * Forks a new session from a committed record of a session (`session.fork`: same scenario and NPC,
   * the world as that commit left it), then selects it and subscribes to it like a created one.
   */
  forkSession(sessionId: string, commitSeq: number): Promise<void>;
  /**
   * Selects a session, subscribes to it (once; later selections reuse the subscription) and reads
   * its world state and provenance records. Both are read again after each of its commit attempts.
   */
  selectSession(sessionId: string): Promise<void>;
  refreshWorld(sessionId: string): Promise<void>;
  /** Reads the session's ledger records newer than those already held. */
  refreshCommits(sessionId: string): Promise<void>;
  /**
   * Pages in the events before the oldest row the event log holds (`session.events`), into the log's
   * older window. Nothing when there is nothing older or a page is already on its way.
   */
  loadOlderEvents(sessionId: string): Promise<void>;
  /** Verifies the ledger chain and replays the session from it (`ledger.verify`). */
  verifySession(sessionId: string): Promise<void>;
  /** Starts a turn in the selected session. True when the runtime accepted it. */
  sendTurn(text: string): Promise<boolean>;
  /**
   * Sends the line of a turn that ended without committing again, as a new turn in the same session.
   * Does nothing while a turn of the session runs, or when the turn has no line to send (`retryLine`).
   */
  retryTurn(sessionId: string, turnId: string): Promise<boolean>;
  /**
   * Changes the overflow policy of this window's subscription to a session: unsubscribes, then
   * subscribes again from the next seq with the new policy. Later resubscriptions keep it.
   */
  setOverflowPolicy(sessionId: string, policy: OverflowPolicy): Promise<void>;
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
  /** Reads pressure, streams and rollout gates (`agents.status`). Failures show in the Agents and gates views. */
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
  /**
   * Reads the model pool's status, model discovery and the NPC model settings of the selected session's
   * scenario (the default scenario without one). Done when the Models view opens and on reconnect while
   * it is shown; while shown, status is read about once a second and after model events. Read failures
   * show in the view.
   */
  refreshModels(): Promise<void>;
  /** Reads the pool's status (`models.status`). */
  refreshModelStatus(): Promise<void>;
  /** Loads a model ahead of need (`models.load`: a manual prewarm; it also resets a tripped breaker). */
  loadModel(model: ModelRef): Promise<void>;
  /** Unloads a model now (`models.unload`); the runtime refuses while a turn uses it. */
  unloadModel(model: ModelRef): Promise<void>;
  /** Changes the pool's limits (`models.config.set`; applies at once). True when the runtime took it. */
  setPoolConfig(changes: ModelPoolConfigPatch): Promise<boolean>;
  /** Changes an NPC's model and sampling (`npc.settings.set`; from its next turn). True when taken. */
  setNpcSettings(scenarioId: string, npcId: string, change: NpcSettingsChange): Promise<boolean>;
  /** The model an NPC speaks with from its next turn; null returns to the default. */
  setNpcModel(scenarioId: string, npcId: string, model: ModelRef | null): Promise<boolean>;
  /** An NPC's sampling and seed; null returns to the scenario's. */
  setNpcSampling(scenarioId: string, npcId: string, sampling: NpcSamplingPatch | null): Promise<boolean>;
  /**
   * Tells the runtime a model may be needed soon (`models.hint`), so it can prewarm it: `npc_selected`
   * for the NPC given, `typing` for the selected session's NPC (without a target). Best effort: a failed
   * hint is dropped, never reported.
   */
  hint(hint: PrewarmHint, target?: { scenarioId: string; npcId: string }): Promise<void>;
  /** Applies buffered events now (tests, and before reading the store after a burst). */
  flush(): void;
  /** Detaches from the bridge and the store. The bridge belongs to whoever created it. */
  dispose(): void;
}

export function createInspector({
  bridge,
  store,
  scheduler = animationFrameScheduler,
  delay = timerDelay,
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
      AGENT_STATUS_PANELS.has(state.sidePanel) &&
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

  // ---------------------------------------------------------------------------------------------
  // The local-models plane.

  const refreshModelStatus = coalesce(async () => {
    store.getState().modelStatusRequested();
    try {
      store.getState().modelStatusLoaded(await bridge.request({ type: 'models.status' }));
    } catch (error) {
      store.getState().modelStatusFailed(describe(error));
    }
  });

  const loadDiscovery = coalesce(async () => {
    store.getState().modelDiscoveryRequested();
    try {
      store.getState().modelDiscoveryLoaded(await bridge.request({ type: 'models.list' }));
    } catch (error) {
      store.getState().modelDiscoveryFailed(describe(error));
    }
  });

  const loadNpcSettings = coalesce(async (scenarioId) => {
    store.getState().npcSettingsRequested();
    try {
      const { settings } = await bridge.request({ type: 'npc.settings.get', scenario_id: scenarioId });
      store.getState().npcSettingsLoaded(settings);
    } catch (error) {
      store.getState().npcSettingsFailed(describe(error));
    }
  });

  const refreshModels = async (): Promise<void> => {
    const scenarioId = selectModelsScenarioId(store.getState());
    await Promise.all([
      refreshModelStatus(MODELS),
      loadDiscovery(MODELS),
      scenarioId === null ? undefined : loadNpcSettings(scenarioId),
    ]);
  };

  const modelsShown = (state: AppState = store.getState()): boolean => state.sidePanel === 'models';

  /** Polling: one read a second while the view is shown, each after the previous one ended. */
  let stopPolling: (() => void) | null = null;
  const startPolling = (): void => {
    if (stopPolling !== null) return;
    let cancel: () => void = () => undefined;
    let stopped = false;
    const next = (): void => {
      cancel = delay(() => {
        const read = store.getState().connection.state === 'connected' ? refreshModelStatus(MODELS) : null;
        void Promise.resolve(read).then(() => {
          if (!stopped) next();
        });
      }, MODEL_STATUS_POLL_MS);
    };
    next();
    stopPolling = () => {
      stopped = true;
      cancel();
      stopPolling = null;
    };
  };

  /** Trailing throttle: the first model event of a window schedules one read at its end. */
  let cancelEventRefresh: (() => void) | null = null;
  const refreshModelsAfter = (events: readonly EventEnvelope[]): void => {
    if (cancelEventRefresh !== null || !modelsShown() || !events.some((e) => MODEL_EVENTS.has(e.type)))
      return;
    cancelEventRefresh = delay(() => {
      cancelEventRefresh = null;
      if (modelsShown()) void refreshModelStatus(MODELS);
    }, MODEL_EVENT_REFRESH_MS);
  };

  const setNpcSettings = async (
    scenarioId: string,
    npcId: string,
    change: NpcSettingsChange,
  ): Promise<boolean> => {
    store.getState().clearCommandError();
    try {
      const setting = await bridge.request({
        type: 'npc.settings.set',
        scenario_id: scenarioId,
        npc_id: npcId,
        ...(change.model === undefined ? {} : { model: change.model }),
        ...(change.sampling === undefined ? {} : { sampling: change.sampling }),
      });
      store.getState().npcSettingLoaded(setting);
      return true;
    } catch (error) {
      fail('npc.settings.set', error);
      return false;
    }
  };

  /** A load or unload: the row shows it is on its way, then what the runtime answered; a read follows. */
  const modelCommand = async (model: ModelRef, action: 'load' | 'unload'): Promise<void> => {
    const state = store.getState();
    state.clearCommandError();
    state.modelActionStarted(model, action);
    try {
      if (action === 'load') {
        const answer = await bridge.request({ type: 'models.load', model });
        store.getState().modelStateLoaded(model, answer.state);
      } else {
        await bridge.request({ type: 'models.unload', model });
        store.getState().modelStateLoaded(model, 'unloaded');
      }
    } catch (error) {
      fail(action === 'load' ? 'models.load' : 'models.unload', error);
    } finally {
      store.getState().modelActionEnded(model);
    }
    void refreshModelStatus(MODELS);
  };

  const batcher = createEventBatcher<EventEnvelope>((events) => {
    store.getState().ingestEvents(events);
    refreshAfter(events);
    refreshAgentsAfter(events);
    refreshModelsAfter(events);
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
    const policy = policyFor(store.getState().subscriptions, sessionId);
    store.getState().subscribeRequested(sessionId, policy);
    // At most one retry: a `resume_gap` names the oldest seq still buffered.
    for (let attempt = 0; ; attempt++) {
      try {
        store.getState().subscribeConfirmed(
          await bridge.request({
            type: 'session.subscribe',
            session_id: sessionId,
            from_seq: from,
            overflow_policy: policy,
          }),
        );
        return;
      } catch (error) {
        if (error instanceof BridgeError && error.code === 'already_subscribed') {
          store
            .getState()
            .subscribeConfirmed({ session_id: sessionId, from_seq: from, overflow_policy: policy });
          return;
        }
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
        store.getState().subscribeFailed(sessionId, describe(error));
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
      const panel = store.getState().sidePanel;
      if (panel === 'agents') void refreshAgents();
      else if (panel === 'gates') void refreshAgentStatus(AGENTS);
      if (modelsShown()) void refreshModels();
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
      // The rollout gates are part of `agents.status`.
      if (state.sidePanel === 'gates' && previous.sidePanel !== 'gates') void refreshAgentStatus(AGENTS);
    }),
    // The Models view reads the pool, discovery and NPC settings when it opens, and polls while shown;
    // another session's scenario brings its NPCs' settings.
    store.subscribe((state, previous) => {
      const shown = modelsShown(state);
      if (shown && !modelsShown(previous)) {
        void refreshModels();
        startPolling();
        return;
      }
      if (!shown) {
        stopPolling?.();
        return;
      }
      const scenarioId = selectModelsScenarioId(state);
      if (scenarioId !== null && scenarioId !== selectModelsScenarioId(previous))
        void loadNpcSettings(scenarioId);
    }),
    () => {
      stopPolling?.();
      cancelEventRefresh?.();
      cancelEventRefresh = null;
    },
  ];

  const startTurn = async (sessionId: string, text: string): Promise<boolean> => {
    store.getState().clearCommandError();
    try {
      const { turn_id, accepted } = await bridge.request({ type: 'turn.start', session_id: sessionId, text });
      store.getState().recordTurnStart(sessionId, turn_id, text, accepted);
      return accepted;
    } catch (error) {
      fail('turn.start', error);
      return false;
    }
  };

  const openSession = async (sessionId: string): Promise<void> => {
    store.getState().selectSession(sessionId);
    await Promise.all([subscribe(sessionId), refreshWorld(sessionId), refreshCommits(sessionId)]);
  };

  return {
    refreshSessions,
    loadScenarios,
    refreshWorld,
    refreshCommits,

    async loadOlderEvents(sessionId) {
      const { eventLog } = store.getState();
      const beforeSeq = olderBeforeSeq(eventLog, sessionId);
      if (beforeSeq === undefined || !canLoadOlder(eventLog, sessionId)) return;
      if (eventLog.older[sessionId]?.loading === true) return;
      store.getState().olderEventsRequested(sessionId);
      try {
        const page = await bridge.request({
          type: 'session.events',
          session_id: sessionId,
          before_seq: beforeSeq,
          limit: OLDER_PAGE,
        });
        store.getState().olderEventsLoaded(sessionId, page);
      } catch (error) {
        store.getState().olderEventsFailed(sessionId, describe(error));
      }
    },

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

    async forkSession(sessionId, commitSeq) {
      store.getState().clearCommandError();
      let forkId: string;
      try {
        const session = await bridge.request({
          type: 'session.fork',
          session_id: sessionId,
          commit_seq: commitSeq,
        });
        store.getState().upsertSession(session);
        forkId = session.session_id;
      } catch (error) {
        fail('session.fork', error);
        return;
      }
      await openSession(forkId);
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

    sendTurn(text) {
      const sessionId = store.getState().sessions.selectedId;
      return sessionId === null ? Promise.resolve(false) : startTurn(sessionId, text);
    },

    retryTurn(sessionId, turnId) {
      const session = store.getState().dialogue.sessions[sessionId];
      const turn = session?.turns[turnId];
      const line = turn === undefined ? null : retryLine(turn);
      if (line === null || session === undefined || activeTurnId(session) !== null)
        return Promise.resolve(false);
      return startTurn(sessionId, line);
    },

    async setOverflowPolicy(sessionId, policy) {
      const held = store.getState().subscriptions.sessions[sessionId];
      if (held?.policy === policy && held.phase === 'subscribed') return;
      store.getState().clearCommandError();
      if (subscribed.has(sessionId)) {
        try {
          await bridge.request({ type: 'session.unsubscribe', session_id: sessionId });
        } catch (error) {
          // Not subscribed (the subscription ended meanwhile) is where we wanted to be.
          if (!(error instanceof BridgeError && error.code === 'not_subscribed')) {
            fail('session.unsubscribe', error);
            return;
          }
        }
        subscribed.delete(sessionId);
      }
      store.getState().subscribeRequested(sessionId, policy);
      // `subscribe` applies the events that arrived before the unsubscribe, then starts after them.
      await subscribe(sessionId);
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

    refreshModels,
    refreshModelStatus: () => refreshModelStatus(MODELS),
    loadModel: (model) => modelCommand(model, 'load'),
    unloadModel: (model) => modelCommand(model, 'unload'),

    async setPoolConfig(changes) {
      store.getState().clearCommandError();
      if (Object.keys(changes).length === 0) return true;
      try {
        store.getState().poolConfigLoaded(await bridge.request({ type: 'models.config.set', changes }));
      } catch (error) {
        fail('models.config.set', error);
        return false;
      }
      // A lower cap or budget evicts idle models at once.
      void refreshModelStatus(MODELS);
      return true;
    },

    setNpcSettings,
    setNpcModel: (scenarioId, npcId, model) => setNpcSettings(scenarioId, npcId, { model }),
    setNpcSampling: (scenarioId, npcId, sampling) => setNpcSettings(scenarioId, npcId, { sampling }),

    async hint(hint, target) {
      const state = store.getState();
      const sessionId = target === undefined ? state.sessions.selectedId : null;
      const scenarioId = target?.scenarioId ?? selectSessionScenarioId(sessionId)(state);
      const npcId = target?.npcId ?? selectSessionNpcId(sessionId)(state);
      if (scenarioId === null || npcId === null) return;
      try {
        await bridge.request({
          type: 'models.hint',
          hint,
          scenario_id: scenarioId,
          npc_id: npcId,
          ...(sessionId === null ? {} : { session_id: sessionId }),
        });
      } catch {
        // A hint only saves load time; failing one changes nothing the user asked for.
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
