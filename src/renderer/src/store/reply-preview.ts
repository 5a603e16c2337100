/**
 * What a streaming reply may show. Model output is the spoken line, then `ACTION {json}` lines
 * (src/shared/proposals.ts); action lines are proposals, never speech, so a preview shows only the
 * spoken part, and says when actions are being proposed.
 */
import { spokenPart } from '../../../shared/proposals';

/**
 * A streaming reply shows at most this many characters: its end. Laying out a paragraph costs the
 * page time in proportion to its length on every frame it changes, so a runaway stream (the bench's
 * 5,000 tokens/s for 30 s) would otherwise stall the page; the whole text shows once the stream
 * ends (`turn_final`, a commit, or `endedPreview`).
 */
export const STREAMING_TEXT_MAX = 4_000;
/** How far past the cut the tail may start, to begin at a word rather than inside one. */
const WORD_SEARCH = 40;

/** `spoken` as a streaming reply shows it: whole, or `…` and its last `max` characters or so. */
export function streamingTail(spoken: string, max: number = STREAMING_TEXT_MAX): string {
  if (spoken.length <= max) return spoken;
  let start = spoken.length - max;
  const space = spoken.indexOf(' ', start);
  if (space >= 0 && space - start < WORD_SEARCH) start = space + 1;
  // Never split a surrogate pair.
  const code = spoken.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start++;
  return `…${spoken.slice(start)}`;
}

/** The preview of a reply whose stream has ended (cancelled or failed): nothing more will arrive. */
export function endedPreview(streamed: string): string {
  return spokenPart(streamed);
}
