import { describe, expect, it } from 'vitest';
import { initialWorldState, type Scenario } from '../../../shared/scenario';
import {
  Action,
  type ActionInput,
  type ActionKind,
  type PatchOperation,
  type WorldState,
} from '../../../shared/world';
import { ManualClock, systemClock, type Clock } from '../core/clock';
import { canonicalJson } from '../core/hash';
import { BUILTIN_EXTENSIONS, flagsExtension, inventoryExtension } from './builtin-extensions';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_ID } from './builtin-scenarios';
import {
  defineHandler,
  ExtensionManager,
  extensionOf,
  ProposalInvalid,
  type Extension,
  type ExtensionContext,
  type ExtensionOutcome,
} from './extensions';
import { stateHash } from './world-state';

function defaultScenario(): Scenario {
  const loaded = BUILTIN_SCENARIOS.find((s) => s.scenario.id === DEFAULT_SCENARIO_ID);
  if (loaded === undefined) throw new Error(`no built-in scenario '${DEFAULT_SCENARIO_ID}'`);
  return loaded.scenario;
}

const scenario = defaultScenario();

interface RunOptions {
  readonly before?: WorldState;
  readonly actor?: string;
  readonly signal?: AbortSignal;
}

/** Runs `proposals` as Mira (or `actor`) against the scenario's starting world. */
function run(
  manager: ExtensionManager,
  proposals: readonly ActionInput[],
  options: RunOptions = {},
): Promise<ExtensionOutcome> {
  const actor = options.actor ?? 'mira';
  return manager.run({
    scenario,
    npcId: actor,
    actor,
    before: options.before ?? initialWorldState(scenario),
    proposals: proposals.map((p) => Action.parse(p)),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

function builtins(): ExtensionManager {
  return new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock });
}

function expectOk(outcome: ExtensionOutcome): Extract<ExtensionOutcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`extensions failed: ${outcome.code}: ${outcome.message}`);
  return outcome;
}

function expectFailed(outcome: ExtensionOutcome): Extract<ExtensionOutcome, { ok: false }> {
  if (outcome.ok) throw new Error(`extensions succeeded with patch ${canonicalJson(outcome.patch)}`);
  return outcome;
}

/** An extension of the given kinds whose every workload is `plan`. */
function custom(id: string, kinds: readonly ActionKind[], plan: Extension['plan']): Extension {
  return { id, kinds, plan };
}

const SET_FLAG: ActionInput = { kind: 'set_flag', flag: 'cellar_cleared', value: true };

describe('ExtensionManager', () => {
  it('routes every kind to the extension registered for it', () => {
    expect(builtins().registry()).toEqual({
      give_item: 'inventory',
      sell_item: 'inventory',
      give_coin: 'inventory',
      adjust_relationship: 'relationships',
      start_quest: 'quests',
      complete_quest: 'quests',
      fail_quest: 'quests',
      set_flag: 'flags',
    });
  });

  it('refuses two extensions claiming one kind', () => {
    const rival = custom('rival-shop', ['set_flag', 'sell_item'], () => []);
    expect(() => new ExtensionManager([inventoryExtension, rival], { clock: systemClock })).toThrow(
      "action kind 'sell_item' is claimed by extensions 'inventory' and 'rival-shop'",
    );
  });

  it('fails a proposal no extension handles with no_extension, before anything after it runs', async () => {
    const manager = new ExtensionManager([inventoryExtension], { clock: systemClock });
    const outcome = await run(manager, [
      { kind: 'give_item', item: 'stew', to: 'player' },
      { kind: 'start_quest', quest: 'rat_trouble' },
      { kind: 'give_item', item: 'stew', to: 'player' },
    ]);
    expect(outcome).toEqual({
      ok: false,
      code: 'no_extension',
      message: "action 1 (start_quest): no extension handles 'start_quest'",
      index: 1,
      extension: null,
    });
  });

  it('applies each step in proposal order; later proposals see earlier ones', async () => {
    const before = initialWorldState(scenario);
    const outcome = expectOk(
      await run(
        builtins(),
        [
          { kind: 'give_item', item: 'stew', to: 'player', count: 2 },
          { kind: 'give_item', item: 'stew', to: 'player', count: 2 },
        ],
        { before },
      ),
    );
    expect(outcome.steps).toEqual([
      {
        index: 0,
        extension: 'inventory',
        patch: [
          { op: 'test', path: '/inventories/mira/items/stew', value: 12 },
          { op: 'replace', path: '/inventories/mira/items/stew', value: 10 },
          { op: 'add', path: '/inventories/player/items/stew', value: 2 },
        ],
      },
      {
        index: 1,
        extension: 'inventory',
        patch: [
          // The second give's test pins the count the first one left.
          { op: 'test', path: '/inventories/mira/items/stew', value: 10 },
          { op: 'replace', path: '/inventories/mira/items/stew', value: 8 },
          { op: 'test', path: '/inventories/player/items/stew', value: 2 },
          { op: 'replace', path: '/inventories/player/items/stew', value: 4 },
        ],
      },
    ]);
    expect(outcome.patch).toEqual(outcome.steps.flatMap((s) => s.patch));
    expect(outcome.after.inventories.mira?.items.stew).toBe(8);
    expect(outcome.after.inventories.player?.items.stew).toBe(4);
    expect(before.inventories.mira?.items.stew).toBe(12);
  });

  it('gives each workload the state with the earlier proposals applied, its index and action', async () => {
    const seen: { index: number; kind: string; flag: unknown }[] = [];
    const spy = custom('spy', ['start_quest'], (ctx) => {
      seen.push({ index: ctx.index, kind: ctx.action.kind, flag: ctx.state.flags.cellar_cleared });
      return [];
    });
    expectOk(
      await run(new ExtensionManager([flagsExtension, spy], { clock: systemClock }), [
        { kind: 'start_quest', quest: 'rat_trouble' },
        SET_FLAG,
        { kind: 'start_quest', quest: 'lame_mare' },
      ]),
    );
    expect(seen).toEqual([
      { index: 0, kind: 'start_quest', flag: false },
      { index: 2, kind: 'start_quest', flag: true },
    ]);
  });

  it('records a copy of each patch: an extension changing its ops afterwards changes nothing', async () => {
    const ops: PatchOperation[] = [{ op: 'replace', path: '/flags/cellar_cleared', value: true }];
    const outcome = expectOk(
      await run(new ExtensionManager([custom('leaky', ['set_flag'], () => ops)], { clock: systemClock }), [
        SET_FLAG,
      ]),
    );
    ops[0] = { op: 'replace', path: '/flags/cellar_cleared', value: 'tampered' };
    ops.push({ op: 'remove', path: '/flags/bridge_out' });
    expect(outcome.patch).toEqual([{ op: 'replace', path: '/flags/cellar_cleared', value: true }]);
    expect(outcome.steps[0]?.patch).toEqual([{ op: 'replace', path: '/flags/cellar_cleared', value: true }]);
    expect(outcome.after.flags.cellar_cleared).toBe(true);
  });

  describe('a workload that throws', () => {
    it('fails with extension_failed naming the extension, the action index and the error; nothing after it runs', async () => {
      const calls: number[] = [];
      const boom = custom('boom', ['give_item'], (ctx) => {
        calls.push(ctx.index);
        throw new RangeError('kaboom');
      });
      const counter = custom('counter', ['adjust_relationship'], (ctx) => {
        calls.push(ctx.index);
        return [];
      });
      const manager = new ExtensionManager([flagsExtension, boom, counter], { clock: systemClock });
      const outcome = await run(manager, [
        SET_FLAG,
        { kind: 'adjust_relationship', toward: 'player', delta: 1 },
        { kind: 'give_item', item: 'stew', to: 'player' },
        { kind: 'adjust_relationship', toward: 'player', delta: 1 },
      ]);
      expect(outcome).toEqual({
        ok: false,
        code: 'extension_failed',
        message: "action 2 (give_item), extension 'boom': threw RangeError: kaboom",
        index: 2,
        extension: 'boom',
      });
      expect(calls).toEqual([1, 2]);
    });

    it('fails an async workload that rejects the same way', async () => {
      const manager = new ExtensionManager(
        [
          custom('late-boom', ['set_flag'], async () => {
            await Promise.resolve();
            throw new Error('rejected later');
          }),
        ],
        { clock: systemClock },
      );
      const outcome = expectFailed(await run(manager, [SET_FLAG]));
      expect(outcome.code).toBe('extension_failed');
      expect(outcome.message).toBe("action 0 (set_flag), extension 'late-boom': threw Error: rejected later");
    });
  });

  describe('a patch that does not apply', () => {
    const cases: { name: string; patch: PatchOperation[]; detail: string }[] = [
      {
        name: 'a replace on a missing path',
        patch: [{ op: 'replace', path: '/flags/no_such_flag', value: true }],
        detail: 'patch operation 0 (replace /flags/no_such_flag) does not apply: OPERATION_PATH_UNRESOLVABLE',
      },
      {
        name: 'a failing test operation',
        patch: [
          { op: 'test', path: '/inventories/mira/coin', value: 59 },
          { op: 'replace', path: '/inventories/mira/coin', value: 0 },
        ],
        detail: 'patch operation 0 (test /inventories/mira/coin) does not apply: TEST_OPERATION_FAILED',
      },
      {
        name: 'a failing test after operations that did apply',
        patch: [
          { op: 'replace', path: '/inventories/mira/coin', value: 0 },
          { op: 'test', path: '/inventories/mira/coin', value: 60 },
        ],
        detail: 'patch operation 1 (test /inventories/mira/coin) does not apply: TEST_OPERATION_FAILED',
      },
      {
        name: 'a patch leaving something that is not a world state',
        patch: [{ op: 'replace', path: '/inventories/mira/coin', value: 'a great deal' }],
        detail: 'the patched state is not a valid world state',
      },
    ];

    it.each(cases)('fails $name with extension_failed (bad patch)', async ({ patch, detail }) => {
      const before = initialWorldState(scenario);
      const hash = stateHash(before);
      const manager = new ExtensionManager([custom('sloppy', ['set_flag'], () => patch)], {
        clock: systemClock,
      });
      const outcome = expectFailed(await run(manager, [SET_FLAG], { before }));
      expect(outcome.code).toBe('extension_failed');
      expect(outcome.extension).toBe('sloppy');
      expect(outcome.index).toBe(0);
      expect(outcome.message).toContain("action 0 (set_flag), extension 'sloppy': planned a bad patch: ");
      expect(outcome.message).toContain(detail);
      expect(stateHash(before)).toBe(hash);
    });
  });

  describe('the state an extension sees', () => {
    it('is deep-frozen: a workload that mutates it fails, and the caller’s state is untouched', async () => {
      const before = initialWorldState(scenario);
      const snapshot = canonicalJson(before);
      const vandal = custom('vandal', ['give_coin'], (ctx) => {
        const mira = ctx.state.inventories.mira;
        if (mira === undefined) throw new Error('no mira');
        mira.coin = 1_000_000;
        return [];
      });
      const outcome = expectFailed(
        await run(new ExtensionManager([vandal], { clock: systemClock }), [
          { kind: 'give_coin', to: 'player', amount: 1 },
        ]),
      );
      expect(outcome.code).toBe('extension_failed');
      expect(outcome.extension).toBe('vandal');
      expect(outcome.message).toMatch(
        /^action 0 \(give_coin\), extension 'vandal': threw TypeError: .*read[- ]only property 'coin'/,
      );
      expect(canonicalJson(before)).toBe(snapshot);
      expect(Object.isFrozen(before)).toBe(false);
      expect(Object.isFrozen(before.inventories.mira)).toBe(false);
    });

    it('cannot gain new keys either', async () => {
      const before = initialWorldState(scenario);
      const snapshot = canonicalJson(before);
      const adder = custom('adder', ['set_flag'], (ctx) => {
        (ctx.state.flags as Record<string, unknown>).secret = true;
        return [];
      });
      const outcome = expectFailed(
        await run(new ExtensionManager([adder], { clock: systemClock }), [SET_FLAG], { before }),
      );
      expect(outcome.code).toBe('extension_failed');
      expect(outcome.message).toMatch(/threw TypeError: .*\bsecret\b/);
      expect(canonicalJson(before)).toBe(snapshot);
    });

    it('is frozen for later workloads too, and the outcome state is frozen', async () => {
      const frozen: boolean[] = [];
      const probe = custom('probe', ['start_quest'], (ctx) => {
        frozen.push(Object.isFrozen(ctx.state), Object.isFrozen(ctx.state.flags));
        return [];
      });
      const outcome = expectOk(
        await run(new ExtensionManager([flagsExtension, probe], { clock: systemClock }), [
          SET_FLAG,
          { kind: 'start_quest', quest: 'rat_trouble' },
        ]),
      );
      expect(frozen).toEqual([true, true]);
      expect(Object.isFrozen(outcome.after.inventories)).toBe(true);
    });
  });

  describe('proposal_invalid', () => {
    const cases: { name: string; action: ActionInput; message: string }[] = [
      {
        name: 'an unknown item',
        action: { kind: 'give_item', item: 'dragon_egg', to: 'player' },
        message: "'dragon_egg' is not an item of scenario 'wayside-inn'",
      },
      {
        name: 'an unknown item for sale',
        action: { kind: 'sell_item', item: 'dragon_egg', to: 'player', price: 1 },
        message: "'dragon_egg' is not an item of scenario 'wayside-inn'",
      },
      {
        name: 'an unknown recipient',
        action: { kind: 'give_item', item: 'stew', to: 'ghost' },
        message: "recipient 'ghost' is not a character of scenario 'wayside-inn'",
      },
      {
        name: 'an unknown buyer',
        action: { kind: 'sell_item', item: 'stew', to: 'ghost', price: 1 },
        message: "buyer 'ghost' is not a character of scenario 'wayside-inn'",
      },
      {
        name: 'giving an item to oneself',
        action: { kind: 'give_item', item: 'stew', to: 'mira' },
        message: "recipient 'mira' is the acting NPC itself",
      },
      {
        name: 'giving coin to oneself',
        action: { kind: 'give_coin', to: 'mira', amount: 5 },
        message: "recipient 'mira' is the acting NPC itself",
      },
      {
        name: 'selling to oneself',
        action: { kind: 'sell_item', item: 'stew', to: 'mira', price: 1 },
        message: "buyer 'mira' is the acting NPC itself",
      },
      {
        name: 'feelings toward oneself',
        action: { kind: 'adjust_relationship', toward: 'mira', delta: 5 },
        message: "relationship target 'mira' is the acting NPC itself",
      },
      {
        name: 'feelings toward an unknown character',
        action: { kind: 'adjust_relationship', toward: 'ghost', delta: 5 },
        message: "relationship target 'ghost' is not a character of scenario 'wayside-inn'",
      },
      {
        name: 'an unknown quest',
        action: { kind: 'start_quest', quest: 'dragon_hunt' },
        message: "'dragon_hunt' is not a quest of scenario 'wayside-inn'",
      },
      {
        name: 'completing an unknown quest',
        action: { kind: 'complete_quest', quest: 'dragon_hunt' },
        message: "'dragon_hunt' is not a quest of scenario 'wayside-inn'",
      },
      {
        name: 'an unknown flag',
        action: { kind: 'set_flag', flag: 'weather', value: 'fair' },
        message: "'weather' is not a flag of scenario 'wayside-inn'",
      },
    ];

    it.each(cases)('refuses $name', async ({ action, message }) => {
      const outcome = await run(builtins(), [
        { kind: 'sell_item', item: 'stew', to: 'player', price: 1 },
        action,
      ]);
      const kind = Action.parse(action).kind;
      expect(outcome).toEqual({
        ok: false,
        code: 'proposal_invalid',
        message: `action 1 (${kind}), extension '${builtins().registry()[kind] ?? '?'}': ${message}`,
        index: 1,
        extension: builtins().registry()[kind],
      });
    });

    it('maps a ProposalInvalid thrown by any extension, sync or async', async () => {
      const picky = custom('picky', ['set_flag'], async (ctx) => {
        await Promise.resolve();
        throw new ProposalInvalid(`not at index ${ctx.index}`);
      });
      const outcome = await run(new ExtensionManager([picky], { clock: systemClock }), [SET_FLAG]);
      expect(outcome).toEqual({
        ok: false,
        code: 'proposal_invalid',
        message: "action 0 (set_flag), extension 'picky': not at index 0",
        index: 0,
        extension: 'picky',
      });
    });
  });

  describe('the time budget', () => {
    it('abandons an async workload that never settles: extension_timeout, its signal aborted', async () => {
      let signal: AbortSignal | undefined;
      let later = 0;
      const stuck = custom('stuck', ['set_flag'], (ctx) => {
        signal = ctx.signal;
        return new Promise<never>(() => undefined);
      });
      const after = custom('after', ['start_quest'], () => {
        later++;
        return [];
      });
      const manager = new ExtensionManager([stuck, after], { clock: systemClock, budgetMs: 20 });
      expect(manager.budgetMs).toBe(20);
      const outcome = await run(manager, [SET_FLAG, { kind: 'start_quest', quest: 'rat_trouble' }]);
      expect(outcome).toEqual({
        ok: false,
        code: 'extension_timeout',
        message: "action 0 (set_flag), extension 'stuck': did not finish within its 20 ms budget",
        index: 0,
        extension: 'stuck',
      });
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBeInstanceOf(Error);
      expect((signal?.reason as Error).message).toBe('did not finish within its 20 ms budget');
      expect(later).toBe(0);
    });

    it('ignores the late result of an async workload past its budget (virtual time)', async () => {
      const clock = new ManualClock(1_000);
      let signal: AbortSignal | undefined;
      const slow = custom('slow', ['set_flag'], async (ctx) => {
        signal = ctx.signal;
        await clock.advance(500);
        return [{ op: 'replace', path: '/flags/cellar_cleared', value: true }];
      });
      const outcome = expectFailed(
        await run(new ExtensionManager([slow], { clock, budgetMs: 100 }), [SET_FLAG]),
      );
      expect(outcome.code).toBe('extension_timeout');
      expect(outcome.message).toBe(
        "action 0 (set_flag), extension 'slow': did not finish within its 100 ms budget",
      );
      expect(signal?.aborted).toBe(true);
    });

    it('fails a synchronous workload that overran its budget, detected after the fact', async () => {
      // Synchronous work cannot be pre-empted; the manager reads the clock once it returns. A
      // ManualClock only moves inside advance(), which is async, so this clock also lets the
      // workload move time synchronously, as real synchronous work moves wall time.
      const manual = new ManualClock(1_000);
      let skew = 0;
      const clock: Clock = { now: () => manual.now() + skew, sleep: (ms, s) => manual.sleep(ms, s) };
      let signal: AbortSignal | undefined;
      const hog = custom('hog', ['set_flag'], (ctx) => {
        signal = ctx.signal;
        skew += 500;
        return [{ op: 'replace', path: '/flags/cellar_cleared', value: true }];
      });
      const outcome = expectFailed(
        await run(new ExtensionManager([hog], { clock, budgetMs: 100 }), [SET_FLAG]),
      );
      expect(outcome).toEqual({
        ok: false,
        code: 'extension_timeout',
        message:
          "action 0 (set_flag), extension 'hog': took 500 ms, over its 100 ms budget (synchronous work is not pre-empted)",
        index: 0,
        extension: 'hog',
      });
      expect(signal?.aborted).toBe(true);
    });

    it('passes a synchronous workload that used exactly its budget', async () => {
      const manual = new ManualClock(0);
      let skew = 0;
      const clock: Clock = { now: () => manual.now() + skew, sleep: (ms, s) => manual.sleep(ms, s) };
      const busy = custom('busy', ['set_flag'], () => {
        skew += 100;
        return [{ op: 'replace', path: '/flags/cellar_cleared', value: true }];
      });
      const outcome = expectOk(await run(new ExtensionManager([busy], { clock, budgetMs: 100 }), [SET_FLAG]));
      expect(outcome.after.flags.cellar_cleared).toBe(true);
    });

    it('gives each workload its own budget', async () => {
      const manual = new ManualClock(0);
      let skew = 0;
      const clock: Clock = { now: () => manual.now() + skew, sleep: (ms, s) => manual.sleep(ms, s) };
      const steady = custom('steady', ['start_quest'], () => {
        skew += 80;
        return [];
      });
      const outcome = expectOk(
        await run(new ExtensionManager([steady], { clock, budgetMs: 100 }), [
          { kind: 'start_quest', quest: 'rat_trouble' },
          { kind: 'start_quest', quest: 'lame_mare' },
          { kind: 'start_quest', quest: 'north_road' },
        ]),
      );
      expect(outcome.steps.map((s) => s.index)).toEqual([0, 1, 2]);
      expect(skew).toBe(240);
    });
  });

  describe('cancellation', () => {
    it('an outer signal aborted mid-workload aborts that workload’s signal, with its reason', async () => {
      const outer = new AbortController();
      const reason = new Error('turn cancelled');
      let aborted: unknown;
      const waiter = custom('waiter', ['set_flag'], async (ctx) => {
        queueMicrotask(() => {
          outer.abort(reason);
        });
        await new Promise<void>((resolve) => {
          ctx.signal.addEventListener(
            'abort',
            () => {
              resolve();
            },
            { once: true },
          );
        });
        aborted = ctx.signal.reason;
        return [];
      });
      const outcome = await run(
        new ExtensionManager([waiter], { clock: systemClock, budgetMs: 5_000 }),
        [SET_FLAG],
        {
          signal: outer.signal,
        },
      );
      expect(aborted).toBe(reason);
      // The workload returned normally after the abort; the caller decides what a cancel means.
      expect(outcome.ok).toBe(true);
    });

    it('every workload of a cancelled turn sees an aborted signal, including ones started after the cancel', async () => {
      const outer = new AbortController();
      const signals: AbortSignal[] = [];
      const probe = custom('probe', ['start_quest'], (ctx) => {
        signals.push(ctx.signal);
        if (ctx.index === 0) outer.abort(new Error('turn cancelled'));
        return [];
      });
      await run(
        new ExtensionManager([probe], { clock: systemClock }),
        [
          { kind: 'start_quest', quest: 'rat_trouble' },
          { kind: 'start_quest', quest: 'lame_mare' },
        ],
        { signal: outer.signal },
      );
      expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    });

    it('a workload started with an already-aborted outer signal sees it aborted', async () => {
      const outer = new AbortController();
      outer.abort(new Error('cancelled before the commit'));
      let signal: AbortSignal | undefined;
      const probe = custom('probe', ['set_flag'], (ctx) => {
        signal = ctx.signal;
        return [];
      });
      await run(new ExtensionManager([probe], { clock: systemClock }), [SET_FLAG], { signal: outer.signal });
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(outer.signal.reason);
    });

    it('a workload that finishes in time leaves its signal alone', async () => {
      let signal: AbortSignal | undefined;
      const probe = custom('probe', ['set_flag'], (ctx) => {
        signal = ctx.signal;
        return [];
      });
      expectOk(await run(new ExtensionManager([probe], { clock: systemClock }), [SET_FLAG]));
      expect(signal?.aborted).toBe(false);
    });
  });

  describe('determinism', () => {
    const turn: ActionInput[] = [
      { kind: 'sell_item', item: 'room_key', to: 'player', price: 4 },
      { kind: 'give_item', item: 'river_map', to: 'player' },
      { kind: 'give_coin', to: 'wren', amount: 7 },
      { kind: 'adjust_relationship', toward: 'player', delta: 9 },
      { kind: 'adjust_relationship', toward: 'bram', delta: -3 },
      { kind: 'start_quest', quest: 'rat_trouble' },
      { kind: 'set_flag', flag: 'stew_of_the_day', value: 'leek and potato' },
      { kind: 'complete_quest', quest: 'rat_trouble' },
    ];

    it('gives byte-identical patches and states for the same proposals, on one manager or two', async () => {
      const manager = builtins();
      const first = expectOk(await run(manager, turn));
      const second = expectOk(await run(manager, turn));
      const third = expectOk(await run(builtins(), turn));
      expect(first.patch.length).toBeGreaterThan(turn.length);
      expect(canonicalJson(second.patch)).toBe(canonicalJson(first.patch));
      expect(canonicalJson(third.patch)).toBe(canonicalJson(first.patch));
      expect(canonicalJson(second.steps)).toBe(canonicalJson(first.steps));
      expect(stateHash(second.after)).toBe(stateHash(first.after));
      expect(stateHash(third.after)).toBe(stateHash(first.after));
      expect(first.after.quests.rat_trouble).toEqual({ status: 'completed' });
      expect(first.after.inventories.wren?.coin).toBe(10);
    });

    it('gives different patches for a different starting state', async () => {
      const before = initialWorldState(scenario);
      const mira = before.inventories.mira;
      if (mira === undefined) throw new Error('no mira');
      mira.coin = 61;
      const base = expectOk(await run(builtins(), turn));
      const other = expectOk(await run(builtins(), turn, { before }));
      expect(canonicalJson(other.patch)).not.toBe(canonicalJson(base.patch));
      expect(other.patch).toContainEqual({ op: 'test', path: '/inventories/mira/coin', value: 61 });
    });
  });

  describe('defineHandler and extensionOf', () => {
    it('extensionOf routes by kind, and refuses a kind it has no handler for', async () => {
      const ext = extensionOf('mixed', [
        defineHandler('start_quest', () => [{ op: 'replace', path: '/flags/days_of_rain', value: 1 }]),
        defineHandler('set_flag', (ctx) => [
          { op: 'replace', path: '/flags/days_of_rain', value: ctx.index + 10 },
        ]),
      ]);
      expect(ext.kinds).toEqual(['start_quest', 'set_flag']);
      const ctx = (action: ActionInput): ExtensionContext => ({
        scenario,
        npcId: 'mira',
        actor: 'mira',
        state: initialWorldState(scenario),
        action: Action.parse(action),
        index: 3,
        signal: new AbortController().signal,
      });
      expect(await ext.plan(ctx(SET_FLAG))).toEqual([
        { op: 'replace', path: '/flags/days_of_rain', value: 13 },
      ]);
      expect(() => ext.plan(ctx({ kind: 'give_coin', to: 'player', amount: 1 }))).toThrow(
        "extension 'mixed' does not handle 'give_coin'",
      );
    });

    it('a handler refuses an action of another kind', () => {
      const handler = defineHandler('set_flag', () => []);
      expect(() =>
        handler.plan({
          scenario,
          npcId: 'mira',
          actor: 'mira',
          state: initialWorldState(scenario),
          action: Action.parse({ kind: 'start_quest', quest: 'rat_trouble' }),
          index: 0,
          signal: new AbortController().signal,
        }),
      ).toThrow("handler for 'set_flag' got a 'start_quest' action");
    });
  });
});
