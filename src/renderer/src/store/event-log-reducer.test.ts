import { describe, expect, it } from 'vitest';
import { envelopes, HASH, MODEL } from '../testing/envelopes';
import { appendToLog, EMPTY_EVENT_LOG, summarizePayload } from './event-log-reducer';

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
