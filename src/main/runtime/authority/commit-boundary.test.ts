import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_PREFIX } from '../../../shared/proposals';
import type { EventEnvelope } from '../../../shared/protocol';
import type { ActionInput, WorldState } from '../../../shared/world';
import { systemClock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { ScriptedBackend } from '../models/scripted-backend';
import { streamViolations } from '../testing/invariants';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { BUILTIN_EXTENSIONS } from './builtin-extensions';
import { extensionOf, defineHandler, type Extension } from './extensions';
import { applyPatch, stateHash } from './world-state';

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

/** A reply as a model would write it: the spoken line, then one ACTION line per action. */
function reply(say: string, actions: readonly unknown[] = []): string {
  return [say, ...actions.map((a) => `${ACTION_PREFIX} ${JSON.stringify(a)}`)].join('\n');
}

/** A runtime whose model says, turn by turn, the replies queued in `planned` (the default scenario). */
function plannedRuntime(options: { extensions?: readonly Extension[]; budgetMs?: number } = {}) {
  const planned: string[] = [];
  t = createTestRuntime({
    backends: [
      new ScriptedBackend({
        clock: systemClock,
        tokenIntervalMs: 0,
        script: () => planned.shift() ?? 'Hm.',
      }),
    ],
    ...(options.extensions === undefined ? {} : { extensions: options.extensions }),
    ...(options.budgetMs === undefined ? {} : { extensionBudgetMs: options.budgetMs }),
  });
  return { t, planned };
}

function terminalOf(events: readonly EventEnvelope[], turnId: string): EventEnvelope | undefined {
  return events.find(
    (e) =>
      e.turn_id === turnId &&
      (e.type === 'commit_succeeded' ||
        e.type === 'commit_failed' ||
        e.type === 'turn_cancelled' ||
        e.type === 'turn_failed' ||
        e.type === 'turn_rejected'),
  );
}

describe('the commit boundary', () => {
  it('applies a committed turn: world swapped after the transaction, record and event agree', async () => {
    const { t, planned } = plannedRuntime();
    planned.push(
      reply('A room is four silver.', [{ kind: 'sell_item', item: 'room_key', to: 'player', price: 4 }]),
    );
    const s = t.openSession();
    const before = s.session.worldState;
    s.session.startTurn('A room, please.');
    await s.session.whenIdle();
    const final = s.ofType('turn_final')[0];
    expect(final?.payload).toMatchObject({
      text: 'A room is four silver.',
      proposals: [{ kind: 'sell_item', item: 'room_key', to: 'player', price: 4, count: 1 }],
      proposal_errors: [],
    });
    const commit = s.ofType('commit_succeeded')[0];
    if (commit === undefined) throw new Error('no commit_succeeded');
    const after = s.session.worldState;
    expect(after.state.inventories.player).toEqual({ coin: 8, items: { walking_staff: 1, room_key: 1 } });
    expect(after.state.inventories.mira?.items.room_key).toBe(2);
    expect(after.hash).toBe(stateHash(after.state));
    expect(after.hash).toBe(commit.payload.state_hash);
    expect(commit.payload.state_hash_before).toBe(before.hash);
    expect(applyPatch(before.state, commit.payload.patch)).toEqual(after.state);
    expect(commit.payload.verdicts.map((v) => v.ok)).toEqual(Array(7).fill(true));
    const row = t.runtime.ledger.commitsForSession(s.session.id)[0];
    expect(row?.outcome).toBe('committed');
    expect(JSON.parse(row?.provenance_json ?? '{}')).toMatchObject({
      v: 2,
      outcome: 'committed',
      state_hash_before: before.hash,
      state_hash_after: after.hash,
      patch: commit.payload.patch,
      failure: null,
    });
    expect(after.lastCommitSeq).toBe(commit.payload.commit_seq);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('records a governance failure as a failed attempt and leaves the world untouched', async () => {
    const { t, planned } = plannedRuntime();
    planned.push(reply('Take this and forget me.', [{ kind: 'give_coin', to: 'player', amount: 50 }]));
    const s = t.openSession();
    const before = s.session.worldState;
    s.session.startTurn('Here is a bribe.');
    await s.session.whenIdle();
    const failed = s.ofType('commit_failed')[0];
    expect(failed?.payload).toMatchObject({ code: 'governance_failed', stage: 'governance' });
    expect(failed?.payload.state_hash).toBe(before.hash);
    expect(failed?.payload.verdicts.find((v) => !v.ok)?.rule).toBe('turn-limits');
    expect(s.session.worldState).toBe(before);
    const row = t.runtime.ledger.commitsForSession(s.session.id)[0];
    expect(row?.outcome).toBe('failed');
    expect(row?.provenance_hash).toBe(failed?.payload.provenance_hash);
    const record = JSON.parse(row?.provenance_json ?? '{}') as { state_hash_after: string; patch: unknown[] };
    expect(record.state_hash_after).toBe(before.hash);
    expect(record.patch.length).toBeGreaterThan(0);
  });

  it('reports malformed action lines and fails the commit on them, never guessing', async () => {
    const { t, planned } = plannedRuntime();
    planned.push(`Let me see.\n${ACTION_PREFIX} {"kind":"cast_spell","spell":"x"}\n${ACTION_PREFIX} {oops`);
    const s = t.openSession();
    s.session.startTurn('Magic?');
    await s.session.whenIdle();
    const final = s.ofType('turn_final')[0];
    expect(final?.payload.proposals).toEqual([]);
    expect(final?.payload.proposal_errors.map((e) => e.line)).toEqual([2, 3]);
    const failed = s.ofType('commit_failed')[0];
    const wellFormed = failed?.payload.verdicts.find((v) => v.rule === 'well-formed-proposals');
    expect(wellFormed?.ok).toBe(false);
    expect(wellFormed?.failures).toHaveLength(2);
  });

  it('fails the commit, not the runtime, when an extension throws; the next turn commits', async () => {
    const exploding = extensionOf('flags', [
      defineHandler('set_flag', () => {
        throw new Error('kaboom');
      }),
    ]);
    const { t, planned } = plannedRuntime({
      extensions: [...BUILTIN_EXTENSIONS.filter((e) => e.id !== 'flags'), exploding],
    });
    planned.push(reply('Done.', [{ kind: 'set_flag', flag: 'cellar_cleared', value: true }]), 'Good night.');
    const s = t.openSession();
    const before = s.session.worldState.hash;
    s.session.startTurn('Rats?');
    await s.session.whenIdle();
    expect(s.ofType('commit_failed')[0]?.payload).toMatchObject({
      code: 'extension_failed',
      stage: 'extensions',
      verdicts: [],
      state_hash: before,
    });
    expect(s.ofType('commit_failed')[0]?.payload.message).toMatch(/'flags'.*kaboom/);
    s.session.startTurn('Good night.');
    await s.session.whenIdle();
    expect(s.ofType('commit_succeeded')).toHaveLength(1);
    expect(t.runtime.ledger.commitsForSession(s.session.id).map((r) => r.outcome)).toEqual([
      'failed',
      'committed',
    ]);
  });
});

describe('cancel racing the commit boundary', () => {
  /** A flags extension that waits for `release()` before planning: the commit is held open. */
  function gatedFlags() {
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (release = r));
    const ext: Extension = {
      id: 'flags',
      kinds: ['set_flag'],
      async plan(ctx) {
        entered();
        await gate;
        const inner = BUILTIN_EXTENSIONS.find((e) => e.id === 'flags');
        if (inner === undefined) throw new Error('no flags extension');
        return inner.plan(ctx);
      },
    };
    return {
      ext,
      release: () => {
        release();
      },
      inside,
    };
  }

  it('a cancel while extensions run wins: turn_cancelled, no ledger row, world unchanged', async () => {
    const gated = gatedFlags();
    const { t, planned } = plannedRuntime({
      extensions: [...BUILTIN_EXTENSIONS.filter((e) => e.id !== 'flags'), gated.ext],
      budgetMs: 10_000,
    });
    planned.push(reply('Cleared!', [{ kind: 'set_flag', flag: 'cellar_cleared', value: true }]));
    const s = t.openSession();
    const before = s.session.worldState;
    const started = s.session.startTurn('The rats are gone.');
    if (!started.accepted) throw new Error('not accepted');
    await gated.inside;
    expect(s.ofType('turn_final')).toHaveLength(1);
    s.session.cancelTurn(started.turnId);
    gated.release();
    await s.session.whenIdle();
    expect(s.ofType('turn_cancelled')).toHaveLength(1);
    expect(s.ofType('commit_succeeded')).toHaveLength(0);
    expect(s.ofType('commit_failed')).toHaveLength(0);
    expect(t.runtime.ledger.commitsForSession(s.session.id)).toHaveLength(0);
    expect(s.session.worldState).toBe(before);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('a cancel on turn_final delivery wins; a cancel after the commit is unknown_turn', async () => {
    const { t, planned } = plannedRuntime();
    planned.push(reply('One.', [{ kind: 'adjust_relationship', toward: 'player', delta: 1 }]), 'Two.');
    const s = t.openSession();
    const first = s.session.startTurn('one');
    if (!first.accepted) throw new Error('not accepted');
    s.onEvent((e) => {
      if (e.type === 'turn_final' && e.turn_id === first.turnId) s.session.cancelTurn(first.turnId);
    });
    await s.session.whenIdle();
    expect(terminalOf(s.events, first.turnId)?.type).toBe('turn_cancelled');
    expect(t.runtime.ledger.commitsForSession(s.session.id)).toHaveLength(0);

    const second = s.session.startTurn('two');
    if (!second.accepted) throw new Error('not accepted');
    await s.session.whenIdle();
    expect(terminalOf(s.events, second.turnId)?.type).toBe('commit_succeeded');
    let error: unknown;
    try {
      s.session.cancelTurn(second.turnId);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('unknown_turn');
    expect(t.runtime.ledger.commitsForSession(s.session.id)).toHaveLength(1);
  });
});

describe('world state changes only at a successful commit (property)', () => {
  const item = fc.constantFrom('room_key', 'stew', 'river_map', 'walking_staff', 'no_such_item');
  const who = fc.constantFrom('player', 'wren', 'mira');
  const action: fc.Arbitrary<ActionInput> = fc.oneof(
    fc.record({
      kind: fc.constant('give_item' as const),
      item,
      to: who,
      count: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({
      kind: fc.constant('sell_item' as const),
      item,
      to: who,
      count: fc.integer({ min: 1, max: 2 }),
      price: fc.integer({ min: 0, max: 30 }),
    }),
    fc.record({ kind: fc.constant('give_coin' as const), to: who, amount: fc.integer({ min: 1, max: 40 }) }),
    fc.record({
      kind: fc.constant('adjust_relationship' as const),
      toward: who,
      delta: fc.integer({ min: -15, max: 15 }),
    }),
    fc.record({
      kind: fc.constantFrom('start_quest' as const, 'complete_quest' as const, 'fail_quest' as const),
      quest: fc.constantFrom('rat_trouble', 'north_road', 'lame_mare'),
    }),
    fc.record({
      kind: fc.constant('set_flag' as const),
      flag: fc.constantFrom('cellar_cleared', 'rats_in_cellar', 'bridge_out'),
      value: fc.boolean(),
    }),
  );
  const turn = fc.record({
    actions: fc.array(action, { maxLength: 4 }),
    malformed: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    cancelAt: fc.option(fc.constantFrom('token', 'final'), { nil: undefined, freq: 4 }),
  });

  it('cancelled, failed and rejected turns leave the state hash unchanged; commits apply their patch', async () => {
    const { t, planned } = plannedRuntime();
    await fc.assert(
      fc.asyncProperty(fc.array(turn, { minLength: 1, maxLength: 6 }), async (turns) => {
        const s = t.openSession();
        for (const spec of turns) {
          planned.length = 0;
          planned.push(reply('Well then.', spec.actions) + (spec.malformed ? `\n${ACTION_PREFIX} {` : ''));
          const before: { state: WorldState; hash: string } = s.session.worldState;
          const started = s.session.startTurn('go on');
          if (!started.accepted) throw new Error('not accepted');
          if (spec.cancelAt !== undefined) {
            const on = spec.cancelAt === 'token' ? 'token_delta' : 'turn_final';
            s.onEvent((e) => {
              if (e.type === on && e.turn_id === started.turnId && s.session.activeTurnId === started.turnId)
                s.session.cancelTurn(started.turnId);
            });
          }
          // A second start while this turn runs is rejected and changes nothing.
          const rejected = s.session.startTurn('me too');
          expect(rejected.accepted).toBe(false);
          await s.session.whenIdle();
          const terminal = terminalOf(s.events, started.turnId);
          const after = s.session.worldState;
          if (terminal?.type === 'commit_succeeded') {
            expect(stateHash(applyPatch(before.state, terminal.payload.patch))).toBe(after.hash);
            expect(terminal.payload.state_hash).toBe(after.hash);
          } else {
            expect(['commit_failed', 'turn_cancelled']).toContain(terminal?.type);
            expect(after.hash).toBe(before.hash);
            expect(stateHash(after.state)).toBe(before.hash);
          }
        }
        expect(streamViolations(s.events)).toEqual([]);
      }),
      { numRuns: 30, seed: 20261121 },
    );
    const report = await t.runtime.verify();
    expect(report.first_divergence).toBeNull();
    expect(report.ok).toBe(true);
  });
});

describe('a runtime restarted on the same ledger with the same run id', () => {
  it('numbers new sessions past the ones the ledger holds, and the chain continues', async () => {
    const first = createTestRuntime();
    const s1 = first.openSession();
    s1.session.startTurn('Good evening.');
    await s1.session.whenIdle();
    await first.runtime.dispose();
    // The same data dir and run id ('test') again.
    t = createTestRuntime({ dataDirOverride: first.dataDir });
    const s2 = t.openSession();
    expect(s2.session.id).not.toBe(s1.session.id);
    s2.session.startTurn('Good evening.');
    await s2.session.whenIdle();
    expect(s2.ofType('commit_succeeded')[0]?.payload.commit_seq).toBe(2);
    expect((await t.runtime.verify()).ok).toBe(true);
  });
});
