import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../shared/protocol';
import {
  BRIBE,
  committedPayload,
  committedTurn,
  envelopes,
  failedPayload,
  HASH,
  MODEL,
  SELL_KEY,
  SELL_KEY_PATCH,
  STATE_0,
  STATE_1,
} from '../testing/envelopes';
import {
  actionsState,
  activeTurnId,
  applyDialogueEvents,
  EMPTY_DIALOGUE,
  emptySession,
  recordTurnStart,
  retryLine,
  type DialogueState,
  type Turn,
} from './dialogue-reducer';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function turnOf(state: DialogueState, turnId: string, sessionId = 's1'): Turn {
  const turn = state.sessions[sessionId]?.turns[turnId];
  if (turn === undefined) throw new Error(`no turn ${turnId}`);
  return turn;
}

describe('applyDialogueEvents', () => {
  it('streams tokens, previews turn_final and commits the canonical text', () => {
    const ev = envelopes();
    let state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'Hello there', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: 'Well ' }),
      ev('token_delta', 't1', { index: 1, text: 'met' }),
    ]);
    expect(turnOf(state, 't1')).toMatchObject({
      playerText: 'Hello there',
      replyText: 'Well met',
      state: 'streaming',
      tokenCount: 2,
      model: 'scripted/test-npc',
    });

    state = applyDialogueEvents(state, [
      ev('turn_final', 't1', {
        text: 'Well met, traveller',
        token_count: 3,
        proposals: [],
        proposal_errors: [],
      }),
    ]);
    expect(turnOf(state, 't1')).toMatchObject({
      state: 'final-preview',
      replyText: 'Well met, traveller',
      tokenCount: 3,
    });

    state = applyDialogueEvents(state, [
      ev('commit_succeeded', 't1', committedPayload(7, 'Well met, traveller.')),
    ]);
    expect(turnOf(state, 't1')).toMatchObject({
      state: 'committed',
      replyText: 'Well met, traveller.',
      commit: { commit_seq: 7, provenance_hash: HASH },
      reason: null,
    });
    expect(state.sessions['s1']?.lastSeq).toBe(5);
  });

  it('keeps turns in order of first appearance, per session', () => {
    const a = envelopes('a');
    const b = envelopes('b');
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ...committedTurn(a, 'a1', 'one', ['x']),
      ...committedTurn(b, 'b1', 'uno', ['y']),
      ...committedTurn(a, 'a2', 'two', ['z'], 2),
    ]);
    expect(state.sessions['a']?.turnIds).toEqual(['a1', 'a2']);
    expect(state.sessions['b']?.turnIds).toEqual(['b1']);
  });

  it('records cancelled, failed, commit-failed and rejected turns with their reason', () => {
    const ev = envelopes();
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 'c', { text: 'stop', model: MODEL }),
      ev('token_delta', 'c', { index: 0, text: 'Hm' }),
      ev('turn_cancelled', 'c', { reason: 'client_cancel', tokens_emitted: 5 }),
      ev('turn_accepted', 'f', { text: 'fail', model: MODEL }),
      ev('turn_failed', 'f', { code: 'backend_crashed', message: 'worker exited', tokens_emitted: 0 }),
      ev('turn_accepted', 'cf', { text: 'commit fail', model: MODEL }),
      ev('turn_final', 'cf', { text: 'No.', token_count: 1, proposals: [BRIBE], proposal_errors: [] }),
      ev('commit_failed', 'cf', failedPayload({ 'turn-limits': 'vetoed' }, null)),
      ev('turn_rejected', 'r', { reason: 'text_too_long', message: 'over 4000', active_turn_id: null }),
    ]);
    expect(turnOf(state, 'c')).toMatchObject({
      state: 'cancelled',
      reason: 'client_cancel',
      tokenCount: 5,
      replyText: 'Hm',
    });
    expect(turnOf(state, 'f')).toMatchObject({ state: 'failed', reason: 'backend_crashed: worker exited' });
    expect(turnOf(state, 'cf')).toMatchObject({
      state: 'failed',
      reason: 'commit failed at governance: governance_failed: vetoed',
      commit: { commit_seq: null, provenance_hash: null },
    });
    expect(turnOf(state, 'r')).toMatchObject({
      state: 'rejected',
      reason: 'text_too_long: over 4000',
      playerText: null,
    });
  });

  it('ignores tokens after the terminal event and a second terminal event', () => {
    const ev = envelopes();
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: 'a' }),
      ev('turn_cancelled', 't1', { reason: 'client_cancel', tokens_emitted: 1 }),
      ev('token_delta', 't1', { index: 1, text: 'b' }),
      ev('commit_succeeded', 't1', committedPayload(1, 'ab')),
    ]);
    expect(turnOf(state, 't1')).toMatchObject({
      state: 'cancelled',
      replyText: 'a',
      commit: null,
    });
  });

  it('marks missing tokens when telemetry was dropped, until turn_final fills them in', () => {
    const ev = envelopes();
    const events: EventEnvelope[] = [
      ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: 'a' }),
      ev('stream_overflow', null, { policy: 'drop_telemetry', from_seq: 3, to_seq: 4, dropped: 2 }),
    ];
    ev('token_delta', 't1', { index: 1, text: 'b' }); // seq 4: dropped by the server
    events.push(ev('token_delta', 't1', { index: 2, text: 'c' }));
    let state = applyDialogueEvents(EMPTY_DIALOGUE, events);
    expect(turnOf(state, 't1')).toMatchObject({ replyText: 'ac', tokensMissing: true, tokenCount: 3 });
    expect(state.sessions['s1']?.telemetryDropped).toBe(2);
    state = applyDialogueEvents(state, [
      ev('turn_final', 't1', { text: 'abc', token_count: 3, proposals: [], proposal_errors: [] }),
    ]);
    expect(turnOf(state, 't1')).toMatchObject({ replyText: 'abc', tokensMissing: false });
  });

  it('never mutates its input, and leaves untouched turns and sessions identical', () => {
    const a = envelopes('a');
    const b = envelopes('b');
    const before = deepFreeze(
      applyDialogueEvents(EMPTY_DIALOGUE, [
        ...committedTurn(a, 'a1', 'one', ['x']),
        ...committedTurn(b, 'b1', 'uno', ['y']),
      ]),
    );
    const after = applyDialogueEvents(before, [a('turn_accepted', 'a2', { text: 'two', model: MODEL })]);
    expect(after.sessions['a']?.turnIds).toEqual(['a1', 'a2']);
    expect(before.sessions['a']?.turnIds).toEqual(['a1']);
    expect(after.sessions['a']?.turns['a1']).toBe(before.sessions['a']?.turns['a1']);
    expect(after.sessions['b']).toBe(before.sessions['b']);
  });
});

describe('proposed actions and commit outcomes', () => {
  const SPOKEN = 'A room is four silver a night.';
  const ACTION_LINE = 'ACTION {"kind":"sell_item","item":"room_key","to":"player","count":1,"price":4}';

  it('never shows action lines as speech while they stream, and says actions are being proposed', () => {
    const ev = envelopes();
    const tokens = [
      'A',
      ' room',
      ' is',
      ' four',
      ' silver',
      ' a',
      ' night.',
      '\nACTION',
      ` ${ACTION_LINE.slice(7)}`,
    ];
    let state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'room?', model: MODEL }),
    ]);
    const seen: { reply: string; proposing: boolean }[] = [];
    tokens.forEach((text, index) => {
      state = applyDialogueEvents(state, [ev('token_delta', 't1', { index, text })]);
      const turn = turnOf(state, 't1');
      seen.push({ reply: turn.replyText, proposing: turn.proposingActions });
    });
    expect(seen.every((s) => !s.reply.includes('ACTION') && !s.reply.includes('{'))).toBe(true);
    // 'A' alone may still become an action line: held back for one token.
    expect(seen[0]).toEqual({ reply: '', proposing: false });
    expect(seen[6]).toEqual({ reply: SPOKEN, proposing: false });
    expect(seen.at(-1)).toEqual({ reply: SPOKEN, proposing: true });
    expect(turnOf(state, 't1').streamedText).toBe(`${SPOKEN}\n${ACTION_LINE}`);
  });

  it('computes the preview once per batch from everything streamed in it', () => {
    const ev = envelopes();
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'room?', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: 'Yes.' }),
      ev('token_delta', 't1', { index: 1, text: '\nACT' }),
    ]);
    expect(turnOf(state, 't1')).toMatchObject({ replyText: 'Yes.', proposingActions: false });
  });

  it('keeps the spoken part of a stream cancelled before its final, and discards its actions', () => {
    const ev = envelopes();
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'a', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: 'A' }),
      ev('turn_cancelled', 't1', { reason: 'client_cancel', tokens_emitted: 1 }),
      ev('turn_accepted', 't2', { text: 'room', model: MODEL }),
      ev('token_delta', 't2', { index: 0, text: `${SPOKEN}\nACTION {` }),
      ev('turn_cancelled', 't2', { reason: 'client_cancel', tokens_emitted: 1 }),
    ]);
    expect(turnOf(state, 't1').replyText).toBe('A');
    expect(turnOf(state, 't2')).toMatchObject({ replyText: SPOKEN, proposingActions: false });
    expect(actionsState(turnOf(state, 't2'))).toBe('discarded');
  });

  it('lists the proposals of turn_final as pending, then committed with the verdicts and patch', () => {
    const ev = envelopes();
    let state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('session_started', null, { npc_id: 'mira', model: MODEL, scenario_id: 'inn', state_hash: STATE_0 }),
      ev('turn_accepted', 't1', { text: 'room?', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: `${SPOKEN}\n${ACTION_LINE}` }),
      ev('turn_final', 't1', {
        text: SPOKEN,
        token_count: 1,
        proposals: [SELL_KEY],
        proposal_errors: [{ line: 3, text: 'ACTION {oops', message: 'not JSON' }],
      }),
    ]);
    expect(state.sessions['s1']).toMatchObject({ scenarioId: 'inn', npcId: 'mira', stateHash: STATE_0 });
    expect(turnOf(state, 't1')).toMatchObject({
      state: 'final-preview',
      replyText: SPOKEN,
      proposals: [SELL_KEY],
      proposalErrors: [{ line: 3, message: 'not JSON' }],
      commit: null,
    });
    expect(actionsState(turnOf(state, 't1'))).toBe('pending');

    state = applyDialogueEvents(state, [
      ev('commit_succeeded', 't1', committedPayload(1, SPOKEN, SELL_KEY_PATCH)),
    ]);
    const turn = turnOf(state, 't1');
    expect(actionsState(turn)).toBe('committed');
    expect(turn.commit).toMatchObject({ outcome: 'committed', state_hash: STATE_1, patch: SELL_KEY_PATCH });
    expect(turn.commit?.verdicts.every((v) => v.ok)).toBe(true);
    expect(state.sessions['s1']?.stateHash).toBe(STATE_1);
  });

  it('refuses every proposal of a failed commit, keeps its record and failing verdicts', () => {
    const ev = envelopes();
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'bribe', model: MODEL }),
      ev('turn_final', 't1', { text: 'Keep it.', token_count: 2, proposals: [BRIBE], proposal_errors: [] }),
      ev('commit_failed', 't1', failedPayload({ 'turn-limits': '50 coin given away; the limit is 20' }, 4)),
    ]);
    const turn = turnOf(state, 't1');
    expect(turn).toMatchObject({ state: 'failed', commit: { commit_seq: 4, provenance_hash: HASH } });
    expect(actionsState(turn)).toBe('refused');
    expect(turn.commit).toMatchObject({ outcome: 'failed', code: 'governance_failed', stage: 'governance' });
    expect(turn.commit?.verdicts.filter((v) => !v.ok).map((v) => v.rule)).toEqual(['turn-limits']);
    expect(state.sessions['s1']?.stateHash).toBe(STATE_0);
  });
});

describe('recordTurnStart', () => {
  it('gives a rejected turn its player line whichever arrives first', () => {
    const ev = envelopes();
    const rejected = ev('turn_rejected', 't1', {
      reason: 'text_too_long',
      message: 'too long',
      active_turn_id: null,
    });

    const answerFirst = applyDialogueEvents(recordTurnStart(EMPTY_DIALOGUE, 's1', 't1', 'long line', false), [
      rejected,
    ]);
    const eventFirst = recordTurnStart(
      applyDialogueEvents(EMPTY_DIALOGUE, [rejected]),
      's1',
      't1',
      'long line',
      false,
    );
    for (const state of [answerFirst, eventFirst]) {
      expect(turnOf(state, 't1')).toMatchObject({
        state: 'rejected',
        playerText: 'long line',
        reason: 'text_too_long: too long',
      });
    }
  });

  it('starts an accepted turn as streaming and never moves a finished one back', () => {
    const ev = envelopes();
    expect(turnOf(recordTurnStart(EMPTY_DIALOGUE, 's1', 't1', 'hi', true), 't1').state).toBe('streaming');
    const done = applyDialogueEvents(EMPTY_DIALOGUE, committedTurn(ev, 't1', 'hi', ['yo']));
    const after = recordTurnStart(done, 's1', 't1', 'hi', true);
    expect(turnOf(after, 't1')).toMatchObject({ state: 'committed', replyText: 'yo' });
  });
});

describe('retryLine', () => {
  const ev = envelopes();
  const accepted = (turnId: string) => ev('turn_accepted', turnId, { text: `line ${turnId}`, model: MODEL });

  it('offers the line of a turn that ended without committing', () => {
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      accepted('c'),
      ev('turn_cancelled', 'c', { reason: 'client_cancel', tokens_emitted: 1 }),
      accepted('f'),
      ev('turn_failed', 'f', { code: 'model_failed', message: 'x', tokens_emitted: 0 }),
      accepted('r'),
      ev('turn_final', 'r', { text: 'no', token_count: 1, proposals: [], proposal_errors: [] }),
      ev('commit_failed', 'r', failedPayload()),
    ]);
    expect(retryLine(turnOf(state, 'c'))).toBe('line c');
    expect(retryLine(turnOf(state, 'f'))).toBe('line f');
    expect(retryLine(turnOf(state, 'r'))).toBe('line r');
    const rejected = recordTurnStart(EMPTY_DIALOGUE, 's1', 'x', 'too long', false);
    expect(retryLine(turnOf(rejected, 'x'))).toBe('too long');
  });

  it('offers nothing for a running or committed turn, or a line this window never saw', () => {
    const state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ...committedTurn(ev, 'ok', 'fine', ['a']),
      accepted('run'),
      ev('turn_rejected', 'gone', { reason: 'turn_in_progress', message: 'busy', active_turn_id: 'run' }),
    ]);
    expect(retryLine(turnOf(state, 'ok'))).toBeNull();
    expect(retryLine(turnOf(state, 'run'))).toBeNull();
    expect(retryLine(turnOf(state, 'gone'))).toBeNull();
    expect(activeTurnId(state.sessions['s1'] ?? emptySession())).toBe('run');
    expect(activeTurnId(emptySession())).toBeNull();
  });
});
