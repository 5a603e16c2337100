import type { StateCreator } from 'zustand';
import type { EventEnvelope } from '../../../shared/protocol';
import { EMPTY_AGENT_PLANE, type AgentPlaneState } from './agent-plane-reducer';
import type { AppState } from './app-store';
import { EMPTY_DIALOGUE, recordTurnStart, type DialogueState } from './dialogue-reducer';
import { EMPTY_EVENT_LOG, type EventLogState } from './event-log-reducer';
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
});
