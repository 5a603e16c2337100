import { describe, expect, it } from 'vitest';
import { IPC_EVENTS, IPC_INVOKE, IPC_PORT_CHANNEL, type IpcEventBatch } from '../shared/ipc';
import { createPreloadApi, type IpcRendererLike, type PreloadPortLike } from './api';

class FakeIpcRenderer implements IpcRendererLike {
  readonly invoked: [string, unknown][] = [];
  readonly listeners = new Map<string, (ports: readonly PreloadPortLike[], payload: unknown) => void>();
  invoke(channel: string, arg: unknown): Promise<unknown> {
    this.invoked.push([channel, arg]);
    return Promise.resolve({ ok: true, result: channel });
  }
  on(channel: string, listener: (ports: readonly PreloadPortLike[], payload: unknown) => void): void {
    if (this.listeners.has(channel)) throw new Error(`second listener on ${channel}`);
    this.listeners.set(channel, listener);
  }
  push(channel: string, payload: unknown, ports: readonly PreloadPortLike[] = []): void {
    this.listeners.get(channel)?.(ports, payload);
  }
}

class FakePort implements PreloadPortLike {
  onmessage: ((event: { readonly data: unknown }) => void) | null = null;
  closed = false;
  close(): void {
    this.closed = true;
  }
  deliver(data: unknown): void {
    this.onmessage?.({ data });
  }
}

const BATCH = { session_id: 's1', events: [] } as unknown as IpcEventBatch;

describe('createPreloadApi', () => {
  it('exposes one function per contract channel and nothing else', () => {
    const api = createPreloadApi(new FakeIpcRenderer());
    const expected = [...Object.values(IPC_INVOKE).map((c) => c.fn), ...Object.keys(IPC_EVENTS)];
    expect(Object.keys(api).sort()).toEqual(expected.sort());
    expect(Object.values(api).every((value) => typeof value === 'function')).toBe(true);
  });

  it('sends each command on its own channel with the arguments as given', async () => {
    const ipc = new FakeIpcRenderer();
    const api = createPreloadApi(ipc) as unknown as Record<string, (args: unknown) => Promise<unknown>>;
    for (const { fn, channel } of Object.values(IPC_INVOKE)) {
      const args = { probe: fn };
      await expect(api[fn]?.(args)).resolves.toEqual({ ok: true, result: channel });
      expect(ipc.invoked.at(-1)).toEqual([channel, args]);
    }
    expect(ipc.invoked).toHaveLength(Object.keys(IPC_INVOKE).length);
  });

  it('hands push messages from the channels to the callbacks until they are removed', () => {
    const ipc = new FakeIpcRenderer();
    const api = createPreloadApi(ipc);
    const batches: unknown[] = [];
    const ended: unknown[] = [];
    const off = api.onEvents((b) => batches.push(b));
    api.onSubscriptionEnded((f) => ended.push(f));
    ipc.push(IPC_EVENTS.onEvents.channel, BATCH);
    ipc.push(IPC_EVENTS.onSubscriptionEnded.channel, { type: 'subscription.ended' });
    off();
    ipc.push(IPC_EVENTS.onEvents.channel, BATCH);
    expect(batches).toEqual([BATCH]);
    expect(ended).toEqual([{ type: 'subscription.ended' }]);
  });

  it('keeps a handed-over port to itself and dispatches its messages by channel, in order', () => {
    const ipc = new FakeIpcRenderer();
    const api = createPreloadApi(ipc);
    const seen: string[] = [];
    api.onEvents(() => seen.push('events'));
    api.onSubscriptionEnded(() => seen.push('ended'));
    const first = new FakePort();
    ipc.push(IPC_PORT_CHANNEL, null, [first]);
    first.deliver({ channel: IPC_EVENTS.onEvents.channel, payload: BATCH });
    first.deliver({ channel: IPC_EVENTS.onSubscriptionEnded.channel, payload: {} });
    first.deliver({ channel: 'parley:session.create', payload: {} });
    first.deliver('not a push message');
    expect(seen).toEqual(['events', 'ended']);
    const second = new FakePort();
    ipc.push(IPC_PORT_CHANNEL, null, [second]);
    expect(first.closed).toBe(true);
    second.deliver({ channel: IPC_EVENTS.onEvents.channel, payload: BATCH });
    expect(seen).toEqual(['events', 'ended', 'events']);
  });
});
