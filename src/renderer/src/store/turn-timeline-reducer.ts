/**
 * Per turn, the events its latency waterfall is drawn from (`turnWaterfall`): the ACK, the model's
 * selection and the loads the turn waited for, the first and the newest `token_delta`, `turn_final`
 * and the terminal event; the agent streams' lifecycle (at most queued, started, ended per stream) and
 * the arbiter's decision, drawn as lanes and marks. Everything else a turn publishes (the other tokens,
 * agent tokens and envelopes) adds nothing to the waterfall and is not kept, so a long reply costs two
 * entries, not one per token.
 */
import type { EventEnvelope, EventType } from '../../../shared/protocol';

export interface TimelineState {
  /** By session, by turn: the turn's kept events in arrival order. */
  sessions: Readonly<Record<string, Readonly<Record<string, readonly EventEnvelope[]>>>>;
}

export const EMPTY_TIMELINE: TimelineState = { sessions: {} };

const KEPT: ReadonlySet<EventType> = new Set<EventType>([
  'turn_accepted',
  'model_switching',
  'model_selected',
  'model_loading',
  'model_ready',
  'model_failed',
  'token_delta',
  'turn_final',
  'commit_succeeded',
  'commit_failed',
  'turn_cancelled',
  'turn_failed',
  'turn_rejected',
  'agent_stream_lifecycle',
  'arbiter_decision',
]);

/**
 * Adds a batch's events to their turns. Pool events count only with a turn id: the runtime sets it in
 * the session whose turn caused (and waited for) the load. Copy-on-write: each turn touched is copied
 * once per batch; inputs are never mutated.
 */
export function applyTimelineEvents(state: TimelineState, events: readonly EventEnvelope[]): TimelineState {
  let sessions: Record<string, Record<string, readonly EventEnvelope[]>> | null = null;
  const copiedSessions = new Set<string>();
  const copiedTurns = new Map<string, EventEnvelope[]>();
  for (const event of events) {
    const turnId = event.turn_id;
    if (turnId === null || !KEPT.has(event.type)) continue;
    sessions ??= { ...state.sessions };
    const sid = event.session_id;
    if (!copiedSessions.has(sid)) {
      sessions[sid] = { ...sessions[sid] };
      copiedSessions.add(sid);
    }
    const turns = sessions[sid] as Record<string, readonly EventEnvelope[]>;
    const key = `${sid}\u0000${turnId}`;
    let list = copiedTurns.get(key);
    if (list === undefined) {
      list = [...(turns[turnId] ?? [])];
      copiedTurns.set(key, list);
      turns[turnId] = list;
    }
    keep(list, event);
  }
  return sessions === null ? state : { sessions };
}

function keep(list: EventEnvelope[], event: EventEnvelope): void {
  if (event.type !== 'token_delta') {
    list.push(event);
    return;
  }
  // The first token stays; the newest replaces the previous newest.
  let tokens = 0;
  let newest = -1;
  for (let i = 0; i < list.length; i++)
    if (list[i]?.type === 'token_delta') {
      tokens++;
      newest = i;
    }
  if (tokens >= 2) list[newest] = event;
  else list.push(event);
}
