import { describe, expect, it } from 'vitest';
import { envelopes, HASH, MODEL } from '../testing/envelopes';
import type { EventEnvelope } from '../../../shared/protocol';
import {
  appendToLog,
  canLoadOlder,
  describeOverflow,
  EMPTY_EVENT_LOG,
  mergeOlderPage,
  olderBeforeSeq,
  olderFailed,
  olderRequested,
  exportLog,
  filterLog,
  isLogFiltered,
  logFacets,
  logMarkers,
  NO_LOG_FILTER,
  summarizePayload,
  type LogEntry,
} from './event-log-reducer';

describe('appendToLog', () => {
  it('keeps display rows per session in arrival order', () => {
    const a = envelopes('a');
    const b = envelopes('b');
    const state = appendToLog(EMPTY_EVENT_LOG, [
      a('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      b('session_closed', null, { reason: 'bye' }),
      a('token_delta', 't1', { index: 0, text: 'yo' }),
    ]);
    expect(state.sessions['a']?.entries).toEqual([
      {
        eventId: 'a.1',
        seq: 1,
        type: 'turn_accepted',
        eventClass: 'authoritative',
        turnId: 't1',
        timestamp: 1_700_000_000_001,
        summary: '{"text":"hi","model":{"backend":"scripted","model_id":"test-npc"}}',
        payload: { text: 'hi', model: MODEL },
        gapBefore: 0,
      },
      expect.objectContaining({ seq: 2, type: 'token_delta', eventClass: 'telemetry' }),
    ]);
    expect(state.sessions['b']?.entries.map((e) => e.type)).toEqual(['session_closed']);
  });

  it('evicts the oldest rows past capacity and counts them', () => {
    const ev = envelopes();
    let state = EMPTY_EVENT_LOG;
    for (let batch = 0; batch < 3; batch++) {
      state = appendToLog(
        state,
        Array.from({ length: 4 }, (_, i) => ev('token_delta', 't1', { index: batch * 4 + i, text: 'x' })),
        5,
      );
    }
    expect(state.sessions['s1']?.entries.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(state.sessions['s1']?.evicted).toBe(7);
  });

  it('marks seq gaps, across batches and evictions, but not before the first row', () => {
    const ev = envelopes('s1', 10);
    const events = Array.from({ length: 8 }, (_, i) => ev('token_delta', 't1', { index: i, text: 'x' }));
    // Seqs 10..17; the subscription misses 12 and 13, then 16.
    const delivered = events.filter((e) => ![12, 13, 16].includes(e.seq));
    let state = appendToLog(EMPTY_EVENT_LOG, delivered.slice(0, 3), 2);
    state = appendToLog(state, delivered.slice(3), 2);
    expect(state.sessions['s1']?.entries.map((e) => [e.seq, e.gapBefore])).toEqual([
      [15, 0],
      [17, 1],
    ]);
    const whole = appendToLog(EMPTY_EVENT_LOG, delivered);
    expect(whole.sessions['s1']?.entries.map((e) => e.gapBefore)).toEqual([0, 0, 2, 0, 1]);
    expect(whole.sessions['s1']?.lastSeq).toBe(17);
  });

  it('returns the same state for an empty batch', () => {
    expect(appendToLog(EMPTY_EVENT_LOG, [])).toBe(EMPTY_EVENT_LOG);
  });
});

describe('summarizePayload', () => {
  it('shortens long strings and long payloads to one short line', () => {
    const summary = summarizePayload({ commit_seq: 1, provenance_hash: HASH, text: 'y'.repeat(500) });
    expect(summary).toContain(`"provenance_hash":"${HASH.slice(0, 40)}…"`);
    expect(summary.length).toBeLessThanOrEqual(160);
    expect(
      summarizePayload({
        text: 'a'.repeat(1000),
        b: 'c'.repeat(1000),
        d: 'e'.repeat(1000),
        f: 'g'.repeat(100),
      }),
    ).toHaveLength(160);
  });
});

/** A turn with an overflow: seqs 3 and 4 (tokens) were dropped. */
function sampleLog(): readonly LogEntry[] {
  const ev = envelopes();
  const events = [
    ev('turn_accepted', 't1', { text: 'Any rooms?', model: MODEL }),
    ev('token_delta', 't1', { index: 0, text: 'Yes' }),
    ev('token_delta', 't1', { index: 1, text: ' we' }),
    ev('token_delta', 't1', { index: 2, text: ' do' }),
    ev('stream_overflow', null, { policy: 'drop_telemetry', from_seq: 3, to_seq: 4, dropped: 2 }),
    ev('turn_accepted', 't2', { text: 'Bread?', model: MODEL }),
  ].filter((e) => e.seq !== 3 && e.seq !== 4);
  return appendToLog(EMPTY_EVENT_LOG, events).sessions['s1']?.entries ?? [];
}

describe('filterLog', () => {
  it('returns the rows themselves when nothing filters', () => {
    const rows = sampleLog();
    expect(isLogFiltered(NO_LOG_FILTER)).toBe(false);
    expect(isLogFiltered({ ...NO_LOG_FILTER, text: '   ' })).toBe(false);
    expect(filterLog(rows, NO_LOG_FILTER)).toBe(rows);
  });

  it('filters by type, class and turn, all at once', () => {
    const rows = sampleLog();
    const seqs = (filter: Partial<typeof NO_LOG_FILTER>) =>
      filterLog(rows, { ...NO_LOG_FILTER, ...filter }).map((e) => e.seq);
    expect(seqs({ type: 'turn_accepted' })).toEqual([1, 6]);
    expect(seqs({ eventClass: 'telemetry' })).toEqual([2]);
    expect(seqs({ eventClass: 'authoritative' })).toEqual([1, 5, 6]);
    expect(seqs({ turnId: 't1' })).toEqual([1, 2]);
    expect(seqs({ turnId: 't1', eventClass: 'authoritative' })).toEqual([1]);
    expect(seqs({ type: 'token_delta', turnId: 't2' })).toEqual([]);
  });

  it('searches type and the whole payload, case-insensitively', () => {
    const rows = sampleLog();
    const seqs = (text: string) => filterLog(rows, { ...NO_LOG_FILTER, text }).map((e) => e.seq);
    expect(seqs('ROOMS')).toEqual([1]);
    expect(seqs('overflow')).toEqual([5]);
    expect(seqs('drop_telemetry')).toEqual([5]);
    expect(seqs('test-npc')).toEqual([1, 6]);
    expect(seqs('nothing like this')).toEqual([]);
  });

  it('finds text past the one-line summary', () => {
    const ev = envelopes();
    const long = `${'a'.repeat(300)} needle`;
    const rows = appendToLog(EMPTY_EVENT_LOG, [ev('turn_accepted', 't1', { text: long, model: MODEL })])
      .sessions['s1']?.entries;
    expect(rows?.[0]?.summary).not.toContain('needle');
    expect(filterLog(rows ?? [], { ...NO_LOG_FILTER, text: 'needle' })).toHaveLength(1);
  });
});

describe('log facets, markers and export', () => {
  it('lists the types and turns present, in first-seen order', () => {
    expect(logFacets(sampleLog())).toEqual({
      types: ['turn_accepted', 'token_delta', 'stream_overflow'],
      turnIds: ['t1', 't2'],
    });
  });

  it('counts gaps, missing seqs and overflow rows, and describes an overflow', () => {
    const rows = sampleLog();
    expect(logMarkers(rows)).toEqual({ gaps: 1, missing: 2, overflows: 1 });
    expect(rows.find((e) => e.seq === 5)?.gapBefore).toBe(2);
    expect(describeOverflow(rows.find((e) => e.seq === 5) as LogEntry)).toBe(
      'dropped 2 telemetry events (seq 3–4)',
    );
    expect(describeOverflow(rows[0] as LogEntry)).toBeNull();
  });

  it('exports the given rows as envelopes with the filter that chose them', () => {
    const filter = { ...NO_LOG_FILTER, eventClass: 'authoritative' as const };
    const rows = filterLog(sampleLog(), filter);
    const doc = JSON.parse(exportLog('s1', rows, filter)) as {
      session_id: string;
      count: number;
      filter: unknown;
      events: Record<string, unknown>[];
    };
    expect(doc).toMatchObject({ session_id: 's1', count: 3, filter });
    expect(doc.events.map((e) => e['seq'])).toEqual([1, 5, 6]);
    expect(doc.events[0]).toEqual({
      event_id: 's1.1',
      seq: 1,
      session_id: 's1',
      turn_id: 't1',
      timestamp: 1_700_000_000_001,
      type: 'turn_accepted',
      class: 'authoritative',
      payload: { text: 'Any rooms?', model: MODEL },
    });
    expect(doc.events[1]).toMatchObject({ type: 'stream_overflow', missing_before: 2 });
  });
});

describe('older events paged in (session.events)', () => {
  /** Events 1..n of session s1, token deltas of one turn. */
  const session = (n: number): EventEnvelope[] => {
    const ev = envelopes('s1');
    return Array.from({ length: n }, (_, i) => ev('token_delta', 't1', { index: i, text: `w${i}` }));
  };
  const page = (events: readonly EventEnvelope[], more: boolean) => ({
    events,
    more,
    oldest_buffered_seq: events[0]?.seq ?? null,
  });
  const seqs = (state: ReturnType<typeof appendToLog>) => state.older['s1']?.entries.map((e) => e.seq);

  it('pages back from the oldest row held, puts each page above the last, and stops at seq 1', () => {
    const all = session(30);
    // The live log kept the newest 10 of 30.
    let state = appendToLog(EMPTY_EVENT_LOG, all, 10);
    expect(state.sessions['s1']?.evicted).toBe(20);
    expect(olderBeforeSeq(state, 's1')).toBe(21);
    expect(canLoadOlder(state, 's1')).toBe(true);

    state = olderRequested(state, 's1');
    expect(state.older['s1']?.loading).toBe(true);
    state = mergeOlderPage(state, 's1', page(all.slice(12, 20), true));
    expect(seqs(state)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    expect(state.older['s1']).toMatchObject({ loading: false, more: true, dropped: 0 });
    expect(olderBeforeSeq(state, 's1')).toBe(13);
    // The live rows are untouched: the older window is separate.
    expect(state.sessions['s1']?.entries.map((e) => e.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);

    // A repeated answer adds nothing; the next page goes above.
    state = mergeOlderPage(state, 's1', page(all.slice(12, 20), true));
    expect(seqs(state)).toHaveLength(8);
    state = mergeOlderPage(state, 's1', page(all.slice(0, 12), false));
    expect(seqs(state)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(state.older['s1']?.more).toBe(false);
    expect(canLoadOlder(state, 's1')).toBe(false);
    // Live events keep arriving into the live log only.
    const next = envelopes('s1', 31)('turn_final', 't1', {
      text: 'x',
      token_count: 30,
      proposals: [],
      proposal_errors: [],
    });
    state = appendToLog(state, [next], 10);
    expect(seqs(state)).toHaveLength(20);
    expect(state.sessions['s1']?.evicted).toBe(21);
  });

  it('stays within its capacity by dropping the newest rows of the window, and marks gaps', () => {
    const all = session(30);
    let state = appendToLog(EMPTY_EVENT_LOG, all.slice(20), 10);
    state = mergeOlderPage(state, 's1', page(all.slice(14, 20), true), 8);
    // seq 11 is missing from this page (a dropped telemetry event the runtime never buffered).
    state = mergeOlderPage(state, 's1', page([...all.slice(6, 10), ...all.slice(11, 14)], true), 8);
    expect(seqs(state)).toEqual([7, 8, 9, 10, 12, 13, 14, 15]);
    expect(state.older['s1']?.dropped).toBe(5);
    expect(state.older['s1']?.entries.map((e) => e.gapBefore)).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
    expect(olderBeforeSeq(state, 's1')).toBe(7);
  });

  it('offers older events to a log that started late, and gives up when the runtime has none left', () => {
    const all = session(12);
    let state = appendToLog(EMPTY_EVENT_LOG, all.slice(5));
    expect(state.sessions['s1']?.evicted).toBe(0);
    expect(canLoadOlder(state, 's1')).toBe(true);
    state = olderFailed(olderRequested(state, 's1'), 's1', 'timed out');
    expect(state.older['s1']).toMatchObject({ loading: false, error: 'timed out' });
    expect(canLoadOlder(state, 's1')).toBe(true);
    // The runtime buffers from seq 4 on only: an empty page before it ends the paging.
    state = mergeOlderPage(state, 's1', { events: [], more: false, oldest_buffered_seq: 4 });
    expect(state.older['s1']).toMatchObject({ error: null, more: false, oldestBufferedSeq: 4 });
    expect(canLoadOlder(state, 's1')).toBe(false);
    expect(canLoadOlder(appendToLog(EMPTY_EVENT_LOG, all), 's1')).toBe(false);
    expect(canLoadOlder(EMPTY_EVENT_LOG, 's1')).toBe(false);
  });
});
