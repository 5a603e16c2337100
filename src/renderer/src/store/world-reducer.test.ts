import { describe, expect, it } from 'vitest';
import { STATE_0, STATE_1, STATE_2, WORLD } from '../testing/envelopes';
import {
  changedPaths,
  EMPTY_WORLD,
  worldFailed,
  worldLoaded,
  worldRequested,
  type WorldSnapshot,
} from './world-reducer';

const snapshot = (sessionId: string, lastCommitSeq: number | null, stateHash: string): WorldSnapshot => ({
  session_id: sessionId,
  scenario_id: 'wayside-inn',
  state: WORLD,
  state_hash: stateHash,
  last_commit_seq: lastCommitSeq,
});

describe('world reducer', () => {
  it('keeps the snapshot held while a refetch runs, then takes the answer', () => {
    let state = worldLoaded(EMPTY_WORLD, snapshot('s1', null, STATE_0));
    state = worldRequested(state, 's1');
    expect(state.sessions['s1']).toMatchObject({ loading: true, snapshot: { state_hash: STATE_0 } });
    state = worldLoaded(state, snapshot('s1', 3, STATE_1));
    expect(state.sessions['s1']).toEqual({
      snapshot: snapshot('s1', 3, STATE_1),
      previous: snapshot('s1', null, STATE_0),
      loading: false,
      error: null,
    });
    // The same state again (e.g. a refetch after a failed attempt) keeps what changed last.
    state = worldLoaded(state, snapshot('s1', 4, STATE_1));
    expect(state.sessions['s1']?.previous?.state_hash).toBe(STATE_0);
  });

  it('drops an answer older than the snapshot held: world state only moves forward', () => {
    let state = worldLoaded(EMPTY_WORLD, snapshot('s1', 5, STATE_2));
    state = worldLoaded(state, snapshot('s1', 3, STATE_1));
    state = worldLoaded(state, snapshot('s1', null, STATE_0));
    expect(state.sessions['s1']?.snapshot?.state_hash).toBe(STATE_2);
    expect(state.sessions['s1']?.loading).toBe(false);
  });

  it('records a failure without losing the snapshot, and clears it with the next answer', () => {
    let state = worldLoaded(EMPTY_WORLD, snapshot('s1', 1, STATE_1));
    state = worldFailed(worldRequested(state, 's1'), 's1', 'not_connected: offline');
    expect(state.sessions['s1']).toMatchObject({
      loading: false,
      error: 'not_connected: offline',
      snapshot: { state_hash: STATE_1 },
    });
    state = worldLoaded(state, snapshot('s1', 2, STATE_2));
    expect(state.sessions['s1']?.error).toBeNull();
  });

  it('leaves other sessions untouched', () => {
    const before = worldLoaded(EMPTY_WORLD, snapshot('a', 1, STATE_1));
    const after = worldRequested(before, 'b');
    expect(after.sessions['a']).toBe(before.sessions['a']);
    expect(after.sessions['b']).toEqual({ snapshot: null, previous: null, loading: true, error: null });
  });
});

describe('changedPaths', () => {
  it('lists changed, added and removed leaves with the objects holding them', () => {
    const after = {
      ...WORLD,
      inventories: {
        ...WORLD.inventories,
        player: { coin: 8, items: { walking_staff: 1, room_key: 1 } },
        mira: { coin: 60, items: { stew: 12 } },
      },
    };
    expect([...changedPaths(WORLD, after)].sort()).toEqual([
      '/inventories',
      '/inventories/mira',
      '/inventories/mira/items',
      '/inventories/mira/items/room_key',
      '/inventories/player',
      '/inventories/player/coin',
      '/inventories/player/items',
      '/inventories/player/items/room_key',
    ]);
    expect(changedPaths(WORLD, structuredClone(WORLD)).size).toBe(0);
    expect([...changedPaths({ 'a/b': 1 }, { 'a/b': 2 })]).toEqual(['/a~1b']);
  });
});
