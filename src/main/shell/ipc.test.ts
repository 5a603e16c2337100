import { afterEach, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, IPC_EVENT_CHANNEL, type IpcReply } from '../../shared/ipc';
import type { EventEnvelope } from '../../shared/protocol';
import { createTestRuntime, type TestRuntime } from '../runtime/testing/test-runtime';
import { registerIpcHandlers, type IpcInvokeEventLike, type IpcMainLike, type WebContentsLike } from './ipc';

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
  readonly sent: { channel: string; payload: unknown }[] = [];
  private onDestroyed: (() => void) | undefined;
  constructor(readonly id: number) {}
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  isDestroyed(): boolean {
    return false;
  }
  once(_event: 'destroyed', listener: () => void): void {
    this.onDestroyed = listener;
  }
  destroy(): void {
    this.onDestroyed?.();
  }
}

const TRUSTED = 'file:///app/out/renderer/index.html';
let t: TestRuntime;
afterEach(async () => {
  await t.dispose();
});

function setup() {
  t = createTestRuntime();
  const ipc = new FakeIpcMain();
  const unregister = registerIpcHandlers(ipc, t.runtime, (url) => url === TRUSTED);
  const contents = new FakeContents(1);
  const invoke = (type: keyof typeof IPC_CHANNELS, arg: unknown, url: string | null = TRUSTED) => {
    const handler = ipc.handlers.get(IPC_CHANNELS[type]);
    if (handler === undefined) throw new Error(`no handler for ${type}`);
    return handler({ sender: contents, senderFrameUrl: url }, arg) as Promise<
      IpcReply<Record<string, unknown>>
    >;
  };
  return { ipc, unregister, contents, invoke };
}

describe('registerIpcHandlers', () => {
  it('registers exactly the prefixed command channels and removes them on dispose', () => {
    const { ipc, unregister } = setup();
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.values(IPC_CHANNELS).sort());
    expect([...ipc.handlers.keys()].every((c) => c.startsWith('parley:'))).toBe(true);
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('runs a turn over IPC and pushes events to the sender', async () => {
    const { invoke, contents } = setup();
    const created = await invoke('session.create', {});
    if (!created.ok) throw new Error(created.error.message);
    const sessionId = created.result.session_id as string;
    expect((await invoke('session.subscribe', { session_id: sessionId, from_seq: 1 })).ok).toBe(true);
    expect(await invoke('turn.start', { session_id: sessionId, text: 'Hello over IPC' })).toMatchObject({
      ok: true,
    });
    await t.runtime.manager.get(sessionId).whenIdle();
    await new Promise((r) => setImmediate(r));
    const events = contents.sent
      .filter((m) => m.channel === IPC_EVENT_CHANNEL)
      .map((m) => m.payload as EventEnvelope);
    expect(events[0]?.type).toBe('session_started');
    expect(events.at(-1)?.type).toBe('commit_succeeded');
    // The authority plane's read commands answer over IPC too (verify is asynchronous).
    const world = await invoke('world.get', { session_id: sessionId });
    expect(world).toMatchObject({ ok: true, result: { session_id: sessionId } });
    const commits = await invoke('ledger.commits', { session_id: sessionId });
    expect(commits).toMatchObject({ ok: true, result: { commits: [{ commit_seq: 1 }], more: false } });
    expect(await invoke('ledger.verify', { session_id: sessionId })).toMatchObject({
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
    expect(await invoke('models.config.set', { changes: { max_loaded: 0 } })).toMatchObject({
      ok: false,
      error: { code: 'invalid_command' },
    });
  });

  it('refuses untrusted frames and invalid arguments with plain { code, message } errors', async () => {
    const { invoke } = setup();
    expect(await invoke('session.create', {}, 'https://evil.example/')).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(await invoke('session.create', {}, null)).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(await invoke('turn.start', { session_id: 5 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_command' },
    });
    expect(await invoke('turn.start', { session_id: 'missing', text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'unknown_session' },
    });
    expect(await invoke('ledger.verify', { session_id: 'missing' })).toMatchObject({
      ok: false,
      error: { code: 'unknown_session' },
    });
    expect(await invoke('session.create', { scenario_id: 'nowhere' })).toMatchObject({
      ok: false,
      error: { code: 'unknown_scenario' },
    });
    expect(t.runtime.manager.list()).toHaveLength(0);
  });

  it('ends the subscriptions of a destroyed renderer', async () => {
    const { invoke, contents } = setup();
    const created = await invoke('session.create', {});
    if (!created.ok) throw new Error('create failed');
    const sessionId = created.result.session_id as string;
    await invoke('session.subscribe', { session_id: sessionId });
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        expect(t.runtime.manager.get(sessionId).subscriberCount).toBe(1);
        contents.destroy();
        expect(t.runtime.manager.get(sessionId).subscriberCount).toBe(0);
        resolve();
      });
    });
  });
});
