import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SubscriptionEndedFrame } from '../../shared/commands';
import { IPC_EVENTS, type IpcEventBatch, type IpcPushMessage } from '../../shared/ipc';
import type { EventEnvelope } from '../../shared/protocol';
import { buildEvent } from '../runtime/interaction/session';
import { EventBatcher } from './event-batcher';
import { VirtualFrameTimer } from './virtual-frame-timer';

const FRAME = 16;

function tokens(sessionId: string, from: number, count: number): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) =>
    buildEvent(sessionId, from + i, 't1', 1_000 + i, 'token_delta', {
      text: `w${from + i} `,
      index: from + i - 1,
    }),
  );
}

function setup(options: { maxPending?: number } = {}) {
  const timer = new VirtualFrameTimer();
  const sent: { at: number; message: IpcPushMessage }[] = [];
  let writable = 0;
  const batcher = new EventBatcher({
    send: (message) => sent.push({ at: timer.now(), message }),
    timer,
    frameMs: FRAME,
    ...options,
    onWritable: () => {
      writable++;
    },
  });
  const batches = (sessionId?: string): { at: number; batch: IpcEventBatch }[] =>
    sent.flatMap(({ at, message }) =>
      message.channel === IPC_EVENTS.onEvents.channel &&
      (sessionId === undefined || message.payload.session_id === sessionId)
        ? [{ at, batch: message.payload }]
        : [],
    );
  return { timer, sent, batcher, batches, writable: () => writable };
}

const seqs = (events: readonly EventEnvelope[]): number[] => events.map((e) => e.seq);

describe('EventBatcher', () => {
  it('sends N events added within one frame as one message, on the next timer turn', () => {
    const { timer, sent, batcher, batches } = setup();
    for (const event of tokens('s1', 1, 50)) expect(batcher.add(event)).toBe(true);
    expect(sent).toHaveLength(0);
    timer.advance(0);
    expect(batches()).toHaveLength(1);
    expect(seqs(batches()[0]?.batch.events ?? [])).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(batcher.pending).toBe(0);
    expect(timer.pending).toBe(0);
  });

  it('sends at most one message per session per frame interval', () => {
    const { timer, batcher, batches } = setup();
    const stream = tokens('s1', 1, 100);
    // One event every 2 ms for 200 ms of virtual time.
    for (const event of stream) {
      batcher.add(event);
      timer.advance(2);
    }
    timer.advance(FRAME);
    const sent = batches('s1');
    for (let i = 1; i < sent.length; i++)
      expect((sent[i]?.at ?? 0) - (sent[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(FRAME);
    // Nothing lost, nothing duplicated, order kept.
    expect(sent.flatMap((s) => seqs(s.batch.events))).toEqual(seqs(stream));
    expect(sent.length).toBeLessThan(stream.length / 4);
  });

  it('keeps two sessions in separate messages, each in order', () => {
    const { timer, batcher, batches } = setup();
    const a = tokens('s1', 1, 20);
    const b = tokens('s2', 1, 20);
    for (let i = 0; i < 20; i++) {
      batcher.add(a[i] as EventEnvelope);
      batcher.add(b[i] as EventEnvelope);
    }
    timer.advance(0);
    expect(batches()).toHaveLength(2);
    for (const [sessionId, stream] of [
      ['s1', a],
      ['s2', b],
    ] as const) {
      const sent = batches(sessionId);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.batch.events.every((e) => e.session_id === sessionId)).toBe(true);
      expect(seqs(sent[0]?.batch.events ?? [])).toEqual(seqs(stream));
    }
  });

  it('sends a subscription end after the session’s pending events, in the same flush', () => {
    const { timer, sent, batcher } = setup();
    batcher.add(tokens('s1', 1, 1)[0] as EventEnvelope);
    timer.advance(0);
    for (const event of tokens('s1', 2, 3)) batcher.add(event);
    const ended: SubscriptionEndedFrame = {
      type: 'subscription.ended',
      session_id: 's1',
      last_seq: 4,
      error: { code: 'subscription_overflow', message: 'overflow' },
    };
    batcher.end(ended);
    timer.advance(FRAME - 1);
    expect(sent).toHaveLength(1);
    timer.advance(1);
    expect(sent.map((s) => s.message.channel)).toEqual([
      'parley:events',
      'parley:events',
      'parley:subscription.ended',
    ]);
    expect(sent[2]?.message.payload).toEqual(ended);
  });

  it('reports saturation at maxPending and calls onWritable once the flush drains it', () => {
    const { timer, batcher, batches, writable } = setup({ maxPending: 10 });
    const stream = tokens('s1', 1, 12);
    const answers = stream.map((event) => batcher.add(event));
    // The 10th event fills the window; it and later ones are still taken (the subscription counts them).
    expect(answers.indexOf(false)).toBe(9);
    expect(batcher.pending).toBe(12);
    expect(writable()).toBe(0);
    timer.advance(0);
    expect(writable()).toBe(1);
    expect(seqs(batches()[0]?.batch.events ?? [])).toEqual(seqs(stream));
    timer.advance(FRAME);
    expect(writable()).toBe(1);
  });

  it('flushes what is pending on dispose, then ignores everything without throwing', () => {
    const { timer, sent, batcher, batches } = setup();
    batcher.add(tokens('s1', 1, 1)[0] as EventEnvelope);
    timer.advance(0);
    for (const event of tokens('s1', 2, 5)) batcher.add(event);
    batcher.dispose();
    expect(seqs(batches().flatMap((b) => b.batch.events))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(timer.pending).toBe(0);
    expect(batcher.add(tokens('s1', 7, 1)[0] as EventEnvelope)).toBe(true);
    expect(() => {
      batcher.dispose();
      batcher.flush();
    }).not.toThrow();
    timer.advance(FRAME * 10);
    expect(sent).toHaveLength(2);
  });

  it('loses, repeats and reorders nothing, and keeps each session’s messages a frame apart, whatever the timing', () => {
    const step = fc.oneof(
      fc.record({ add: fc.constantFrom('s1', 's2', 's3'), count: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ wait: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 2, max: 50 }), (steps, maxPending) => {
        const { timer, batcher, batches } = setup({ maxPending });
        const added = new Map<string, number[]>();
        for (const s of steps) {
          if ('wait' in s) {
            timer.advance(s.wait);
            continue;
          }
          const seq = added.get(s.add) ?? [];
          for (const event of tokens(s.add, seq.length + 1, s.count)) {
            batcher.add(event);
            seq.push(event.seq);
          }
          added.set(s.add, seq);
        }
        // Forced flushes on dispose are exempt from the frame interval.
        const timedBySession = new Map([...added.keys()].map((id) => [id, batches(id)]));
        batcher.dispose();
        for (const [sessionId, seq] of added) {
          expect(batches(sessionId).flatMap((b) => seqs(b.batch.events))).toEqual(seq);
          const timed = timedBySession.get(sessionId) ?? [];
          for (let i = 1; i < timed.length; i++)
            expect((timed[i]?.at ?? 0) - (timed[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(FRAME);
        }
        expect(batcher.pending).toBe(0);
        expect(timer.pending).toBe(0);
      }),
    );
  });

  it('refuses invalid options with a precise error', () => {
    const send = (): void => undefined;
    expect(() => new EventBatcher({ send, frameMs: -1 })).toThrow(/frameMs must be a finite number >= 0/);
    expect(() => new EventBatcher({ send, maxPending: 0 })).toThrow(/maxPending must be an integer >= 1/);
  });
});
