import { describe, expect, it } from 'vitest';
import { envelopes, HASH, MODEL } from '../testing/envelopes';
import {
  appendToLog,
  describeOverflow,
  EMPTY_EVENT_LOG,
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
