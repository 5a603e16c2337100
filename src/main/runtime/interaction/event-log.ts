import type { EventEnvelope } from '../../../shared/protocol';

/** Larger than the inspector's own window (5,000 rows), so "load older events" finds pages to load. */
export const DEFAULT_EVENT_LOG_CAPACITY = 16_384;

/**
 * The newest `capacity` events of one session, by seq. Subscriptions replay from it; anything older
 * is gone from memory (authoritative history lives in the ledger).
 */
export class EventLog {
  private events: EventEnvelope[] = [];
  private head = 0;

  constructor(private readonly capacity = DEFAULT_EVENT_LOG_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`event log capacity must be an integer >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.events.length - this.head;
  }

  /** Seq of the oldest event still held, or undefined when empty. */
  get oldestSeq(): number | undefined {
    return this.events[this.head]?.seq;
  }

  append(event: EventEnvelope): void {
    this.events.push(event);
    if (this.size > this.capacity) {
      this.head++;
      if (this.head * 2 > this.events.length) {
        this.events = this.events.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Events with seq >= fromSeq, oldest first. Callers check `oldestSeq` first to detect a gap. */
  since(fromSeq: number): EventEnvelope[] {
    const oldest = this.oldestSeq;
    if (oldest === undefined) return [];
    const start = this.head + Math.max(0, fromSeq - oldest);
    return this.events.slice(start);
  }

  /**
   * Up to `limit` events with seq < `beforeSeq` (all held events when undefined), the newest of them,
   * oldest first; `more` when older ones are still held. Seqs in the log are contiguous (`since` relies
   * on it too), so the page is a slice.
   */
  before(beforeSeq: number | undefined, limit: number): { events: EventEnvelope[]; more: boolean } {
    const oldest = this.oldestSeq;
    if (oldest === undefined) return { events: [], more: false };
    const end =
      beforeSeq === undefined
        ? this.events.length
        : this.head + Math.min(this.size, Math.max(0, beforeSeq - oldest));
    const start = Math.max(this.head, end - limit);
    return { events: this.events.slice(start, end), more: start > this.head };
  }
}
