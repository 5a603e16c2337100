/**
 * The live event log: per session, the newest `capacity` events as display rows, plus how many
 * older ones were evicted to stay within it.
 */
import type { EventClass, EventEnvelope, EventType } from '../../../shared/protocol';

export const LOG_CAPACITY = 5_000;

export interface LogEntry {
  eventId: string;
  seq: number;
  type: EventType;
  eventClass: EventClass;
  turnId: string | null;
  timestamp: number;
  /** The payload as short one-line JSON. */
  summary: string;
}

export interface SessionLog {
  entries: readonly LogEntry[];
  /** Events evicted from this log to keep it within capacity (they were applied, just not kept). */
  evicted: number;
}

export interface EventLogState {
  sessions: Readonly<Record<string, SessionLog>>;
}

export const EMPTY_EVENT_LOG: EventLogState = { sessions: {} };

const SUMMARY_MAX = 160;
const STRING_MAX = 40;

export function summarizePayload(payload: unknown): string {
  const json = JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'string' && value.length > STRING_MAX ? `${value.slice(0, STRING_MAX)}…` : value,
  );
  return json.length > SUMMARY_MAX ? `${json.slice(0, SUMMARY_MAX - 1)}…` : json;
}

export function toLogEntry(event: EventEnvelope): LogEntry {
  return {
    eventId: event.event_id,
    seq: event.seq,
    type: event.type,
    eventClass: event.class,
    turnId: event.turn_id,
    timestamp: event.timestamp,
    summary: summarizePayload(event.payload),
  };
}

export function appendToLog(
  state: EventLogState,
  events: readonly EventEnvelope[],
  capacity: number = LOG_CAPACITY,
): EventLogState {
  if (events.length === 0) return state;
  const added = new Map<string, LogEntry[]>();
  for (const event of events) {
    const list = added.get(event.session_id);
    if (list === undefined) added.set(event.session_id, [toLogEntry(event)]);
    else list.push(toLogEntry(event));
  }
  const sessions = { ...state.sessions };
  for (const [sessionId, entries] of added) {
    const before = sessions[sessionId] ?? { entries: [], evicted: 0 };
    const all = before.entries.concat(entries);
    const overflow = Math.max(0, all.length - capacity);
    sessions[sessionId] = {
      entries: overflow === 0 ? all : all.slice(overflow),
      evicted: before.evicted + overflow,
    };
  }
  return { sessions };
}
