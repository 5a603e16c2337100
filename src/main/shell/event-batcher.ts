/**
 * Batches one window's push messages: events are collected per session and sent as one `parley:events`
 * message per session per frame interval, so a reply streaming hundreds of tokens a second costs the
 * renderer one IPC message (one structured clone, one dispatch) per frame rather than one per token.
 *
 * Invariants, per session:
 * - two event messages are at least `frameMs` apart (the main process has no animation frames; the
 *   frame interval is a timer);
 * - events leave in the order they were added, each exactly once; nothing is dropped here (overflow
 *   policy is the subscription's business, see `maxPending`);
 * - a `subscription.ended` frame leaves after the session's pending events, in the same flush.
 *
 * Latency: the first event after a quiet frame interval leaves on the next timer turn (one macrotask,
 * so a synchronous burst still coalesces); later events wait for the end of the interval. Authoritative
 * events get no faster path: a turn's ACK or commit after a pause is already on the leading edge, and
 * inside a burst one frame (16 ms) is below what a designer can see. The only sends that may come sooner
 * than `frameMs` after the previous one are the forced flushes of `flush()` and `dispose()`, which are
 * the last messages of a window or a shell.
 */
import type { SubscriptionEndedFrame } from '../../shared/commands';
import { IPC_EVENTS, type IpcPushMessage } from '../../shared/ipc';
import type { EventEnvelope } from '../../shared/protocol';

/** Time and one-shot timers for the batcher; tests and the benchmark pass virtual ones. */
export interface FrameTimer {
  /** Milliseconds, monotonic; only differences are used. */
  now(): number;
  /** Runs `callback` once after `ms` (0: on the next macrotask). Returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

export const systemFrameTimer: FrameTimer = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    if (ms <= 0) {
      const handle = setImmediate(callback);
      return () => {
        clearImmediate(handle);
      };
    }
    const handle = setTimeout(callback, Math.ceil(ms));
    return () => {
      clearTimeout(handle);
    };
  },
};

/** One frame at 60 Hz. */
export const DEFAULT_FRAME_MS = 16;
/**
 * Pending events (all sessions of a window) at which `add` reports saturation. About one mebibyte of
 * typical envelopes, the WebSocket connection's high-water mark.
 */
export const DEFAULT_MAX_PENDING = 4096;

export interface EventBatcherOptions {
  /** Where messages go, in order. Must not throw (a destroyed window is the transport's to ignore). */
  readonly send: (message: IpcPushMessage) => void;
  /** Default: `systemFrameTimer`. */
  readonly timer?: FrameTimer;
  /** Least time between two event messages of one session, ms. Default `DEFAULT_FRAME_MS`. */
  readonly frameMs?: number;
  /** Default `DEFAULT_MAX_PENDING`. */
  readonly maxPending?: number;
  /** Called after a flush brings the pending count back below `maxPending` following a saturated `add`. */
  readonly onWritable?: () => void;
}

interface SessionState {
  events: EventEnvelope[];
  ended: SubscriptionEndedFrame | null;
  cancel: (() => void) | null;
  /** `timer.now()` of the last event message, -Infinity before the first. */
  lastSent: number;
}

export class EventBatcher {
  private readonly sessions = new Map<string, SessionState>();
  private readonly send: (message: IpcPushMessage) => void;
  private readonly timer: FrameTimer;
  private readonly frameMs: number;
  private readonly maxPending: number;
  private readonly onWritable: () => void;
  private pendingCount = 0;
  private saturated = false;
  private disposed = false;

  constructor(options: EventBatcherOptions) {
    const frameMs = options.frameMs ?? DEFAULT_FRAME_MS;
    const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    if (!Number.isFinite(frameMs) || frameMs < 0)
      throw new RangeError(`frameMs must be a finite number >= 0, got ${frameMs}`);
    if (!Number.isInteger(maxPending) || maxPending < 1)
      throw new RangeError(`maxPending must be an integer >= 1, got ${maxPending}`);
    this.send = options.send;
    this.timer = options.timer ?? systemFrameTimer;
    this.frameMs = frameMs;
    this.maxPending = maxPending;
    this.onWritable = options.onWritable ?? (() => undefined);
  }

  /** Events waiting for their session's next flush. */
  get pending(): number {
    return this.pendingCount;
  }

  /**
   * Takes one event (always: the subscription counts it as delivered). Returns false when the window
   * has `maxPending` events waiting: the subscription then holds further events in its own bounded
   * queue, under its overflow policy, until `onWritable`. Ignored after `dispose`.
   */
  add(event: EventEnvelope): boolean {
    if (this.disposed) return true;
    const state = this.stateOf(event.session_id);
    // An event after an end frame belongs to a later subscription: the end must reach the renderer first.
    if (state.ended !== null) this.flushState(event.session_id, state);
    state.events.push(event);
    this.pendingCount++;
    this.schedule(event.session_id, state);
    if (this.pendingCount < this.maxPending) return true;
    this.saturated = true;
    return false;
  }

  /** Sends `frame` after the session's pending events, with its next flush. */
  end(frame: SubscriptionEndedFrame): void {
    if (this.disposed) return;
    const state = this.stateOf(frame.session_id);
    if (state.ended !== null) this.flushState(frame.session_id, state);
    state.ended = frame;
    this.schedule(frame.session_id, state);
  }

  /** Sends everything pending now, whatever the frame interval. */
  flush(): void {
    for (const [sessionId, state] of [...this.sessions]) this.flushState(sessionId, state);
  }

  /** Flushes what is pending, cancels the timers; later calls are ignored. */
  dispose(): void {
    if (this.disposed) return;
    // Disposed first: nothing resumes (onWritable) or adds while the last messages go out.
    this.disposed = true;
    this.saturated = false;
    this.flush();
    this.sessions.clear();
  }

  private stateOf(sessionId: string): SessionState {
    let state = this.sessions.get(sessionId);
    if (state === undefined) {
      state = { events: [], ended: null, cancel: null, lastSent: -Infinity };
      this.sessions.set(sessionId, state);
    }
    return state;
  }

  private schedule(sessionId: string, state: SessionState): void {
    if (state.cancel !== null) return;
    state.cancel = this.timer.setTimer(
      () => {
        state.cancel = null;
        // A timer may fire a little early (whole-millisecond timers against a fractional clock).
        if (state.events.length > 0 && this.timer.now() < state.lastSent + this.frameMs) {
          this.schedule(sessionId, state);
          return;
        }
        this.flushState(sessionId, state);
      },
      Math.max(0, state.lastSent + this.frameMs - this.timer.now()),
    );
  }

  private flushState(sessionId: string, state: SessionState): void {
    state.cancel?.();
    state.cancel = null;
    const { events, ended } = state;
    state.ended = null;
    if (events.length > 0) {
      state.events = [];
      state.lastSent = this.timer.now();
      this.pendingCount -= events.length;
      this.send({ channel: IPC_EVENTS.onEvents.channel, payload: { session_id: sessionId, events } });
    }
    if (ended !== null) this.send({ channel: IPC_EVENTS.onSubscriptionEnded.channel, payload: ended });
    if (this.saturated && this.pendingCount < this.maxPending) {
      this.saturated = false;
      // Resumed subscriptions add events here, re-entrantly; they are scheduled for the next interval.
      this.onWritable();
    }
  }
}
