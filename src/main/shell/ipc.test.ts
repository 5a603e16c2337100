import { afterEach, describe, expect, it } from 'vitest';
import {
  IPC_COMMAND_TYPES,
  IPC_EVENTS,
  IPC_INVOKE,
  IPC_PORT_CHANNEL,
  IpcEventBatch,
  type IpcCommandType,
  type IpcPushMessage,
  type IpcReply,
} from '../../shared/ipc';
import { COMMAND_TYPES } from '../../shared/commands';
import type { EventEnvelope } from '../../shared/protocol';
import { createTestRuntime, type TestRuntime } from '../runtime/testing/test-runtime';
import { registerIpcHandlers, type IpcInvokeEventLike, type IpcMainLike, type WebContentsLike } from './ipc';
import { portTransport, type MessagePortLike } from './push-transport';
import { VirtualFrameTimer } from './virtual-frame-timer';

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

class FakeContents implements WebContentsLike {
  readonly sent: { channel: string; payload: unknown; at: number }[] = [];
  now: () => number = () => 0;
  readonly posted: { channel: string; message: unknown; transfer: unknown[] }[] = [];
  destroyed = false;
  private onDestroyed: (() => void) | undefined;
  constructor(readonly id: number) {}
  send(channel: string, payload: unknown): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, payload, at: this.now() });
  }
  postMessage(channel: string, message: unknown, transfer: never[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.posted.push({ channel, message, transfer });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  once(_event: 'destroyed', listener: () => void): void {
    this.onDestroyed = listener;
  }
  private readonly onNavigation: ((d: { isMainFrame: boolean; isSameDocument: boolean }) => void)[] = [];
  on(
    _event: 'did-start-navigation',
    listener: (d: { isMainFrame: boolean; isSameDocument: boolean }) => void,
  ): void {
    this.onNavigation.push(listener);
  }
  navigate(isMainFrame: boolean, isSameDocument: boolean): void {
    for (const l of this.onNavigation) l({ isMainFrame, isSameDocument });
  }
  get navigationListeners(): number {
    return this.onNavigation.length;
  }
  destroy(): void {
    this.destroyed = true;
    this.onDestroyed?.();
  }
}

class FakePort implements MessagePortLike {
  readonly messages: unknown[] = [];
  closed = false;
  postMessage(message: unknown): void {
    if (this.closed) throw new Error('port closed');
    // Structured clone, as the real hop does: nothing non-cloneable may travel.
    this.messages.push(structuredClone(message));
  }
  close(): void {
    this.closed = true;
  }
}

const TRUSTED = 'file:///app/out/renderer/index.html';
let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

type Reply = IpcReply<Record<string, unknown>>;

function setup(options: Parameters<typeof registerIpcHandlers>[3] = {}) {
  t = createTestRuntime();
  const ipc = new FakeIpcMain();
  const timer = new VirtualFrameTimer();
  const unregister = registerIpcHandlers(ipc, t.runtime, (url) => url === TRUSTED, {
    timer,
    validateResults: true,
    ...options,
  });
  const contents = new FakeContents(1);
  contents.now = () => timer.now();
  const call = (type: IpcCommandType, url: string | null, ...args: unknown[]): Promise<Reply> => {
    const handler = ipc.handlers.get(IPC_INVOKE[type].channel);
    if (handler === undefined) throw new Error(`no handler for ${type}`);
    return handler({ sender: contents, senderFrameUrl: url }, ...args) as Promise<Reply>;
  };
  const invoke = (type: IpcCommandType, arg: unknown, url: string | null = TRUSTED): Promise<Reply> =>
    call(type, url, arg);
  /** Push messages sent over the channel transport. */
  const pushed = (): IpcPushMessage[] =>
    contents.sent.map(({ channel, payload }) => ({ channel, payload }) as IpcPushMessage);
  return { ipc, timer, unregister, contents, call, invoke, pushed };
}

const eventsOf = (messages: readonly IpcPushMessage[]): EventEnvelope[] =>
  messages.flatMap((m) => (m.channel === IPC_EVENTS.onEvents.channel ? m.payload.events : []));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function subscribedSession(s: ReturnType<typeof setup>): Promise<string> {
  const created = await s.invoke('session.create', {});
  if (!created.ok) throw new Error(created.error.message);
  const sessionId = created.result.session_id as string;
  expect(await s.invoke('session.subscribe', { session_id: sessionId, from_seq: 1 })).toMatchObject({
    ok: true,
  });
  await nextTurn();
  return sessionId;
}

describe('the IPC contract', () => {
  it('has one channel per command but the WebSocket connection’s own, prefixed, with distinct preload functions', () => {
    expect([...IPC_COMMAND_TYPES].sort()).toEqual(
      COMMAND_TYPES.filter((c) => c !== 'hello' && c !== 'auth.pair').sort(),
    );
    const channels = Object.values(IPC_INVOKE);
    expect(channels.every((c) => c.channel === `parley:${c.command}`)).toBe(true);
    expect(new Set(channels.map((c) => c.fn)).size).toBe(channels.length);
    for (const { channel } of Object.values(IPC_EVENTS)) expect(channel.startsWith('parley:')).toBe(true);
  });

  it('takes exactly the command’s fields as arguments', () => {
    const shapeKeys = (schema: unknown): string[] =>
      Object.keys((schema as { shape: Record<string, unknown> }).shape).sort();
    expect(shapeKeys(IPC_INVOKE['session.subscribe'].args)).toEqual([
      'from_seq',
      'overflow_policy',
      'session_id',
    ]);
    expect(shapeKeys(IPC_INVOKE['session.list'].args)).toEqual([]);
    expect(IPC_INVOKE['turn.start'].args.safeParse({ session_id: 's', text: 'hi', type: 'x' })).toMatchObject(
      {
        success: true,
        data: { session_id: 's', text: 'hi' },
      },
    );
  });

  it('refuses an event batch mixing sessions', () => {
    const batch = { session_id: 's1', events: [] };
    expect(IpcEventBatch.safeParse(batch).success).toBe(false);
  });
});

describe('registerIpcHandlers', () => {
  it('registers exactly the contract’s channels and removes them on dispose', () => {
    const { ipc, unregister } = setup();
    expect([...ipc.handlers.keys()].sort()).toEqual(
      Object.values(IPC_INVOKE)
        .map((c) => c.channel)
        .sort(),
    );
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('runs a turn over IPC and pushes its events in per-frame batches, in order, each once', async () => {
    const s = setup();
    const sessionId = await subscribedSession(s);
    expect(await s.invoke('turn.start', { session_id: sessionId, text: 'Hello over IPC' })).toMatchObject({
      ok: true,
    });
    await t?.runtime.manager.get(sessionId).whenIdle();
    // Until the frame timer runs, nothing is pushed.
    expect(s.pushed()).toHaveLength(0);
    s.timer.advance(16);
    const messages = s.pushed();
    const events = eventsOf(messages);
    expect(messages.length).toBeLessThan(events.length);
    expect(messages.every((m) => IPC_EVENTS.onEvents.payload.safeParse(m.payload).success)).toBe(true);
    expect(events[0]?.type).toBe('session_started');
    expect(events.at(-1)?.type).toBe('commit_succeeded');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // The authority plane's read commands answer over IPC too (verify is asynchronous).
    expect(await s.invoke('world.get', { session_id: sessionId })).toMatchObject({
      ok: true,
      result: { session_id: sessionId },
    });
    expect(await s.invoke('ledger.commits', { session_id: sessionId })).toMatchObject({
      ok: true,
      result: { commits: [{ commit_seq: 1 }], more: false },
    });
    expect(await s.invoke('ledger.verify', { session_id: sessionId })).toMatchObject({
      ok: true,
      result: { ok: true, commits_checked: 1 },
    });
  });

  it('drives the model pool and NPC settings over IPC', async () => {
    const { invoke } = setup();
    const mira = { backend: 'scripted', model_id: 'wayside-mira' };
    expect(await invoke('models.load', { model: mira })).toMatchObject({ ok: true, result: { model: mira } });
    await expect
      .poll(async () => {
        const status = await invoke('models.status', {});
        return status.ok ? (status.result.models as { state: string }[])[0]?.state : status.error.code;
      })
      .toBe('ready');
    expect(await invoke('models.config.set', { changes: { max_loaded: 3 } })).toMatchObject({
      ok: true,
      result: { max_loaded: 3 },
    });
    expect(await invoke('models.unload', { model: mira })).toMatchObject({
      ok: true,
      result: { unloaded: true },
    });
    expect(await invoke('models.unload', { model: mira })).toMatchObject({
      ok: false,
      error: { code: 'unknown_model' },
    });
    // What discovery finds depends on the machine (an embedded model may be present).
    expect(await invoke('models.list', {})).toMatchObject({
      ok: true,
      result: { models: expect.any(Array) as unknown[] },
    });
    const set = await invoke('npc.settings.set', {
      scenario_id: 'wayside-inn',
      npc_id: 'mira',
      sampling: { temperature: 0.2 },
    });
    expect(set).toMatchObject({ ok: true, result: { source: 'designer', sampling: { temperature: 0.2 } } });
    const got = await invoke('npc.settings.get', { scenario_id: 'wayside-inn' });
    expect(got).toMatchObject({ ok: true, result: { settings: [{ npc_id: 'mira' }, { npc_id: 'wren' }] } });
  });

  it('refuses untrusted frames before looking at the arguments', async () => {
    const { invoke } = setup();
    for (const url of ['https://evil.example/', null])
      expect(await invoke('session.create', { scenario_id: 5 }, url)).toEqual({
        ok: false,
        error: {
          code: 'unauthorized',
          message: 'IPC from an untrusted frame refused on parley:session.create',
        },
      });
    expect(t?.runtime.manager.list()).toHaveLength(0);
  });

  it('refuses invalid arguments with a message naming the field', async () => {
    const { invoke, call } = setup();
    const bad = await invoke('turn.start', { session_id: 5 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_command' } });
    if (bad.ok) throw new Error('accepted');
    expect(bad.error.message).toMatch(/^invalid turn\.start: session_id: .+; text: .+$/);
    expect(await invoke('models.config.set', { changes: { max_loaded: 0 } })).toMatchObject({
      ok: false,
      error: {
        code: 'invalid_command',
        message: expect.stringMatching(/^invalid models\.config\.set: changes\.max_loaded/) as string,
      },
    });
    expect(await invoke('session.list', 'sessions please')).toMatchObject({
      ok: false,
      error: {
        code: 'invalid_command',
        message: expect.stringMatching(/^invalid session\.list: /) as string,
      },
    });
    expect(await call('session.list', TRUSTED, {}, {})).toEqual({
      ok: false,
      error: { code: 'invalid_command', message: 'invalid session.list: takes one argument, got 2' },
    });
    // No argument at all is an empty one.
    expect(await call('session.list', TRUSTED)).toMatchObject({ ok: true, result: { sessions: [] } });
  });

  it('maps runtime errors to plain { code, message } values', async () => {
    const { invoke } = setup();
    for (const [type, arg, code] of [
      ['turn.start', { session_id: 'missing', text: 'x' }, 'unknown_session'],
      ['ledger.verify', { session_id: 'missing' }, 'unknown_session'],
      ['session.create', { scenario_id: 'nowhere' }, 'unknown_scenario'],
      ['session.unsubscribe', { session_id: 'missing' }, 'not_subscribed'],
    ] as const) {
      const reply = await invoke(type, arg);
      expect(reply).toMatchObject({ ok: false, error: { code, message: expect.any(String) as string } });
      // Plain data only: it survives structured clone unchanged.
      expect(structuredClone(reply)).toEqual(reply);
    }
  });

  it('answers internal when a result does not match the contract (validateResults)', async () => {
    const { invoke } = setup();
    const runtime = t?.runtime;
    if (runtime === undefined) throw new Error('no runtime');
    runtime.agents.status = () => ({ broken: true }) as never;
    expect(await invoke('agents.status', {})).toMatchObject({
      ok: false,
      error: {
        code: 'internal',
        message: expect.stringMatching(/^agents\.status: result does not match the contract/) as string,
      },
    });
  });

  it('ends the subscriptions of a destroyed window and drops its pending events without throwing', async () => {
    const s = setup();
    const sessionId = await subscribedSession(s);
    expect(t?.runtime.manager.get(sessionId).subscriberCount).toBe(1);
    await s.invoke('turn.start', { session_id: sessionId, text: 'Hello' });
    await t?.runtime.manager.get(sessionId).whenIdle();
    expect(() => {
      s.contents.destroy();
    }).not.toThrow();
    expect(t?.runtime.manager.get(sessionId).subscriberCount).toBe(0);
    expect(() => {
      s.timer.advance(1_000);
      s.unregister();
    }).not.toThrow();
    expect(s.timer.pending).toBe(0);
  });

  it('a reload ends the old page’s subscriptions, so the new page can subscribe again', async () => {
    const s = setup();
    const sessionId = await subscribedSession(s);
    // In-page navigation (a fragment change) and subframes keep the page.
    s.contents.navigate(true, true);
    s.contents.navigate(false, false);
    expect(t?.runtime.manager.get(sessionId).subscriberCount).toBe(1);
    expect((await s.invoke('session.subscribe', { session_id: sessionId })).ok).toBe(false);
    s.contents.navigate(true, false);
    expect(t?.runtime.manager.get(sessionId).subscriberCount).toBe(0);
    expect(await s.invoke('session.subscribe', { session_id: sessionId })).toMatchObject({ ok: true });
    await nextTurn();
    expect(t?.runtime.manager.get(sessionId).subscriberCount).toBe(1);
    // One listener per window, however many pages it showed.
    expect(s.contents.navigationListeners).toBe(1);
  });

  it('flushes pending events when unregistered', async () => {
    const s = setup();
    const sessionId = await subscribedSession(s);
    await s.invoke('turn.start', { session_id: sessionId, text: 'Hello' });
    await t?.runtime.manager.get(sessionId).whenIdle();
    s.unregister();
    expect(eventsOf(s.pushed()).at(-1)?.type).toBe('commit_succeeded');
    expect(s.timer.pending).toBe(0);
  });

  it('applies back-pressure: past maxPendingEvents the subscription waits for the next frame', async () => {
    const s = setup({ maxPendingEvents: 3 });
    const sessionId = await subscribedSession(s);
    await s.invoke('turn.start', { session_id: sessionId, text: 'Hello' });
    await t?.runtime.manager.get(sessionId).whenIdle();
    const session = t?.runtime.manager.get(sessionId);
    const total = session?.summary().last_seq ?? 0;
    expect(total).toBeGreaterThan(6);
    for (let ms = 0; ms < total * 16 && eventsOf(s.pushed()).length < total; ms++) s.timer.advance(1);
    // Virtual milliseconds at which each batch left.
    const sentAt = s.contents.sent.map((m) => m.at);
    const batches = s
      .pushed()
      .map((m) => (m.channel === IPC_EVENTS.onEvents.channel ? m.payload.events.length : 0));
    // The batch that hits the cap carries it, never more; a batch per frame interval; none lost, none twice.
    expect(Math.max(...batches)).toBe(3);
    expect(sentAt.slice(1).every((at, i) => at - (sentAt[i] ?? 0) >= 16)).toBe(true);
    expect(eventsOf(s.pushed()).map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('can push over a MessagePort: one port per window, handed over once, messages in order', async () => {
    const ports: FakePort[] = [];
    const s = setup({
      transport: portTransport(() => {
        const pair = { port1: new FakePort(), port2: new FakePort() };
        ports.push(pair.port1);
        return pair;
      }),
    });
    const sessionId = await subscribedSession(s);
    await s.invoke('turn.start', { session_id: sessionId, text: 'Hello' });
    await t?.runtime.manager.get(sessionId).whenIdle();
    s.timer.advance(16);
    await s.invoke('turn.start', { session_id: sessionId, text: 'Again' });
    await t?.runtime.manager.get(sessionId).whenIdle();
    s.timer.advance(16);
    expect(s.contents.sent).toHaveLength(0);
    expect(s.contents.posted.map((p) => [p.channel, p.message, p.transfer.length])).toEqual([
      [IPC_PORT_CHANNEL, null, 1],
    ]);
    expect(ports).toHaveLength(1);
    const events = eventsOf(ports[0]?.messages as IpcPushMessage[]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'turn_accepted')).toHaveLength(2);
    s.contents.destroy();
    expect(ports[0]?.closed).toBe(true);
  });
});
