import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { spokenPart } from '../../../shared/proposals';
import { ScriptedBackend, scriptedTokens } from '../models/scripted-backend';
import { streamViolations } from '../testing/invariants';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { transition } from './session';

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const LONG_LINE = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');

describe('InteractionSession turns', () => {
  it('publishes turn_accepted synchronously, before the turn awaits anything, as its first event', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    const before = s.events.length;
    const result = s.session.startTurn('Good evening.');
    // Still inside the same synchronous tick: the ACK is already out.
    expect(result.accepted).toBe(true);
    const firstOfTurn = s.events
      .slice(before)
      .find((e) => e.turn_id === (result.accepted ? result.turnId : ''));
    expect(firstOfTurn?.type).toBe('turn_accepted');
    expect(s.events[before]?.type).toBe('turn_accepted');
    await s.session.whenIdle();
    expect(s.ofType('commit_succeeded')).toHaveLength(1);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('commits the streamed text to the ledger and reports commit seq and provenance hash', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    s.session.startTurn('Any rooms free?');
    await s.session.whenIdle();
    const deltas = s.ofType('token_delta');
    const text = deltas.map((d) => d.payload.text).join('');
    expect(text.length).toBeGreaterThan(0);
    expect(deltas.map((d) => d.payload.index)).toEqual(deltas.map((_, i) => i));
    const final = s.ofType('turn_final')[0];
    const commit = s.ofType('commit_succeeded')[0];
    // Events carry what the NPC says; the ledger keeps the whole model output, action lines included.
    expect(final?.payload.text).toBe(spokenPart(text));
    expect(commit?.payload.text).toBe(spokenPart(text));
    expect(commit?.payload.commit_seq).toBe(1);
    const rows = t.runtime.ledger.commitsForSession(s.session.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.final_text).toBe(text);
    expect(rows[0]?.provenance_hash).toBe(commit?.payload.provenance_hash);
    // Event order of a full turn.
    const turnTypes = s.events.filter((e) => e.turn_id !== null).map((e) => e.type);
    expect(turnTypes[0]).toBe('turn_accepted');
    // The control plane's pass: admissions right after the ACK, the arbiter between preview and commit.
    expect(turnTypes[1]).toBe('agent_admission');
    expect(turnTypes.slice(-2)).toEqual(['arbiter_decision', 'commit_succeeded']);
    expect(turnTypes.indexOf('turn_final')).toBeLessThan(turnTypes.indexOf('arbiter_decision'));
  });

  it('cancel at any token k: exactly one turn_cancelled, no later token_delta, no ledger row', async () => {
    t = createTestRuntime({
      backends: [new ScriptedBackend({ clock: systemClock, tokenIntervalMs: 0, script: () => LONG_LINE })],
    });
    const total = scriptedTokens(LONG_LINE).length;
    const runtime = t;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: total - 1 }), async (k) => {
        const s = runtime.openSession();
        const started = s.session.startTurn('Tell me a long story.');
        if (!started.accepted) throw new Error('turn not accepted');
        s.onEvent((e) => {
          if (e.type === 'token_delta' && e.payload.index === k) s.session.cancelTurn(started.turnId);
        });
        await s.session.whenIdle();
        const ofTurn = s.events.filter((e) => e.turn_id === started.turnId);
        expect(ofTurn.filter((e) => e.type === 'turn_cancelled')).toHaveLength(1);
        const cancelAt = ofTurn.findIndex((e) => e.type === 'turn_cancelled');
        expect(ofTurn.slice(cancelAt + 1)).toEqual([]);
        expect(ofTurn.filter((e) => e.type === 'token_delta')).toHaveLength(k + 1);
        expect(s.ofType('turn_cancelled')[0]?.payload.tokens_emitted).toBe(k + 1);
        expect(s.ofType('commit_succeeded')).toHaveLength(0);
        expect(s.ofType('turn_final')).toHaveLength(0);
        expect(runtime.runtime.ledger.commitsForSession(s.session.id)).toHaveLength(0);
        expect(streamViolations(s.events)).toEqual([]);
      }),
      { numRuns: 25 },
    );
    expect(t.runtime.ledger.count()).toBe(0);
  });

  it('cancel before the first token (during model load) ends the turn with no tokens', async () => {
    t = createTestRuntime({ scripted: { tokenIntervalMs: 0, loadMs: 50 } });
    const s = t.openSession();
    const started = s.session.startTurn('Hello?');
    if (!started.accepted) throw new Error('not accepted');
    s.session.cancelTurn(started.turnId);
    await s.session.whenIdle();
    expect(s.ofType('turn_cancelled')[0]?.payload.tokens_emitted).toBe(0);
    expect(s.ofType('token_delta')).toHaveLength(0);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('rejects a second turn.start while a turn runs, leaving the running turn intact', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    const first = s.session.startTurn('First line.');
    const second = s.session.startTurn('Second line.');
    expect(second).toMatchObject({ accepted: false, reason: 'turn_in_progress' });
    const rejected = s.ofType('turn_rejected')[0];
    expect(rejected?.turn_id).toBe(second.turnId);
    expect(rejected?.payload.active_turn_id).toBe(first.turnId);
    await s.session.whenIdle();
    expect(s.ofType('commit_succeeded')).toHaveLength(1);
    expect(streamViolations(s.events)).toEqual([]);
    // The session takes the next turn once idle.
    expect(s.session.startTurn('Third line.').accepted).toBe(true);
    await s.session.whenIdle();
    expect(s.ofType('commit_succeeded').map((e) => e.payload.commit_seq)).toEqual([1, 2]);
  });

  it('rejects empty and over-long lines with specific reasons', () => {
    t = createTestRuntime();
    const s = t.openSession();
    expect(s.session.startTurn('   ')).toMatchObject({ accepted: false, reason: 'empty_text' });
    expect(s.session.startTurn('x'.repeat(5000))).toMatchObject({ accepted: false, reason: 'text_too_long' });
    expect(s.ofType('turn_rejected').map((e) => e.payload.reason)).toEqual(['empty_text', 'text_too_long']);
  });

  it('a backend failure ends the turn with turn_failed and commits nothing', async () => {
    t = createTestRuntime({
      backends: [new ScriptedBackend({ clock: systemClock, tokenIntervalMs: 0, failAfterTokens: 3 })],
    });
    const s = t.openSession();
    s.session.startTurn('Break, please.');
    await s.session.whenIdle();
    const failed = s.ofType('turn_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.payload).toMatchObject({ code: 'backend_error', tokens_emitted: 3 });
    expect(t.runtime.ledger.count()).toBe(0);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('a ledger failure gives commit_failed, not a crash', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    t.runtime.ledger.close(); // the next commit cannot be written
    s.session.startTurn('Hello.');
    await s.session.whenIdle();
    expect(s.ofType('commit_failed')[0]?.payload.code).toBe('ledger_error');
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('cancelling an unknown or finished turn is a clear error', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    expect(() => {
      s.session.cancelTurn('nope');
    }).toThrow(RuntimeError);
    const started = s.session.startTurn('Hi.');
    await s.session.whenIdle();
    try {
      s.session.cancelTurn(started.turnId);
      expect.unreachable();
    } catch (err) {
      expect((err as RuntimeError).code).toBe('unknown_turn');
    }
  });

  it('paces tokens on the injected clock (virtual time)', async () => {
    const clock = new ManualClock(1000);
    t = createTestRuntime({ clock, backends: [new ScriptedBackend({ clock, tokenIntervalMs: 100 })] });
    const s = t.openSession();
    s.session.startTurn('Slowly now.');
    await clock.advance(250);
    expect(s.ofType('token_delta')).toHaveLength(2);
    await clock.advance(100_000);
    await s.session.whenIdle();
    const times = s.ofType('token_delta').map((e) => e.timestamp);
    expect(times.slice(0, 3)).toEqual([1100, 1200, 1300]);
  });

  it('close cancels the running turn and publishes session_closed', async () => {
    t = createTestRuntime({ scripted: { tokenIntervalMs: 5 } });
    const s = t.openSession();
    s.session.startTurn('Goodbye.');
    await s.session.close('test');
    expect(s.ofType('turn_cancelled')[0]?.payload.reason).toBe('session_closed');
    expect(s.events.at(-1)?.type).toBe('session_closed');
    expect(s.session.startTurn('Again?')).toMatchObject({ accepted: false });
    expect(streamViolations(s.events)).toEqual([]);
  });
});

describe('session subscriptions', () => {
  it('replays from a seq, and refuses a seq the buffer no longer holds with resume_gap', async () => {
    t = createTestRuntime({ eventLogCapacity: 8 });
    const s = t.openSession();
    s.session.startTurn('Fill the buffer.');
    await s.session.whenIdle();
    const last = s.session.lastSeq;
    expect(last).toBeGreaterThan(8);
    const got: number[] = [];
    s.session.subscribe(
      { deliver: (e) => (got.push(e.seq), true), ended: () => undefined },
      { fromSeq: last - 2, policy: 'fail' },
    );
    expect(got).toEqual([last - 2, last - 1, last]);
    try {
      s.session.assertCanSubscribe(1);
      expect.unreachable();
    } catch (err) {
      expect((err as RuntimeError).code).toBe('resume_gap');
      expect((err as RuntimeError).details).toEqual({ requested_seq: 1, oldest_seq: last - 7 });
    }
    expect(() => {
      s.session.assertCanSubscribe(last + 2);
    }).toThrow(/beyond the next seq/);
  });

  it('a saturated sink under drop_telemetry gets every authoritative event and an explained gap', async () => {
    t = createTestRuntime({
      queue: { capacity: 4 },
      backends: [new ScriptedBackend({ clock: systemClock, tokenIntervalMs: 0, script: () => LONG_LINE })],
    });
    const s = t.openSession();
    const got: ReturnType<typeof s.ofType>[number][] = [];
    const sub = s.session.subscribe(
      { deliver: (e) => (got.push(e), false), ended: () => undefined },
      { fromSeq: s.session.lastSeq + 1, policy: 'drop_telemetry' },
    );
    s.session.startTurn('Flood me.');
    await s.session.whenIdle();
    while (sub.queued > 0) sub.resume();
    expect(got.some((e) => e.type === 'stream_overflow')).toBe(true);
    expect(
      got.filter((e) => e.class === 'authoritative' && e.type !== 'stream_overflow').map((e) => e.type),
    ).toEqual(['turn_accepted', 'arbiter_decision', 'commit_succeeded']);
    expect(streamViolations(got)).toEqual([]);
  });

  it('a saturated sink under fail ends with subscription_overflow and a resumable last seq', async () => {
    t = createTestRuntime({ queue: { capacity: 4 } });
    const s = t.openSession();
    const ended: { lastSeq: number; code: string }[] = [];
    const got: number[] = [];
    let open = true;
    const sub = s.session.subscribe(
      {
        deliver: (e) => (got.push(e.seq), open),
        ended: (i) => ended.push({ lastSeq: i.lastSeq, code: i.error.code }),
      },
      { fromSeq: 1, policy: 'fail' },
    );
    open = false;
    s.session.startTurn('Flood me.');
    await s.session.whenIdle();
    open = true;
    sub.resume();
    expect(ended).toEqual([{ lastSeq: got.at(-1), code: 'subscription_overflow' }]);
    expect(sub.isClosed).toBe(true);
    // Resubscribing from last + 1 yields the rest with no gap.
    const rest: number[] = [];
    s.session.subscribe(
      { deliver: (e) => (rest.push(e.seq), true), ended: () => undefined },
      {
        fromSeq: (got.at(-1) ?? 0) + 1,
        policy: 'fail',
      },
    );
    expect([...got, ...rest]).toEqual(Array.from({ length: s.session.lastSeq }, (_, i) => i + 1));
  });
});

describe('transition', () => {
  it('refuses illegal transitions', () => {
    expect(() => transition({ kind: 'idle' }, { type: 'commit' })).toThrow(
      /illegal session transition 'commit' from 'idle'/,
    );
    expect(() => transition({ kind: 'closed' }, { type: 'end' })).toThrow(/illegal/);
    expect(transition({ kind: 'idle' }, { type: 'close' })).toEqual({ kind: 'closed' });
  });
});

describe('provenance of a turn', () => {
  it("records the NPC's sampling from its scenario, the run id and the scenario's content hash", async () => {
    t = createTestRuntime();
    const s = t.openSession();
    s.session.startTurn('Record me.');
    await s.session.whenIdle();
    const row = t.runtime.ledger.commitsForSession(s.session.id)[0];
    const record = JSON.parse(row?.provenance_json ?? '{}') as {
      sampling: unknown;
      run_id: string;
      scenario: unknown;
    };
    expect(record.sampling).toEqual(s.session.scenario.scenario.npcs[s.session.npc.id]?.sampling);
    expect(record.run_id).toBe('test');
    expect(record.scenario).toEqual({
      id: s.session.scenario.scenario.id,
      content_hash: s.session.scenario.contentHash,
    });
  });
});
