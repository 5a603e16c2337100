import type { ProtocolError } from '../../../shared/commands';
import type { EnvelopeOf, EventEnvelope, OverflowPolicy } from '../../../shared/protocol';

export interface SubscriberQueueOptions {
  /** Events held for a slow subscriber before the overflow policy applies. Default 1024. */
  capacity?: number;
  /**
   * `drop_telemetry` only: authoritative events still queued past `capacity`, up to this many more,
   * because they are never dropped. Past that the subscription fails rather than grow without bound.
   * Default 256.
   */
  authoritativeHeadroom?: number;
}

export const DEFAULT_QUEUE_CAPACITY = 1024;
export const DEFAULT_AUTHORITATIVE_HEADROOM = 256;

interface OverflowMarker {
  readonly kind: 'overflow';
  readonly from: EventEnvelope;
  to: number;
  dropped: number;
}

type Item = { readonly kind: 'event'; readonly event: EventEnvelope } | OverflowMarker;

/**
 * A bounded FIFO between one session and one subscriber. What it drops depends only on the order of
 * `push` and `shift` calls, never on time, so the same input gives the same output every time.
 *
 * - `drop_telemetry`: when full, an incoming telemetry event is dropped; authoritative events are
 *   always queued (up to `capacity + authoritativeHeadroom`). A drop puts a `stream_overflow` marker
 *   at the tail, and consecutive drops widen it; once anything is queued behind it, the next drop
 *   opens a new marker. So every marker's [from_seq, to_seq] holds only dropped seqs, and a
 *   subscriber learns of a gap exactly where it would see it.
 * - `fail`: when full, the queue stops accepting events, delivers what it holds, then reports
 *   `subscription_overflow`; the client resubscribes from its last seq + 1.
 */
export class SubscriberQueue {
  readonly policy: OverflowPolicy;
  private readonly capacity: number;
  private readonly hardLimit: number;
  private items: Item[] = [];
  private head = 0;
  private openMarker: OverflowMarker | undefined;
  private overflowCount = 0;
  private failure: ProtocolError | undefined;

  constructor(
    policy: OverflowPolicy,
    private readonly subscriptionId: string,
    options: SubscriberQueueOptions = {},
  ) {
    const capacity = options.capacity ?? DEFAULT_QUEUE_CAPACITY;
    const headroom = options.authoritativeHeadroom ?? DEFAULT_AUTHORITATIVE_HEADROOM;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    if (!Number.isInteger(headroom) || headroom < 0)
      throw new RangeError(`authoritativeHeadroom must be an integer >= 0, got ${headroom}`);
    this.policy = policy;
    this.capacity = capacity;
    this.hardLimit = capacity + headroom;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Set once the queue has overflowed under `fail` (or exhausted its authoritative headroom). */
  get failed(): ProtocolError | undefined {
    return this.failure;
  }

  /** True when nothing is left to deliver and the queue will accept nothing more. */
  get finished(): boolean {
    return this.failure !== undefined && this.length === 0;
  }

  push(event: EventEnvelope): void {
    if (this.failure !== undefined) return;
    const length = this.length;
    if (length < this.capacity) {
      this.enqueue(event);
      return;
    }
    if (this.policy === 'fail') {
      this.fail(
        `subscriber queue full (${this.capacity} events) at seq ${event.seq} under the 'fail' policy`,
      );
      return;
    }
    if (event.class === 'telemetry') {
      this.drop(event);
      return;
    }
    if (length < this.hardLimit) {
      this.enqueue(event);
      return;
    }
    this.fail(
      `subscriber queue holds ${length} undelivered events, over capacity ${this.capacity} plus headroom ` +
        `for authoritative events; authoritative events are never dropped, so the subscription ends`,
    );
  }

  /** Next item to deliver, or undefined when empty. */
  shift(): EventEnvelope | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as Item;
    this.items[this.head] = undefined as unknown as Item;
    this.head++;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (item.kind === 'event') return item.event;
    if (this.openMarker === item) this.openMarker = undefined;
    return this.overflowEvent(item);
  }

  private enqueue(event: EventEnvelope): void {
    // A marker stays open only while it is the tail: its range then holds dropped seqs and nothing else.
    this.openMarker = undefined;
    this.items.push({ kind: 'event', event });
  }

  private drop(event: EventEnvelope): void {
    if (this.openMarker !== undefined) {
      this.openMarker.to = event.seq;
      this.openMarker.dropped++;
      return;
    }
    const marker: OverflowMarker = { kind: 'overflow', from: event, to: event.seq, dropped: 1 };
    this.openMarker = marker;
    this.items.push(marker);
  }

  private fail(message: string): void {
    this.failure = {
      code: 'subscription_overflow',
      message,
      details: { policy: this.policy, capacity: this.capacity },
    };
  }

  /**
   * The marker takes the seq of the first event it replaces: a client expecting seq n sees either
   * event n or a `stream_overflow` with seq n that names the range it will not get.
   */
  private overflowEvent(marker: OverflowMarker): EnvelopeOf<'stream_overflow'> {
    const first = marker.from;
    return {
      v: 1,
      event_id: `${first.session_id}.overflow.${this.subscriptionId}.${++this.overflowCount}`,
      seq: first.seq,
      session_id: first.session_id,
      turn_id: null,
      timestamp: first.timestamp,
      type: 'stream_overflow',
      class: 'authoritative',
      payload: { policy: 'drop_telemetry', from_seq: first.seq, to_seq: marker.to, dropped: marker.dropped },
    };
  }
}
