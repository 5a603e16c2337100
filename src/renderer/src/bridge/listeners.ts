import type { Unsubscribe } from './types';

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
