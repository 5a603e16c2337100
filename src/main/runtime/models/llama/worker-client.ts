import type { Clock } from '../../core/clock';
import { RuntimeError } from '../../core/errors';
import type { WorkerExit, WorkerHandle } from './worker-launcher';
import type { FromWorker, GenerateStop, LoadedFacts, ToWorker } from './worker-protocol';

export interface WatchdogOptions {
  /** A worker that answers nothing (not even a ping) for this long while it has work is killed. */
  readonly hangMs: number;
  /** A generation that yields no token for this long is killed (the JS thread may be fine, llama.cpp not). */
  readonly stallMs: number;
  /** A worker that has not said `ready` this long after its start is killed. */
  readonly startupMs: number;
}

export const DEFAULT_WATCHDOG: WatchdogOptions = { hangMs: 10_000, stallMs: 60_000, startupMs: 30_000 };

type Listener = (message: FromWorker) => void;

interface Pending {
  readonly kind: 'load' | 'generate';
  readonly onMessage: Listener;
  readonly onDeath: (err: Error) => void;
  lastProgress: number;
}

/** A pull queue for one generation: the worker pushes chunks, the stream's consumer awaits them. */
class ChunkQueue<T> {
  private readonly items: T[] = [];
  private end: { error: Error | null } | null = null;
  private wake: (() => void) | null = null;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  close(error: Error | null): void {
    this.end ??= { error };
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.end !== null) {
        if (this.end.error !== null) throw this.end.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

export interface GenerateParams {
  readonly prompt: Extract<ToWorker, { type: 'generate' }>['prompt'];
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
}

export interface GenerateResult {
  readonly tokens: number;
  readonly stop: GenerateStop;
  readonly firstTokenMs: number | null;
}

/**
 * The runtime's side of one worker process: requests with ids, a watchdog, and death detection. Any
 * exit that `shutdown` did not ask for is a death: every pending request fails and `died` settles.
 */
export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastHeard: number;
  private exited: WorkerExit | null = null;
  private stopping = false;
  private killedBy: string | null = null;
  private watchdogRunning = false;
  private readonly watchdogStop = new AbortController();
  private resolveDied!: (err: Error) => void;
  private readyResolve!: () => void;
  private readyReject!: (err: Error) => void;
  /** Settles when the worker dies without being asked to stop. */
  readonly died: Promise<Error>;
  readonly ready: Promise<void>;

  constructor(
    private readonly handle: WorkerHandle,
    private readonly clock: Clock,
    private readonly watchdog: WatchdogOptions,
    private readonly label: string,
  ) {
    this.lastHeard = clock.now();
    this.died = new Promise((resolve) => {
      this.resolveDied = resolve;
    });
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    // The ready promise is awaited by load(); a death before it must not be an unhandled rejection.
    this.ready.catch(() => undefined);
    handle.onMessage((m) => {
      this.onMessage(m);
    });
    handle.onExit((exit) => {
      this.onExit(exit);
    });
    // Startup is work too: a worker that never says `ready` is hung.
    this.startWatchdog(true);
  }

  get pid(): number | undefined {
    return this.handle.pid;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  private onMessage(m: FromWorker): void {
    this.lastHeard = this.clock.now();
    if (m.type === 'ready') {
      this.readyResolve();
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return; // a late message of a request already given up on
    if (m.type === 'chunk' || m.type === 'progress') p.lastProgress = this.lastHeard;
    p.onMessage(m);
  }

  private describeExit(exit: WorkerExit): string {
    if (this.killedBy !== null) return `it was killed by the watchdog (${this.killedBy})`;
    return exit.signal !== null ? `it was killed by ${exit.signal}` : `it exited with code ${exit.code}`;
  }

  private onExit(exit: WorkerExit): void {
    this.exited = exit;
    this.watchdogStop.abort();
    if (this.stopping) return;
    const err = new RuntimeError(
      'model_unavailable',
      `the model worker ${this.label} (pid ${this.pid ?? '?'}) died: ${this.describeExit(exit)}`,
      {
        reason: this.killedBy === null ? 'worker_crashed' : 'watchdog_timeout',
        signal: exit.signal,
        code: exit.code,
      },
    );
    this.readyReject(err);
    for (const p of [...this.pending.values()]) p.onDeath(err);
    this.pending.clear();
    this.resolveDied(err);
  }

  private kill(reason: string): void {
    if (this.exited !== null) return;
    this.killedBy = reason;
    this.handle.kill();
  }

  /** Pings while work is pending; kills a worker that stops answering or stops producing tokens. */
  private startWatchdog(startup = false): void {
    if (this.watchdogRunning || this.exited !== null) return;
    this.watchdogRunning = true;
    const tick = Math.max(10, Math.floor(this.watchdog.hangMs / 4));
    const loop = async (): Promise<void> => {
      let waitingForReady = startup;
      this.ready.then(
        () => {
          waitingForReady = false;
        },
        () => undefined,
      );
      while (this.exited === null && (waitingForReady || this.pending.size > 0)) {
        await this.clock.sleep(tick, this.watchdogStop.signal);
        const now = this.clock.now();
        const limit = waitingForReady ? this.watchdog.startupMs : this.watchdog.hangMs;
        if (now - this.lastHeard > limit) {
          this.kill(`no answer for ${now - this.lastHeard} ms`);
          return;
        }
        for (const p of this.pending.values())
          if (p.kind === 'generate' && now - p.lastProgress > this.watchdog.stallMs) {
            this.kill(`no token for ${now - p.lastProgress} ms`);
            return;
          }
        this.handle.send({ type: 'ping', id: 0 });
      }
    };
    loop()
      .catch(() => undefined)
      .finally(() => {
        this.watchdogRunning = false;
      });
  }

  private request(kind: Pending['kind'], listener: Listener, onDeath: (err: Error) => void): number {
    if (this.exited !== null)
      throw new RuntimeError('model_unavailable', `the model worker ${this.label} is not running`);
    const id = this.nextId++;
    this.pending.set(id, { kind, onMessage: listener, onDeath, lastProgress: this.clock.now() });
    this.lastHeard = Math.max(this.lastHeard, this.clock.now());
    this.startWatchdog();
    return id;
  }

  async load(
    path: string,
    contextSize: number,
    threads: number,
    onProgress: (p: number) => void,
    signal?: AbortSignal,
  ): Promise<LoadedFacts> {
    await this.ready;
    return new Promise<LoadedFacts>((resolve, reject) => {
      const id = this.request(
        'load',
        (m) => {
          if (m.type === 'progress') onProgress(m.progress);
          else if (m.type === 'loaded') {
            this.pending.delete(id);
            resolve(m.facts);
          } else if (m.type === 'error') {
            this.pending.delete(id);
            reject(
              new RuntimeError('invalid_model', `llama.cpp could not load ${path}: ${m.message}`, { path }),
            );
          }
        },
        reject,
      );
      signal?.addEventListener(
        'abort',
        () => {
          // A load cannot be interrupted inside llama.cpp; the worker is simply not wanted any more.
          this.pending.delete(id);
          reject(signal.reason instanceof Error ? signal.reason : new Error('load aborted'));
        },
        { once: true },
      );
      this.handle.send({ type: 'load', id, path, contextSize, threads });
    });
  }

  /**
   * Streams one generation. Aborting `signal` asks the worker to stop (it does within a token or
   * two) and ends this stream at once by throwing the signal's reason.
   */
  async *generate(
    params: GenerateParams,
    signal: AbortSignal,
    onDone?: (result: GenerateResult) => void,
  ): AsyncGenerator<string> {
    if (signal.aborted) throw signal.reason;
    const queue = new ChunkQueue<string>();
    let stopped = false;
    const id = this.request(
      'generate',
      (m) => {
        if (m.type === 'chunk') {
          if (!stopped) queue.push(m.text);
        } else if (m.type === 'done') {
          this.pending.delete(id);
          onDone?.({ tokens: m.tokens, stop: m.stop, firstTokenMs: m.firstTokenMs });
          queue.close(null);
        } else if (m.type === 'error') {
          this.pending.delete(id);
          queue.close(new RuntimeError('internal', `llama.cpp generation failed: ${m.message}`));
        }
      },
      (err) => {
        queue.close(err);
      },
    );
    // Stopping ends this stream at once; the request stays pending until the worker's `done`, so
    // the observer learns how many tokens the worker produced after the stop.
    const stop = (): void => {
      if (stopped || !this.pending.has(id)) return;
      stopped = true;
      this.handle.send({ type: 'abort', id });
    };
    const onAbort = (): void => {
      stop();
      queue.close(signal.reason instanceof Error ? signal.reason : new Error('generation aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.handle.send({ type: 'generate', id, ...params });
      yield* queue.drain();
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop();
    }
  }

  /** Test hook: makes the worker's JS thread unresponsive (needs PARLEY_WORKER_TEST_HOOKS=1). */
  hangForTest(ms: number): void {
    this.handle.send({ type: 'test_hang', ms });
  }

  /** Asks the worker to exit; kills it if it has not within `graceMs`. Not a death. */
  async shutdown(graceMs = 2_000): Promise<void> {
    if (this.exited !== null) return;
    this.stopping = true;
    const gone = new Promise<void>((resolve) => {
      this.handle.onExit(() => {
        resolve();
      });
    });
    this.handle.send({ type: 'shutdown' });
    const timer = new AbortController();
    const timedOut = this.clock.sleep(graceMs, timer.signal).then(
      () => true,
      () => false,
    );
    if (await Promise.race([gone.then(() => false), timedOut])) this.handle.kill();
    timer.abort();
    await gone;
  }
}
