import { describe, expect, it } from 'vitest';
import {
  admission,
  admissionPayload,
  agentEnvelope,
  arbiterPayload,
  configChanged,
  lifecycle,
  streamIdOf,
  verdict,
} from '../testing/agent-fixtures';
import { committedTurn, envelopes, MODEL } from '../testing/envelopes';
import {
  applyAgentEvents,
  CONFIG_CHANGES_KEPT,
  EMPTY_AGENT_PLANE,
  isLaneRunning,
  latestConfigChange,
  turnLanes,
  type AgentPlaneState,
  type TurnAgents,
} from './agent-plane-reducer';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function turnOf(state: AgentPlaneState, turnId = 't1', sessionId = 's1'): TurnAgents {
  const turn = state.sessions[sessionId]?.turns[turnId];
  if (turn === undefined) throw new Error(`no agent state for ${turnId}`);
  return turn;
}

const SAFETY = streamIdOf('safety');
const LORE = streamIdOf('lore');

describe('applyAgentEvents', () => {
  it('ignores the dialogue and authority events', () => {
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, committedTurn(envelopes(), 't1', 'hi', ['a']));
    expect(state).toBe(EMPTY_AGENT_PLANE);
  });

  it('keeps the admission, and builds a lane from lifecycle and tokens', () => {
    const ev = envelopes();
    const admissions = admissionPayload(
      [admission('safety', { execution_accepted: true }), admission('next_move', { planned: false })],
      'pilot',
    );
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      ev('agent_admission', 't1', admissions),
      ev('agent_stream_lifecycle', 't1', lifecycle('safety', 'queued')),
      ev('agent_stream_lifecycle', 't1', lifecycle('safety', 'started')),
      ev('agent_token_delta', 't1', { stream_id: SAFETY, index: 0, text: 'checking ' }),
      ev('agent_token_delta', 't1', { stream_id: SAFETY, index: 1, text: 'the line' }),
    ]);
    const turn = turnOf(state);
    expect(turn.admission).toEqual(admissions);
    expect(turn.streamIds).toEqual([SAFETY]);
    expect(turn.lanes[SAFETY]).toMatchObject({
      agent: 'safety',
      intent: 'safety_check',
      critical: true,
      state: 'started',
      terminalReason: null,
      text: 'checking the line',
      textTokens: 2,
      textMissing: false,
    });
  });

  it('ends a lane with its terminal reason, message, tokens and elapsed time; nothing moves it back', () => {
    const ev = envelopes();
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev('agent_stream_lifecycle', 't1', lifecycle('lore', 'started')),
      ev('agent_token_delta', 't1', { stream_id: LORE, index: 0, text: 'a' }),
      ev(
        'agent_stream_lifecycle',
        't1',
        lifecycle('lore', 'ended', {
          terminal_reason: 'timeout',
          message: 'no envelope within 2000 ms',
          tokens: 3,
          elapsed_ms: 2001,
        }),
      ),
      ev('agent_stream_lifecycle', 't1', lifecycle('lore', 'started')),
      ev('agent_token_delta', 't1', { stream_id: LORE, index: 1, text: 'late' }),
    ]);
    expect(turnOf(state).lanes[LORE]).toMatchObject({
      state: 'ended',
      terminalReason: 'timeout',
      message: 'no envelope within 2000 ms',
      tokens: 3,
      elapsedMs: 2001,
      text: 'a',
    });
  });

  it('skips repeated token deltas and marks dropped ones', () => {
    const ev = envelopes();
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev('agent_stream_lifecycle', 't1', lifecycle('lore', 'started')),
      ev('agent_token_delta', 't1', { stream_id: LORE, index: 0, text: 'a' }),
      ev('agent_token_delta', 't1', { stream_id: LORE, index: 0, text: 'a' }),
      ev('agent_token_delta', 't1', { stream_id: LORE, index: 2, text: 'c' }),
    ]);
    expect(turnOf(state).lanes[LORE]).toMatchObject({ text: 'ac', textTokens: 3, textMissing: true });
  });

  it('names a lane seen only through its tokens after its admission', () => {
    const ev = envelopes();
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev(
        'agent_admission',
        't1',
        admissionPayload([admission('lore', { execution_accepted: true })], 'pilot'),
      ),
      ev('agent_token_delta', 't1', { stream_id: LORE, index: 0, text: 'x' }),
      ev('agent_token_delta', 't1', { stream_id: 'agent_run1_ghost_1', index: 0, text: 'y' }),
    ]);
    expect(turnOf(state).lanes[LORE]).toMatchObject({ agent: 'lore', intent: 'lore_consistency' });
    expect(turnOf(state).lanes['agent_run1_ghost_1']).toMatchObject({ agent: 'unknown', intent: null });
  });

  it('keeps the newest envelope per stream and the arbiter decision', () => {
    const ev = envelopes();
    const block = [{ code: 'critical_agent_missing', message: 'safety timed out' }];
    const decision = arbiterPayload(
      [verdict('safety', { effect: 'commit', blocking: true, reason: 'accepted: blocks' })],
      'pilot',
    );
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev('agent_envelope', 't1', agentEnvelope('safety', { preview: false, decision: 'allow' })),
      ev(
        'agent_envelope',
        't1',
        agentEnvelope('safety', {
          preview: false,
          decision: 'block',
          summary: 'fail closed',
          blocking: block,
        }),
      ),
      ev('arbiter_decision', 't1', decision),
    ]);
    expect(turnOf(state).envelopes[SAFETY]).toMatchObject({
      preview: false,
      decision: 'block',
      summary: 'fail closed',
      blockingConditions: block,
    });
    expect(turnOf(state).decision).toEqual(decision);
  });

  it('records config_changed per session, newest last, within its bound', () => {
    const ev = envelopes();
    const events = Array.from({ length: CONFIG_CHANGES_KEPT + 2 }, (_, i) =>
      ev(
        'config_changed',
        null,
        configChanged(i + 1, [{ key: 'agentStreamMaxConcurrent', from: i, to: i + 1 }]),
      ),
    );
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, events);
    const changes = state.sessions['s1']?.configChanges ?? [];
    expect(changes).toHaveLength(CONFIG_CHANGES_KEPT);
    expect(changes.at(-1)).toMatchObject({ version: CONFIG_CHANGES_KEPT + 2, changed_by: 'ws:1', seq: 22 });
    expect(state.sessions['s1']?.turns).toEqual({});
  });

  it('never mutates its input, and leaves untouched turns and sessions identical', () => {
    const a = envelopes('a');
    const b = envelopes('b');
    const before = deepFreeze(
      applyAgentEvents(EMPTY_AGENT_PLANE, [
        a('agent_stream_lifecycle', 't1', lifecycle('lore', 'started')),
        a('agent_admission', 't2', admissionPayload([admission('lore')])),
        b('agent_admission', 't1', admissionPayload([admission('lore')])),
      ]),
    );
    const after = applyAgentEvents(before, [
      a('agent_token_delta', 't1', { stream_id: LORE, index: 0, text: 'more' }),
    ]);
    expect(after.sessions['a']?.turns['t1']?.lanes[LORE]?.text).toBe('more');
    expect(before.sessions['a']?.turns['t1']?.lanes[LORE]?.text).toBe('');
    expect(after.sessions['a']?.turns['t2']).toBe(before.sessions['a']?.turns['t2']);
    expect(after.sessions['b']).toBe(before.sessions['b']);
  });
});

describe('turnLanes', () => {
  it('shows planned spawns that did not execute as shadow lanes, with their preview envelope', () => {
    const ev = envelopes();
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev(
        'agent_admission',
        't1',
        admissionPayload([
          admission('safety'),
          admission('lore'),
          admission('next_move', { policy_accepted: false, planned: false }),
        ]),
      ),
      ev('agent_envelope', 't1', agentEnvelope('lore', { summary: 'SHADOW: would run lore' })),
    ]);
    const lanes = turnLanes(turnOf(state));
    expect(lanes.map((l) => [l.streamId, l.state, l.elapsedMs])).toEqual([
      [SAFETY, 'shadow', null],
      [LORE, 'shadow', null],
    ]);
    expect(lanes[1]?.envelope).toMatchObject({ preview: true, summary: 'SHADOW: would run lore' });
  });

  it('lists executed streams once their lifecycle arrives, in planning order, then unlisted ones', () => {
    const ev = envelopes();
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      ev('agent_stream_lifecycle', 't1', lifecycle('lore', 'queued')),
      ev(
        'agent_admission',
        't1',
        admissionPayload(
          [
            admission('safety', { execution_accepted: true }),
            admission('quest_gate', { execution_accepted: true }),
            admission('emotion'),
          ],
          'pilot',
        ),
      ),
      ev('agent_stream_lifecycle', 't1', lifecycle('safety', 'started', { tokens: 1 })),
      ev('agent_token_delta', 't1', { stream_id: SAFETY, index: 0, text: 'a' }),
      ev('agent_token_delta', 't1', { stream_id: SAFETY, index: 1, text: 'b' }),
    ]);
    const lanes = turnLanes(turnOf(state));
    // quest_gate executes but has not been queued yet (it reads the reply): no lane so far.
    expect(lanes.map((l) => [l.agent, l.state])).toEqual([
      ['safety', 'started'],
      ['emotion', 'shadow'],
      ['lore', 'queued'],
    ]);
    expect(lanes[0]).toMatchObject({ text: 'ab', tokens: 2 });
    expect(lanes.map((l) => isLaneRunning(l.state))).toEqual([true, false, true]);
  });
});

describe('latestConfigChange', () => {
  it('is the highest version any session has seen', () => {
    const a = envelopes('a');
    const b = envelopes('b');
    const change = (v: number) => configChanged(v, [{ key: 'agentStreamsEnabled', from: false, to: true }]);
    expect(latestConfigChange(EMPTY_AGENT_PLANE)).toBeNull();
    const state = applyAgentEvents(EMPTY_AGENT_PLANE, [
      a('config_changed', null, change(1)),
      a('config_changed', null, change(2)),
      b('config_changed', null, change(3)),
    ]);
    expect(latestConfigChange(state)).toMatchObject({ version: 3, seq: 1 });
  });
});
