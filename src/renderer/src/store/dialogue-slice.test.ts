import { beforeEach, describe, expect, it } from 'vitest';
import { committedTurn, envelopes } from '../testing/envelopes';
import { createAppStore, type AppStore } from './app-store';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('dialogue slice', () => {
  it('records a turn start, then applies its events to the dialogue, log and timelines', () => {
    store.getState().recordTurnStart('s1', 't1', 'hi', true);
    expect(store.getState().dialogue.sessions['s1']?.turns['t1']).toMatchObject({ playerText: 'hi' });
    store.getState().ingestEvents(committedTurn(envelopes(), 't1', 'hi', ['a', 'b']));
    const s = store.getState();
    expect(s.dialogue.sessions['s1']?.turns['t1']?.state).toBe('committed');
    expect(s.eventLog.sessions['s1']?.entries.map((e) => e.type)).toContain('commit_succeeded');
    expect(s.timelines.sessions['s1']?.['t1']?.[0]?.type).toBe('turn_accepted');
  });

  it('pages older events into the log’s older window, and records a failed page', () => {
    const ev = envelopes('s1');
    const all = committedTurn(ev, 't1', 'hi', ['a', 'b', 'c']);
    store.getState().ingestEvents(all.slice(2));
    store.getState().olderEventsRequested('s1');
    expect(store.getState().eventLog.older['s1']?.loading).toBe(true);
    store.getState().olderEventsFailed('s1', 'timed out');
    expect(store.getState().eventLog.older['s1']).toMatchObject({ loading: false, error: 'timed out' });
    store.getState().olderEventsLoaded('s1', {
      session_id: 's1',
      events: all.slice(0, 2),
      oldest_buffered_seq: 1,
      more: false,
    });
    expect(store.getState().eventLog.older['s1']?.entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(store.getState().eventLog.older['s1']).toMatchObject({ error: null, more: false });
    // The live rows are as they were.
    expect(store.getState().eventLog.sessions['s1']?.entries[0]?.seq).toBe(3);
  });
});
