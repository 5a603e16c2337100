import { describe, expect, it } from 'vitest';
import { BRIBE, SCENARIO, SELL_KEY, SELL_KEY_PATCH, STATE_0, STATE_1 } from '../testing/envelopes';
import {
  describeAction,
  describePatch,
  formatValue,
  namesOf,
  patchLineText,
  recordFacts,
} from './authority-format';

describe('describeAction', () => {
  const names = namesOf(SCENARIO);

  it('labels chips with ids and explains them with display names', () => {
    expect(describeAction(SELL_KEY, names, 'Mira Thornbury')).toEqual({
      label: 'sell_item room_key → player (4)',
      title: 'Mira Thornbury sells 1 × Room key to Traveller for 4 silver',
    });
    expect(describeAction(BRIBE, names, 'Mira').label).toBe('give_coin 50 → player');
    expect(
      describeAction({ kind: 'give_item', item: 'stew', to: 'player', count: 2 }, names, 'Mira').label,
    ).toBe('give_item stew ×2 → player');
    expect(
      describeAction({ kind: 'adjust_relationship', toward: 'player', delta: 5 }, names, 'Mira').label,
    ).toBe('adjust_relationship player +5');
    expect(describeAction({ kind: 'start_quest', quest: 'rat_trouble' }, names, 'Mira').title).toBe(
      'Mira starts the quest “Rats in the Cellar”',
    );
    expect(
      describeAction({ kind: 'set_flag', flag: 'cellar_cleared', value: true }, names, 'Mira').label,
    ).toBe('set_flag cellar_cleared = true');
  });

  it('falls back to ids without a scenario', () => {
    expect(describeAction(SELL_KEY, namesOf(undefined), 'mira').title).toBe(
      'mira sells 1 × room_key to player for 4 coin',
    );
  });
});

describe('describePatch', () => {
  it('reads a replace after a test of the same path as a change, and marks tests as guards', () => {
    const lines = describePatch(SELL_KEY_PATCH);
    expect(lines.map(patchLineText)).toEqual([
      'test /inventories/mira/items/room_key = 3',
      'replace /inventories/mira/items/room_key 3 → 2',
      'add /inventories/player/items/room_key 1',
      'test /inventories/player/coin = 12',
      'replace /inventories/player/coin 12 → 8',
    ]);
    expect(lines.map((l) => l.guard)).toEqual([true, false, false, true, false]);
  });

  it('describes every op kind', () => {
    expect(
      describePatch([
        { op: 'test', path: '/flags/x', value: 'a' },
        { op: 'remove', path: '/flags/x' },
        { op: 'remove', path: '/flags/y' },
        { op: 'replace', path: '/quests/q/status', value: 'active' },
        { op: 'move', path: '/a', from: '/b' },
        { op: 'copy', path: '/c', from: '/d' },
      ]).map(patchLineText),
    ).toEqual([
      'test /flags/x = "a"',
      'remove /flags/x (was "a")',
      'remove /flags/y',
      'replace /quests/q/status → "active"',
      'move /a from /b',
      'copy /c from /d',
    ]);
  });
});

describe('formatValue', () => {
  it('is compact JSON on one short line', () => {
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue('x'.repeat(200))).toHaveLength(80);
  });
});

describe('recordFacts', () => {
  it('reads a version 2 record', () => {
    expect(
      recordFacts({
        v: 2,
        patch: SELL_KEY_PATCH,
        committed_at: 1_700_000_000_000,
        state_hash_before: STATE_0,
        state_hash_after: STATE_1,
        failure: null,
      }),
    ).toEqual({
      patch: SELL_KEY_PATCH,
      committed_at: 1_700_000_000_000,
      state_hash_before: STATE_0,
      state_hash_after: STATE_1,
      failure: null,
    });
  });

  it('shows what a version 1 or malformed record lacks as absent', () => {
    expect(recordFacts({ v: 1, patch: 'nope', failure: { stage: 'moon' } })).toEqual({
      patch: [],
      committed_at: null,
      state_hash_before: null,
      state_hash_after: null,
      failure: null,
    });
  });
});
