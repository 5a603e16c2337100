import type { StreamIdentity, TerminalReason } from '../../../shared/agents';
import { TERMINAL_REASONS } from '../../../shared/agents';
import type { Clock } from '../core/clock';

/** How a stream ended. Kept in a bounded cache after the stream is gone. */
export interface StreamOutcome {
  readonly stream_id: string;
  readonly reason: TerminalReason;
  /** Why it ended early (timeout, failure, cancel, shed, dispose); null when completed. */
  readonly message: string | null;
  /** The agent's result, only when completed. Validated by the arbiter, not here. */
  readonly result: unknown;
  readonly critical: boolean;
  readonly tokens: number;
  readonly elapsed_ms: number;
}

/** Callbacks a stream reports through; the session turns them into events. Called synchronously. */
export interface StreamObserver {
  queued(): void;
  started(): void;
  token(index: number, text: string): void;
  ended(outcome: StreamOutcome): void;
}

export interface StreamTask {
  readonly identity: StreamIdentity;
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly observer: StreamObserver;
  /** The agent's work. `emit` streams a piece of text; after the stream ends it is ignored. */
  run(signal: AbortSignal, emit: (text: string) => void): Promise<unknown>;
}

export type EarlyEnd = Extract<TerminalReason, 'manual_cancel' | 'engine_dispose' | 'pressure_shed'>;

interface Entry {
  readonly task: StreamTask;
  readonly queuedAt: number;
  readonly order: number;
  state: 'queued' | 'running';
  tokens: number;
  readonly controller: AbortController;
  readonly timer: AbortController;
  resolve(outcome: StreamOutcome): void;
}

export interface StreamManagerOptions {
  readonly clock: Clock;
  readonly maxConcurrent: number;
  /** Outcomes remembered after streams end (oldest forgotten first). Default 1024. */
  readonly terminalCacheSize?: number;
}

/**
 * Runs isolated agent streams: at most `maxConcurrent` at once runtime-wide (further spawns wait, the
 * critical first, then in spawn order), each with its own timeout and abort signal. Every stream ends
 * exactly once with a standard terminal reason; whatever the agent does after that is ignored.
 */
export class StreamManager {
  private readonly clock: Clock;
  private max: number;
  private readonly cacheSize: number;
  private readonly running = new Map<string, Entry>();
  private readonly waiting: Entry[] = [];
  private readonly outcomes = new Map<string, StreamOutcome>();
  private readonly counts: Record<TerminalReason, number>;
  private order = 0;
  private peak = 0;

  constructor(options: StreamManagerOptions) {
    this.clock = options.clock;
    this.max = StreamManager.checkMax(options.maxConcurrent);
    this.cacheSize = options.terminalCacheSize ?? 1024;
    if (!Number.isInteger(this.cacheSize) || this.cacheSize < 1)
      throw new RangeError(`terminalCacheSize must be an integer >= 1, got ${this.cacheSize}`);
    this.counts = Object.fromEntries(TERMINAL_REASONS.map((r) => [r, 0])) as Record<TerminalReason, number>;
  }

  private static checkMax(n: number): number {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`maxConcurrent must be an integer >= 1, got ${n}`);
    return n;
  }

  /** Takes effect for the next start; running streams are not stopped. */
  setMaxConcurrent(n: number): void {
    this.max = StreamManager.checkMax(n);
    this.pump();
  }

  get maxConcurrent(): number {
    return this.max;
  }

  get activeIds(): string[] {
    return [...this.running.keys()];
  }

  get queuedIds(): string[] {
    return this.waiting.map((e) => e.task.identity.stream_id);
  }

  /** Most streams ever running at once. */
  get peakConcurrent(): number {
    return this.peak;
  }

  get terminalCounts(): Readonly<Record<TerminalReason, number>> {
    return { ...this.counts };
  }

  /** How a recently ended stream ended; undefined for unknown, running or long-forgotten ones. */
  outcome(streamId: string): StreamOutcome | undefined {
    return this.outcomes.get(streamId);
  }

  get cachedOutcomes(): number {
    return this.outcomes.size;
  }

  has(streamId: string): boolean {
    return this.running.has(streamId) || this.waiting.some((e) => e.task.identity.stream_id === streamId);
  }

  /** Queues a stream; it starts when a slot is free. Resolves when it ends, whatever the reason; never rejects. */
  spawn(task: StreamTask): Promise<StreamOutcome> {
    const id = task.identity.stream_id;
    if (this.has(id) || this.outcomes.has(id)) throw new Error(`stream ${id} was already spawned`);
    return new Promise<StreamOutcome>((resolve) => {
      const entry: Entry = {
        task,
        queuedAt: this.clock.now(),
        order: this.order++,
        state: 'queued',
        tokens: 0,
        controller: new AbortController(),
        timer: new AbortController(),
        resolve,
      };
      this.waiting.push(entry);
      task.observer.queued();
      this.pump();
    });
  }

  /** Ends a queued or running stream early. False when it is not (or no longer) active. */
  cancel(streamId: string, reason: EarlyEnd, message: string): boolean {
    const entry =
      this.running.get(streamId) ?? this.waiting.find((e) => e.task.identity.stream_id === streamId);
    if (entry === undefined) return false;
    this.finish(entry, reason, message, undefined);
    return true;
  }

  /** Sheds every non-critical stream, running or queued (`pressure_shed`). Critical streams are never shed. */
  shedNonCritical(message: string): string[] {
    // Queued victims first: ending a running one frees a slot, and pump() must not start a victim.
    const victims = [...this.waiting, ...this.running.values()].filter((e) => !e.task.critical);
    for (const e of victims) this.finish(e, 'pressure_shed', message, undefined);
    return victims.map((e) => e.task.identity.stream_id);
  }

  /** Ends every stream (`engine_dispose`). */
  dispose(message = 'the runtime is shutting down'): void {
    for (const e of [...this.waiting, ...this.running.values()])
      this.finish(e, 'engine_dispose', message, undefined);
  }

  private pump(): void {
    while (this.running.size < this.max && this.waiting.length > 0) {
      // Critical first, then spawn order: a deterministic queue.
      let pick = 0;
      for (let i = 1; i < this.waiting.length; i++) {
        const a = this.waiting[i] as Entry;
        const b = this.waiting[pick] as Entry;
        if (Number(a.task.critical) > Number(b.task.critical)) pick = i;
      }
      const [entry] = this.waiting.splice(pick, 1);
      if (entry !== undefined) this.start(entry);
    }
  }

  private start(entry: Entry): void {
    const { task } = entry;
    entry.state = 'running';
    this.running.set(task.identity.stream_id, entry);
    this.peak = Math.max(this.peak, this.running.size);
    task.observer.started();
    this.clock.sleep(task.timeoutMs, entry.timer.signal).then(
      () => {
        this.finish(entry, 'timeout', `no result within agentStreamTimeoutMs=${task.timeoutMs}`, undefined);
      },
      () => undefined, // the stream ended first
    );
    const emit = (text: string): void => {
      if (entry.state !== 'running' || !this.running.has(task.identity.stream_id)) return;
      task.observer.token(entry.tokens++, text);
    };
    let work: Promise<unknown>;
    try {
      work = task.run(entry.controller.signal, emit);
    } catch (err) {
      work = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    work.then(
      (result) => {
        this.finish(entry, 'completed', null, result);
      },
      (err: unknown) => {
        this.finish(entry, 'failed', err instanceof Error ? err.message : String(err), undefined);
      },
    );
  }

  private finish(entry: Entry, reason: TerminalReason, message: string | null, result: unknown): void {
    const id = entry.task.identity.stream_id;
    if (this.running.get(id) === entry) this.running.delete(id);
    else {
      const i = this.waiting.indexOf(entry);
      if (i < 0) return; // already ended
      this.waiting.splice(i, 1);
    }
    entry.timer.abort();
    entry.controller.abort(new Error(`stream ${id} ended: ${reason}`));
    const outcome: StreamOutcome = {
      stream_id: id,
      reason,
      message,
      result,
      critical: entry.task.critical,
      tokens: entry.tokens,
      elapsed_ms: this.clock.now() - entry.queuedAt,
    };
    this.counts[reason]++;
    this.outcomes.set(id, outcome);
    if (this.outcomes.size > this.cacheSize) {
      const oldest = this.outcomes.keys().next();
      if (oldest.done !== true) this.outcomes.delete(oldest.value);
    }
    entry.task.observer.ended(outcome);
    entry.resolve(outcome);
    this.pump();
  }
}
