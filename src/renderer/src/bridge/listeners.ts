import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import type { BridgeStatus, Unsubscribe } from './types';

/**
 * A set of listeners. A throwing listener is reported and does not stop the others: one broken
 * view must not starve the rest of events.
 */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  add(listener: (value: T) => void): Unsubscribe {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  emit(value: T): void {
    for (const listener of [...this.set]) {
      try {
        listener(value);
      } catch (error) {
        console.error('Parley: a bridge listener threw', error);
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}

/**
 * What every Bridge publishes: events, subscription ends and its connection status. Bridges own
 * one and delegate their `on…` methods to it.
 */
export class BridgeEmitter {
  private readonly events = new Listeners<EventEnvelope>();
  private readonly ended = new Listeners<SubscriptionEndedFrame>();
  private readonly statuses = new Listeners<BridgeStatus>();
  private current: BridgeStatus;

  constructor(initial: BridgeStatus) {
    this.current = initial;
  }

  get status(): BridgeStatus {
    return this.current;
  }

  onEvent(listener: (event: EventEnvelope) => void): Unsubscribe {
    return this.events.add(listener);
  }

  onSubscriptionEnded(listener: (frame: SubscriptionEndedFrame) => void): Unsubscribe {
    return this.ended.add(listener);
  }

  /** The listener is called at once with the current status, then on every change. */
  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe {
    const unsubscribe = this.statuses.add(listener);
    listener(this.current);
    return unsubscribe;
  }

  emitEvent(event: EventEnvelope): void {
    this.events.emit(event);
  }

  emitEnded(frame: SubscriptionEndedFrame): void {
    this.ended.emit(frame);
  }

  setStatus(status: BridgeStatus): void {
    this.current = status;
    this.statuses.emit(status);
  }

  /** Drops every listener; the status stays as it is. */
  clear(): void {
    this.events.clear();
    this.ended.clear();
    this.statuses.clear();
  }
}
