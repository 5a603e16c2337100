/**
 * Narrow selectors: each returns a value already in the store (stable identity) or a primitive, so
 * components re-render only when their slice of the state changes. Selectors deriving a new array
 * are marked; wrap them in `useShallow`.
 */
import type { SessionSummary } from '../../../shared/commands';
import type { NpcModelSetting } from '../../../shared/models';
import type { EventEnvelope } from '../../../shared/protocol';
import type { ScenarioSummary } from '../../../shared/scenario';
import {
  latestConfigChange,
  type ConfigChange,
  type SessionAgents,
  type TurnAgents,
} from './agent-plane-reducer';
import type { AppState } from './app-store';
import { activeTurnId, type SessionDialogue, type Turn } from './dialogue-reducer';
import { canLoadOlder, type OlderLog, type SessionLog } from './event-log-reducer';
import type { SessionProvenance } from './provenance-reducer';
import type { SessionSubscription } from './subscription-reducer';
import type { SessionWorld } from './world-reducer';

const NO_IDS: readonly string[] = [];

export const selectConnection = (s: AppState) => s.connection;
export const selectSelectedSessionId = (s: AppState) => s.sessions.selectedId;
export const selectCommandError = (s: AppState) => s.commandError;

/** Derived array: use with `useShallow`. */
export const selectSessionIds = (s: AppState): string[] =>
  s.sessions.list.map((session) => session.session_id);

export const selectSession =
  (sessionId: string) =>
  (s: AppState): SessionSummary | undefined =>
    s.sessions.list.find((session) => session.session_id === sessionId);

export const selectSessionDialogue =
  (sessionId: string | null) =>
  (s: AppState): SessionDialogue | undefined =>
    sessionId === null ? undefined : s.dialogue.sessions[sessionId];

export const selectSelectedTurnIds = (s: AppState): readonly string[] => {
  const id = s.sessions.selectedId;
  return (id === null ? undefined : s.dialogue.sessions[id]?.turnIds) ?? NO_IDS;
};

export const selectTurn =
  (sessionId: string, turnId: string) =>
  (s: AppState): Turn | undefined =>
    s.dialogue.sessions[sessionId]?.turns[turnId];

/** The selected session's turn that has not ended yet, if any (at most one runs at a time). */
export const selectActiveTurnId = (s: AppState): string | null => {
  const id = s.sessions.selectedId;
  const session = id === null ? undefined : s.dialogue.sessions[id];
  return session === undefined ? null : activeTurnId(session);
};

/** Whether a turn of the session is running (Retry waits for it). */
export const selectSessionBusy =
  (sessionId: string) =>
  (s: AppState): boolean => {
    const session = s.dialogue.sessions[sessionId];
    return session !== undefined && activeTurnId(session) !== null;
  };

export const selectSelectedLog = (s: AppState): SessionLog | undefined => {
  const id = s.sessions.selectedId;
  return id === null ? undefined : s.eventLog.sessions[id];
};

/** The selected session's older window (events paged in from the runtime), if any were asked for. */
export const selectSelectedOlderLog = (s: AppState): OlderLog | undefined => {
  const id = s.sessions.selectedId;
  return id === null ? undefined : s.eventLog.older[id];
};

/** Whether the selected session's log can page in older events (`canLoadOlder`). */
export const selectCanLoadOlder = (s: AppState): boolean => {
  const id = s.sessions.selectedId;
  return id !== null && canLoadOlder(s.eventLog, id);
};

export const selectScenarios = (s: AppState) => s.scenarios;
export const selectSidePanel = (s: AppState) => s.sidePanel;

export const selectScenario =
  (scenarioId: string | null) =>
  (s: AppState): ScenarioSummary | undefined =>
    scenarioId === null ? undefined : s.scenarios.list.find((x) => x.scenario_id === scenarioId);

/** The scenario a session plays, from its summary or, failing that, its `session_started` event. */
export const selectSessionScenario =
  (sessionId: string | null) =>
  (s: AppState): ScenarioSummary | undefined => {
    if (sessionId === null) return undefined;
    const id =
      s.sessions.list.find((x) => x.session_id === sessionId)?.scenario_id ??
      s.dialogue.sessions[sessionId]?.scenarioId;
    return id === undefined || id === null ? undefined : selectScenario(id)(s);
  };

/** The NPC a session talks to, by id (from its summary or its `session_started` event). */
export const selectSessionNpcId =
  (sessionId: string | null) =>
  (s: AppState): string | null =>
    sessionId === null
      ? null
      : (s.sessions.list.find((x) => x.session_id === sessionId)?.npc_id ??
        s.dialogue.sessions[sessionId]?.npcId ??
        null);

export const selectSessionWorld =
  (sessionId: string | null) =>
  (s: AppState): SessionWorld | undefined =>
    sessionId === null ? undefined : s.world.sessions[sessionId];

export const selectSessionProvenance =
  (sessionId: string | null) =>
  (s: AppState): SessionProvenance | undefined =>
    sessionId === null ? undefined : s.provenance.sessions[sessionId];

/** The newest world state hash the session's events announced. */
export const selectEventStateHash =
  (sessionId: string | null) =>
  (s: AppState): string | null =>
    sessionId === null ? null : (s.dialogue.sessions[sessionId]?.stateHash ?? null);

/** The agent plane of one turn: admissions, lanes, envelopes, the arbiter's decision. */
export const selectTurnAgents =
  (sessionId: string, turnId: string) =>
  (s: AppState): TurnAgents | undefined =>
    s.agentPlane.sessions[sessionId]?.turns[turnId];

/** The newest `config_changed` any subscribed session has seen (the config is runtime-wide). */
export const selectLatestConfigChange = (s: AppState): ConfigChange | null =>
  latestConfigChange(s.agentPlane);

export const selectAgentControl = (s: AppState) => s.agentControl;
export const selectAgentConfig = (s: AppState) => s.agentControl.config;
export const selectAgentStatus = (s: AppState) => s.agentControl.status;

/** The scenario a session plays, by id: from its summary or its `session_started` event. */
export const selectSessionScenarioId =
  (sessionId: string | null) =>
  (s: AppState): string | null =>
    sessionId === null
      ? null
      : (s.sessions.list.find((x) => x.session_id === sessionId)?.scenario_id ??
        s.dialogue.sessions[sessionId]?.scenarioId ??
        null);

/** The scenario whose NPC settings the Models view shows: the selected session's, else the default. */
export const selectModelsScenarioId = (s: AppState): string | null =>
  selectSessionScenarioId(s.sessions.selectedId)(s) ?? s.scenarios.defaultId;

export const selectModels = (s: AppState) => s.models;
export const selectPoolStatus = (s: AppState) => s.models.status;

const NO_SETTINGS: readonly NpcModelSetting[] = [];

/** Every NPC's model and sampling in a scenario, as last read or set. */
export const selectNpcSettings =
  (scenarioId: string | null) =>
  (s: AppState): readonly NpcModelSetting[] =>
    (scenarioId === null ? undefined : s.models.npcSettings[scenarioId]) ?? NO_SETTINGS;

const NO_EVENTS: readonly EventEnvelope[] = [];

/** The events a turn's latency waterfall is drawn from. */
export const selectTurnTimeline =
  (sessionId: string, turnId: string) =>
  (s: AppState): readonly EventEnvelope[] =>
    s.timelines.sessions[sessionId]?.[turnId] ?? NO_EVENTS;

export const selectLogFilter = (s: AppState) => s.logFilter;
export const selectSelectedLogEventId = (s: AppState) => s.selectedLogEventId;

/** The agent plane of every turn of a session (the Admissions view). */
export const selectSessionAgents =
  (sessionId: string | null) =>
  (s: AppState): SessionAgents | undefined =>
    sessionId === null ? undefined : s.agentPlane.sessions[sessionId];

export const selectAdmissionAgent = (s: AppState) => s.admissionAgent;

/** Events the session received while not selected; 0 when none. */
export const selectUnreadCount =
  (sessionId: string) =>
  (s: AppState): number =>
    s.unread[sessionId] ?? 0;

/** This window's subscription to the session: its overflow policy and the runtime's answer. */
export const selectSessionSubscription =
  (sessionId: string | null) =>
  (s: AppState): SessionSubscription | undefined =>
    sessionId === null ? undefined : s.subscriptions.sessions[sessionId];
