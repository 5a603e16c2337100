import type { ProtocolError } from '../../../shared/commands';
import type { EventEnvelope, OverflowPolicy } from '../../../shared/protocol';
import { SubscriberQueue, type SubscriberQueueOptions } from './subscriber-queue';

/** Where a subscription's events go: a WebSocket, an IPC channel, a test. */
export interface SubscriptionSink {
  /**
   * Takes one event. Returns false when the sink is saturated: the subscription then holds events in
   * its bounded queue until `Subscription.resume()` is called.
   */
  deliver(event: EventEnvelope): boolean;
  /** Called once when the subscription ends on its own (overflow); not called on `close()`. */
  ended(info: { lastSeq: number; error: ProtocolError }): void;
}

/** One subscriber of one session: a bounded queue drained into a sink as fast as the sink takes it. */
export class Subscription {
  private readonly queue: SubscriberQueue;
  private paused = false;
  private pumping = false;
  private closed = false;
  private delivered = 0;

  constructor(
    readonly id: string,
    readonly sessionId: string,
    policy: OverflowPolicy,
    private readonly sink: SubscriptionSink,
    options: SubscriberQueueOptions = {},
    private readonly onClosed: (sub: Subscription) => void = () => undefined,
  ) {
    this.queue = new SubscriberQueue(policy, id, options);
  }

  get policy(): OverflowPolicy {
    return this.queue.policy;
  }

  /** Seq of the last event handed to the sink (0 if none). */
  get lastSeq(): number {
    return this.delivered;
  }

  get queued(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  offer(event: EventEnvelope): void {
    if (this.closed) return;
    this.queue.push(event);
    this.pump();
  }

  /** The sink can take events again. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Ends the subscription without notifying the sink (the client asked, or went away). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
  }

  private pump(): void {
    // Re-entrant calls (a sink that publishes, e.g. cancels a turn, from inside deliver) only enqueue;
    // the outer loop delivers them in order.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.paused && !this.closed) {
        const event = this.queue.shift();
        if (event === undefined) break;
        this.delivered = event.type === 'stream_overflow' ? event.payload.to_seq : event.seq;
        if (!this.sink.deliver(event)) this.paused = true;
      }
      const failure = this.queue.failed;
      if (failure !== undefined && this.queue.finished && !this.closed) {
        this.close();
        this.sink.ended({ lastSeq: this.delivered, error: failure });
      }
    } finally {
      this.pumping = false;
    }
  }
}
