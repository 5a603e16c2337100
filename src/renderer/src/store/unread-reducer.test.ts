import { beforeEach, describe, expect, it } from 'vitest';
import { committedTurn, envelopes, MODEL } from '../testing/envelopes';
import { createAppStore, type AppStore } from './app-store';
import { countUnread, markRead, NO_UNREAD, unreadLabel } from './unread-reducer';

describe('unread reducer', () => {
  it('counts the events of sessions not selected, leaving out per-token deltas', () => {
    const s2 = committedTurn(envelopes('s2'), 't1', 'hi', ['a', 'b', 'c']);
    const s1 = committedTurn(envelopes('s1'), 't1', 'hi', ['a']);
    const unread = countUnread(NO_UNREAD, 's1', [...s2, ...s1]);
    expect(unread).toEqual({ s2: 3 });
    expect(countUnread(unread, 's1', [envelopes('s2', 9)('model_ready', null, readyPayload())])).toEqual({
      s2: 4,
    });
  });

  it('counts every session when none is selected, and keeps the state when nothing counts', () => {
    const ev = envelopes('s1');
    const unread = countUnread(NO_UNREAD, null, [ev('turn_accepted', 't1', { text: 'x', model: MODEL })]);
    expect(unread).toEqual({ s1: 1 });
    expect(countUnread(unread, null, [ev('token_delta', 't1', { index: 0, text: 'y' })])).toBe(unread);
    expect(countUnread(unread, 's1', [ev('turn_final', 't1', finalPayload())])).toBe(unread);
  });

  it('marks a session read, and says how many are new', () => {
    expect(markRead({ s1: 2, s2: 1 }, 's1')).toEqual({ s2: 1 });
    const none = { s2: 1 };
    expect(markRead(none, 's1')).toBe(none);
    expect(markRead(none, null)).toBe(none);
    expect(unreadLabel(1)).toBe('1 new event');
    expect(unreadLabel(3)).toBe('3 new events');
  });
});

describe('unread activity in the store', () => {
  let store: AppStore;
  beforeEach(() => {
    store = createAppStore();
  });

  it('counts what arrives for another session once, and clears it when that session is selected', () => {
    store.getState().selectSession('s1');
    const events = committedTurn(envelopes('s2'), 't1', 'hi', ['a']);
    store.getState().ingestEvents(events);
    // A resumed subscription delivers the same events again: they are not news twice.
    store.getState().ingestEvents(events);
    expect(store.getState().unread).toEqual({ s2: 3 });
    store.getState().selectSession('s2');
    expect(store.getState().unread).toEqual({});
    store.getState().ingestEvents([envelopes('s2', 5)('session_closed', null, { reason: 'x' })]);
    expect(store.getState().unread).toEqual({});
  });
});

function finalPayload() {
  return { text: 'y', token_count: 1, proposals: [], proposal_errors: [] };
}

function readyPayload() {
  return { model: MODEL, load_ms: 5, trigger: 'manual' } as const;
}
