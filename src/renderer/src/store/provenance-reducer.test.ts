import { describe, expect, it } from 'vitest';
import { commitSummary, STATE_1 } from '../testing/envelopes';
import {
  commitsFailed,
  commitsLoaded,
  commitsRequested,
  EMPTY_PROVENANCE,
  lastCommitSeq,
  unverifiedCommits,
  verifyDone,
  verifyFailed,
  verifyStarted,
  type SessionProvenance,
} from './provenance-reducer';

const REPORT = {
  ok: true,
  commits_checked: 2,
  sessions_checked: 1,
  head_hash: STATE_1,
  first_divergence: null,
  state_hashes: {},
};

describe('provenance reducer', () => {
  it('merges pages in commit order, each record once, and ignores other sessions', () => {
    let state = commitsRequested(EMPTY_PROVENANCE, 's1');
    expect(state.sessions['s1']).toMatchObject({ commits: [], loading: true });
    state = commitsLoaded(state, 's1', [commitSummary(3, 'failed'), commitSummary(1)], false);
    expect(state.sessions['s1']?.loading).toBe(true);
    const first = state.sessions['s1']?.commits[0];
    state = commitsLoaded(
      state,
      's1',
      [commitSummary(1), commitSummary(2), commitSummary(9, 'committed', 's2')],
      true,
    );
    expect(state.sessions['s1']?.commits.map((c) => [c.commit_seq, c.outcome])).toEqual([
      [1, 'committed'],
      [2, 'committed'],
      [3, 'failed'],
    ]);
    expect(state.sessions['s1']?.commits[0]).toBe(first);
    expect(state.sessions['s1']?.loading).toBe(false);
    expect(lastCommitSeq(state, 's1')).toBe(3);
    expect(lastCommitSeq(state, 'other')).toBe(0);
  });

  it('keeps the same list when a page brings nothing new', () => {
    const state = commitsLoaded(EMPTY_PROVENANCE, 's1', [commitSummary(1)], true);
    const again = commitsLoaded(state, 's1', [commitSummary(1)], true);
    expect(again.sessions['s1']?.commits).toBe(state.sessions['s1']?.commits);
  });

  it('records a failed read and keeps the records held', () => {
    let state = commitsLoaded(EMPTY_PROVENANCE, 's1', [commitSummary(1)], true);
    state = commitsFailed(commitsRequested(state, 's1'), 's1', 'connection_lost: gone');
    expect(state.sessions['s1']).toMatchObject({ loading: false, error: 'connection_lost: gone' });
    expect(state.sessions['s1']?.commits).toHaveLength(1);
  });

  it('tracks verify, and counts the records newer than the last report', () => {
    let state = commitsLoaded(EMPTY_PROVENANCE, 's1', [commitSummary(1), commitSummary(2)], true);
    state = verifyStarted(state, 's1');
    expect(state.sessions['s1']?.verify).toEqual({ state: 'running' });
    state = verifyDone(state, 's1', REPORT, 2);
    const session = (): SessionProvenance => {
      const s = state.sessions['s1'];
      if (s === undefined) throw new Error('no provenance for s1');
      return s;
    };
    expect(unverifiedCommits(session())).toBe(0);
    state = commitsLoaded(state, 's1', [commitSummary(3, 'failed')], true);
    expect(unverifiedCommits(session())).toBe(1);
    state = verifyFailed(state, 's1', 'internal: boom');
    expect(session().verify).toEqual({ state: 'error', message: 'internal: boom' });
    expect(unverifiedCommits(session())).toBe(0);
  });
});
