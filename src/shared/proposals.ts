/**
 * How model output proposes actions (docs/actions.md). The spoken line comes first; then, each on
 * its own line, `ACTION ` followed by one JSON object:
 *
 *   A room is four silver a night.
 *   ACTION {"kind":"sell_item","item":"room_key","to":"player","price":4}
 *
 * Everything from the first action line on is proposals, never speech. A line there that is not a
 * well-formed action is reported as a ProposalError with its line number, never repaired or guessed.
 */
import { Action, type ProposalError } from './world';

export const ACTION_PREFIX = 'ACTION';

export interface ParsedOutput {
  /** What the NPC says: the text before the first action line, trimmed. */
  readonly spoken: string;
  readonly proposals: Action[];
  readonly errors: ProposalError[];
}

/** True for a line that starts (after indentation) with the ACTION keyword. */
function isActionLine(line: string): boolean {
  const t = line.trimStart();
  return (
    t.startsWith(ACTION_PREFIX) &&
    (t.length === ACTION_PREFIX.length || /\s/.test(t[ACTION_PREFIX.length] ?? ''))
  );
}

/** Index of the first action line, or -1. Also what a preview hides while a reply streams. */
export function firstActionLine(lines: readonly string[]): number {
  return lines.findIndex(isActionLine);
}

/** The spoken part of a (possibly partial) reply: everything before the first action line. */
export function spokenPart(text: string): string {
  const lines = text.split('\n');
  const first = firstActionLine(lines);
  return (first < 0 ? text : lines.slice(0, first).join('\n')).trim();
}

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

function shown(line: string): string {
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

export function parseModelOutput(text: string): ParsedOutput {
  const lines = text.split('\n');
  const first = firstActionLine(lines);
  if (first < 0) return { spoken: text.trim(), proposals: [], errors: [] };
  const proposals: Action[] = [];
  const errors: ProposalError[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const fail = (message: string) => errors.push({ line: i + 1, text: shown(line), message });
    if (!isActionLine(line)) {
      fail(`after the first action line every line must start with '${ACTION_PREFIX} '`);
      continue;
    }
    const body = line.trimStart().slice(ACTION_PREFIX.length).trim();
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      fail(`not JSON: ${(err as Error).message}`);
      continue;
    }
    const parsed = Action.safeParse(json);
    if (parsed.success) proposals.push(parsed.data);
    else
      fail(
        parsed.error.issues
          .map((issue) =>
            issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
          )
          .join('; '),
      );
  }
  return { spoken: lines.slice(0, first).join('\n').trim(), proposals, errors };
}
