import type { FrameTimer } from './event-batcher';

/**
 * Virtual time for the event batcher (tests, the IPC benchmark): timers fire only inside `advance`,
 * in deadline order, same deadlines in the order they were set.
 */
export class VirtualFrameTimer implements FrameTimer {
  private current = 0;
  private order = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const id = this.order++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), callback });
    return () => {
      this.timers.delete(id);
    };
  }

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due by then (also those set while advancing). */
  advance(ms = 0): void {
    const target = this.current + ms;
    for (let fired = 0; ; fired++) {
      if (fired > 100_000)
        throw new Error('VirtualFrameTimer: over 100000 timers fired in one advance (a timer loop?)');
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].at);
      next[1].callback();
    }
    this.current = target;
  }
}
