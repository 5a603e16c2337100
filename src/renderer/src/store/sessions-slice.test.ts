import { beforeEach, describe, expect, it } from 'vitest';
import { sessionSummary } from '../testing/envelopes';
import { createAppStore, type AppStore } from './app-store';
import { forkOriginLabel } from './sessions-slice';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

const ids = () => store.getState().sessions.list.map((s) => s.session_id);

describe('sessions slice', () => {
  it('sorts a listed set by creation, upserts by id and keeps the selection across both', () => {
    store.getState().setSessions([sessionSummary('b', 20), sessionSummary('a', 10)]);
    expect(ids()).toEqual(['a', 'b']);
    store.getState().selectSession('b');
    expect(store.getState().sessions.selectedId).toBe('b');

    // A new session goes to the end; a known one is replaced in place.
    store.getState().upsertSession(sessionSummary('c', 5));
    store.getState().upsertSession(sessionSummary('a', 10, { last_seq: 42 }));
    expect(ids()).toEqual(['a', 'b', 'c']);
    expect(store.getState().sessions.list[0]?.last_seq).toBe(42);

    store.getState().setSessions([sessionSummary('b', 20)]);
    expect(ids()).toEqual(['b']);
    expect(store.getState().sessions.selectedId).toBe('b');
    store.getState().selectSession(null);
    expect(store.getState().sessions.selectedId).toBeNull();
  });

  it('names a fork’s origin, shortened as asked', () => {
    const fork = sessionSummary('f', 1, { forked_from: { session_id: 'session-long-id', commit_seq: 3 } });
    expect(forkOriginLabel(fork)).toBe('forked from session-long-id #3');
    expect(forkOriginLabel(fork, (id) => id.slice(0, 7))).toBe('forked from session #3');
    expect(forkOriginLabel(sessionSummary('x'))).toBeNull();
  });
});
