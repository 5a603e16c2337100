import { describe, expect, it } from 'vitest';
import { admissionPayload } from '../testing/agent-fixtures';
import { envelopes, MODEL } from '../testing/envelopes';
import { appendToLog, EMPTY_EVENT_LOG } from './event-log-reducer';
import { describeSeries, niceMax, pressureSeries, turnMetrics } from './session-charts';
import { applyTimelineEvents, EMPTY_TIMELINE } from './turn-timeline-reducer';
import type { EventEnvelope } from '../../../shared/protocol';

/** Two turns: t1 streams 3 tokens 100 ms apart after 50 ms and loses 4 events; t2 is rejected. */
function session(): { events: EventEnvelope[] } {
  const ev = envelopes();
  const at = (e: EventEnvelope, ms: number): EventEnvelope => ({ ...e, timestamp: 1_000_000 + ms });
  const events = [
    at(ev('turn_accepted', 't1', { text: 'hi', model: MODEL }), 0),
    at(ev('agent_admission', 't1', admissionPayload([], 'shadow', 'LOW')), 1),
    at(ev('token_delta', 't1', { index: 0, text: 'a' }), 50),
    at(ev('token_delta', 't1', { index: 1, text: 'b' }), 150),
    at(ev('stream_overflow', null, { policy: 'drop_telemetry', from_seq: 6, to_seq: 9, dropped: 4 }), 200),
    at(ev('token_delta', 't1', { index: 2, text: 'c' }), 250),
    at(ev('turn_accepted', 't2', { text: 'again', model: MODEL }), 1_000),
    at(ev('agent_admission', 't2', admissionPayload([], 'shadow', 'HIGH')), 1_001),
  ];
  return { events };
}

describe('turnMetrics', () => {
  it('gives each turn its time to first token, rate and drops, in turn order', () => {
    const { events } = session();
    const timelines = applyTimelineEvents(EMPTY_TIMELINE, events).sessions['s1'] ?? {};
    const entries = appendToLog(EMPTY_EVENT_LOG, events).sessions['s1']?.entries ?? [];
    expect(turnMetrics(['t1', 't2'], timelines, entries)).toEqual([
      { turnId: 't1', label: '#1', ttftMs: 50, tokensPerSecond: 10, overflows: 1, dropped: 4 },
      { turnId: 't2', label: '#2', ttftMs: null, tokensPerSecond: null, overflows: 0, dropped: 0 },
    ]);
  });

  it('charges an overflow with a turn id to that turn, and one before any turn to none', () => {
    const ev = envelopes();
    const entries =
      appendToLog(EMPTY_EVENT_LOG, [
        ev('stream_overflow', null, { policy: 'drop_telemetry', from_seq: 1, to_seq: 1, dropped: 1 }),
        ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
        ev('turn_accepted', 't2', { text: 'hi', model: MODEL }),
        ev('stream_overflow', 't1', { policy: 'drop_telemetry', from_seq: 4, to_seq: 5, dropped: 2 }),
      ]).sessions['s1']?.entries ?? [];
    expect(turnMetrics(['t1', 't2'], {}, entries).map((m) => [m.overflows, m.dropped])).toEqual([
      [1, 2],
      [0, 0],
    ]);
  });
});

describe('pressureSeries', () => {
  it('reads each admission’s pressure, timed from the first one', () => {
    const entries = appendToLog(EMPTY_EVENT_LOG, session().events).sessions['s1']?.entries ?? [];
    expect(pressureSeries(entries, ['t1', 't2'])).toEqual([
      { turnId: 't1', label: '#1', atMs: 0, level: 'LOW' },
      { turnId: 't2', label: '#2', atMs: 1_000, level: 'HIGH' },
    ]);
    expect(pressureSeries([], [])).toEqual([]);
  });
});

describe('describeSeries', () => {
  const ms = (v: number) => `${v} ms`;
  it('lists every point, a dash for none, and the range', () => {
    expect(
      describeSeries(
        'Time to first token',
        [
          { label: '#1', value: 64 },
          { label: '#2', value: null },
          { label: '#3', value: 80 },
        ],
        ms,
      ),
    ).toBe('Time to first token: #1 64 ms, #2 —, #3 80 ms. Min 64 ms, max 80 ms.');
    expect(describeSeries('Drops', [{ label: '#1', value: null }], ms)).toBe('Drops: #1 —.');
    expect(describeSeries('Drops', [], ms)).toBe('Drops: no turns yet.');
  });
});

describe('niceMax', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 3, 7, 12, 64, 250, 1001].map(niceMax)).toEqual([1, 0.5, 1, 5, 10, 20, 100, 500, 2000]);
  });
});
