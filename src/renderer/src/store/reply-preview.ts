/**
 * What a streaming reply may show. Model output is the spoken line, then `ACTION {json}` lines
 * (src/shared/proposals.ts); action lines are proposals, never speech, so a preview shows only the
 * spoken part, and says when actions are being proposed.
 */
import { ACTION_PREFIX, firstActionLine, spokenPart } from '../../../shared/proposals';

export interface ReplyPreview {
  /** The spoken part streamed so far. */
  readonly spoken: string;
  /** An action line has begun: the rest of the stream is proposals. */
  readonly proposing: boolean;
}

/**
 * The preview of a reply still streaming. A last line that is so far only a prefix of the ACTION
 * keyword (`A`, `ACT`, …) is held back: the next token may turn it into an action line, and an
 * action line must never flash up as speech.
 */
export function streamingPreview(streamed: string): ReplyPreview {
  const lines = streamed.split('\n');
  if (firstActionLine(lines) >= 0) return { spoken: spokenPart(streamed), proposing: true };
  const last = (lines.at(-1) ?? '').trimStart();
  if (last !== '' && ACTION_PREFIX.startsWith(last)) {
    return { spoken: lines.slice(0, -1).join('\n').trim(), proposing: false };
  }
  return { spoken: streamed.trim(), proposing: false };
}

/** The preview of a reply whose stream has ended (cancelled or failed): nothing more will arrive. */
export function endedPreview(streamed: string): string {
  return spokenPart(streamed);
}
