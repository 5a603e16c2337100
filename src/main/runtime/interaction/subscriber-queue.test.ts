import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_CLASS, type EventEnvelope } from '../../../shared/protocol';
import { streamViolations } from '../testing/invariants';
import { SubscriberQueue } from './subscriber-queue';

let seq = 0;
/** The queue ignores turns; a null turn_id keeps the invariant checker to its seq rules. */
function envelope(event: Pick<EventEnvelope, 'type' | 'class' | 'payload'>): EventEnvelope {
  seq++;
  return {
    v: 1,
    event_id: `s.e${seq}`,
    seq,
    session_id: 's',
    turn_id: null,
    timestamp: seq,
    ...event,
  } as EventEnvelope;
}
const token = (): EventEnvelope =>
  envelope({ type: 'token_delta', class: EVENT_CLASS.token_delta, payload: { index: seq + 1, text: 'x' } });
const authoritative = (): EventEnvelope =>
  envelope({ type: 'session_closed', class: EVENT_CLASS.session_closed, payload: { reason: 'x' } });

/** One operation of a scripted producer/consumer run: push telemetry, push authoritative, or deliver one. */
type Op = 't' | 'a' | 'd';

function run(ops: readonly Op[], policy: 'drop_telemetry' | 'fail', capacity: number, headroom = 8) {
  seq = 0;
  const q = new SubscriberQueue(policy, 'sub1', { capacity, authoritativeHeadroom: headroom });
  const pushed: EventEnvelope[] = [];
  const delivered: EventEnvelope[] = [];
  for (const op of ops) {
    if (op === 'd') {
      const e = q.shift();
      if (e !== undefined) delivered.push(e);
      continue;
    }
    const e = op === 't' ? token() : authoritative();
    pushed.push(e);
    q.push(e);
  }
  for (let e = q.shift(); e !== undefined; e = q.shift()) delivered.push(e);
  return { pushed, delivered, failed: q.failed };
}

const opsArb = fc.array(fc.constantFrom<Op>('t', 't', 't', 'a', 'd'), { maxLength: 300 });

describe('SubscriberQueue', () => {
  it('delivers everything in order while under capacity', () => {
    const { pushed, delivered, failed } = run(['t', 'a', 't', 'd', 't'], 'drop_telemetry', 8);
    expect(failed).toBeUndefined();
    expect(delivered.map((e) => e.seq)).toEqual(pushed.map((e) => e.seq));
  });

  it('drop_telemetry drops newest telemetry and marks each run of drops where it happened', () => {
    // capacity 3: t1 t2 t3 fill it; t4 t5 dropped (one marker); a6 queued past capacity; t7 dropped (new marker).
    const { delivered } = run(['t', 't', 't', 't', 't', 'a', 't'], 'drop_telemetry', 3);
    expect(delivered.map((e) => `${e.type}:${e.seq}`)).toEqual([
      'token_delta:1',
      'token_delta:2',
      'token_delta:3',
      'stream_overflow:4',
      'session_closed:6',
      'stream_overflow:7',
    ]);
    const markers = delivered.flatMap((e) => (e.type === 'stream_overflow' ? [e.payload] : []));
    expect(markers).toEqual([
      { policy: 'drop_telemetry', from_seq: 4, to_seq: 5, dropped: 2 },
      { policy: 'drop_telemetry', from_seq: 7, to_seq: 7, dropped: 1 },
    ]);
  });

  it('a delivered marker is frozen; later drops open a new one', () => {
    const { delivered } = run(['t', 't', 't', 'd', 'd', 'd', 'd', 't', 't', 't', 't'], 'drop_telemetry', 2);
    const markers = delivered.flatMap((e) => (e.type === 'stream_overflow' ? [e] : []));
    expect(markers.map((m) => [m.payload.from_seq, m.payload.to_seq])).toEqual([
      [3, 3],
      [6, 7],
    ]);
    expect(new Set(markers.map((m) => m.event_id)).size).toBe(2);
  });

  it('fail delivers what it holds, then reports subscription_overflow and accepts nothing more', () => {
    const { delivered, failed } = run(['t', 't', 't', 'a', 't'], 'fail', 2);
    expect(delivered.map((e) => e.seq)).toEqual([1, 2]);
    expect(failed?.code).toBe('subscription_overflow');
  });

  it('drop_telemetry fails rather than grow past capacity + headroom of authoritative events', () => {
    const { delivered, failed } = run(['a', 'a', 'a', 'a', 'a'], 'drop_telemetry', 2, 1);
    expect(delivered).toHaveLength(3);
    expect(failed?.code).toBe('subscription_overflow');
  });

  it('rejects invalid options with a precise error', () => {
    expect(() => new SubscriberQueue('fail', 'x', { capacity: 0 })).toThrow(
      /capacity must be an integer >= 1/,
    );
    expect(() => new SubscriberQueue('fail', 'x', { authoritativeHeadroom: -1 })).toThrow(
      /authoritativeHeadroom/,
    );
  });

  it('is deterministic: the same operations give identical output, under both policies', () => {
    fc.assert(
      fc.property(
        opsArb,
        fc.integer({ min: 1, max: 16 }),
        fc.constantFrom('drop_telemetry', 'fail'),
        (ops, cap, policy) => {
          const a = run(ops, policy, cap);
          const b = run(ops, policy, cap);
          expect(b.delivered).toEqual(a.delivered);
          expect(b.failed).toEqual(a.failed);
        },
      ),
    );
  });

  it('never drops an authoritative event, and every gap is explained (drop_telemetry)', () => {
    fc.assert(
      fc.property(opsArb, fc.integer({ min: 1, max: 16 }), (ops, cap) => {
        const { pushed, delivered, failed } = run(ops, 'drop_telemetry', cap, 1_000);
        expect(failed).toBeUndefined();
        const deliveredIds = new Set(delivered.map((e) => e.event_id));
        for (const e of pushed)
          if (e.class === 'authoritative') expect(deliveredIds.has(e.event_id)).toBe(true);
        expect(streamViolations(delivered)).toEqual([]);
        const dropped = pushed.filter((e) => !deliveredIds.has(e.event_id)).length;
        const reported = delivered.reduce(
          (n, e) => n + (e.type === 'stream_overflow' ? e.payload.dropped : 0),
          0,
        );
        expect(reported).toBe(dropped);
      }),
    );
  });

  it('under fail, delivers a gapless prefix of what was pushed', () => {
    fc.assert(
      fc.property(opsArb, fc.integer({ min: 1, max: 16 }), (ops, cap) => {
        const { pushed, delivered } = run(ops, 'fail', cap);
        expect(delivered).toEqual(pushed.slice(0, delivered.length));
      }),
    );
  });
});
