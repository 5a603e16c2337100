import { beforeEach, describe, expect, it } from 'vitest';
import { commitSummary, STATE_1, STATE_2, WORLD } from '../testing/envelopes';
import { createAppStore, type AppStore } from './app-store';
import type { WorldSnapshot } from './world-reducer';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

const snapshot = (lastCommitSeq: number | null, hash = STATE_1): WorldSnapshot => ({
  session_id: 's1',
  scenario_id: 'wayside-inn',
  state: WORLD,
  state_hash: hash,
  last_commit_seq: lastCommitSeq,
});

describe('authority slice', () => {
  it('tracks a world read: loading, the snapshot, an older answer dropped, a failure kept beside it', () => {
    store.getState().worldRequested('s1');
    expect(store.getState().world.sessions['s1']).toMatchObject({ loading: true, snapshot: null });
    store.getState().worldLoaded(snapshot(2, STATE_2));
    expect(store.getState().world.sessions['s1']).toMatchObject({
      loading: false,
      error: null,
      snapshot: { state_hash: STATE_2, last_commit_seq: 2 },
    });
    // An answer from before the held commit does not replace it.
    store.getState().worldLoaded(snapshot(1));
    expect(store.getState().world.sessions['s1']?.snapshot?.last_commit_seq).toBe(2);
    store.getState().worldFailed('s1', 'connection lost');
    expect(store.getState().world.sessions['s1']).toMatchObject({
      error: 'connection lost',
      snapshot: { last_commit_seq: 2 },
    });
  });

  it('pages commits into the provenance window and records a failed verify', () => {
    store.getState().commitsRequested('s1');
    expect(store.getState().provenance.sessions['s1']?.loading).toBe(true);
    store.getState().commitsLoaded('s1', [commitSummary(1), commitSummary(2, 'failed')], false);
    store.getState().commitsLoaded('s1', [commitSummary(3)], true);
    const held = store.getState().provenance.sessions['s1'];
    expect(held?.commits.map((c) => c.commit_seq)).toEqual([1, 2, 3]);
    expect(held?.loading).toBe(false);
    store.getState().commitsFailed('s1', 'ledger busy');
    expect(store.getState().provenance.sessions['s1']?.error).toBe('ledger busy');

    store.getState().verifyStarted('s1');
    expect(store.getState().provenance.sessions['s1']?.verify).toEqual({ state: 'running' });
    store.getState().verifyFailed('s1', 'unknown_session');
    expect(store.getState().provenance.sessions['s1']?.verify).toEqual({
      state: 'error',
      message: 'unknown_session',
    });
    expect(store.getState().provenance.sessions['s1']?.commits).toHaveLength(3);
  });
});
