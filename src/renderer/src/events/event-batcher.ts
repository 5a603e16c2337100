/**
 * Buffers high-rate events outside React and hands them over in one batch per frame, so a reply
 * streaming hundreds of tokens a second costs one store update (and one render) per frame.
 */

/** Runs `callback` once, soon (normally at the next frame); returns a function that cancels it. */
export type FrameScheduler = (callback: () => void) => () => void;

export interface EventBatcher<T> {
  push(item: T): void;
  /** Applies whatever is buffered now, without waiting for the frame. */
  flush(): void;
  /** Drops the buffer and cancels the pending frame. */
  dispose(): void;
}

export function createEventBatcher<T>(
  apply: (batch: T[]) => void,
  schedule: FrameScheduler,
): EventBatcher<T> {
  let buffer: T[] = [];
  let cancel: (() => void) | null = null;
  let disposed = false;

  const flush = (): void => {
    cancel?.();
    cancel = null;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    apply(batch);
  };

  return {
    push(item) {
      if (disposed) return;
      buffer.push(item);
      cancel ??= schedule(flush);
    },
    flush,
    dispose() {
      disposed = true;
      cancel?.();
      cancel = null;
      buffer = [];
    },
  };
}

/**
 * `requestAnimationFrame`, with a timer as a fallback: browsers pause animation frames in hidden
 * tabs, and events must not pile up unapplied while nobody looks.
 */
export const animationFrameScheduler: FrameScheduler = (callback) => {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    callback();
  };
  const frame = requestAnimationFrame(run);
  const timer = setTimeout(run, 250);
  return () => {
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
};
