import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import { useAppState } from '../app/context';
import type { LogEntry } from '../store/event-log-reducer';
import { selectSelectedLog } from '../store/selectors';
import { useStickToBottom } from './use-stick-to-bottom';

const ROW_HEIGHT = 22;
const NO_ENTRIES: readonly LogEntry[] = [];

/** Every event of the selected session, newest last; only the visible rows are in the DOM. */
export function EventLog() {
  const log = useAppState(selectSelectedLog);
  const entries = log?.entries ?? NO_ENTRIES;
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

  return (
    <div className="log" data-testid="event-log" data-count={entries.length}>
      <header className="side__header">
        <h2>Events</h2>
        <span className="panel__facts">
          {entries.length} shown
          {log !== undefined && log.evicted > 0 ? ` · ${log.evicted} older evicted` : ''}
        </span>
      </header>
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
        role="table"
        aria-rowcount={entries.length}
      >
        <div className="log__rows" ref={rowsRef} style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const entry = entries[item.index];
            if (entry === undefined) return null;
            return (
              <div
                key={entry.eventId}
                className={`log__row log__row--${entry.eventClass}`}
                data-testid="event-row"
                data-type={entry.type}
                data-seq={entry.seq}
                role="row"
                style={{ height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
              >
                <span className="log__seq">{entry.seq}</span>
                <span className={`log__type log__type--${entry.type}`}>{entry.type}</span>
                <span className="log__class">{entry.eventClass}</span>
                <span className="log__turn" title={entry.turnId ?? undefined}>
                  {entry.turnId ?? '—'}
                </span>
                <span className="log__payload" title={entry.summary}>
                  {entry.summary}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
