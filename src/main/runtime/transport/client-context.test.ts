import { afterEach, describe, expect, it } from 'vitest';
import { Command, type ResultOf } from '../../../shared/commands';
import { RuntimeError } from '../core/errors';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { ClientContext, type Executable } from './client-context';

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const sink = { sendEvent: () => true, sendControl: () => undefined };

/** Parses like a transport does (defaults applied), then executes. */
function events(client: ClientContext, args: Record<string, unknown>): ResultOf<'session.events'> {
  const command = Command.parse({ type: 'session.events', ...args }) as Executable;
  const executed = client.execute(command);
  if (executed instanceof Promise) throw new Error('session.events answers synchronously');
  return executed.result as ResultOf<'session.events'>;
}

const seqs = (result: ResultOf<'session.events'>) => result.events.map((e) => e.seq);

describe('session.events', () => {
  it('pages backwards through the buffered events, ascending within a page', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    for (const line of ['Hello.', 'Any rooms?']) {
      s.session.startTurn(line);
      await s.session.whenIdle();
    }
    const client = new ClientContext(t.runtime, sink, 'test');
    const total = s.events.length;
    expect(total).toBeGreaterThan(10);

    const newest = events(client, { session_id: s.session.id, limit: 4 });
    expect(newest).toMatchObject({ session_id: s.session.id, oldest_buffered_seq: 1, more: true });
    expect(seqs(newest)).toEqual([total - 3, total - 2, total - 1, total]);
    expect(newest.events).toEqual(s.events.slice(-4));

    const older = events(client, { session_id: s.session.id, before_seq: total - 3, limit: 4 });
    expect(seqs(older)).toEqual([total - 7, total - 6, total - 5, total - 4]);

    const first = events(client, { session_id: s.session.id, before_seq: 4 });
    expect(seqs(first)).toEqual([1, 2, 3]);
    expect(first.more).toBe(false);
    expect(events(client, { session_id: s.session.id, before_seq: 1 })).toMatchObject({
      events: [],
      more: false,
    });
    // Default limit 500 covers this short session.
    expect(seqs(events(client, { session_id: s.session.id }))).toHaveLength(total);
  });

  it('serves only what the session still buffers and says where the buffer starts', async () => {
    t = createTestRuntime({ eventLogCapacity: 8 });
    const s = t.openSession();
    s.session.startTurn('Hello.');
    await s.session.whenIdle();
    const total = s.events.length;
    const client = new ClientContext(t.runtime, sink, 'test');
    const page = events(client, { session_id: s.session.id, before_seq: total, limit: 100 });
    expect(page.oldest_buffered_seq).toBe(total - 7);
    expect(seqs(page)).toEqual([total - 7, total - 6, total - 5, total - 4, total - 3, total - 2, total - 1]);
    expect(page.more).toBe(false);
    expect(events(client, { session_id: s.session.id, before_seq: 2 }).events).toEqual([]);
  });

  it('refuses an unknown session and a limit out of 1..1000', () => {
    t = createTestRuntime();
    const client = new ClientContext(t.runtime, sink, 'test');
    let error: unknown;
    try {
      events(client, { session_id: 'nope' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('unknown_session');
    expect(Command.safeParse({ type: 'session.events', session_id: 's', limit: 0 }).success).toBe(false);
    expect(Command.safeParse({ type: 'session.events', session_id: 's', limit: 1001 }).success).toBe(false);
    expect(Command.safeParse({ type: 'session.events', session_id: 's', limit: 1000 }).success).toBe(true);
  });
});
