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

  describe('agent lanes and arbiter marks', () => {
    const life = (
      stream: string,
      state: 'queued' | 'started' | 'ended',
      elapsed: number,
      reason: EventPayload<'agent_stream_lifecycle'>['terminal_reason'] = null,
      agent = 'lore',
    ): EventPayload<'agent_stream_lifecycle'> => ({
      stream_id: stream,
      agent,
      intent: 'lore_consistency',
      critical: false,
      state,
      terminal_reason: reason,
      message: null,
      tokens: 0,
      elapsed_ms: elapsed,
    });
    const decision = (accepted: number, rejected: number): EventPayload<'arbiter_decision'> => ({
      mode: 'pilot',
      accepted,
      rejected,
      committed: accepted,
      blocking: 0,
      verdicts: [],
      decision_hash: 'cd'.repeat(32),
    });
    const lanes = (events: readonly EventEnvelope[]) =>
      (turnWaterfall(events)?.lanes ?? []).map((l) => [
        l.streamId,
        l.queuedMs,
        l.startedMs,
        l.endMs,
        l.open,
        l.terminalReason,
      ]);

    it('draws one lane per stream, queued → started → ended, with its terminal reason', () => {
      const { at, events } = turnAt();
      at(0, 'turn_accepted', { text: 'hi', model: MODEL });
      at(1, 'agent_stream_lifecycle', life('a1', 'queued', 0));
      at(2, 'agent_stream_lifecycle', life('a2', 'queued', 0, null, 'mood'));
      at(5, 'agent_stream_lifecycle', life('a1', 'started', 4));
      at(9, 'agent_stream_lifecycle', life('a2', 'started', 7, null, 'mood'));
      at(30, 'agent_stream_lifecycle', life('a1', 'ended', 29, 'completed'));
      at(45, 'agent_stream_lifecycle', life('a2', 'ended', 43, 'timeout', 'mood'));
      at(46, 'turn_final', final(0));
      at(47, 'arbiter_decision', decision(1, 1));
      at(50, 'commit_succeeded', committedPayload(1, 'x'));

      const w = turnWaterfall(events);
      expect(lanes(events)).toEqual([
        ['a1', 1, 5, 30, false, 'completed'],
        ['a2', 2, 9, 45, false, 'timeout'],
      ]);
      expect(w?.lanes.map((l) => l.agent)).toEqual(['lore', 'mood']);
      expect(w?.decisions).toEqual([{ atMs: 47, accepted: 1, rejected: 1, committed: 1 }]);
      expect(w?.scaleMs).toBe(50);
      // The commit bar is still there, on the same scale.
      expect(w?.bars.at(-1)).toMatchObject({ phase: 'commit', startMs: 46, endMs: 50 });
    });

    it('keeps a running lane open to the newest event, and places a lane whose queued event was dropped', () => {
      const { at, events } = turnAt();
      at(0, 'turn_accepted', { text: 'hi', model: MODEL });
      at(12, 'agent_stream_lifecycle', life('a1', 'started', 8));
      tokens(at, [20]);
      expect(lanes(events)).toEqual([['a1', 4, 12, 20, true, null]]);
    });

    it('closes a lane whose end was not seen at the turn’s end, and widens the scale for a lane outlasting it', () => {
      const { at, events } = turnAt();
      at(0, 'turn_accepted', { text: 'hi', model: MODEL });
      at(1, 'agent_stream_lifecycle', life('a1', 'queued', 0));
      at(2, 'agent_stream_lifecycle', life('a2', 'queued', 0));
      at(10, 'turn_cancelled', { reason: 'client_cancel', tokens_emitted: 0 });
      at(25, 'agent_stream_lifecycle', life('a2', 'ended', 23, 'manual_cancel'));
      const w = turnWaterfall(events);
      expect(lanes(events)).toEqual([
        ['a1', 1, null, 10, false, null],
        ['a2', 2, null, 25, false, 'manual_cancel'],
      ]);
      expect(w?.totalMs).toBe(10);
      expect(w?.scaleMs).toBe(25);
    });

    it('keeps the lifecycle and decision events in the timeline, so lanes survive the reducer', () => {
      const { at, events } = turnAt();
      at(0, 'turn_accepted', { text: 'hi', model: MODEL });
      at(1, 'agent_stream_lifecycle', life('a1', 'queued', 0));
      at(3, 'agent_stream_lifecycle', life('a1', 'started', 2));
      at(4, 'agent_token_delta', { stream_id: 'a1', index: 0, text: 'x' });
      at(8, 'agent_stream_lifecycle', life('a1', 'ended', 7, 'completed'));
      at(9, 'turn_final', final(0));
      at(10, 'arbiter_decision', decision(0, 0));
      at(12, 'commit_succeeded', committedPayload(1, 'x'));
      const kept = applyTimelineEvents(EMPTY_TIMELINE, events).sessions['s1']?.['t1'] ?? [];
      expect(kept.some((e) => e.type === 'agent_token_delta')).toBe(false);
      expect(turnWaterfall(kept)).toEqual(turnWaterfall(events));
      expect(turnWaterfall(kept)?.lanes).toHaveLength(1);
    });
  });
});
