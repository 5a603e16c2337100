/**
 * Unread activity per session: how many events a session received while it was not the selected one.
 * Plain functions; `ingestEvents` counts, selecting a session clears its count.
 */
import type { EventEnvelope, EventType } from '../../../shared/protocol';

/** By session id; a session absent from the record has nothing unread. */
export type UnreadState = Readonly<Record<string, number>>;

export const NO_UNREAD: UnreadState = {};

/**
 * Per-token events are not activity a reader would miss one by one: a reply of 200 tokens is one
 * piece of news (its `turn_final` and commit count), not 200.
 */
const NOT_ACTIVITY: ReadonlySet<EventType> = new Set(['token_delta', 'agent_token_delta']);

/** Counts the events of every session but the selected one. `events` are fresh: each is counted once. */
export function countUnread(
  unread: UnreadState,
  selectedId: string | null,
  events: readonly EventEnvelope[],
): UnreadState {
  let next: Record<string, number> | null = null;
  for (const event of events) {
    if (event.session_id === selectedId || NOT_ACTIVITY.has(event.type)) continue;
    next ??= { ...unread };
    next[event.session_id] = (next[event.session_id] ?? 0) + 1;
  }
  return next ?? unread;
}

/** The session was looked at: nothing of it is unread any more. */
export function markRead(unread: UnreadState, sessionId: string | null): UnreadState {
  if (sessionId === null || unread[sessionId] === undefined) return unread;
  const { [sessionId]: _read, ...rest } = unread;
  return rest;
}

/** The badge's accessible label: "1 new event", "3 new events". */
export function unreadLabel(count: number): string {
  return `${count} new ${count === 1 ? 'event' : 'events'}`;
}
