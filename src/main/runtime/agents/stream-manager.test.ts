import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TERMINAL_REASONS, type StreamIdentity, type TerminalReason } from '../../../shared/agents';
import { ManualClock } from '../core/clock';
import { StreamManager, type StreamObserver, type StreamOutcome, type StreamTask } from './stream-manager';

const flush = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

function identity(n: number | string, agent = 'lore'): StreamIdentity {
  return {
    stream_id: `agent_r1_${agent}_${n}`,
    run_id: 'r1',
    session_id: 's1',
    turn_id: 't1',
    agent,
    sequence: typeof n === 'number' ? n : 1,
  };
}

/** An agent whose outcome the test decides: complete, fail, or never (until the manager ends it). */
interface Handle {
  readonly id: string;
  readonly critical: boolean;
  readonly events: string[];
  readonly ended: StreamOutcome[];
  readonly tokens: string[];
  runs: number;
  signal: AbortSignal | null;
  emit: ((text: string) => void) | null;
  complete(result?: unknown): void;
  fail(err: unknown): void;
  promise: Promise<StreamOutcome>;
}

interface SpawnOptions {
  readonly critical?: boolean;
  readonly timeoutMs?: number;
  /** Replaces the controllable agent. */
  readonly run?: StreamTask['run'];
}

function spawn(manager: StreamManager, n: number | string, options: SpawnOptions = {}): Handle {
  let settle: { resolve(v: unknown): void; reject(e: unknown): void } | null = null;
  const events: string[] = [];
  const ended: StreamOutcome[] = [];
  const tokens: string[] = [];
  const observer: StreamObserver = {
    queued: () => events.push('queued'),
    started: () => events.push('started'),
    token: (index, text) => {
      events.push(`token:${index}`);
      tokens.push(text);
    },
    ended: (outcome) => {
      events.push(`ended:${outcome.reason}`);
      ended.push(outcome);
    },
  };
  const handle: Handle = {
    id: identity(n).stream_id,
    critical: options.critical ?? false,
    events,
    ended,
    tokens,
    runs: 0,
    signal: null,
    emit: null,
    complete: (result = { ok: true }) => settle?.resolve(result),
    fail: (err) => settle?.reject(err),
    promise: Promise.resolve() as unknown as Promise<StreamOutcome>,
  };
  handle.promise = manager.spawn({
    identity: identity(n),
    critical: handle.critical,
    timeoutMs: options.timeoutMs ?? 1_000,
    observer,
    run:
      options.run ??
      ((signal, emit) => {
        handle.runs++;
        handle.signal = signal;
        handle.emit = emit;
        return new Promise((resolve, reject) => {
          settle = { resolve, reject };
        });
      }),
  });
  return handle;
}

function setup(maxConcurrent: number, terminalCacheSize?: number) {
  const clock = new ManualClock(1_000);
  const manager = new StreamManager({
    clock,
    maxConcurrent,
    ...(terminalCacheSize === undefined ? {} : { terminalCacheSize }),
  });
  return { clock, manager };
}

const sum = (counts: Readonly<Record<TerminalReason, number>>): number =>
  TERMINAL_REASONS.reduce((n, r) => n + counts[r], 0);

describe('StreamManager', () => {
  it('refuses invalid options', () => {
    const clock = new ManualClock();
    expect(() => new StreamManager({ clock, maxConcurrent: 0 })).toThrow(RangeError);
    expect(() => new StreamManager({ clock, maxConcurrent: 1.5 })).toThrow(/maxConcurrent/);
    expect(() => new StreamManager({ clock, maxConcurrent: 1, terminalCacheSize: 0 })).toThrow(
      /terminalCacheSize/,
    );
    expect(() => {
      new StreamManager({ clock, maxConcurrent: 2 }).setMaxConcurrent(-1);
    }).toThrow(RangeError);
  });

  it('completes a stream: queued, started, tokens, ended once with the result', async () => {
    const { clock, manager } = setup(2);
    const h = spawn(manager, 1);
    expect(manager.activeIds).toEqual([h.id]);
    h.emit?.('a');
    h.emit?.('b');
    await clock.advance(40);
    h.complete({ answer: 42 });
    const outcome = await h.promise;
    expect(outcome).toEqual({
      stream_id: h.id,
      reason: 'completed',
      message: null,
      result: { answer: 42 },
      critical: false,
      tokens: 2,
      elapsed_ms: 40,
    });
    expect(h.events).toEqual(['queued', 'started', 'token:0', 'token:1', 'ended:completed']);
    expect(h.tokens).toEqual(['a', 'b']);
    expect(manager.activeIds).toEqual([]);
    expect(manager.has(h.id)).toBe(false);
    expect(manager.outcome(h.id)).toEqual(outcome);
    expect(h.signal?.aborted).toBe(true); // released once it ends
  });

  it('refuses a stream id that was already spawned', async () => {
    const { manager } = setup(1);
    const h = spawn(manager, 1);
    expect(() => spawn(manager, 1)).toThrow(/already spawned/);
    h.complete();
    await h.promise;
    expect(() => spawn(manager, 1)).toThrow(/already spawned/);
  });

  it('times out in virtual time: nothing before timeoutMs, `timeout` exactly when it elapses', async () => {
    const { clock, manager } = setup(1);
    const a = spawn(manager, 1, { timeoutMs: 100 });
    const b = spawn(manager, 2, { timeoutMs: 100 });
    await clock.advance(99);
    expect(a.ended).toEqual([]);
    expect(manager.activeIds).toEqual([a.id]);
    await clock.advance(1);
    expect(a.ended).toHaveLength(1);
    expect(a.ended[0]).toMatchObject({ reason: 'timeout', elapsed_ms: 100 });
    expect(a.ended[0]?.message).toContain('agentStreamTimeoutMs=100');
    expect(a.signal?.aborted).toBe(true);
    // b waited in the queue; its own timeout runs from its start.
    expect(manager.activeIds).toEqual([b.id]);
    await clock.advance(99);
    expect(b.ended).toEqual([]);
    await clock.advance(1);
    expect(b.ended[0]).toMatchObject({ reason: 'timeout', elapsed_ms: 200 });
    expect(manager.terminalCounts.timeout).toBe(2);
  });

  it('a stream that completes in time does not time out later', async () => {
    const { clock, manager } = setup(1);
    const h = spawn(manager, 1, { timeoutMs: 100 });
    await clock.advance(50);
    h.complete();
    await clock.advance(1_000);
    expect(h.ended.map((o) => o.reason)).toEqual(['completed']);
    expect(manager.terminalCounts).toMatchObject({ completed: 1, timeout: 0 });
  });

  it('cancels running and queued streams (manual_cancel)', async () => {
    const { manager } = setup(1);
    const running = spawn(manager, 1);
    const queued = spawn(manager, 2);
    const next = spawn(manager, 3);
    expect(manager.queuedIds).toEqual([queued.id, next.id]);

    expect(manager.cancel(queued.id, 'manual_cancel', 'user')).toBe(true);
    expect(queued.events).toEqual(['queued', 'ended:manual_cancel']);
    expect(queued.runs).toBe(0);
    expect(manager.queuedIds).toEqual([next.id]);

    expect(manager.cancel(running.id, 'manual_cancel', 'user')).toBe(true);
    expect(running.ended[0]).toMatchObject({ reason: 'manual_cancel', message: 'user', result: undefined });
    expect(running.signal?.aborted).toBe(true);
    expect(manager.activeIds).toEqual([next.id]); // the slot went to the next one

    expect(manager.cancel(running.id, 'manual_cancel', 'again')).toBe(false);
    expect(manager.cancel('agent_r1_nope_1', 'manual_cancel', 'x')).toBe(false);
    expect((await queued.promise).reason).toBe('manual_cancel');
    expect((await running.promise).reason).toBe('manual_cancel');
  });

  it('ignores a late completion and tokens after the end', async () => {
    const { manager } = setup(2);
    const h = spawn(manager, 1);
    h.emit?.('before');
    manager.cancel(h.id, 'manual_cancel', 'stop');
    h.emit?.('after');
    h.complete({ late: true });
    await flush();
    const f = spawn(manager, 2);
    manager.cancel(f.id, 'manual_cancel', 'stop');
    f.fail(new Error('late failure'));
    await flush();
    expect(h.events).toEqual(['queued', 'started', 'token:0', 'ended:manual_cancel']);
    expect(h.ended).toHaveLength(1);
    expect(manager.outcome(h.id)).toMatchObject({ reason: 'manual_cancel', tokens: 1, result: undefined });
    expect(f.ended.map((o) => o.reason)).toEqual(['manual_cancel']);
    expect(manager.terminalCounts).toMatchObject({ manual_cancel: 2, completed: 0, failed: 0 });
  });

  it('an agent that throws or rejects ends `failed` with its message', async () => {
    const { manager } = setup(4);
    const sync = spawn(manager, 1, {
      run: () => {
        throw new Error('boom sync');
      },
    });
    const async_ = spawn(manager, 2, { run: () => Promise.reject(new Error('boom async')) });
    // An agent may reject with anything; the message is its string form.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const odd = spawn(manager, 3, { run: () => Promise.reject('just a string') });
    const controlled = spawn(manager, 4);
    controlled.fail(new TypeError('bad shape'));
    expect(await sync.promise).toMatchObject({ reason: 'failed', message: 'boom sync', result: undefined });
    expect(await async_.promise).toMatchObject({ reason: 'failed', message: 'boom async' });
    expect(await odd.promise).toMatchObject({ reason: 'failed', message: 'just a string' });
    expect(await controlled.promise).toMatchObject({ reason: 'failed', message: 'bad shape' });
    for (const h of [sync, async_, odd, controlled]) expect(h.ended).toHaveLength(1);
    expect(manager.terminalCounts.failed).toBe(4);
  });

  it('starts waiting streams critical first, then in spawn order', async () => {
    const { manager } = setup(1);
    const started: string[] = [];
    const blocker = spawn(manager, 'blocker');
    const handles = [
      spawn(manager, 'n1'),
      spawn(manager, 'c1', { critical: true }),
      spawn(manager, 'n2'),
      spawn(manager, 'c2', { critical: true }),
      spawn(manager, 'n3'),
    ];
    let current = blocker;
    for (let i = 0; i < handles.length; i++) {
      current.complete();
      await current.promise;
      const next = handles.find((h) => manager.activeIds.includes(h.id));
      if (next === undefined) throw new Error('nothing started');
      started.push(next.id);
      current = next;
    }
    expect(started).toEqual(['c1', 'c2', 'n1', 'n2', 'n3'].map((n) => identity(n).stream_id));
  });

  it('setMaxConcurrent starts waiting streams when raised and stops none when lowered', () => {
    const { manager } = setup(1);
    const hs = [1, 2, 3].map((n) => spawn(manager, n));
    expect(manager.activeIds).toHaveLength(1);
    manager.setMaxConcurrent(3);
    expect(manager.activeIds).toHaveLength(3);
    manager.setMaxConcurrent(1);
    expect(manager.activeIds).toHaveLength(3);
    expect(manager.maxConcurrent).toBe(1);
    expect(hs.every((h) => h.runs === 1)).toBe(true);
  });

  it('shedNonCritical ends non-critical running and queued streams, never a critical one', async () => {
    const { manager } = setup(2);
    const n1 = spawn(manager, 'n1');
    const c1 = spawn(manager, 'c1', { critical: true });
    const n2 = spawn(manager, 'n2');
    const c2 = spawn(manager, 'c2', { critical: true });
    const n3 = spawn(manager, 'n3');
    expect(manager.activeIds).toEqual([n1.id, c1.id]);

    const shed = manager.shedNonCritical('HIGH pressure');
    expect([...shed].sort()).toEqual([n1.id, n2.id, n3.id].sort());
    for (const h of [n1, n2, n3]) {
      expect(h.ended).toHaveLength(1);
      expect(h.ended[0]).toMatchObject({
        reason: 'pressure_shed',
        message: 'HIGH pressure',
        critical: false,
      });
    }
    // Queued victims are shed where they wait: they never start.
    expect(n2.events).toEqual(['queued', 'ended:pressure_shed']);
    expect(n3.events).toEqual(['queued', 'ended:pressure_shed']);
    expect(n2.runs + n3.runs).toBe(0);
    expect(c1.ended).toEqual([]);
    expect(c2.ended).toEqual([]);
    expect(manager.activeIds).toEqual([c1.id, c2.id]);
    expect(manager.shedNonCritical('again')).toEqual([]);
    c1.complete();
    c2.complete();
    expect((await c1.promise).reason).toBe('completed');
    expect((await c2.promise).reason).toBe('completed');
    expect(manager.terminalCounts).toMatchObject({ pressure_shed: 3, completed: 2 });
  });

  it('shedding a running stream does not start a queued non-critical one', () => {
    const { manager } = setup(1);
    const running = spawn(manager, 1);
    const queued = spawn(manager, 2);
    manager.shedNonCritical('HIGH pressure');
    expect(running.events).toEqual(['queued', 'started', 'ended:pressure_shed']);
    expect(queued.events).toEqual(['queued', 'ended:pressure_shed']);
    expect(queued.runs).toBe(0);
    expect(manager.peakConcurrent).toBe(1);
  });

  it('dispose ends every stream with engine_dispose; queued ones never start', async () => {
    const { clock, manager } = setup(1);
    const running = spawn(manager, 1, { critical: true });
    const queued = spawn(manager, 2, { critical: true });
    manager.dispose();
    expect((await running.promise).reason).toBe('engine_dispose');
    expect(await queued.promise).toMatchObject({
      reason: 'engine_dispose',
      message: 'the runtime is shutting down',
    });
    expect(queued.runs).toBe(0);
    expect(running.signal?.aborted).toBe(true);
    expect(manager.activeIds).toEqual([]);
    expect(manager.queuedIds).toEqual([]);
    running.complete();
    await clock.advance(10_000); // no timeout fires for a disposed stream
    expect(manager.terminalCounts).toMatchObject({ engine_dispose: 2, completed: 0, timeout: 0 });
  });

  type Op =
    | { kind: 'spawn'; critical: boolean; timeoutMs: number }
    | { kind: 'complete' | 'fail' | 'cancel' | 'token'; pick: number }
    | { kind: 'advance'; ms: number }
    | { kind: 'shed' };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('spawn' as const),
        critical: fc.boolean(),
        timeoutMs: fc.integer({ min: 10, max: 200 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constantFrom('complete' as const, 'fail' as const, 'cancel' as const, 'token' as const),
        pick: fc.nat(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('shed' as const) }) },
  );

  it('never runs more than maxConcurrent, never sheds a critical stream, ends every stream exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(opArb, { maxLength: 40 }),
        async (max, ops) => {
          const { clock, manager } = setup(max);
          const handles: Handle[] = [];
          const check = (): void => {
            expect(manager.activeIds.length).toBeLessThanOrEqual(max);
            expect(manager.peakConcurrent).toBeLessThanOrEqual(max);
            for (const h of handles) {
              expect(h.ended.length).toBeLessThanOrEqual(1);
              if (h.critical) expect(h.ended[0]?.reason).not.toBe('pressure_shed');
              // A live stream is running or queued, never both; an ended one is neither.
              const live =
                Number(manager.activeIds.includes(h.id)) + Number(manager.queuedIds.includes(h.id));
              expect(live).toBe(h.ended.length === 0 ? 1 : 0);
            }
          };
          for (const op of ops) {
            const pick = (): Handle | undefined =>
              'pick' in op && handles.length > 0 ? handles[op.pick % handles.length] : undefined;
            switch (op.kind) {
              case 'spawn':
                handles.push(spawn(manager, handles.length + 1, op));
                break;
              case 'complete':
                pick()?.complete();
                break;
              case 'fail':
                pick()?.fail(new Error('agent failed'));
                break;
              case 'token':
                pick()?.emit?.('x');
                break;
              case 'cancel': {
                const h = pick();
                if (h === undefined) break;
                const live = h.ended.length === 0;
                expect(manager.cancel(h.id, 'manual_cancel', 'test')).toBe(live);
                if (live) expect(h.ended[0]?.reason).toBe('manual_cancel');
                break;
              }
              case 'advance':
                await clock.advance(op.ms);
                break;
              case 'shed': {
                const before = handles.filter((h) => h.ended.length === 0);
                const queued = handles.filter((h) => !h.critical && manager.queuedIds.includes(h.id));
                const shed = manager.shedNonCritical('HIGH');
                for (const h of queued) expect(h.runs).toBe(0); // shed where they waited, never started
                expect([...shed].sort()).toEqual(
                  before
                    .filter((h) => !h.critical)
                    .map((h) => h.id)
                    .sort(),
                );
                break;
              }
            }
            await flush();
            check();
          }
          manager.dispose();
          await flush();
          check();
          const outcomes = await Promise.all(handles.map((h) => h.promise));
          for (const [i, h] of handles.entries()) {
            expect(h.ended).toHaveLength(1);
            expect(outcomes[i]).toBe(h.ended[0]);
            expect(TERMINAL_REASONS).toContain(h.ended[0]?.reason);
            expect(h.events.filter((e) => e.startsWith('ended')).length).toBe(1);
            expect(h.events.at(-1)).toMatch(/^ended:/);
            // Tokens only while running: after `started`, before `ended`.
            const started = h.events.indexOf('started');
            const firstToken = h.events.findIndex((e) => e.startsWith('token'));
            if (firstToken >= 0) expect(started).toBeGreaterThanOrEqual(0);
            if (firstToken >= 0) expect(firstToken).toBeGreaterThan(started);
            expect(h.ended[0]?.tokens).toBe(h.tokens.length);
          }
          expect(sum(manager.terminalCounts)).toBe(handles.length);
          expect(manager.activeIds).toEqual([]);
          expect(manager.queuedIds).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps the terminal-outcome cache bounded over 100,000 streams', async () => {
    const clock = new ManualClock();
    const manager = new StreamManager({ clock, maxConcurrent: 16, terminalCacheSize: 1024 });
    const observer: StreamObserver = { queued() {}, started() {}, token() {}, ended() {} };
    const result = { ok: true };
    const run = (): Promise<unknown> => Promise.resolve(result);
    const total = 100_000;
    const batch = 50;
    for (let n = 1; n <= total; n += batch) {
      const pending: Promise<StreamOutcome>[] = [];
      for (let i = n; i < n + batch && i <= total; i++)
        pending.push(
          manager.spawn({
            identity: identity(i, 'next_move'),
            critical: false,
            timeoutMs: 1_000,
            observer,
            run,
          }),
        );
      await Promise.all(pending);
      expect(manager.cachedOutcomes).toBeLessThanOrEqual(1024);
    }
    expect(manager.terminalCounts.completed).toBe(total);
    expect(sum(manager.terminalCounts)).toBe(total);
    expect(manager.cachedOutcomes).toBe(1024);
    expect(manager.peakConcurrent).toBeLessThanOrEqual(16);
    expect(manager.activeIds).toEqual([]);
    // Oldest forgotten first: the last 1024 are remembered, the one before them is not.
    expect(manager.outcome(identity(total, 'next_move').stream_id)?.reason).toBe('completed');
    expect(manager.outcome(identity(total - 1023, 'next_move').stream_id)).toBeDefined();
    expect(manager.outcome(identity(total - 1024, 'next_move').stream_id)).toBeUndefined();
  });
});
