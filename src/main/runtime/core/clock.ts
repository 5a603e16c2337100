/**
 * Time for the runtime. Nothing in src/main/runtime reads wall time or starts timers except through
 * a Clock, so tests can run in virtual time.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if aborted first. `ms <= 0` yields one macrotask. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const onAbort = (): void => {
        clear();
        reject(abortError(signal as AbortSignal));
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      let clear: () => void;
      if (ms <= 0) {
        const h = setImmediate(done);
        clear = () => {
          clearImmediate(h);
        };
      } else {
        const h = setTimeout(done, ms);
        clear = () => {
          clearTimeout(h);
        };
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/**
 * Virtual time for tests: `sleep` resolves only when `advance` moves time past its deadline.
 * Timers due at the same instant fire in the order they were set.
 */
export class ManualClock implements Clock {
  private current: number;
  private order = 0;
  private readonly timers = new Map<number, { at: number; resolve: () => void }>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const id = this.order++;
      const onAbort = (): void => {
        this.timers.delete(id);
        reject(abortError(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.set(id, {
        at: this.current + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      });
    });
  }

  /** Moves time forward by `ms`, firing due timers in deadline order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    // Let already-scheduled work reach its next sleep before looking for due timers.
    await new Promise<void>((r) => setImmediate(r));
    for (;;) {
      let next: [number, { at: number; resolve: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.current = next[1].at;
      this.timers.delete(next[0]);
      next[1].resolve();
      // Let the woken task run up to its next await before firing the next timer.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.current = target;
  }
}
