import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, type KeyboardEvent } from 'react';
import { EVENT_TYPES, type EventType } from '../../../shared/protocol';
import { useAppState, useInspector } from '../app/context';
import {
  describeOverflow,
  exportLog,
  filterLog,
  isLogFiltered,
  logFacets,
  logMarkers,
  type ClassFilter,
  type LogEntry,
} from '../store/event-log-reducer';
import {
  selectCanLoadOlder,
  selectLogFilter,
  selectSelectedLog,
  selectSelectedOlderLog,
  selectSelectedLogEventId,
  selectSelectedSessionId,
} from '../store/selectors';
import { JsonView } from './JsonView';
import { useStickToBottom } from './use-stick-to-bottom';

const ROW_HEIGHT = 22;
const NO_ENTRIES: readonly LogEntry[] = [];

/**
 * Every event of the selected session, newest last, filtered by type, class, turn and text; only the
 * visible rows are in the DOM. Seq gaps and overflow markers are flagged on their rows; the selected
 * row's payload shows below the list. "Load older events" pages events the log does not hold (evicted,
 * or never received) from the runtime's buffer into a bounded older window shown above the live rows.
 */
export function EventLog() {
  const sessionId = useAppState(selectSelectedSessionId);
  const log = useAppState(selectSelectedLog);
  const filter = useAppState(selectLogFilter);
  const setFilter = useAppState((s) => s.setLogFilter);
  const resetFilter = useAppState((s) => s.resetLogFilter);
  const selectedId = useAppState(selectSelectedLogEventId);
  const select = useAppState((s) => s.selectLogEvent);
  const older = useAppState(selectSelectedOlderLog);
  const canLoadOlder = useAppState(selectCanLoadOlder);
  const inspector = useInspector();
  const live = log?.entries ?? NO_ENTRIES;
  const olderEntries = older?.entries ?? NO_ENTRIES;
  const all = useMemo(
    () => (olderEntries.length === 0 ? live : olderEntries.concat(live)),
    [olderEntries, live],
  );
  const firstLiveSeq = live[0]?.seq ?? Number.POSITIVE_INFINITY;
  const entries = useMemo(() => filterLog(all, filter), [all, filter]);
  const facets = useMemo(() => logFacets(all), [all]);
  const markers = useMemo(() => logMarkers(all), [all]);
  const selectedIndex = selectedId === null ? -1 : entries.findIndex((e) => e.eventId === selectedId);
  const selected = entries[selectedIndex];
  const filtered = isLogFiltered(filter);

  const scrollRef = useRef<HTMLDivElement>(null);
  const rowsRef = useRef<HTMLDivElement>(null);
  const onScroll = useStickToBottom(scrollRef, rowsRef);

  // The virtualizer is read only here, during this component's render, and never handed to a
  // memoized child, so the compiler skipping this component (what the rule warns about) is harmless.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });

  // Up and Down move the selection through the filtered rows, keeping it in view.
  const onListKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step === undefined || entries.length === 0) return;
    event.preventDefault();
    const from = selectedIndex === -1 ? (step > 0 ? -1 : entries.length) : selectedIndex;
    const next = Math.min(entries.length - 1, Math.max(0, from + step));
    const entry = entries[next];
    if (entry === undefined) return;
    select(entry.eventId);
    virtualizer.scrollToIndex(next);
  };

  const onExport = () => {
    if (sessionId === null) return;
    download(`parley-${sessionId}-events.json`, exportLog(sessionId, entries, filter));
  };

  // A chosen type or turn stays a choice even when the selected session has none of it.
  const typeChoices =
    filter.type === null || facets.types.includes(filter.type)
      ? facets.types
      : [filter.type, ...facets.types];
  const turnChoices =
    filter.turnId === null || facets.turnIds.includes(filter.turnId)
      ? facets.turnIds
      : [filter.turnId, ...facets.turnIds];

  return (
    <div
      className="log"
      data-testid="event-log"
      data-count={entries.length}
      data-total={all.length}
      data-gaps={markers.gaps}
      data-overflows={markers.overflows}
    >
      <header className="side__header">
        <h2>Events</h2>
        <span className="panel__facts">
          {filtered ? `${entries.length} of ${all.length} shown` : `${entries.length} shown`}
          {log !== undefined && log.evicted > 0 ? ` · ${log.evicted} older evicted` : ''}
          {markers.gaps > 0 ? (
            <span className="log__fact--warn" data-testid="log-gap-count">
              {` · ${markers.gaps} seq gap${markers.gaps === 1 ? '' : 's'} (${markers.missing} missing)`}
            </span>
          ) : null}
          {markers.overflows > 0 ? (
            <span className="log__fact--warn">{` · ${markers.overflows} overflow`}</span>
          ) : null}
          {olderEntries.length > 0 ? (
            <span data-testid="log-older-count">{` · ${olderEntries.length} older loaded`}</span>
          ) : null}
          {older !== undefined && !older.more && !canLoadOlder && (olderEntries[0]?.seq ?? 1) > 1 ? (
            <span data-testid="log-older-gone">
              {` · older events no longer buffered by the runtime${
                older.oldestBufferedSeq === null ? '' : ` (oldest: seq ${older.oldestBufferedSeq})`
              }`}
            </span>
          ) : null}
          {older?.error == null ? null : (
            <span className="log__fact--warn" role="alert" data-testid="log-older-error">
              {` · could not load older events: ${older.error}`}
            </span>
          )}
        </span>
        {canLoadOlder ? (
          <button
            type="button"
            className="button button--small"
            data-testid="log-load-older"
            disabled={sessionId === null || older?.loading === true}
            title="Fetch the previous page of events from the runtime's buffer and show it above"
            onClick={() => {
              if (sessionId !== null) void inspector.loadOlderEvents(sessionId);
            }}
          >
            {older?.loading === true ? 'Loading…' : 'Load older events'}
          </button>
        ) : null}
      </header>
      <div className="log__filters" role="search" aria-label="Filter events">
        <input
          type="search"
          className="log__search"
          data-testid="log-search"
          placeholder="Search type and payload"
          aria-label="Search type and payload"
          value={filter.text}
          onChange={(e) => {
            setFilter({ text: e.target.value });
          }}
        />
        <select
          className="log__select"
          data-testid="log-type-filter"
          aria-label="Event type"
          value={filter.type ?? ''}
          onChange={(e) => {
            const value = e.target.value;
            setFilter({ type: value === '' ? null : asEventType(value) });
          }}
        >
          <option value="">all types</option>
          {typeChoices.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
        <select
          className="log__select"
          data-testid="log-class-filter"
          aria-label="Event class"
          value={filter.eventClass}
          onChange={(e) => {
            setFilter({ eventClass: e.target.value as ClassFilter });
          }}
        >
          <option value="all">all classes</option>
          <option value="authoritative">authoritative</option>
          <option value="telemetry">telemetry</option>
        </select>
        <select
          className="log__select"
          data-testid="log-turn-filter"
          aria-label="Turn"
          value={filter.turnId ?? ''}
          onChange={(e) => {
            setFilter({ turnId: e.target.value === '' ? null : e.target.value });
          }}
        >
          <option value="">all turns</option>
          {turnChoices.map((turnId) => (
            <option key={turnId} value={turnId}>
              {turnId}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button button--small"
          data-testid="log-clear-filters"
          disabled={!filtered}
          onClick={resetFilter}
        >
          Clear
        </button>
        <button
          type="button"
          className="button button--small"
          data-testid="log-export"
          disabled={sessionId === null || entries.length === 0}
          title="Download the rows shown as JSON"
          onClick={onExport}
        >
          Export visible
        </button>
      </div>
      <div className="log__head" role="row">
        <span className="log__seq">seq</span>
        <span>type</span>
        <span>class</span>
        <span>turn</span>
        <span>payload</span>
      </div>
      <div
        className="log__scroll"
        ref={scrollRef}
        onScroll={onScroll}
        onKeyDown={onListKeyDown}
        role="table"
        aria-label="Events"
        aria-rowcount={entries.length}
        tabIndex={0}
      >
        <div className="log__rows" ref={rowsRef} style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const entry = entries[item.index];
            if (entry === undefined) return null;
            return (
              <LogRow
                key={entry.eventId}
                entry={entry}
                top={item.start}
                older={entry.seq < firstLiveSeq}
                selected={entry.eventId === selectedId}
                onSelect={select}
              />
            );
          })}
        </div>
        {all.length > 0 && entries.length === 0 ? (
          <p className="empty log__none" data-testid="log-no-match">
            No event matches the filters.
          </p>
        ) : null}
      </div>
      {selected === undefined ? null : (
        <PayloadView
          entry={selected}
          onClose={() => {
            select(null);
          }}
        />
      )}
    </div>
  );
}

function LogRow({
  entry,
  top,
  older,
  selected,
  onSelect,
}: {
  entry: LogEntry;
  top: number;
  /** Paged in from the runtime, above the live rows. */
  older: boolean;
  selected: boolean;
  onSelect: (eventId: string | null) => void;
}) {
  const overflow = describeOverflow(entry);
  const classes = [
    'log__row',
    `log__row--${entry.eventClass}`,
    entry.gapBefore > 0 ? 'log__row--gap' : '',
    overflow !== null ? 'log__row--overflow' : '',
    selected ? 'log__row--selected' : '',
    older ? 'log__row--older' : '',
  ].filter((c) => c !== '');
  return (
    <div
      className={classes.join(' ')}
      data-testid="event-row"
      data-type={entry.type}
      data-seq={entry.seq}
      data-class={entry.eventClass}
      data-turn={entry.turnId ?? ''}
      data-gap={entry.gapBefore}
      data-older={older}
      data-selected={selected}
      role="row"
      aria-selected={selected}
      style={{ height: ROW_HEIGHT, transform: `translateY(${top}px)` }}
      onClick={() => {
        onSelect(selected ? null : entry.eventId);
      }}
    >
      <span className="log__seq">
        {entry.gapBefore > 0 ? (
          <span
            className="log__gap"
            data-testid="log-gap"
            title={`${entry.gapBefore} event${entry.gapBefore === 1 ? '' : 's'} missing before seq ${entry.seq}`}
          >
            ⋯{entry.gapBefore}
          </span>
        ) : null}
        {entry.seq}
      </span>
      <span className={`log__type log__type--${entry.type}`}>{entry.type}</span>
      <span className="log__class">{entry.eventClass}</span>
      <span className="log__turn" title={entry.turnId ?? undefined}>
        {entry.turnId ?? '—'}
      </span>
      <span className="log__payload" title={entry.summary}>
        {overflow ?? entry.summary}
      </span>
    </div>
  );
}

function PayloadView({ entry, onClose }: { entry: LogEntry; onClose: () => void }) {
  return (
    <section
      className="log__detail"
      data-testid="log-payload"
      data-seq={entry.seq}
      aria-label={`Payload of ${entry.type} seq ${entry.seq}`}
    >
      <header className="log__detail-head">
        <span className={`log__type log__type--${entry.type}`}>{entry.type}</span>
        <span className="muted">
          seq {entry.seq} · {entry.eventClass} · {entry.turnId ?? 'session'} ·{' '}
          {new Date(entry.timestamp).toISOString()}
        </span>
        <button type="button" className="button button--small" aria-label="Close payload" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="log__detail-body">
        <JsonView value={entry.payload} />
      </div>
    </section>
  );
}

function asEventType(value: string): EventType | null {
  return (EVENT_TYPES as readonly string[]).includes(value) ? (value as EventType) : null;
}

/** Saves `text` as a file through the browser's download (a Blob behind a temporary link). */
function download(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The click starts the download asynchronously; revoking at once can cancel it in some browsers.
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 0);
}
