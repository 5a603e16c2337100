import { describe, expect, it } from 'vitest';
import type { EmittedEventType, EventEnvelope, EventPayload } from '../../../shared/protocol';
import { committedPayload, envelopes, failedPayload, MODEL } from '../testing/envelopes';
import { applyTimelineEvents, EMPTY_TIMELINE } from './turn-timeline-reducer';
import { turnWaterfall, type WaterfallBar } from './turn-waterfall';

const T0 = 1_700_000_100_000;

/** A turn's events at the given ms after the ACK (the runtime's clock), in order. */
function turnAt(turnId = 't1', sessionId = 's1') {
  const ev = envelopes(sessionId);
  const events: EventEnvelope[] = [];
  const at = <T extends EmittedEventType>(
    ms: number,
    type: T,
    payload: EventPayload<T>,
    turn: string | null = turnId,
  ) => {
    events.push({ ...ev(type, turn, payload), timestamp: T0 + ms });
    return at;
  };
  return { at, events };
}

const tokens = (at: ReturnType<typeof turnAt>['at'], times: readonly number[]) => {
  times.forEach((ms, index) => at(ms, 'token_delta', { index, text: `w${index} ` }));
};

const final = (count: number): EventPayload<'turn_final'> => ({
  text: 'w0 w1 w2 w3',
  token_count: count,
  proposals: [],
  proposal_errors: [],
});

const phases = (bars: readonly WaterfallBar[]) => bars.map((b) => [b.phase, b.startMs, b.endMs, b.open]);

describe('turnWaterfall', () => {
  it('draws a committed turn whose model was ready: ACK, queue, select, first token, tokens, commit', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(3, 'model_selected', { model: MODEL, state: 'ready', prewarm: null });
    tokens(at, [10, 20, 30, 40]);
    at(41, 'turn_final', final(4));
    at(50, 'commit_succeeded', committedPayload(1, 'w0 w1 w2 w3'));

    const w = turnWaterfall(events);
    expect(w).toMatchObject({
      startedAt: T0,
      totalMs: 50,
      end: { kind: 'committed', atMs: 50 },
      loaded: false,
      prewarm: null,
      firstTokenMs: 10,
      tokens: { count: 4, perSecond: 100 },
    });
    expect(phases(w?.bars ?? [])).toEqual([
      ['ack', 0, 0, false],
      ['queue', 0, 3, false],
      ['select', 3, 10, false],
      ['first-token', 10, 10, false],
      ['tokens', 10, 40, false],
      ['commit', 41, 50, false],
    ]);
  });

  it('labels the model phase a load when the turn waited for one, up to the first token', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(2, 'model_selected', { model: MODEL, state: 'unloaded', prewarm: null });
    at(2, 'model_loading', { model: MODEL, progress: 0, trigger: 'turn' });
    at(150, 'model_loading', { model: MODEL, progress: 0.5, trigger: 'turn' });
    at(300, 'model_ready', { model: MODEL, load_ms: 298, trigger: 'turn' });
    tokens(at, [320, 330]);
    at(331, 'turn_final', final(2));
    at(345, 'commit_failed', failedPayload());

    const w = turnWaterfall(events);
    expect(w?.loaded).toBe(true);
    expect(w?.end).toEqual({ kind: 'commit_failed', atMs: 345 });
    expect(phases(w?.bars ?? [])).toEqual([
      ['ack', 0, 0, false],
      ['queue', 0, 2, false],
      ['load', 2, 320, false],
      ['first-token', 320, 320, false],
      ['tokens', 320, 330, false],
      ['commit', 331, 345, false],
    ]);
  });

  it('counts a load in flight that a prewarm started as a load, and reports the time it hid', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(1, 'model_selected', {
      model: MODEL,
      state: 'loading',
      prewarm: { trigger: 'typing', hidden_ms: 640 },
    });
    tokens(at, [90]);
    const w = turnWaterfall(events);
    expect(w?.loaded).toBe(true);
    expect(w?.prewarm).toEqual({ trigger: 'typing', hiddenMs: 640 });
    expect(w?.bars.find((b) => b.phase === 'load')).toMatchObject({ startMs: 1, endMs: 90, open: false });
  });

  it('reports the hidden load of a finished prewarm on a ready model, without a load phase', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(1, 'model_selected', {
      model: MODEL,
      state: 'ready',
      prewarm: { trigger: 'session_open', hidden_ms: 1200 },
    });
    const w = turnWaterfall(events);
    expect(w?.loaded).toBe(false);
    expect(w?.prewarm).toEqual({ trigger: 'session_open', hiddenMs: 1200 });
    // Still waiting for the first token: the select phase is open.
    expect(phases(w?.bars ?? []).at(-1)).toEqual(['select', 1, 1, true]);
    expect(w?.end).toBeNull();
  });

  it('ends a cancelled turn at its cancel: no commit phase, the tokens phase closed', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(4, 'model_selected', { model: MODEL, state: 'ready', prewarm: null });
    tokens(at, [10, 30, 50]);
    at(80, 'turn_cancelled', { reason: 'client_cancel', tokens_emitted: 3 });

    const w = turnWaterfall(events);
    expect(w).toMatchObject({
      totalMs: 80,
      end: { kind: 'cancelled', atMs: 80 },
      tokens: { count: 3, perSecond: 50 },
    });
    expect(phases(w?.bars ?? [])).toEqual([
      ['ack', 0, 0, false],
      ['queue', 0, 4, false],
      ['select', 4, 10, false],
      ['first-token', 10, 10, false],
      ['tokens', 10, 50, false],
    ]);
  });

  it('cuts the load phase at the cancel of a turn cancelled while its model loaded', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(2, 'model_selected', { model: MODEL, state: 'unloaded', prewarm: null });
    at(2, 'model_loading', { model: MODEL, progress: 0, trigger: 'turn' });
    at(60, 'turn_cancelled', { reason: 'client_cancel', tokens_emitted: 0 });
    const w = turnWaterfall(events);
    expect(w?.firstTokenMs).toBeNull();
    expect(w?.tokens).toBeNull();
    expect(phases(w?.bars ?? [])).toEqual([
      ['ack', 0, 0, false],
      ['queue', 0, 2, false],
      ['load', 2, 60, false],
    ]);
  });

  it('keeps the phases of a running turn open up to its newest event', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(5, 'model_selected', { model: MODEL, state: 'ready', prewarm: null });
    tokens(at, [15, 25]);
    expect(phases(turnWaterfall(events)?.bars ?? []).slice(-1)).toEqual([['tokens', 15, 25, true]]);
    at(26, 'turn_final', final(2));
    const w = turnWaterfall(events);
    expect(w?.totalMs).toBe(26);
    expect(phases(w?.bars ?? []).slice(-2)).toEqual([
      ['tokens', 15, 25, false],
      ['commit', 26, 26, true],
    ]);
  });

  it('draws nothing before the ACK', () => {
    const { at, events } = turnAt();
    at(5, 'model_selected', { model: MODEL, state: 'ready', prewarm: null });
    expect(turnWaterfall(events)).toBeNull();
    expect(turnWaterfall([])).toBeNull();
  });

  it('draws the same from the timeline reducer’s few events as from all of them', () => {
    const { at, events } = turnAt();
    at(0, 'turn_accepted', { text: 'hi', model: MODEL });
    at(3, 'model_selected', { model: MODEL, state: 'unloaded', prewarm: null });
    at(3, 'model_loading', { model: MODEL, progress: 0, trigger: 'turn' });
    at(40, 'model_ready', { model: MODEL, load_ms: 37, trigger: 'turn' });
    tokens(at, [45, 50, 55, 60, 65, 70]);
    at(71, 'turn_final', final(6));
    at(90, 'commit_succeeded', committedPayload(1, 'x'));

    const batches = [events.slice(0, 5), events.slice(5, 9), events.slice(9)];
    const timeline = batches.reduce(applyTimelineEvents, EMPTY_TIMELINE);
    const kept = timeline.sessions['s1']?.['t1'] ?? [];
    expect(kept.filter((e) => e.type === 'token_delta')).toHaveLength(2);
    expect(turnWaterfall(kept)).toEqual(turnWaterfall(events));
  });
});
