/**
 * The warm pool's bookkeeping on a fake backend with declared sizes and virtual load times: the
 * memory budget, limits changed at run time, and the load time a prewarm hides. (Real llama.cpp
 * workers: llama/llama-pool.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { ModelRef } from '../../../shared/common';
import { ManualClock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import type { LoadedModel, LoadOptions, ModelBackend, ModelDescription } from './backend';
import { ModelPool, type PoolEvent } from './model-pool';

const MB = 1024 ** 2;

/** A fake backend, named as such: models of declared sizes that load in `loadMs` of virtual time. */
class SizedFakeBackend implements ModelBackend {
  readonly kind = 'fake';
  loads = 0;
  constructor(
    private readonly clock: ManualClock,
    private readonly sizes: Record<string, number>,
    private readonly loadMs = 0,
  ) {}

  describe(modelId: string): Promise<ModelDescription> {
    const bytes = this.sizes[modelId];
    if (bytes === undefined) return Promise.reject(new RuntimeError('unknown_model', `no ${modelId}`));
    return Promise.resolve({
      name: modelId,
      architecture: 'fake',
      parameters: 1,
      quantization: 'F32',
      contextLength: 16,
      fileBytes: bytes,
      estimatedBytes: bytes,
    });
  }

  async load(modelId: string, options: LoadOptions = {}): Promise<LoadedModel> {
    this.loads++;
    if (this.loadMs > 0) await this.clock.sleep(this.loadMs);
    options.onProgress?.(1);
    return {
      info: { ref: { backend: this.kind, model_id: modelId }, contentHash: modelId, contextLength: 16 },
      memoryBytes: this.sizes[modelId] ?? 0,
      stream: () => {
        throw new Error('not used');
      },
      unload: () => Promise.resolve(),
    };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

const fake = (id: string): ModelRef => ({ backend: 'fake', model_id: id });

function setup(
  sizes: Record<string, number>,
  config: { budgetMb?: number; maxLoaded?: number; loadMs?: number } = {},
) {
  const clock = new ManualClock(0);
  const backend = new SizedFakeBackend(clock, sizes, config.loadMs ?? 0);
  const pool = new ModelPool({
    clock,
    backends: [backend],
    config: {
      memory_budget_bytes: (config.budgetMb ?? 100) * MB,
      max_loaded: config.maxLoaded ?? 8,
      idle_ttl_ms: 0,
    },
  });
  const events: PoolEvent[] = [];
  pool.onEvent((e) => events.push(e));
  return { clock, backend, pool, events };
}

const unloads = (events: readonly PoolEvent[]): [string, string][] =>
  events.flatMap((e) =>
    e.type === 'model_unloaded' ? [[e.model.model_id, e.reason] as [string, string]] : [],
  );

describe('model pool bookkeeping', () => {
  it('evicts idle models to keep the memory budget, and refuses a model larger than the whole budget', async () => {
    const { pool, backend, events } = setup({ a: 60 * MB, b: 30 * MB, c: 50 * MB, huge: 200 * MB });
    (await pool.acquire(fake('a'))).release();
    (await pool.acquire(fake('b'))).release(); // 90 MB: fits
    expect(unloads(events)).toEqual([]);
    (await pool.acquire(fake('c'))).release(); // 140 MB: a (least recently used) goes
    expect(unloads(events)).toEqual([['a', 'memory_budget']]);
    expect(pool.status().used_bytes).toBe(80 * MB);
    const err = await pool.acquire(fake('huge')).catch((e: unknown) => e);
    expect((err as RuntimeError).details?.reason).toBe('over_budget');
    expect((err as Error).message).toMatch(/200\.0 MiB, more than the pool's whole budget of 100\.0 MiB/);
    expect(backend.loads).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: 'model_failed', code: 'model_unavailable' });
  });

  it('a model in use is never evicted for the budget: the newcomer is refused instead', async () => {
    const { pool, events } = setup({ a: 60 * MB, b: 60 * MB });
    const held = await pool.acquire(fake('a'));
    const err = await pool.acquire(fake('b')).catch((e: unknown) => e);
    expect((err as RuntimeError).details?.reason).toBe('pool_full');
    expect(unloads(events)).toEqual([]);
    held.release();
    (await pool.acquire(fake('b'))).release();
    expect(unloads(events)).toEqual([['a', 'memory_budget']]);
  });

  it('lowering the cap at run time evicts idle models at once, least recently used first', async () => {
    const { pool, events } = setup({ a: MB, b: MB, c: MB });
    for (const id of ['a', 'b', 'c']) (await pool.acquire(fake(id))).release();
    (await pool.acquire(fake('a'))).release(); // order of use now: b, c, a
    pool.configure({ max_loaded: 1 });
    expect(unloads(events)).toEqual([
      ['b', 'evicted_lru'],
      ['c', 'evicted_lru'],
    ]);
    expect(
      pool
        .status()
        .models.filter((m) => m.state === 'ready')
        .map((m) => m.model.model_id),
    ).toEqual(['a']);
  });

  it('credits a prewarm once: the part of the load done before the turn asked, or all of it', async () => {
    const { pool, clock } = setup({ a: MB, b: MB }, { loadMs: 100 });
    pool.prewarm(fake('a'), 'typing');
    await clock.advance(40);
    expect(pool.select(fake('a'))).toEqual({
      state: 'loading',
      prewarm: { trigger: 'typing', hidden_ms: 40 },
    });
    expect(pool.select(fake('a')).prewarm).toBeNull(); // credited once
    pool.prewarm(fake('b'), 'npc_selected');
    await clock.advance(150);
    expect(pool.select(fake('b'))).toEqual({
      state: 'ready',
      prewarm: { trigger: 'npc_selected', hidden_ms: 100 },
    });
    // A turn's own load hides nothing.
    const { pool: p2, clock: c2 } = setup({ a: MB }, { loadMs: 100 });
    const lease = p2.acquire(fake('a'));
    await c2.advance(100);
    (await lease).release();
    expect(p2.select(fake('a'))).toEqual({ state: 'ready', prewarm: null });
  });

  it('unload refuses a model in use and an unknown one, clearly', async () => {
    const { pool } = setup({ a: MB });
    const held = await pool.acquire(fake('a'));
    expect(() => {
      pool.unload(fake('a'));
    }).toThrow(/in use by 1 turn/);
    expect(() => {
      pool.unload(fake('zzz'));
    }).toThrow(/is not loaded/);
    held.release();
    pool.unload(fake('a'));
    expect(pool.status().models[0]?.state).toBe('unloaded');
  });
});
