import type { StateCreator } from 'zustand';
import type { ResultOf } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { EMPTY_AGENT_PLANE, type AgentPlaneState } from './agent-plane-reducer';
import type { AppState } from './app-store';
import { EMPTY_DIALOGUE, recordTurnStart, type DialogueState } from './dialogue-reducer';
import {
  EMPTY_EVENT_LOG,
  mergeOlderPage,
  olderFailed,
  olderRequested,
  type EventLogState,
} from './event-log-reducer';
import { ingestEvents } from './ingest';
import { EMPTY_TIMELINE, type TimelineState } from './turn-timeline-reducer';

/** The session views built from events: the dialogue, the event log, the agent plane and the turns' timelines. */
export interface DialogueSlice {
  dialogue: DialogueState;
  eventLog: EventLogState;
  agentPlane: AgentPlaneState;
  /** Per turn, the events its latency waterfall is drawn from. */
  timelines: TimelineState;
  /** Applies a batch of envelopes (one store update per batch); pool events also move the models view. */
  ingestEvents: (events: readonly EventEnvelope[]) => void;
  recordTurnStart: (sessionId: string, turnId: string, playerText: string, accepted: boolean) => void;
  /** A `session.events` page of older events was asked for, answered or refused (the log's older window). */
  olderEventsRequested: (sessionId: string) => void;
  olderEventsLoaded: (sessionId: string, page: ResultOf<'session.events'>) => void;
  olderEventsFailed: (sessionId: string, message: string) => void;
}

export const createDialogueSlice: StateCreator<AppState, [], [], DialogueSlice> = (set) => ({
  dialogue: EMPTY_DIALOGUE,
  eventLog: EMPTY_EVENT_LOG,
  agentPlane: EMPTY_AGENT_PLANE,
  timelines: EMPTY_TIMELINE,
  ingestEvents: (events) => {
    set((state) => ingestEvents(state, events));
  },
  recordTurnStart: (sessionId, turnId, playerText, accepted) => {
    set((state) => ({ dialogue: recordTurnStart(state.dialogue, sessionId, turnId, playerText, accepted) }));
  },
  olderEventsRequested: (sessionId) => {
    set((state) => ({ eventLog: olderRequested(state.eventLog, sessionId) }));
  },
  olderEventsLoaded: (sessionId, page) => {
    set((state) => ({ eventLog: mergeOlderPage(state.eventLog, sessionId, page) }));
  },
  olderEventsFailed: (sessionId, message) => {
    set((state) => ({ eventLog: olderFailed(state.eventLog, sessionId, message) }));
  },
});
