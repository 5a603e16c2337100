import { describe, expect, it } from 'vitest';
import { admissionPayload } from '../testing/agent-fixtures';
import { committedTurn, envelopes, MODEL } from '../testing/envelopes';
import { applyTimelineEvents, EMPTY_TIMELINE } from './turn-timeline-reducer';

describe('turn timelines', () => {
  it('keeps a turn’s milestones, and of its tokens only the first and the newest', () => {
    const ev = envelopes();
    const events = committedTurn(ev, 't1', 'hi', ['a', 'b', 'c', 'd', 'e']);
    const state = applyTimelineEvents(EMPTY_TIMELINE, events);
    const kept = state.sessions['s1']?.['t1'] ?? [];
    expect(kept.map((e) => (e.type === 'token_delta' ? `token ${e.payload.index}` : e.type))).toEqual([
      'turn_accepted',
      'token 0',
      'token 4',
      'turn_final',
      'commit_succeeded',
    ]);
  });

  it('keeps pool events only of the turn that caused them, and nothing of the agent plane', () => {
    const ev = envelopes();
    const state = applyTimelineEvents(EMPTY_TIMELINE, [
      ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      ev('agent_admission', 't1', admissionPayload([])),
      ev('model_selected', 't1', { model: MODEL, state: 'unloaded', prewarm: null }),
      ev('model_loading', 't1', { model: MODEL, progress: 0, trigger: 'turn' }),
      // Another session's load, or a prewarm: session-level.
      ev('model_loading', null, { model: MODEL, progress: 0, trigger: 'typing' }),
      ev('model_ready', 't1', { model: MODEL, load_ms: 5, trigger: 'turn' }),
    ]);
    expect(state.sessions['s1']?.['t1']?.map((e) => e.type)).toEqual([
      'turn_accepted',
      'model_selected',
      'model_loading',
      'model_ready',
    ]);
  });

  it('never changes what it was given, and returns it unchanged for a batch without turn events', () => {
    const ev = envelopes();
    const first = applyTimelineEvents(EMPTY_TIMELINE, committedTurn(ev, 't1', 'hi', ['a', 'b']).slice(0, 3));
    const before = first.sessions['s1']?.['t1'];
    const snapshot = [...(before ?? [])];
    const second = applyTimelineEvents(first, [ev('token_delta', 't1', { index: 2, text: 'c' })]);
    expect(first.sessions['s1']?.['t1']).toEqual(snapshot);
    expect(second.sessions['s1']?.['t1']).not.toBe(before);
    expect(applyTimelineEvents(second, [ev('session_closed', null, { reason: 'x' })])).toBe(second);
  });
});
