import type { EventEnvelope } from '../../../shared/protocol';
import { applyAgentEvents, type AgentPlaneState } from './agent-plane-reducer';
import { applyDialogueEvents, type DialogueState } from './dialogue-reducer';
import { appendToLog, type EventLogState } from './event-log-reducer';
import { applyPoolEvents, type ModelsState } from './models-reducer';
import { applyTimelineEvents, type TimelineState } from './turn-timeline-reducer';
import { countUnread, type UnreadState } from './unread-reducer';

export interface IngestState {
  dialogue: DialogueState;
  eventLog: EventLogState;
  agentPlane: AgentPlaneState;
  timelines: TimelineState;
  models: ModelsState;
  /** Events per session received while another session was selected. */
  unread: UnreadState;
  sessions: { readonly selectedId: string | null };
}

/**
 * Applies a batch of events to the dialogue, the log, the agent plane, the turns' timelines, the
 * model pool rows held and the unread counts of the sessions not selected. An event at or below its session's last
 * applied seq was already applied (a resumed or repeated subscription delivers it again) and is
 * skipped, so every view sees each event exactly once.
 */
export function ingestEvents(
  state: IngestState,
  events: readonly EventEnvelope[],
): Omit<IngestState, 'sessions'> {
  const lastSeq = new Map<string, number>();
  const fresh: EventEnvelope[] = [];
  for (const event of events) {
    const last = lastSeq.get(event.session_id) ?? state.dialogue.sessions[event.session_id]?.lastSeq ?? 0;
    if (event.seq <= last) continue;
    lastSeq.set(event.session_id, event.seq);
    fresh.push(event);
  }
  if (fresh.length === 0) return state;
  return {
    dialogue: applyDialogueEvents(state.dialogue, fresh),
    eventLog: appendToLog(state.eventLog, fresh),
    agentPlane: applyAgentEvents(state.agentPlane, fresh),
    timelines: applyTimelineEvents(state.timelines, fresh),
    models: applyPoolEvents(state.models, fresh),
    unread: countUnread(state.unread, state.sessions.selectedId, fresh),
  };
}
