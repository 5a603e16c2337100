/** Builds valid event envelopes for tests, with per-session seqs like the runtime's. */
import {
  EVENT_CLASS,
  type EmittedEventType,
  type EnvelopeOf,
  type EventEnvelope,
  type EventPayload,
} from '../../../shared/protocol';

export const MODEL = { backend: 'scripted', model_id: 'test-npc' } as const;
export const HASH = 'ab'.repeat(32);

export interface EnvelopeFactory {
  <T extends EmittedEventType>(type: T, turnId: string | null, payload: EventPayload<T>): EnvelopeOf<T>;
  /** The seq the next envelope will get. */
  readonly nextSeq: number;
}

export function envelopes(sessionId = 's1', firstSeq = 1): EnvelopeFactory {
  let seq = firstSeq - 1;
  const make = <T extends EmittedEventType>(type: T, turnId: string | null, payload: EventPayload<T>) => {
    seq++;
    return {
      v: 1,
      event_id: `${sessionId}.${seq}`,
      seq,
      session_id: sessionId,
      turn_id: turnId,
      timestamp: 1_700_000_000_000 + seq,
      type,
      class: EVENT_CLASS[type],
      payload,
    } as unknown as EnvelopeOf<T>;
  };
  return Object.defineProperty(make, 'nextSeq', { get: () => seq + 1 }) as EnvelopeFactory;
}

/** A turn that streams `tokens` and then ends with a preview and a commit. */
export function committedTurn(
  ev: EnvelopeFactory,
  turnId: string,
  playerText: string,
  tokens: readonly string[],
  commitSeq = 1,
): EventEnvelope[] {
  const text = tokens.join('');
  return [
    ev('turn_accepted', turnId, { text: playerText, model: MODEL }),
    ...tokens.map((t, index) => ev('token_delta', turnId, { index, text: t })),
    ev('turn_final', turnId, { text, token_count: tokens.length }),
    ev('commit_succeeded', turnId, { commit_seq: commitSeq, provenance_hash: HASH, text }),
  ];
}
