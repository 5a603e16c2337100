/**
 * `window.parley`, built from the IPC contract: one function per invoke channel and one per push
 * channel, nothing generic (no `invoke`, `send` or `on` that takes a channel name). Kept apart from
 * `index.ts` (which imports electron) so tests can build it over a fake `ipcRenderer`.
 */
import {
  IPC_EVENTS,
  IPC_INVOKE,
  IPC_PORT_CHANNEL,
  type IpcArgs,
  type IpcCommandType,
  type IpcEventName,
  type IpcPayloadOf,
  type IpcReply,
  type ParleyPreloadApi,
} from '../shared/ipc';
import type { ResultOf } from '../shared/commands';

/** The receiving end of a MessagePort in the preload (a DOM `MessagePort`). */
export interface PreloadPortLike {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  close(): void;
}

/** The slice of Electron's `ipcRenderer` the preload uses. */
export interface IpcRendererLike {
  invoke(channel: string, arg: unknown): Promise<unknown>;
  on(channel: string, listener: (ports: readonly PreloadPortLike[], payload: unknown) => void): void;
}

const EVENT_NAMES = Object.keys(IPC_EVENTS) as IpcEventName[];

/**
 * Push payloads are handed on as they arrive: the renderer's bridge validates them against
 * `IPC_EVENTS` (the preload is trusted, the contract is checked where the data is used).
 */
export function createPreloadApi(ipc: IpcRendererLike): ParleyPreloadApi {
  const callbacks = new Map<IpcEventName, Set<(payload: never) => void>>(
    EVENT_NAMES.map((name) => [name, new Set()]),
  );
  const nameOf = new Map<string, IpcEventName>(EVENT_NAMES.map((name) => [IPC_EVENTS[name].channel, name]));
  const dispatch = (channel: unknown, payload: unknown): void => {
    const name = typeof channel === 'string' ? nameOf.get(channel) : undefined;
    if (name === undefined) return;
    for (const callback of [...(callbacks.get(name) ?? [])]) callback(payload as never);
  };

  // Both transports are always listened to; the shell uses one (push-transport.ts).
  for (const name of EVENT_NAMES) {
    const { channel } = IPC_EVENTS[name];
    ipc.on(channel, (_ports, payload) => {
      dispatch(channel, payload);
    });
  }
  let port: PreloadPortLike | null = null;
  ipc.on(IPC_PORT_CHANNEL, (ports) => {
    const next = ports[0];
    if (next === undefined) return;
    port?.close();
    port = next;
    // Setting onmessage starts the port; messages are `IpcPushMessage`s.
    next.onmessage = ({ data }) => {
      if (typeof data === 'object' && data !== null && 'channel' in data && 'payload' in data)
        dispatch(data.channel, data.payload);
    };
  });

  const invoke =
    <T extends IpcCommandType>(type: T) =>
    (args: IpcArgs<T>): Promise<IpcReply<ResultOf<T>>> =>
      ipc.invoke(IPC_INVOKE[type].channel, args) as Promise<IpcReply<ResultOf<T>>>;
  const listen =
    <E extends IpcEventName>(name: E) =>
    (callback: (payload: IpcPayloadOf<E>) => void): (() => void) => {
      const set = callbacks.get(name);
      set?.add(callback);
      return () => {
        set?.delete(callback);
      };
    };

  return {
    createSession: invoke('session.create'),
    listSessions: invoke('session.list'),
    listEvents: invoke('session.events'),
    subscribe: invoke('session.subscribe'),
    unsubscribe: invoke('session.unsubscribe'),
    startTurn: invoke('turn.start'),
    cancelTurn: invoke('turn.cancel'),
    listScenarios: invoke('scenario.list'),
    getWorld: invoke('world.get'),
    listCommits: invoke('ledger.commits'),
    verifyLedger: invoke('ledger.verify'),
    exportSession: invoke('session.export'),
    forkSession: invoke('session.fork'),
    getAgentConfig: invoke('agents.config.get'),
    setAgentConfig: invoke('agents.config.set'),
    setPressure: invoke('agents.pressure.set'),
    getAgentStatus: invoke('agents.status'),
    cancelAgentStream: invoke('agent.cancel'),
    getModelStatus: invoke('models.status'),
    listModels: invoke('models.list'),
    setModelPoolConfig: invoke('models.config.set'),
    loadModel: invoke('models.load'),
    unloadModel: invoke('models.unload'),
    hintModel: invoke('models.hint'),
    getNpcSettings: invoke('npc.settings.get'),
    setNpcSettings: invoke('npc.settings.set'),
    onEvents: listen('onEvents'),
    onSubscriptionEnded: listen('onSubscriptionEnded'),
  };
}
