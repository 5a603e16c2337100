/**
 * The live event log: per session, the newest `capacity` events as display rows, plus how many
 * older ones were evicted to stay within it. Also the log's filters, search and export, as pure
 * functions over those rows.
 *
 * Older events are paged in on demand (`session.events`, from the runtime's in-memory buffer) into a
 * separate per-session "older" window shown above the live rows. It is bounded too
 * (`OLDER_CAPACITY`): a page that overfills it drops the window's newest rows, the ones nearest the
 * live log, so the reader can keep paging back while memory stays at most `LOG_CAPACITY` +
 * `OLDER_CAPACITY` rows per session. Live events never enter the older window.
 */
import type { EventClass, EventEnvelope, EventType } from '../../../shared/protocol';

export const LOG_CAPACITY = 5_000;
/** Rows of paged-in older events kept per session. */
export const OLDER_CAPACITY = 2_000;
/** Events asked for per `session.events` page. */
export const OLDER_PAGE = 500;

export interface LogEntry {
  eventId: string;
  seq: number;
  type: EventType;
  eventClass: EventClass;
  turnId: string | null;
  timestamp: number;
  /** The payload as short one-line JSON. */
  summary: string;
  /** The payload itself: the already-parsed object is shared, not copied, so keeping it is cheap. */
  payload: unknown;
  /**
   * Seqs missing right before this row (0: none). A gap only a `stream_overflow` explains is
   * expected; any other one breaks the envelope's invariant 3, and both are shown.
   */
  gapBefore: number;
}

export interface SessionLog {
  entries: readonly LogEntry[];
  /** Events evicted from this log to keep it within capacity (they were applied, just not kept). */
  evicted: number;
  /** Seq of the newest row, evicted or not, so a gap across an eviction is still seen. */
  lastSeq: number;
}

/** Older events paged in from the runtime for one session, oldest first, above the live rows. */
export interface OlderLog {
  entries: readonly LogEntry[];
  /** The runtime buffers events older than the window's oldest row. */
  more: boolean;
  loading: boolean;
  error: string | null;
  /** The oldest seq the runtime said it still buffers; null before the first answer (or none). */
  oldestBufferedSeq: number | null;
  /** Newest rows of the window dropped to stay within `OLDER_CAPACITY`. */
  dropped: number;
}

export interface EventLogState {
  sessions: Readonly<Record<string, SessionLog>>;
  /** By session; absent until older events are asked for. */
  older: Readonly<Record<string, OlderLog>>;
}

export const EMPTY_EVENT_LOG: EventLogState = { sessions: {}, older: {} };

const NO_OLDER: OlderLog = {
  entries: [],
  more: true,
  loading: false,
  error: null,
  oldestBufferedSeq: null,
  dropped: 0,
};

const SUMMARY_MAX = 160;
const STRING_MAX = 40;

export function summarizePayload(payload: unknown): string {
  const json = JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'string' && value.length > STRING_MAX ? `${value.slice(0, STRING_MAX)}…` : value,
  );
  return json.length > SUMMARY_MAX ? `${json.slice(0, SUMMARY_MAX - 1)}…` : json;
}

export function toLogEntry(event: EventEnvelope, previousSeq = 0): LogEntry {
  return {
    eventId: event.event_id,
    seq: event.seq,
    type: event.type,
    eventClass: event.class,
    turnId: event.turn_id,
    timestamp: event.timestamp,
    summary: summarizePayload(event.payload),
    payload: event.payload,
    // The first event a log sees has no predecessor to compare with (a resumed subscription starts late).
    gapBefore: previousSeq === 0 ? 0 : Math.max(0, event.seq - previousSeq - 1),
  };
}

export function appendToLog(
  state: EventLogState,
  events: readonly EventEnvelope[],
  capacity: number = LOG_CAPACITY,
): EventLogState {
  if (events.length === 0) return state;
  const added = new Map<string, LogEntry[]>();
  const lastSeq = new Map<string, number>();
  for (const event of events) {
    const sid = event.session_id;
    const entry = toLogEntry(event, lastSeq.get(sid) ?? state.sessions[sid]?.lastSeq ?? 0);
    lastSeq.set(sid, event.seq);
    const list = added.get(sid);
    if (list === undefined) added.set(sid, [entry]);
    else list.push(entry);
  }
  const sessions = { ...state.sessions };
  for (const [sessionId, entries] of added) {
    const before = sessions[sessionId] ?? { entries: [], evicted: 0, lastSeq: 0 };
    const all = before.entries.concat(entries);
    const overflow = Math.max(0, all.length - capacity);
    sessions[sessionId] = {
      entries: overflow === 0 ? all : all.slice(overflow),
      evicted: before.evicted + overflow,
      lastSeq: lastSeq.get(sessionId) ?? before.lastSeq,
    };
  }
  return { ...state, sessions };
}

// Older events -----------------------------------------------------------------------------------

/** The seq to page back from: the oldest row held (older window first, then the live log). */
export function olderBeforeSeq(state: EventLogState, sessionId: string): number | undefined {
  return state.older[sessionId]?.entries[0]?.seq ?? state.sessions[sessionId]?.entries[0]?.seq;
}

/**
 * Whether older events may still be asked for: the oldest row held is not seq 1 (sessions number
 * their events from 1) and the runtime has not said it buffers nothing older. True for a log that
 * evicted rows, and also for one that started late (dropped frames, a resume).
 */
export function canLoadOlder(state: EventLogState, sessionId: string): boolean {
  const before = olderBeforeSeq(state, sessionId);
  return before !== undefined && before > 1 && state.older[sessionId]?.more !== false;
}

function updateOlder(state: EventLogState, sessionId: string, change: Partial<OlderLog>): EventLogState {
  const before = state.older[sessionId] ?? NO_OLDER;
  return { ...state, older: { ...state.older, [sessionId]: { ...before, ...change } } };
}

export function olderRequested(state: EventLogState, sessionId: string): EventLogState {
  return updateOlder(state, sessionId, { loading: true, error: null });
}

export function olderFailed(state: EventLogState, sessionId: string, message: string): EventLogState {
  return updateOlder(state, sessionId, { loading: false, error: message });
}

/**
 * Puts a `session.events` page above the rows held. Events not older than the oldest row held are
 * skipped (a repeated answer). An empty page before a seq above 1 means the runtime no longer
 * buffers them: nothing more to ask for.
 */
export function mergeOlderPage(
  state: EventLogState,
  sessionId: string,
  page: { events: readonly EventEnvelope[]; more: boolean; oldest_buffered_seq: number | null },
  capacity: number = OLDER_CAPACITY,
): EventLogState {
  const before = olderBeforeSeq(state, sessionId) ?? Number.POSITIVE_INFINITY;
  const held = state.older[sessionId] ?? NO_OLDER;
  const fresh = page.events.filter((e) => e.seq < before).sort((a, b) => a.seq - b.seq);
  const rows: LogEntry[] = [];
  let previous = 0;
  for (const event of fresh) {
    rows.push(toLogEntry(event, previous));
    previous = event.seq;
  }
  const [next, ...rest] = held.entries;
  // The window's old first row now has a predecessor: its gap is known.
  if (next !== undefined)
    rows.push(previous === 0 ? next : { ...next, gapBefore: Math.max(0, next.seq - previous - 1) });
  const all = rows.concat(rest);
  const overflow = Math.max(0, all.length - capacity);
  return updateOlder(state, sessionId, {
    entries: overflow === 0 ? all : all.slice(0, capacity),
    more: page.more && fresh.length > 0,
    loading: false,
    error: null,
    oldestBufferedSeq: page.oldest_buffered_seq,
    dropped: held.dropped + overflow,
  });
}

// Filters --------------------------------------------------------------------------------------

export type ClassFilter = EventClass | 'all';

export interface LogFilter {
  /** One event type, or null for all. */
  type: EventType | null;
  eventClass: ClassFilter;
  /** One turn's rows, or null for all (session-level rows included). */
  turnId: string | null;
  /** Case-insensitive substring of the type or the payload's JSON; blank matches everything. */
  text: string;
}

export const NO_LOG_FILTER: LogFilter = { type: null, eventClass: 'all', turnId: null, text: '' };

export function isLogFiltered(filter: LogFilter): boolean {
  return (
    filter.type !== null || filter.eventClass !== 'all' || filter.turnId !== null || filter.text.trim() !== ''
  );
}

// Rows are immutable, so their full payload JSON is computed once and kept while the row lives.
const payloadText = new WeakMap<LogEntry, string>();

function searchText(entry: LogEntry): string {
  let text = payloadText.get(entry);
  if (text === undefined) {
    text = `${entry.type}\u0000${(JSON.stringify(entry.payload) as string | undefined) ?? ''}`.toLowerCase();
    payloadText.set(entry, text);
  }
  return text;
}

/** The rows the filter lets through, in log order; the same array when nothing filters. */
export function filterLog(entries: readonly LogEntry[], filter: LogFilter): readonly LogEntry[] {
  if (!isLogFiltered(filter)) return entries;
  const needle = filter.text.trim().toLowerCase();
  return entries.filter(
    (e) =>
      (filter.type === null || e.type === filter.type) &&
      (filter.eventClass === 'all' || e.eventClass === filter.eventClass) &&
      (filter.turnId === null || e.turnId === filter.turnId) &&
      (needle === '' || searchText(e).includes(needle)),
  );
}

/** The distinct event types and turn ids among the rows, in first-seen order (the filters' choices). */
export function logFacets(entries: readonly LogEntry[]): { types: EventType[]; turnIds: string[] } {
  const types = new Set<EventType>();
  const turnIds = new Set<string>();
  for (const e of entries) {
    types.add(e.type);
    if (e.turnId !== null) turnIds.add(e.turnId);
  }
  return { types: [...types], turnIds: [...turnIds] };
}

/** How many rows carry each marker: seq gaps (and the seqs missing) and `stream_overflow` events. */
export function logMarkers(entries: readonly LogEntry[]): {
  gaps: number;
  missing: number;
  overflows: number;
} {
  let gaps = 0;
  let missing = 0;
  let overflows = 0;
  for (const e of entries) {
    if (e.gapBefore > 0) {
      gaps++;
      missing += e.gapBefore;
    }
    if (e.type === 'stream_overflow') overflows++;
  }
  return { gaps, missing, overflows };
}

/** What a `stream_overflow` row says in the list; null for any other row. */
export function describeOverflow(entry: LogEntry): string | null {
  if (entry.type !== 'stream_overflow' || typeof entry.payload !== 'object' || entry.payload === null)
    return null;
  const { dropped, from_seq: from, to_seq: to } = entry.payload as Record<string, unknown>;
  if (typeof dropped !== 'number') return null;
  return `dropped ${dropped} telemetry event${dropped === 1 ? '' : 's'} (seq ${String(from)}–${String(to)})`;
}

/**
 * The rows as a JSON document: envelope fields (what the runtime sent, so the file can be fed to
 * tools that read envelopes), the filter that chose them and the gaps a reader cannot see otherwise.
 */
export function exportLog(sessionId: string, entries: readonly LogEntry[], filter: LogFilter): string {
  return JSON.stringify(
    {
      session_id: sessionId,
      filter,
      count: entries.length,
      events: entries.map((e) => ({
        event_id: e.eventId,
        seq: e.seq,
        session_id: sessionId,
        turn_id: e.turnId,
        timestamp: e.timestamp,
        type: e.type,
        class: e.eventClass,
        payload: e.payload,
        ...(e.gapBefore > 0 ? { missing_before: e.gapBefore } : {}),
      })),
    },
    null,
    2,
  );
}
