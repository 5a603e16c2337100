import { describe, expect, it } from 'vitest';
import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { envelopes, MODEL, sessionSummary } from '../testing/envelopes';
import { MIRA_MODEL, npcSetting } from '../testing/model-fixtures';
import { FakeServer, ManualTimers, settle } from '../testing/fake-socket';
import type { Credential } from './page-location';
import { BridgeError, type BridgeStatus } from './types';
import { WsBridge } from './ws-bridge';

const SUMMARY = sessionSummary('s1');

function setup(options: { credential?: Credential | null } = {}) {
  const server = new FakeServer();
  const timers = new ManualTimers();
  const invalid: string[] = [];
  const stored: (string | null)[] = [];
  const bridge = new WsBridge({
    url: 'ws://127.0.0.1:1/v1/stream',
    credential: options.credential === undefined ? { kind: 'token', value: 'secret' } : options.credential,
    tokens: {
      save: (token) => stored.push(token),
      forget: () => stored.push(null),
    },
    createSocket: server.factory,
    delay: timers.delay,
    onInvalidFrame: (reason) => invalid.push(reason),
  });
  const statuses: BridgeStatus[] = [];
  const events: EventEnvelope[] = [];
  const ended: SubscriptionEndedFrame[] = [];
  bridge.onStatus((s) => statuses.push(s));
  bridge.onEvent((e) => events.push(e));
  bridge.onSubscriptionEnded((f) => ended.push(f));
  return {
    server,
    timers,
    bridge,
    statuses,
    events,
    ended,
    invalid,
    stored,
    states: () => statuses.map((s) => s.state),
  };
}

async function rejection(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('WsBridge handshake', () => {
  it('sends hello with the protocol version and token first, then reports connected', () => {
    const { server, states } = setup();
    expect(server.last.url).toBe('ws://127.0.0.1:1/v1/stream');
    server.last.open();
    expect(server.last.sent).toEqual([
      { type: 'hello', id: expect.any(String) as string, protocol: 1, token: 'secret', batch: true },
    ]);
    expect(states()).toEqual(['connecting']);
    server.last.handshake();
    expect(states()).toEqual(['connecting', 'connected']);
  });

  it('queues requests made during the handshake and sends them after it', async () => {
    const { server, bridge } = setup();
    const listed = bridge.request({ type: 'session.list' });
    server.last.open();
    expect(server.last.sentOf('session.list')).toHaveLength(0);
    server.last.handshake();
    expect(server.last.sentOf('session.list')).toHaveLength(1);
    server.last.answer('session.list', { sessions: [SUMMARY] });
    await expect(listed).resolves.toEqual({ sessions: [SUMMARY] });
  });

  it('pairs with a one-time code, keeps the token it is given, and reconnects with that token', () => {
    const { server, timers, stored } = setup({ credential: { kind: 'pair', value: 'code1' } });
    server.last.open();
    expect(server.last.lastSent('hello')).toMatchObject({ pair: 'code1' });
    expect(server.last.lastSent('hello')).not.toHaveProperty('token');
    server.last.handshake({ token: 'launch-token' });
    expect(stored).toEqual(['launch-token']);
    server.last.drop();
    timers.fireNext();
    server.last.open();
    expect(server.last.lastSent('hello')).toMatchObject({ token: 'launch-token' });
    expect(server.last.lastSent('hello')).not.toHaveProperty('pair');
  });

  it('forgets a kept token the server refuses, and says the server may have restarted', () => {
    const { server, stored, statuses } = setup();
    server.last.open();
    server.last.fail('hello', 'unauthorized', 'wrong token');
    expect(stored).toEqual([null]);
    expect(statuses.at(-1)?.error?.message).toMatch(/restarted.*npm run pair/);
  });

  it('unpacks event batches in order and resumes after their last seq', () => {
    const { server, timers, bridge, events } = setup();
    server.last.handshake();
    void bridge.request({ type: 'session.subscribe', session_id: 's1' });
    server.last.answer('session.subscribe', {
      session_id: 's1',
      from_seq: 1,
      overflow_policy: 'drop_telemetry',
    });
    const ev = envelopes('s1');
    const batch = [
      ev('token_delta', 't1', { index: 0, text: 'a' }),
      ev('token_delta', 't1', { index: 1, text: 'b' }),
    ];
    server.last.receive({ type: 'event.batch', events: batch });
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    server.last.drop();
    timers.fireNext();
    server.last.handshake();
    expect(server.last.lastSent('session.subscribe')).toMatchObject({ session_id: 's1', from_seq: 3 });
  });

  it('stays closed without a credential and says why', async () => {
    const { server, bridge, statuses } = setup({ credential: null });
    expect(server.sockets).toHaveLength(0);
    expect(statuses).toEqual([
      { state: 'closed', error: expect.objectContaining({ code: 'unauthorized' }) as unknown },
    ]);
    expect((await rejection(bridge.request({ type: 'session.list' }))).code).toBe('not_connected');
  });

  it('closes for good when the pairing code is refused', async () => {
    const { server, timers, bridge, statuses } = setup({ credential: { kind: 'pair', value: 'used' } });
    const queued = bridge.request({ type: 'session.list' });
    server.last.open();
    server.last.fail('hello', 'unauthorized', 'bad token');
    expect(statuses.at(-1)).toEqual({
      state: 'closed',
      error: { code: 'unauthorized', message: 'bad token' },
    });
    expect(server.last.closedWith).not.toBeNull();
    expect(timers.waiting).toEqual([]);
    expect((await rejection(queued)).code).toBe('unauthorized');
  });
});

describe('WsBridge requests', () => {
  it('correlates answers by id, whatever their order', async () => {
    const { server, bridge } = setup();
    server.last.handshake();
    const created = bridge.request({ type: 'session.create' });
    const started = bridge.request({ type: 'turn.start', session_id: 's1', text: 'hi' });
    const [create, start] = server.last.sent.slice(1);
    server.last.receive({
      type: 'result',
      id: start?.id,
      command: 'turn.start',
      result: { turn_id: 't1', accepted: true },
    });
    server.last.receive({ type: 'result', id: create?.id, command: 'session.create', result: SUMMARY });
    await expect(started).resolves.toEqual({ turn_id: 't1', accepted: true });
    await expect(created).resolves.toEqual(SUMMARY);
    expect(start).toEqual({
      type: 'turn.start',
      id: expect.any(String) as string,
      session_id: 's1',
      text: 'hi',
    });
  });

  it('sends the local-models commands as frames and validates their results', async () => {
    const { server, bridge } = setup();
    server.last.handshake();
    const set = bridge.request({
      type: 'npc.settings.set',
      scenario_id: 'wayside-inn',
      npc_id: 'mira',
      model: null,
      sampling: { temperature: 0.2 },
    });
    expect(server.last.sent.at(-1)).toEqual({
      type: 'npc.settings.set',
      id: expect.any(String) as string,
      scenario_id: 'wayside-inn',
      npc_id: 'mira',
      model: null,
      sampling: { temperature: 0.2 },
    });
    const setting = npcSetting('mira', MIRA_MODEL, { source: 'designer' });
    server.last.answer('npc.settings.set', setting);
    await expect(set).resolves.toEqual(setting);
    const unloaded = bridge.request({ type: 'models.unload', model: MIRA_MODEL });
    server.last.answer('models.unload', { model: MIRA_MODEL, unloaded: 'yes' });
    expect((await rejection(unloaded)).code).toBe('invalid_response');
  });

  it('rejects with the server error code, message and details', async () => {
    const { server, bridge } = setup();
    server.last.handshake();
    const subscribed = bridge.request({ type: 'session.subscribe', session_id: 'gone' });
    server.last.fail('session.subscribe', 'resume_gap', 'too old', { oldest_seq: 40 });
    const error = await rejection(subscribed);
    expect(error).toMatchObject({ code: 'resume_gap', message: 'too old', details: { oldest_seq: 40 } });
  });

  it('rejects a result that does not match the contract', async () => {
    const { server, bridge } = setup();
    server.last.handshake();
    const started = bridge.request({ type: 'turn.start', session_id: 's1', text: 'x' });
    server.last.answer('turn.start', { turn_id: 7 });
    expect((await rejection(started)).code).toBe('invalid_response');
  });

  it('drops frames that are not JSON or not in the contract, and keeps working', async () => {
    const { server, bridge, events, invalid } = setup();
    server.last.handshake();
    server.last.receive('{nope');
    server.last.receive({ type: 'token_delta', seq: 'one' });
    server.last.receive({ type: 'result', id: 'nobody', command: 'session.list', result: {} });
    expect(invalid).toHaveLength(3);
    expect(events).toEqual([]);
    const listed = bridge.request({ type: 'session.list' });
    server.last.answer('session.list', { sessions: [] });
    await expect(listed).resolves.toEqual({ sessions: [] });
  });
});

describe('WsBridge events', () => {
  it('delivers validated events and subscription.ended frames', () => {
    const { server, events, ended } = setup();
    server.last.handshake();
    const ev = envelopes('s1');
    const accepted = ev('turn_accepted', 't1', { text: 'hi', model: MODEL });
    server.last.receive(accepted);
    const endedFrame = {
      type: 'subscription.ended',
      session_id: 's1',
      last_seq: 1,
      error: { code: 'subscription_overflow', message: 'full' },
    };
    server.last.receive(endedFrame);
    expect(events).toEqual([accepted]);
    expect(ended).toEqual([endedFrame]);
  });
});

describe('WsBridge reconnect', () => {
  it('backs off exponentially up to the cap, and resets after a successful handshake', () => {
    const { server, timers, states } = setup();
    server.last.drop();
    expect(states().at(-1)).toBe('reconnecting');
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(timers.fireNext());
      server.last.drop();
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    timers.fireNext();
    server.last.handshake();
    server.last.drop();
    expect(timers.waiting).toEqual([250]);
    expect(server.sockets).toHaveLength(10);
  });

  it('rejects in-flight requests with connection_lost and refuses new ones while waiting', async () => {
    const { server, bridge } = setup();
    server.last.handshake();
    const started = bridge.request({ type: 'turn.start', session_id: 's1', text: 'hi' });
    server.last.drop(1001, 'going away');
    const lost = await rejection(started);
    expect(lost.code).toBe('connection_lost');
    expect(lost.message).toContain('going away');
    expect((await rejection(bridge.request({ type: 'session.list' }))).code).toBe('not_connected');
  });

  it('resubscribes each open subscription from the last seen seq + 1 with its policy', async () => {
    const { server, timers, bridge, events } = setup();
    server.last.handshake();
    const a = bridge.request({ type: 'session.subscribe', session_id: 'a', overflow_policy: 'fail' });
    server.last.answer('session.subscribe', { session_id: 'a', from_seq: 1, overflow_policy: 'fail' });
    const b = bridge.request({ type: 'session.subscribe', session_id: 'b', from_seq: 5 });
    server.last.answer('session.subscribe', {
      session_id: 'b',
      from_seq: 5,
      overflow_policy: 'drop_telemetry',
    });
    const c = bridge.request({ type: 'session.subscribe', session_id: 'c' });
    server.last.answer('session.subscribe', {
      session_id: 'c',
      from_seq: 1,
      overflow_policy: 'drop_telemetry',
    });
    await Promise.all([a, b, c]);
    const evA = envelopes('a');
    for (let i = 0; i < 3; i++) server.last.receive(evA('token_delta', 't1', { index: i, text: 'x' }));
    const unsubscribed = bridge.request({ type: 'session.unsubscribe', session_id: 'c' });
    server.last.answer('session.unsubscribe', { session_id: 'c' });
    await unsubscribed;

    server.last.drop();
    timers.fireNext();
    server.last.handshake();

    const resumed = server.last
      .sentOf('session.subscribe')
      .map(({ session_id, from_seq, overflow_policy }) => ({
        session_id,
        from_seq,
        overflow_policy,
      }));
    expect(resumed).toEqual([
      { session_id: 'a', from_seq: 4, overflow_policy: 'fail' },
      { session_id: 'b', from_seq: 5, overflow_policy: 'drop_telemetry' },
    ]);
    expect(events).toHaveLength(3);
  });

  it('reports a subscription that cannot be resumed as ended', async () => {
    const { server, timers, bridge, ended } = setup();
    server.last.handshake();
    const a = bridge.request({ type: 'session.subscribe', session_id: 'a', from_seq: 10 });
    server.last.answer('session.subscribe', {
      session_id: 'a',
      from_seq: 10,
      overflow_policy: 'drop_telemetry',
    });
    await a;
    server.last.drop();
    timers.fireNext();
    server.last.handshake();
    server.last.fail('session.subscribe', 'resume_gap', 'gone', { oldest_seq: 50 });
    await settle();
    expect(ended).toEqual([
      {
        type: 'subscription.ended',
        session_id: 'a',
        last_seq: 9,
        error: { code: 'resume_gap', message: 'gone', details: { oldest_seq: 50 } },
      },
    ]);
  });

  it('ignores a socket it has already replaced', () => {
    const { server, timers, events } = setup();
    const first = server.last;
    first.drop();
    timers.fireNext();
    first.receive(envelopes('s1')('session_closed', null, { reason: 'late' }));
    first.drop();
    expect(events).toEqual([]);
    expect(timers.waiting).toEqual([]);
    expect(server.sockets).toHaveLength(2);
  });
});

describe('WsBridge dispose', () => {
  it('closes the socket, cancels the retry and rejects what is pending', async () => {
    const { server, timers, bridge, statuses } = setup();
    server.last.handshake();
    const pending = bridge.request({ type: 'session.list' });
    bridge.dispose();
    expect(server.last.closedWith).toEqual({ code: 1000, reason: 'client disposed' });
    expect((await rejection(pending)).code).toBe('disposed');
    expect(statuses.at(-1)).toEqual({ state: 'closed', error: null });
    expect(timers.waiting).toEqual([]);
    expect(server.sockets).toHaveLength(1);
  });

  it('cancels a reconnect that is waiting', () => {
    const { server, timers, bridge } = setup();
    server.last.drop();
    expect(timers.waiting).toHaveLength(1);
    bridge.dispose();
    expect(timers.waiting).toEqual([]);
  });

  it('rejects an invalid backoff configuration', () => {
    expect(
      () =>
        new WsBridge({
          url: 'ws://x',
          credential: { kind: 'token', value: 't' },
          reconnectInitialMs: 500,
          reconnectMaxMs: 100,
          createSocket: new FakeServer().factory,
        }),
    ).toThrow(RangeError);
  });
});
