import type { ModelRef } from '../../../shared/protocol';
import type {
  LoadTrigger,
  ModelPoolConfig,
  ModelPoolConfigPatch,
  ModelPoolStatus,
  PooledModelState,
  PooledModelStatus,
  UnloadReason,
} from '../../../shared/models';
import type { Clock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { definedEntries } from '../core/patch';
import { silentLogger, type Logger } from '../core/logger';
import type { LoadedModel, ModelBackend, ModelDescription } from './backend';

/** Who caused a pool action: a session's turn, a session without a turn, or nobody (the pool itself). */
export interface PoolCause {
  readonly sessionId: string;
  readonly turnId: string | null;
}

export type PoolEvent =
  | {
      readonly type: 'model_loading';
      readonly model: ModelRef;
      readonly progress: number;
      readonly trigger: LoadTrigger;
      readonly cause: PoolCause | null;
    }
  | {
      readonly type: 'model_ready';
      readonly model: ModelRef;
      readonly load_ms: number;
      readonly trigger: LoadTrigger;
      readonly cause: PoolCause | null;
    }
  | {
      readonly type: 'model_unloaded';
      readonly model: ModelRef;
      readonly reason: UnloadReason;
      readonly cause: PoolCause | null;
    }
  | {
      readonly type: 'model_failed';
      readonly model: ModelRef;
      readonly code: string;
      readonly message: string;
      /** When the pool will try again after a crash; null when it will not. */
      readonly restart_in_ms: number | null;
      readonly cause: PoolCause | null;
    };

export interface RestartPolicy {
  /** First restart delay after a crash, ms; doubles per crash in the window. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** The circuit opens after this many crashes within `windowMs`. */
  readonly maxCrashes: number;
  readonly windowMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = { baseMs: 500, maxMs: 10_000, maxCrashes: 3, windowMs: 60_000 };

export const DEFAULT_POOL_CONFIG: ModelPoolConfig = {
  max_loaded: 2,
  memory_budget_bytes: 4 * 1024 ** 3,
  idle_ttl_ms: 10 * 60_000,
  // Off in the library (tests see no loads they did not ask for); the hosts turn it on.
  prewarm: false,
};

export interface ModelPoolOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly backends: readonly ModelBackend[];
  readonly config?: Partial<ModelPoolConfig>;
  readonly restart?: Partial<RestartPolicy>;
}

/** What a turn learns when it selects its model, before waiting for it. */
export interface Selection {
  readonly state: PooledModelState;
  /** Load time a prewarm hid from this turn: the whole load if it finished, else the part already done. */
  readonly prewarm: { readonly trigger: LoadTrigger; readonly hidden_ms: number } | null;
}

export interface Lease {
  readonly model: LoadedModel;
  /** Milliseconds this call waited for the model; 0 when it was ready. */
  readonly waitedMs: number;
  /** Ends the use: the model becomes evictable again and its idle TTL starts. Idempotent. */
  release(): void;
}

const PREWARM_TRIGGERS: ReadonlySet<LoadTrigger> = new Set([
  'session_open',
  'npc_selected',
  'typing',
  'agent_prediction',
  'manual',
]);

interface Entry {
  readonly ref: ModelRef;
  readonly key: string;
  state: PooledModelState;
  progress: number;
  model: LoadedModel | null;
  loading: Promise<LoadedModel> | null;
  description: ModelDescription | null;
  busy: number;
  lastUsedAt: number | null;
  /** Order of last use (LRU): a counter, since several uses can share a millisecond. */
  lastUse: number;
  loadStartedAt: number | null;
  loadMs: number | null;
  trigger: LoadTrigger | null;
  /** A prewarm's load is credited to the first turn that uses it, once. */
  prewarmCredited: boolean;
  crashes: number[];
  circuitOpenUntil: number | null;
  lastError: string | null;
  loads: number;
  /** Bumped on every state change that invalidates pending timers (TTL, restart). */
  epoch: number;
  timers: AbortController;
}

const keyOf = (ref: ModelRef): string => `${ref.backend}\u0000${ref.model_id}`;

/**
 * The warm pool: loaded models across every session, with single-flight loading (concurrent requests
 * for one model share one load; never two copies), a cap on loaded models and a memory budget
 * enforced by evicting the least recently used idle model, an idle TTL, crash restarts with
 * exponential backoff and a circuit breaker, and lifecycle events for every change.
 */
export class ModelPool {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backends = new Map<string, ModelBackend>();
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(event: PoolEvent) => void>();
  private readonly restart: RestartPolicy;
  private cfg: ModelPoolConfig;
  private disposed = false;
  private useCounter = 0;

  constructor(options: ModelPoolOptions) {
    this.clock = options.clock;
    this.logger = options.logger ?? silentLogger;
    for (const b of options.backends) this.backends.set(b.kind, b);
    this.cfg = { ...DEFAULT_POOL_CONFIG, ...options.config };
    this.restart = { ...DEFAULT_RESTART, ...options.restart };
  }

  get config(): ModelPoolConfig {
    return this.cfg;
  }

  /** Changes limits; applies at once (a lower cap or budget evicts idle models now). */
  configure(patch: ModelPoolConfigPatch): ModelPoolConfig {
    this.cfg = { ...this.cfg, ...definedEntries(patch) };
    this.enforceLimits(null, null);
    for (const e of this.entries.values()) if (e.state === 'ready' && e.busy === 0) this.scheduleTtl(e);
    return this.cfg;
  }

  onEvent(listener: (event: PoolEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: PoolEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error('model pool listener failed', { error: String(err) });
      }
    }
  }

  has(ref: ModelRef): boolean {
    return this.backends.has(ref.backend);
  }

  backend(kind: string): ModelBackend | undefined {
    return this.backends.get(kind);
  }

  allBackends(): ModelBackend[] {
    return [...this.backends.values()];
  }

  private backendFor(ref: ModelRef): ModelBackend {
    const b = this.backends.get(ref.backend);
    if (b === undefined)
      throw new RuntimeError('unknown_model', `no model backend '${ref.backend}' is configured`, {
        backends: [...this.backends.keys()],
      });
    return b;
  }

  private entry(ref: ModelRef): Entry {
    const key = keyOf(ref);
    let e = this.entries.get(key);
    if (e === undefined) {
      e = {
        ref: { backend: ref.backend, model_id: ref.model_id },
        key,
        state: 'unloaded',
        progress: 0,
        model: null,
        loading: null,
        description: null,
        busy: 0,
        lastUsedAt: null,
        lastUse: 0,
        loadStartedAt: null,
        loadMs: null,
        trigger: null,
        prewarmCredited: false,
        crashes: [],
        circuitOpenUntil: null,
        lastError: null,
        loads: 0,
        epoch: 0,
        timers: new AbortController(),
      };
      this.entries.set(key, e);
    }
    return e;
  }

  /** Invalidates the entry's pending TTL and restart timers. */
  private resetTimers(e: Entry): void {
    e.epoch++;
    e.timers.abort();
    e.timers = new AbortController();
  }

  /** The model's pool state now (unloaded when the pool has never seen it). No side effects. */
  stateOf(ref: ModelRef): PooledModelState {
    return this.entries.get(keyOf(ref))?.state ?? 'unloaded';
  }

  /**
   * A turn picks its model: returns the model's state now and credits any prewarm that hid load time
   * from this turn. Synchronous, so the turn can announce its selection before it waits.
   */
  select(ref: ModelRef): Selection {
    this.backendFor(ref);
    const e = this.entry(ref);
    let prewarm: Selection['prewarm'] = null;
    if (e.trigger !== null && PREWARM_TRIGGERS.has(e.trigger) && !e.prewarmCredited) {
      if (e.state === 'ready' && e.loadMs !== null) prewarm = { trigger: e.trigger, hidden_ms: e.loadMs };
      else if (e.state === 'loading' && e.loadStartedAt !== null)
        prewarm = { trigger: e.trigger, hidden_ms: this.clock.now() - e.loadStartedAt };
      if (prewarm !== null) e.prewarmCredited = true;
    }
    return { state: e.state, prewarm };
  }

  /**
   * The model, loaded if needed (sharing a load in flight), held until `release`. Throws
   * `unknown_model`, `invalid_model` or `model_unavailable` with the reason.
   */
  async acquire(ref: ModelRef, cause: PoolCause | null = null): Promise<Lease> {
    const started = this.clock.now();
    const e = this.entry(ref);
    e.busy++;
    this.resetTimers(e); // no TTL unload while in use
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      e.busy = Math.max(0, e.busy - 1);
      e.lastUsedAt = this.clock.now();
      e.lastUse = ++this.useCounter;
      if (e.busy === 0 && e.state === 'ready') this.scheduleTtl(e);
    };
    try {
      const model = await this.ensureLoaded(e, 'turn', cause);
      e.lastUsedAt = this.clock.now();
      e.lastUse = ++this.useCounter;
      return { model, waitedMs: this.clock.now() - started, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Loads a model ahead of need. Failures become `model_failed` events, never exceptions. */
  prewarm(ref: ModelRef, trigger: LoadTrigger, cause: PoolCause | null = null): void {
    if (!this.has(ref)) return;
    const e = this.entry(ref);
    if (trigger === 'manual') {
      // A designer's explicit load resets a tripped breaker.
      e.circuitOpenUntil = null;
      e.crashes = [];
    }
    if (e.state === 'ready' || e.state === 'loading') return;
    this.ensureLoaded(e, trigger, cause).catch(() => undefined);
  }

  private ensureLoaded(e: Entry, trigger: LoadTrigger, cause: PoolCause | null): Promise<LoadedModel> {
    if (this.disposed)
      return Promise.reject(new RuntimeError('model_unavailable', 'the runtime is shutting down'));
    if (e.state === 'ready' && e.model !== null) return Promise.resolve(e.model);
    if (e.loading !== null) return e.loading;
    const now = this.clock.now();
    if (e.circuitOpenUntil !== null && now < e.circuitOpenUntil)
      return Promise.reject(
        new RuntimeError(
          'model_unavailable',
          `model ${e.ref.model_id} crashed ${e.crashes.length} times within ${this.restart.windowMs / 1000} s; ` +
            `the pool stopped restarting it for ${Math.ceil((e.circuitOpenUntil - now) / 1000)} s (load it from the model panel to retry now)`,
          { reason: 'circuit_open', retry_at: e.circuitOpenUntil },
        ),
      );
    e.circuitOpenUntil = null;
    const load = this.load(e, trigger, cause);
    e.loading = load;
    load.then(
      () => {
        e.loading = null;
      },
      () => {
        e.loading = null;
      },
    );
    return load;
  }

  private async load(e: Entry, trigger: LoadTrigger, cause: PoolCause | null): Promise<LoadedModel> {
    const backend = this.backendFor(e.ref);
    this.resetTimers(e);
    e.state = 'loading';
    e.progress = 0;
    e.trigger = trigger;
    e.prewarmCredited = false;
    const startedAt = this.clock.now();
    e.loadStartedAt = startedAt;
    e.loadMs = null;
    e.lastError = null;
    this.emit({ type: 'model_loading', model: e.ref, progress: 0, trigger, cause });
    try {
      e.description = backend.describe === undefined ? null : await backend.describe(e.ref.model_id);
      this.makeRoom(e, cause);
      let lastReported = 0;
      const model = await backend.load(e.ref.model_id, {
        onProgress: (p) => {
          e.progress = Math.max(e.progress, p);
          // Progress events at most every 5%: a big file reports thousands of steps.
          if (e.progress - lastReported >= 0.05 && e.progress < 1) {
            lastReported = e.progress;
            this.emit({ type: 'model_loading', model: e.ref, progress: e.progress, trigger, cause });
          }
        },
      });
      if (this.disposed) {
        await model.unload();
        throw new RuntimeError('model_unavailable', 'the runtime shut down while the model loaded');
      }
      e.model = model;
      e.state = 'ready';
      e.progress = 1;
      e.loads++;
      e.loadMs = this.clock.now() - startedAt;
      e.lastUsedAt = this.clock.now();
      e.lastUse = ++this.useCounter;
      this.watchForDeath(e, model);
      this.emit({ type: 'model_ready', model: e.ref, load_ms: e.loadMs, trigger, cause });
      if (e.busy === 0) this.scheduleTtl(e);
      return model;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (e.state === 'loading') {
        e.state = 'failed';
        e.lastError = message;
      }
      const code = err instanceof RuntimeError ? err.code : 'load_failed';
      // A worker that dies while loading counts as a crash: a file llama.cpp cannot load without
      // crashing trips the breaker instead of costing a new worker on every turn.
      const reason = err instanceof RuntimeError ? err.details?.reason : undefined;
      if (reason === 'worker_crashed' || reason === 'watchdog_timeout') this.countCrash(e);
      this.emit({ type: 'model_failed', model: e.ref, code, message, restart_in_ms: null, cause });
      throw err instanceof RuntimeError ? err : new RuntimeError('model_unavailable', message);
    }
  }

  private loadedBytes(except: Entry | null): number {
    let sum = 0;
    for (const e of this.entries.values())
      if (e !== except && (e.state === 'ready' || e.state === 'loading')) sum += this.bytesOf(e);
    return sum;
  }

  /** The larger of the estimate and the measurement: llama.cpp's own figure leaves out some buffers. */
  private bytesOf(e: Entry): number {
    return Math.max(e.model?.memoryBytes ?? 0, e.description?.estimatedBytes ?? 0);
  }

  /** Evicts LRU idle models until `e` fits the cap and the budget; throws if it cannot. */
  private makeRoom(e: Entry, cause: PoolCause | null): void {
    const need = this.bytesOf(e);
    const budget = this.cfg.memory_budget_bytes;
    if (need > budget)
      throw new RuntimeError(
        'model_unavailable',
        `model ${e.ref.model_id} needs about ${mib(need)} MiB, more than the pool's whole budget of ${mib(budget)} MiB`,
        { reason: 'over_budget', need_bytes: need, budget_bytes: budget },
      );
    this.enforceLimits(e, cause);
    const others = [...this.entries.values()].filter(
      (o) => o !== e && (o.state === 'ready' || o.state === 'loading'),
    );
    if (others.length + 1 > this.cfg.max_loaded || this.loadedBytes(e) + need > budget)
      throw new RuntimeError(
        'model_unavailable',
        `no room for model ${e.ref.model_id}: ${others.length} model(s) loaded and in use ` +
          `(cap ${this.cfg.max_loaded}, ${mib(this.loadedBytes(e))} of ${mib(budget)} MiB used, ${mib(need)} MiB needed)`,
        { reason: 'pool_full' },
      );
  }

  /** Evicts least recently used idle models while the cap or budget is exceeded (counting `incoming`). */
  private enforceLimits(incoming: Entry | null, cause: PoolCause | null): void {
    const need = incoming === null ? 0 : this.bytesOf(incoming);
    const extra = incoming === null ? 0 : 1;
    for (;;) {
      const loaded = [...this.entries.values()].filter(
        (o) => o !== incoming && (o.state === 'ready' || o.state === 'loading'),
      );
      const overCap = loaded.length + extra > this.cfg.max_loaded;
      const overBudget = this.loadedBytes(incoming) + need > this.cfg.memory_budget_bytes;
      if (!overCap && !overBudget) return;
      const victim = loaded
        .filter((o) => o.state === 'ready' && o.busy === 0)
        .sort((a, b) => a.lastUse - b.lastUse)[0];
      if (victim === undefined) return;
      this.unloadEntry(victim, overCap ? 'evicted_lru' : 'memory_budget', cause);
    }
  }

  private scheduleTtl(e: Entry): void {
    this.resetTimers(e);
    const epoch = e.epoch;
    const ttl = this.cfg.idle_ttl_ms;
    if (ttl <= 0) return;
    this.clock.sleep(ttl, e.timers.signal).then(
      () => {
        if (e.epoch === epoch && e.state === 'ready' && e.busy === 0) this.unloadEntry(e, 'idle_ttl', null);
      },
      () => undefined,
    );
  }

  private watchForDeath(e: Entry, model: LoadedModel): void {
    void model.died?.then((err) => {
      if (e.model !== model || this.disposed) return;
      this.onCrash(e, err);
    });
  }

  private onCrash(e: Entry, err: Error): void {
    this.resetTimers(e);
    e.model = null;
    e.state = 'failed';
    e.lastError = err.message;
    this.countCrash(e);
    const detail = err instanceof RuntimeError ? err.details?.reason : undefined;
    const reason = typeof detail === 'string' ? detail : 'worker_crashed';
    this.emit({ type: 'model_unloaded', model: e.ref, reason: 'crashed', cause: null });
    if (e.circuitOpenUntil !== null) {
      this.logger.warn('model circuit open', { model: e.ref.model_id, crashes: e.crashes.length });
      this.emit({
        type: 'model_failed',
        model: e.ref,
        code: 'circuit_open',
        message: `${err.message}; ${e.crashes.length} crashes within ${this.restart.windowMs / 1000} s, so it is not restarted`,
        restart_in_ms: null,
        cause: null,
      });
      return;
    }
    const delay = Math.min(this.restart.maxMs, this.restart.baseMs * 2 ** (e.crashes.length - 1));
    this.emit({
      type: 'model_failed',
      model: e.ref,
      code: reason,
      message: err.message,
      restart_in_ms: delay,
      cause: null,
    });
    e.state = 'restarting';
    const epoch = e.epoch;
    this.clock.sleep(delay, e.timers.signal).then(
      () => {
        if (e.epoch !== epoch || e.state !== 'restarting' || this.disposed) return;
        e.state = 'failed';
        this.ensureLoaded(e, 'restart', null).catch(() => undefined);
      },
      () => undefined,
    );
  }

  /** Records a crash in the breaker's window; opens the circuit at `maxCrashes`. */
  private countCrash(e: Entry): void {
    const now = this.clock.now();
    e.crashes = [...e.crashes.filter((t) => now - t < this.restart.windowMs), now];
    if (e.crashes.length >= this.restart.maxCrashes)
      e.circuitOpenUntil = (e.crashes[0] ?? now) + this.restart.windowMs;
  }

  private unloadEntry(e: Entry, reason: UnloadReason, cause: PoolCause | null): void {
    const model = e.model;
    this.resetTimers(e);
    e.model = null;
    e.state = 'unloaded';
    e.progress = 0;
    if (model !== null)
      model.unload().catch((err: unknown) => {
        this.logger.warn('model unload failed', { model: e.ref.model_id, error: String(err) });
      });
    this.emit({ type: 'model_unloaded', model: e.ref, reason, cause });
  }

  /** Unloads a model now. A model in use by a turn is refused: cancel the turn first. */
  unload(ref: ModelRef, cause: PoolCause | null = null): void {
    const e = this.entries.get(keyOf(ref));
    if (e === undefined || (e.state !== 'ready' && e.state !== 'restarting' && e.state !== 'failed'))
      throw new RuntimeError('unknown_model', `model ${ref.backend}/${ref.model_id} is not loaded`);
    if (e.busy > 0)
      throw new RuntimeError('model_unavailable', `model ${ref.model_id} is in use by ${e.busy} turn(s)`, {
        reason: 'in_use',
      });
    this.unloadEntry(e, 'manual', cause);
  }

  status(): ModelPoolStatus {
    const now = this.clock.now();
    const models: PooledModelStatus[] = [...this.entries.values()].map((e) => ({
      model: e.ref,
      state: e.state,
      progress: e.progress,
      memory_bytes: e.model?.memoryBytes ?? null,
      estimated_bytes: e.description?.estimatedBytes ?? null,
      busy: e.busy,
      idle_ms: e.state === 'ready' && e.busy === 0 && e.lastUsedAt !== null ? now - e.lastUsedAt : null,
      pid: e.model?.pid ?? null,
      load_ms: e.loadMs,
      loaded_by: e.trigger,
      loads: e.loads,
      crashes: e.crashes.filter((t) => now - t < this.restart.windowMs).length,
      circuit_open_until: e.circuitOpenUntil !== null && e.circuitOpenUntil > now ? e.circuitOpenUntil : null,
      last_error: e.lastError,
    }));
    const used = models.reduce(
      (s, m) => s + (m.state === 'ready' ? (m.memory_bytes ?? m.estimated_bytes ?? 0) : 0),
      0,
    );
    return { config: this.cfg, used_bytes: used, models };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const loading = [...this.entries.values()].flatMap((e) => (e.loading === null ? [] : [e.loading]));
    await Promise.allSettled(loading);
    for (const e of this.entries.values()) {
      this.resetTimers(e);
      if (e.model !== null) {
        const m = e.model;
        e.model = null;
        e.state = 'unloaded';
        await m.unload().catch(() => undefined);
      }
    }
    await Promise.allSettled([...this.backends.values()].map((b) => b.dispose()));
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(1);
}
