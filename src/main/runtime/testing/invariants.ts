import { isTerminalTurnEvent, type EventEnvelope } from '../../../shared/protocol';

/**
 * Checks the client-facing invariants of ARCHITECTURE.md on one recorded event stream of one session
 * (as a subscriber received it). Returns human-readable violations; empty means the stream is sound.
 */
export function streamViolations(events: readonly EventEnvelope[]): string[] {
  const violations: string[] = [];
  const turns = new Map<string, { accepted: boolean; terminal: string | undefined }>();
  let expectedSeq: number | undefined;
  const explained = new Set<number>();
  for (const e of events) {
    // 3. No seq gap unless a stream_overflow names it.
    if (e.type === 'stream_overflow') {
      for (let s = e.payload.from_seq; s <= e.payload.to_seq; s++) explained.add(s);
      if (expectedSeq !== undefined && e.seq !== expectedSeq)
        violations.push(`stream_overflow has seq ${e.seq}, expected ${expectedSeq}`);
      continue;
    }
    if (expectedSeq !== undefined && e.seq !== expectedSeq) {
      for (let s = expectedSeq; s < e.seq; s++)
        if (!explained.has(s)) violations.push(`seq ${s} missing before ${e.seq} with no stream_overflow`);
    }
    if (expectedSeq !== undefined && e.seq < expectedSeq && !explained.has(e.seq))
      violations.push(`seq ${e.seq} delivered after seq ${expectedSeq - 1}`);
    expectedSeq = Math.max(expectedSeq ?? 0, e.seq + 1);
    if (e.turn_id === null) continue;
    const turn = turns.get(e.turn_id);
    // 1. turn_accepted first; exactly one terminal (a rejected turn is only its turn_rejected).
    if (turn === undefined) {
      if (e.type === 'turn_rejected') turns.set(e.turn_id, { accepted: false, terminal: e.type });
      else if (e.type === 'turn_accepted') turns.set(e.turn_id, { accepted: true, terminal: undefined });
      else violations.push(`turn ${e.turn_id}: first event is ${e.type}, not turn_accepted`);
      continue;
    }
    if (e.type === 'turn_accepted') violations.push(`turn ${e.turn_id}: second turn_accepted`);
    if (turn.terminal !== undefined) {
      // 2. Nothing after the terminal event (token_delta least of all).
      violations.push(`turn ${e.turn_id}: ${e.type} (seq ${e.seq}) after terminal ${turn.terminal}`);
      continue;
    }
    if (isTerminalTurnEvent(e.type)) turn.terminal = e.type;
  }
  return violations;
}
