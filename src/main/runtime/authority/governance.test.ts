import { describe, expect, it } from 'vitest';
import { ACTION_PREFIX, parseModelOutput } from '../../../shared/proposals';
import { initialWorldState, type Npc, type Scenario } from '../../../shared/scenario';
import {
  Action,
  RULE_IDS,
  type AcceptedEnvelope,
  type ActionInput,
  type ProposalError,
  type RuleId,
  type Verdict,
  type WorldState,
} from '../../../shared/world';
import { systemClock } from '../core/clock';
import { canonicalJson, sha256Hex } from '../core/hash';
import { BUILTIN_EXTENSIONS } from './builtin-extensions';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_ID } from './builtin-scenarios';
import { prepareCommit, type PreparedCommit } from './commit';
import { ExtensionManager } from './extensions';
import { evaluateGovernance, RULES } from './governance';
import { applyPatch, stateHash } from './world-state';

function defaultScenario(): Scenario {
  const loaded = BUILTIN_SCENARIOS.find((s) => s.scenario.id === DEFAULT_SCENARIO_ID);
  if (loaded === undefined) throw new Error(`no built-in scenario '${DEFAULT_SCENARIO_ID}'`);
  return loaded.scenario;
}

const scenario = defaultScenario();

function npcOf(id: string): Npc {
  const npc = scenario.npcs[id];
  if (npc === undefined) throw new Error(`no NPC '${id}'`);
  return npc;
}

function inventory(state: WorldState, who: string): WorldState['inventories'][string] {
  const inv = state.inventories[who];
  if (inv === undefined) throw new Error(`no inventory for '${who}'`);
  return inv;
}

/** The scenario's starting world, changed by `edit`. */
function worldWith(edit: (state: WorldState) => void): WorldState {
  const state = initialWorldState(scenario);
  edit(state);
  return state;
}

/** A reply as a model would write it: the spoken line, then one ACTION line per action. */
function reply(say: string, lines: readonly string[]): string {
  return [say, ...lines.map((l) => `${ACTION_PREFIX} ${l}`)].join('\n');
}

interface AttemptOptions {
  readonly npcId?: string;
  readonly before?: WorldState;
  readonly errors?: readonly ProposalError[];
  readonly envelopes?: readonly AcceptedEnvelope[];
}

/** One commit attempt by an NPC of the default scenario: built-in extensions, then governance. */
async function attempt(
  proposals: readonly ActionInput[],
  options: AttemptOptions = {},
): Promise<PreparedCommit> {
  const npcId = options.npcId ?? 'mira';
  return prepareCommit(new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock }), {
    scenario,
    npcId,
    npc: npcOf(npcId),
    before: options.before ?? initialWorldState(scenario),
    output: { proposals: proposals.map((p) => Action.parse(p)), errors: [...(options.errors ?? [])] },
    envelopes: options.envelopes ?? [],
  });
}

function verdictOf(prepared: PreparedCommit, rule: RuleId): Verdict {
  const verdict = prepared.verdicts.find((v) => v.rule === rule);
  if (verdict === undefined) throw new Error(`no verdict for rule '${rule}'`);
  return verdict;
}

/** Every rule gave one verdict, in RULES order, and exactly the rules in `failing` failed. */
function expectVerdicts(prepared: PreparedCommit, failing: readonly RuleId[]): void {
  expect(prepared.verdicts.map((v) => v.rule)).toEqual([...RULE_IDS]);
  expect(prepared.verdicts.filter((v) => !v.ok).map((v) => v.rule)).toEqual(failing);
  for (const v of prepared.verdicts) {
    if (v.ok) expect(v.failures, v.rule).toEqual([]);
    else expect(v.message, v.rule).toBe(v.failures[0]?.message);
  }
}

/** The attempt was refused by governance, for exactly the rules in `failing`. */
function expectRefused(prepared: PreparedCommit, failing: readonly RuleId[]): void {
  expect(prepared.verdicts).toHaveLength(7);
  expectVerdicts(prepared, failing);
  expect(prepared.after).toBeNull();
  expect(prepared.afterHash).toBeNull();
  expect(prepared.failure).toMatchObject({ stage: 'governance', code: 'governance_failed' });
  for (const rule of failing) {
    expect(prepared.failure?.message).toContain(`${rule} (${verdictOf(prepared, rule).message})`);
  }
  for (const v of prepared.verdicts.filter((x) => x.ok)) {
    expect(prepared.failure?.message).not.toContain(`${v.rule} (`);
  }
  // The refused patch is recorded: extensions ran and planned it.
  expect(prepared.patch.length).toBeGreaterThan(0);
}

/** The attempt passed every rule; returns the state after it. */
function expectCommitted(prepared: PreparedCommit, before: WorldState): WorldState {
  expectVerdicts(prepared, []);
  expect(prepared.failure).toBeNull();
  const after = prepared.after;
  if (after === null) throw new Error(`commit failed: ${prepared.failure?.message ?? '?'}`);
  expect(prepared.afterHash).toBe(stateHash(after));
  expect(applyPatch(before, prepared.patch)).toEqual(after);
  return after;
}

/** An accepted envelope as the arbiter would hand it over. */
const envelope = (stream: string, block: string | null): AcceptedEnvelope => ({
  stream_id: stream,
  agent: 'safety',
  intent: 'safety_check',
  decision: block === null ? 'allow' : 'block',
  confidence: 1,
  envelope_hash: sha256Hex(stream),
  block,
});

describe('prepareCommit with governance (default scenario, built-in extensions)', () => {
  it('passes an empty turn: every rule ok, no patch, the state unchanged', async () => {
    const before = initialWorldState(scenario);
    const prepared = await attempt([], { before });
    const after = expectCommitted(prepared, before);
    expect(prepared.patch).toEqual([]);
    expect(after).toEqual(before);
    expect(prepared.afterHash).toBe(stateHash(before));
    expect(prepared.verdicts.map((v) => v.message)).toEqual([
      '0 action line(s), all well-formed',
      'all actions allowed for mira',
      'the NPC holds everything it gives',
      'every balance and count is non-negative',
      'quest changes meet their preconditions',
      "within mira's per-turn limits",
      '0 agent envelope(s), none blocking',
    ]);
  });

  it('commits a sale: the player holds the room key and 8 coin, Mira 2 keys and 64 coin', async () => {
    const before = initialWorldState(scenario);
    const snapshot = canonicalJson(before);
    const prepared = await attempt([{ kind: 'sell_item', item: 'room_key', to: 'player', price: 4 }], {
      before,
    });
    const after = expectCommitted(prepared, before);
    expect(inventory(after, 'player')).toEqual({ coin: 8, items: { walking_staff: 1, room_key: 1 } });
    expect(inventory(after, 'mira').coin).toBe(64);
    expect(inventory(after, 'mira').items.room_key).toBe(2);
    expect(prepared.patch).toEqual([
      { op: 'test', path: '/inventories/mira/items/room_key', value: 3 },
      { op: 'replace', path: '/inventories/mira/items/room_key', value: 2 },
      { op: 'add', path: '/inventories/player/items/room_key', value: 1 },
      { op: 'test', path: '/inventories/player/coin', value: 12 },
      { op: 'replace', path: '/inventories/player/coin', value: 8 },
      { op: 'test', path: '/inventories/mira/coin', value: 60 },
      { op: 'replace', path: '/inventories/mira/coin', value: 64 },
    ]);
    // The caller's state is not touched.
    expect(canonicalJson(before)).toBe(snapshot);
    expect(prepared.afterHash).not.toBe(stateHash(before));
  });

  it('an extension failure comes first: no verdicts, no patch, stage extensions', async () => {
    const prepared = await attempt([
      { kind: 'sell_item', item: 'room_key', to: 'player', price: 4 },
      { kind: 'give_item', item: 'dragon_egg', to: 'player' },
    ]);
    expect(prepared).toEqual({
      patch: [],
      after: null,
      afterHash: null,
      verdicts: [],
      failure: {
        stage: 'extensions',
        code: 'proposal_invalid',
        message:
          "action 1 (give_item), extension 'inventory': 'dragon_egg' is not an item of scenario 'wayside-inn'",
      },
    });
  });

  describe('well-formed-proposals', () => {
    it('passes a reply whose action lines all parse', async () => {
      const output = parseModelOutput(
        reply('A room is four silver.', [
          '{"kind":"sell_item","item":"room_key","to":"player","price":4}',
          '{"kind":"adjust_relationship","toward":"player","delta":2}',
        ]),
      );
      expect(output.errors).toEqual([]);
      const prepared = await attempt(output.proposals, { errors: output.errors });
      expectCommitted(prepared, initialWorldState(scenario));
      expect(verdictOf(prepared, 'well-formed-proposals').message).toBe('2 action line(s), all well-formed');
    });

    it('fails on each malformed action line, naming its line, while the good ones still run', async () => {
      const output = parseModelOutput(
        reply('A room is four silver.', [
          '{"kind":"sell_item","item":"room_key","to":"player","price":4}',
          '{"kind":"sell_item","item":"room_key"',
          '{"kind":"cast_spell","spell":"sweet_milk"}',
        ]),
      );
      expect(output.proposals).toHaveLength(1);
      expect(output.errors.map((e) => e.line)).toEqual([3, 4]);
      const prepared = await attempt(output.proposals, { errors: output.errors });
      expectRefused(prepared, ['well-formed-proposals']);
      const verdict = verdictOf(prepared, 'well-formed-proposals');
      expect(verdict.failures).toHaveLength(2);
      expect(verdict.failures.map((f) => f.action_index)).toEqual([null, null]);
      expect(verdict.failures[0]?.message).toMatch(/^line 3: not JSON: /);
      expect(verdict.failures[1]?.message).toMatch(/^line 4: /);
      expect(verdict.failures[1]?.message).toContain(output.errors[1]?.message);
      // The well-formed sale was planned all the same; it is the refused patch.
      expect(prepared.patch).toContainEqual({
        op: 'replace',
        path: '/inventories/player/coin',
        value: 8,
      });
    });

    it('fails a reply whose only action line is malformed even though nothing else is wrong', async () => {
      const output = parseModelOutput('Hm.\nACTION give me a room');
      expect(output.proposals).toEqual([]);
      const prepared = await attempt(output.proposals, { errors: output.errors });
      // No proposal ran, so there is no patch; governance still refuses.
      expectVerdicts(prepared, ['well-formed-proposals']);
      expect(prepared.after).toBeNull();
      expect(prepared.afterHash).toBeNull();
      expect(prepared.patch).toEqual([]);
      expect(prepared.failure).toMatchObject({ stage: 'governance', code: 'governance_failed' });
      expect(verdictOf(prepared, 'well-formed-proposals').message).toMatch(/^line 2: not JSON: /);
    });
  });

  describe('allowed-actions', () => {
    it('passes Wren setting her writable flag and giving oats', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt(
        [
          { kind: 'set_flag', flag: 'mare_shod', value: true },
          { kind: 'give_item', item: 'oats', to: 'player' },
        ],
        { npcId: 'wren', before },
      );
      const after = expectCommitted(prepared, before);
      expect(after.flags.mare_shod).toBe(true);
      expect(inventory(after, 'player').items.oats).toBe(1);
      expect(verdictOf(prepared, 'allowed-actions').message).toBe('all actions allowed for wren');
    });

    it('fails Wren paying coin (not hers to propose), on that action, and turn-limits for her 0-coin limit', async () => {
      const prepared = await attempt(
        [
          { kind: 'adjust_relationship', toward: 'player', delta: 1 },
          { kind: 'give_coin', to: 'player', amount: 1 },
        ],
        { npcId: 'wren' },
      );
      // Wren holds 3 coin, so ownership is fine; the action kind and the coin limit are not.
      expectRefused(prepared, ['allowed-actions', 'turn-limits']);
      expect(verdictOf(prepared, 'allowed-actions').failures).toEqual([
        {
          action_index: 1,
          message:
            'wren may not propose give_coin; allowed: give_item, adjust_relationship, start_quest, complete_quest, set_flag',
        },
      ]);
      expect(verdictOf(prepared, 'turn-limits').failures).toEqual([
        { action_index: null, message: '1 coin given away; the limit is 0 per turn' },
      ]);
    });

    it('fails Wren selling her horseshoe: sell_item is not among her actions', async () => {
      const prepared = await attempt(
        [{ kind: 'sell_item', item: 'lucky_horseshoe', to: 'player', price: 2 }],
        {
          npcId: 'wren',
        },
      );
      expectRefused(prepared, ['allowed-actions']);
      expect(verdictOf(prepared, 'allowed-actions').failures).toEqual([
        {
          action_index: 0,
          message: expect.stringMatching(/^wren may not propose sell_item; allowed: /) as string,
        },
      ]);
    });

    it('fails Mira setting a flag outside her writable flags, but not the writable one', async () => {
      const prepared = await attempt([
        { kind: 'set_flag', flag: 'cellar_cleared', value: true },
        { kind: 'set_flag', flag: 'bridge_out', value: false },
      ]);
      expectRefused(prepared, ['allowed-actions']);
      expect(verdictOf(prepared, 'allowed-actions').failures).toEqual([
        { action_index: 1, message: 'mira may not set flag bridge_out' },
      ]);
    });

    it('fails Mira failing a quest: fail_quest is not among her actions (its transition is fine)', async () => {
      const before = worldWith((s) => {
        s.quests.rat_trouble = { status: 'active' };
      });
      const prepared = await attempt([{ kind: 'fail_quest', quest: 'rat_trouble' }], { before });
      expectRefused(prepared, ['allowed-actions']);
      expect(verdictOf(prepared, 'allowed-actions').failures[0]?.action_index).toBe(0);
      expect(prepared.patch).toContainEqual({
        op: 'replace',
        path: '/quests/rat_trouble/status',
        value: 'failed',
      });
    });
  });

  describe('ownership', () => {
    it('passes giving away the last river map, and the key leaves the inventory map', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt([{ kind: 'give_item', item: 'river_map', to: 'player' }], { before });
      const after = expectCommitted(prepared, before);
      expect(prepared.patch).toEqual([
        { op: 'test', path: '/inventories/mira/items/river_map', value: 1 },
        { op: 'remove', path: '/inventories/mira/items/river_map' },
        { op: 'add', path: '/inventories/player/items/river_map', value: 1 },
      ]);
      expect(Object.hasOwn(inventory(after, 'mira').items, 'river_map')).toBe(false);
      expect(Object.keys(inventory(after, 'mira').items).sort()).toEqual([
        'ale',
        'candle',
        'nightshade',
        'room_key',
        'stew',
      ]);
      expect(inventory(after, 'player').items.river_map).toBe(1);
    });

    it('fails Mira giving 4 room keys when she holds 3, on that action', async () => {
      const prepared = await attempt([
        { kind: 'adjust_relationship', toward: 'player', delta: 1 },
        { kind: 'give_item', item: 'room_key', to: 'player', count: 4 },
      ]);
      expectRefused(prepared, ['ownership', 'non-negative-balances']);
      expect(verdictOf(prepared, 'ownership').failures).toEqual([
        { action_index: 1, message: 'mira gives 4 × room_key but holds 3 at that point' },
      ]);
      expect(verdictOf(prepared, 'non-negative-balances').failures).toEqual([
        { action_index: null, message: 'mira would hold -1 × room_key' },
      ]);
      expect(prepared.patch).toContainEqual({
        op: 'replace',
        path: '/inventories/mira/items/room_key',
        value: -1,
      });
    });

    it('fails the second give of an item whose stock the first one used up, within one turn', async () => {
      const prepared = await attempt([
        { kind: 'give_item', item: 'room_key', to: 'player', count: 2 },
        { kind: 'give_item', item: 'room_key', to: 'wren', count: 2 },
      ]);
      expectRefused(prepared, ['ownership', 'non-negative-balances']);
      expect(verdictOf(prepared, 'ownership').failures).toEqual([
        { action_index: 1, message: 'mira gives 2 × room_key but holds 1 at that point' },
      ]);
    });

    it('passes two gives that exactly use up the stock', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt(
        [
          { kind: 'give_item', item: 'room_key', to: 'player', count: 2 },
          { kind: 'give_item', item: 'room_key', to: 'wren', count: 1 },
        ],
        { before },
      );
      const after = expectCommitted(prepared, before);
      expect(Object.hasOwn(inventory(after, 'mira').items, 'room_key')).toBe(false);
      expect(inventory(after, 'player').items.room_key).toBe(2);
      expect(inventory(after, 'wren').items.room_key).toBe(1);
    });

    it('fails Mira selling an item she does not hold at all', async () => {
      const prepared = await attempt([{ kind: 'sell_item', item: 'oats', to: 'player', price: 1 }]);
      expectRefused(prepared, ['ownership', 'non-negative-balances']);
      expect(verdictOf(prepared, 'ownership').failures).toEqual([
        { action_index: 0, message: 'mira gives 1 × oats but holds 0 at that point' },
      ]);
      expect(prepared.patch).toContainEqual({ op: 'add', path: '/inventories/mira/items/oats', value: -1 });
    });

    it('fails Mira paying more coin than she holds, and tracks coin through the turn', async () => {
      const before = worldWith((s) => {
        inventory(s, 'mira').coin = 12;
      });
      const prepared = await attempt(
        [
          { kind: 'give_coin', to: 'player', amount: 8 },
          { kind: 'give_coin', to: 'wren', amount: 5 },
        ],
        { before },
      );
      expectRefused(prepared, ['ownership', 'non-negative-balances']);
      expect(verdictOf(prepared, 'ownership').failures).toEqual([
        { action_index: 1, message: 'mira gives 5 coin but holds 4 at that point' },
      ]);
      expect(verdictOf(prepared, 'non-negative-balances').failures).toEqual([
        { action_index: null, message: 'mira would hold -1 coin' },
      ]);
    });
  });

  describe('non-negative-balances', () => {
    it('fails a sale the buyer cannot pay for, while ownership passes', async () => {
      const prepared = await attempt([{ kind: 'sell_item', item: 'river_map', to: 'player', price: 20 }]);
      expectRefused(prepared, ['non-negative-balances']);
      expect(verdictOf(prepared, 'ownership').ok).toBe(true);
      expect(verdictOf(prepared, 'non-negative-balances').failures).toEqual([
        { action_index: null, message: 'player would hold -8 coin' },
      ]);
      expect(prepared.patch).toContainEqual({ op: 'replace', path: '/inventories/player/coin', value: -8 });
    });

    it('passes a sale that spends the buyer down to exactly 0', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt([{ kind: 'sell_item', item: 'river_map', to: 'player', price: 12 }], {
        before,
      });
      const after = expectCommitted(prepared, before);
      expect(inventory(after, 'player').coin).toBe(0);
      expect(inventory(after, 'mira').coin).toBe(72);
    });
  });

  describe('quest-preconditions', () => {
    it('passes starting rat_trouble (its flag holds)', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt([{ kind: 'start_quest', quest: 'rat_trouble' }], { before });
      const after = expectCommitted(prepared, before);
      expect(after.quests.rat_trouble).toEqual({ status: 'active' });
    });

    it('fails starting rat_trouble when its required flag does not hold', async () => {
      const before = worldWith((s) => {
        s.flags.rats_in_cellar = false;
      });
      const prepared = await attempt([{ kind: 'start_quest', quest: 'rat_trouble' }], { before });
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 0, message: 'quest rat_trouble: flag rats_in_cellar is false, needs true' },
      ]);
    });

    it('fails starting north_road, naming each unmet condition on that action', async () => {
      const prepared = await attempt([
        { kind: 'sell_item', item: 'stew', to: 'player', price: 1 },
        { kind: 'start_quest', quest: 'north_road' },
      ]);
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 1, message: 'quest north_road: player holds 0 × river_map, needs 1' },
        { action_index: 1, message: 'quest north_road: quest rat_trouble is available, needs completed' },
        {
          action_index: 1,
          message: "quest north_road: mira's relationship toward the player is 5, needs 15",
        },
      ]);
    });

    it('passes starting north_road once every condition holds before the turn', async () => {
      const before = worldWith((s) => {
        s.quests.rat_trouble = { status: 'completed' };
        inventory(s, 'player').items.river_map = 1;
        s.relationships.mira = { ...s.relationships.mira, player: 15 };
      });
      const prepared = await attempt([{ kind: 'start_quest', quest: 'north_road' }], { before });
      const after = expectCommitted(prepared, before);
      expect(after.quests.north_road).toEqual({ status: 'active' });
    });

    it('judges conditions on the state before the turn: a map sold this turn does not count', async () => {
      const before = worldWith((s) => {
        s.quests.rat_trouble = { status: 'completed' };
        s.relationships.mira = { ...s.relationships.mira, player: 15 };
      });
      const prepared = await attempt(
        [
          { kind: 'sell_item', item: 'river_map', to: 'player', price: 6 },
          { kind: 'start_quest', quest: 'north_road' },
        ],
        { before },
      );
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 1, message: 'quest north_road: player holds 0 × river_map, needs 1' },
      ]);
    });

    it('fails completing rat_trouble while it is only available (and its completion flag is unmet)', async () => {
      const prepared = await attempt([{ kind: 'complete_quest', quest: 'rat_trouble' }]);
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 0, message: 'quest rat_trouble is available; complete_quest needs active' },
        { action_index: 0, message: 'quest rat_trouble: flag cellar_cleared is false, needs true' },
      ]);
    });

    it('fails completing rat_trouble while available even when its completion flag holds', async () => {
      const before = worldWith((s) => {
        s.flags.cellar_cleared = true;
      });
      const prepared = await attempt([{ kind: 'complete_quest', quest: 'rat_trouble' }], { before });
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 0, message: 'quest rat_trouble is available; complete_quest needs active' },
      ]);
    });

    it('judges start then complete in one turn in order: passes when the completion flag held before', async () => {
      const before = worldWith((s) => {
        s.flags.cellar_cleared = true;
      });
      const prepared = await attempt(
        [
          { kind: 'start_quest', quest: 'rat_trouble' },
          { kind: 'complete_quest', quest: 'rat_trouble' },
        ],
        { before },
      );
      const after = expectCommitted(prepared, before);
      expect(after.quests.rat_trouble).toEqual({ status: 'completed' });
      expect(prepared.patch).toEqual([
        { op: 'test', path: '/quests/rat_trouble/status', value: 'available' },
        { op: 'replace', path: '/quests/rat_trouble/status', value: 'active' },
        { op: 'test', path: '/quests/rat_trouble/status', value: 'active' },
        { op: 'replace', path: '/quests/rat_trouble/status', value: 'completed' },
      ]);
    });

    it('judges complete then start in that order: both transitions fail', async () => {
      const before = worldWith((s) => {
        s.flags.cellar_cleared = true;
      });
      const prepared = await attempt(
        [
          { kind: 'complete_quest', quest: 'rat_trouble' },
          { kind: 'start_quest', quest: 'rat_trouble' },
        ],
        { before },
      );
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 0, message: 'quest rat_trouble is available; complete_quest needs active' },
        { action_index: 1, message: 'quest rat_trouble is completed; start_quest needs available' },
      ]);
    });

    it('judges completion conditions on the state before the turn: a flag set this turn does not count', async () => {
      const prepared = await attempt([
        { kind: 'set_flag', flag: 'cellar_cleared', value: true },
        { kind: 'start_quest', quest: 'rat_trouble' },
        { kind: 'complete_quest', quest: 'rat_trouble' },
      ]);
      expectRefused(prepared, ['quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 2, message: 'quest rat_trouble: flag cellar_cleared is false, needs true' },
      ]);
    });

    it('fails failing a quest that is not active (quest rule), besides Mira not being allowed to', async () => {
      const prepared = await attempt([{ kind: 'fail_quest', quest: 'rat_trouble' }]);
      expectRefused(prepared, ['allowed-actions', 'quest-preconditions']);
      expect(verdictOf(prepared, 'quest-preconditions').failures).toEqual([
        { action_index: 0, message: 'quest rat_trouble is available; fail_quest needs active' },
      ]);
    });
  });

  describe('turn-limits', () => {
    it('passes exactly 3 actions, 20 coin and a relationship move of 10', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt(
        [
          { kind: 'give_coin', to: 'player', amount: 15 },
          { kind: 'give_coin', to: 'wren', amount: 5 },
          { kind: 'adjust_relationship', toward: 'player', delta: 10 },
        ],
        { before },
      );
      const after = expectCommitted(prepared, before);
      expect(inventory(after, 'mira').coin).toBe(40);
      expect(after.relationships.mira?.player).toBe(15);
      expect(verdictOf(prepared, 'turn-limits').message).toBe("within mira's per-turn limits");
    });

    it('fails 4 actions (the limit is 3)', async () => {
      const prepared = await attempt(
        Array.from(
          { length: 4 },
          () => ({ kind: 'sell_item', item: 'stew', to: 'player', price: 1 }) as const,
        ),
      );
      expectRefused(prepared, ['turn-limits']);
      expect(verdictOf(prepared, 'turn-limits').failures).toEqual([
        { action_index: null, message: '4 actions proposed; the limit is 3 per turn' },
      ]);
    });

    it('fails giving 50 coin (the limit is 20), which Mira does hold', async () => {
      const prepared = await attempt([{ kind: 'give_coin', to: 'player', amount: 50 }]);
      expectRefused(prepared, ['turn-limits']);
      expect(verdictOf(prepared, 'turn-limits').failures).toEqual([
        { action_index: null, message: '50 coin given away; the limit is 20 per turn' },
      ]);
    });

    it('fails coin given in several actions adding up past the limit', async () => {
      const prepared = await attempt([
        { kind: 'give_coin', to: 'player', amount: 15 },
        { kind: 'give_coin', to: 'player', amount: 6 },
      ]);
      expectRefused(prepared, ['turn-limits']);
      expect(verdictOf(prepared, 'turn-limits').message).toBe('21 coin given away; the limit is 20 per turn');
    });

    it('fails +8 then -8 toward the player: 16 moved, though the net change is 0', async () => {
      const prepared = await attempt([
        { kind: 'adjust_relationship', toward: 'player', delta: 8 },
        { kind: 'adjust_relationship', toward: 'player', delta: -8 },
      ]);
      expectRefused(prepared, ['turn-limits']);
      expect(verdictOf(prepared, 'turn-limits').failures).toEqual([
        { action_index: null, message: 'relationship toward player moves by 16; the limit is 10 per turn' },
      ]);
    });

    it('counts relationship moves per target: 10 toward each of two characters passes', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt(
        [
          { kind: 'adjust_relationship', toward: 'player', delta: -10 },
          { kind: 'adjust_relationship', toward: 'wren', delta: 10 },
        ],
        { before },
      );
      const after = expectCommitted(prepared, before);
      expect(after.relationships.mira).toEqual({ player: -5, wren: 50, bram: 25 });
    });

    it('reports every limit broken at once', async () => {
      const prepared = await attempt([
        { kind: 'give_coin', to: 'player', amount: 21 },
        { kind: 'adjust_relationship', toward: 'player', delta: 11 },
        { kind: 'adjust_relationship', toward: 'wren', delta: -12 },
        { kind: 'sell_item', item: 'stew', to: 'player', price: 1 },
      ]);
      expectRefused(prepared, ['turn-limits']);
      expect(verdictOf(prepared, 'turn-limits').failures.map((f) => f.message)).toEqual([
        '4 actions proposed; the limit is 3 per turn',
        '21 coin given away; the limit is 20 per turn',
        'relationship toward player moves by 11; the limit is 10 per turn',
        'relationship toward wren moves by 12; the limit is 10 per turn',
      ]);
    });
  });

  describe('agent-blocks', () => {
    it('passes accepted envelopes that raised no block', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt([{ kind: 'sell_item', item: 'stew', to: 'player', price: 1 }], {
        before,
        envelopes: [envelope('critic', null), envelope('lore', null)],
      });
      expectCommitted(prepared, before);
      expect(verdictOf(prepared, 'agent-blocks').message).toBe('2 agent envelope(s), none blocking');
    });

    it('fails when an accepted envelope raised a block, naming its stream', async () => {
      const prepared = await attempt([{ kind: 'sell_item', item: 'stew', to: 'player', price: 1 }], {
        envelopes: [envelope('lore', null), envelope('critic', 'the stew is promised to Bram')],
      });
      expectRefused(prepared, ['agent-blocks']);
      expect(verdictOf(prepared, 'agent-blocks').failures).toEqual([
        { action_index: null, message: 'agent stream critic: the stew is promised to Bram' },
      ]);
    });
  });

  describe('relationships saturate at the ends of the scale', () => {
    it('clamps at +100: the patch shows the clamped value', async () => {
      const before = worldWith((s) => {
        s.relationships.mira = { ...s.relationships.mira, player: 95 };
      });
      const prepared = await attempt([{ kind: 'adjust_relationship', toward: 'player', delta: 8 }], {
        before,
      });
      const after = expectCommitted(prepared, before);
      expect(prepared.patch).toEqual([
        { op: 'test', path: '/relationships/mira/player', value: 95 },
        { op: 'replace', path: '/relationships/mira/player', value: 100 },
      ]);
      expect(after.relationships.mira?.player).toBe(100);
    });

    it('clamps at -100', async () => {
      const before = worldWith((s) => {
        s.relationships.mira = { ...s.relationships.mira, player: -96 };
      });
      const prepared = await attempt([{ kind: 'adjust_relationship', toward: 'player', delta: -8 }], {
        before,
      });
      const after = expectCommitted(prepared, before);
      expect(after.relationships.mira?.player).toBe(-100);
      expect(prepared.patch).toContainEqual({
        op: 'replace',
        path: '/relationships/mira/player',
        value: -100,
      });
    });

    it('clamps in a refused patch too: a +200 jump is recorded as 100', async () => {
      const prepared = await attempt([{ kind: 'adjust_relationship', toward: 'wren', delta: 200 }]);
      expectRefused(prepared, ['turn-limits']);
      expect(prepared.patch).toEqual([
        { op: 'test', path: '/relationships/mira/wren', value: 40 },
        { op: 'replace', path: '/relationships/mira/wren', value: 100 },
      ]);
    });

    it('adds a score for a pair with none yet, starting from 0', async () => {
      const before = initialWorldState(scenario);
      const prepared = await attempt([{ kind: 'adjust_relationship', toward: 'bram', delta: -4 }], {
        npcId: 'wren',
        before,
      });
      const after = expectCommitted(prepared, before);
      expect(prepared.patch).toEqual([{ op: 'add', path: '/relationships/wren/bram', value: -4 }]);
      expect(after.relationships.wren).toEqual({ player: 0, mira: 30, bram: -4 });
    });
  });

  it('a refused attempt reports every failing rule, each with its own action index', async () => {
    const output = parseModelOutput(
      reply('Take it all.', [
        '{"kind":"give_item","item":"room_key","to":"player","count":5}',
        '{"kind":"set_flag","flag":"days_of_rain","value":0}',
        '{"kind":"give_coin","to":"player","amount":25}',
        '{"kind":"start_quest","quest":"north_road"}',
        'oops',
      ]),
    );
    const prepared = await attempt(output.proposals, {
      errors: output.errors,
      envelopes: [envelope('critic', 'too generous')],
    });
    expectRefused(prepared, [
      'well-formed-proposals',
      'allowed-actions',
      'ownership',
      'non-negative-balances',
      'quest-preconditions',
      'turn-limits',
      'agent-blocks',
    ]);
    expect(verdictOf(prepared, 'allowed-actions').failures.map((f) => f.action_index)).toEqual([1]);
    expect(verdictOf(prepared, 'ownership').failures.map((f) => f.action_index)).toEqual([0]);
    expect(verdictOf(prepared, 'quest-preconditions').failures.map((f) => f.action_index)).toEqual([3, 3, 3]);
    expect(verdictOf(prepared, 'well-formed-proposals').message).toMatch(/^line 6: /);
  });
});

describe('evaluateGovernance on its own', () => {
  it('fails a quest the scenario does not define (extensions refuse it before governance sees it)', () => {
    const before = initialWorldState(scenario);
    const verdicts = evaluateGovernance({
      scenario,
      npcId: 'mira',
      npc: npcOf('mira'),
      actor: 'mira',
      proposals: [Action.parse({ kind: 'start_quest', quest: 'dragon_hunt' })],
      proposalErrors: [],
      before,
      after: before,
      envelopes: [],
    });
    expect(verdicts.map((v) => v.rule)).toEqual(RULES.map((r) => r.id));
    const quest = verdicts.find((v) => v.rule === 'quest-preconditions');
    expect(quest).toEqual({
      rule: 'quest-preconditions',
      ok: false,
      message: "no quest 'dragon_hunt'",
      failures: [{ action_index: 0, message: "no quest 'dragon_hunt'" }],
    });
    expect(verdicts.filter((v) => !v.ok).map((v) => v.rule)).toEqual(['quest-preconditions']);
  });

  it('runs only the rules it is given', () => {
    const before = initialWorldState(scenario);
    const rules = RULES.filter((r) => r.id === 'turn-limits');
    const verdicts = evaluateGovernance(
      {
        scenario,
        npcId: 'mira',
        npc: npcOf('mira'),
        actor: 'mira',
        proposals: [Action.parse({ kind: 'give_coin', to: 'player', amount: 30 })],
        proposalErrors: [],
        before,
        after: before,
        envelopes: [],
      },
      rules,
    );
    expect(verdicts).toEqual([
      {
        rule: 'turn-limits',
        ok: false,
        message: '30 coin given away; the limit is 20 per turn',
        failures: [{ action_index: null, message: '30 coin given away; the limit is 20 per turn' }],
      },
    ]);
  });
});
