import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../shared/protocol';
import { envelopes, MODEL } from '../testing/envelopes';
import { applyDialogueEvents, EMPTY_DIALOGUE, type DialogueState } from './dialogue-reducer';
import { streamingPreview } from '../../../shared/proposals';
import { STREAMING_TEXT_MAX, streamingTail } from './reply-preview';

describe('streamingPreview', () => {
  it('holds back a last line that may become an action line, and hides action lines', () => {
    expect(streamingPreview('Evening.\nACT')).toEqual({ spoken: 'Evening.', proposing: false });
    expect(streamingPreview('Evening.\nACTION {"kind"')).toEqual({ spoken: 'Evening.', proposing: true });
    expect(streamingPreview(' Evening, traveller ')).toEqual({
      spoken: 'Evening, traveller',
      proposing: false,
    });
  });
});

describe('streamingTail', () => {
  it('keeps a text within the bound whole', () => {
    expect(streamingTail('a'.repeat(10), 10)).toBe('a'.repeat(10));
  });

  it('keeps the end of a longer text after an ellipsis, starting at a word', () => {
    const text = 'alpha beta gamma delta epsilon';
    expect(streamingTail(text, 12)).toBe('…epsilon');
    // No space near the cut: cut exactly.
    expect(streamingTail('x'.repeat(100), 10)).toBe(`…${'x'.repeat(10)}`);
  });

  it('never starts inside a surrogate pair', () => {
    const tail = streamingTail(`${'x'.repeat(50)}${'😀'.repeat(10)}`, 5);
    expect(tail).toBe('…😀😀');
    expect(tail.codePointAt(1)).toBe(0x1f600);
  });
});

describe('a runaway stream in the dialogue', () => {
  const ev = envelopes();
  const WORD = 'word ';

  function stream(tokens: number): { state: DialogueState; events: EventEnvelope[] } {
    let state = applyDialogueEvents(EMPTY_DIALOGUE, [
      ev('turn_accepted', 't1', { text: 'tokens:many', model: MODEL }),
    ]);
    const events: EventEnvelope[] = [];
    // One store update per frame: batches of 100 tokens.
    for (let i = 0; i < tokens; i += 100) {
      const batch = Array.from({ length: Math.min(100, tokens - i) }, (_, k) =>
        ev('token_delta', 't1', { index: i + k, text: WORD }),
      );
      events.push(...batch);
      state = applyDialogueEvents(state, batch);
    }
    return { state, events };
  }

  it('shows at most STREAMING_TEXT_MAX characters of the reply while streaming, then all of it', () => {
    const tokens = (STREAMING_TEXT_MAX / WORD.length) * 5;
    let { state } = stream(tokens);
    const streaming = state.sessions['s1']?.turns['t1'];
    expect(streaming?.state).toBe('streaming');
    expect(streaming?.tokenCount).toBe(tokens);
    expect(streaming?.streamedText.length).toBe(tokens * WORD.length);
    expect(streaming?.replyText.startsWith('…word')).toBe(true);
    expect(streaming?.replyText.length).toBeLessThanOrEqual(STREAMING_TEXT_MAX + 1);

    const full = WORD.repeat(tokens).trim();
    state = applyDialogueEvents(state, [
      ev('turn_final', 't1', { text: full, token_count: tokens, proposals: [], proposal_errors: [] }),
    ]);
    expect(state.sessions['s1']?.turns['t1']?.replyText).toBe(full);
  });

  it('keeps a cancelled stream whole', () => {
    const tokens = (STREAMING_TEXT_MAX / WORD.length) * 2;
    let { state } = stream(tokens);
    state = applyDialogueEvents(state, [
      ev('turn_cancelled', 't1', { reason: 'client_cancel', tokens_emitted: tokens }),
    ]);
    expect(state.sessions['s1']?.turns['t1']?.replyText).toBe(WORD.repeat(tokens).trim());
  });
});
