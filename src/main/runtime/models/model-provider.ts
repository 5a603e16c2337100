import type { ModelRef } from '../../../shared/protocol';
import type { Clock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import type { LoadedModel, ModelBackend } from './backend';

/** Loads are shared between turns, so a turn's cancel does not abort one; the turn just stops waiting. */
export interface AcquireHooks {
  /** Called before a load starts (not when the model is already loaded). */
  readonly onLoadStart?: () => void;
  readonly onProgress?: (progress: number) => void;
}

export interface Acquired {
  readonly model: LoadedModel;
  /** Milliseconds this call waited for a load; 0 when the model was already loaded. */
  readonly loadMs: number;
}

const key = (ref: ModelRef): string => `${ref.backend}\u0000${ref.model_id}`;

/**
 * Resolves a ModelRef to a loaded model through the registered backends, loading each model once
 * (concurrent callers share one load). The warm pool of the local-models issue replaces this.
 */
export class ModelProvider {
  private readonly backends = new Map<string, ModelBackend>();
  private readonly loads = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly clock: Clock,
    backends: readonly ModelBackend[],
  ) {
    for (const b of backends) this.backends.set(b.kind, b);
  }

  has(ref: ModelRef): boolean {
    return this.backends.has(ref.backend);
  }

  async acquire(ref: ModelRef, hooks: AcquireHooks = {}): Promise<Acquired> {
    const backend = this.backends.get(ref.backend);
    if (backend === undefined)
      throw new RuntimeError('internal', `no model backend '${ref.backend}' is registered`);
    const k = key(ref);
    let load = this.loads.get(k);
    if (load !== undefined) {
      const started = this.clock.now();
      const model = await load;
      return { model, loadMs: this.clock.now() - started };
    }
    hooks.onLoadStart?.();
    const started = this.clock.now();
    load = backend.load(ref.model_id, {
      ...(hooks.onProgress === undefined ? {} : { onProgress: hooks.onProgress }),
    });
    this.loads.set(k, load);
    try {
      const model = await load;
      return { model, loadMs: this.clock.now() - started };
    } catch (err) {
      this.loads.delete(k);
      throw err;
    }
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.loads.values());
    this.loads.clear();
    await Promise.allSettled(loaded.flatMap((r) => (r.status === 'fulfilled' ? [r.value.unload()] : [])));
    await Promise.allSettled([...this.backends.values()].map((b) => b.dispose()));
  }
}
