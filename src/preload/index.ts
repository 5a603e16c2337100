/**
 * The renderer's only door to the runtime: one function per IPC channel, nothing generic.
 * Runs sandboxed (CommonJS, contextIsolation on).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CommandInput } from '../shared/commands';
import { IPC_CHANNELS, IPC_EVENT_CHANNEL, IPC_SUBSCRIPTION_ENDED_CHANNEL, type IpcEvent, type IpcSubscriptionEnded } from '../shared/ipc';

type Args<T extends CommandInput['type']> = Omit<Extract<CommandInput, { type: T }>, 'type' | 'id'>;

function listen<T>(channel: string, callback: (payload: T) => void): () => void {
  const listener = (_event: IpcRendererEvent, payload: T): void => {
    callback(payload);
  };
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const api = {
  createSession: (cmd: Args<'session.create'>) => ipcRenderer.invoke(IPC_CHANNELS['session.create'], cmd),
  listSessions: (cmd: Args<'session.list'>) => ipcRenderer.invoke(IPC_CHANNELS['session.list'], cmd),
  subscribe: (cmd: Args<'session.subscribe'>) => ipcRenderer.invoke(IPC_CHANNELS['session.subscribe'], cmd),
  unsubscribe: (cmd: Args<'session.unsubscribe'>) => ipcRenderer.invoke(IPC_CHANNELS['session.unsubscribe'], cmd),
  startTurn: (cmd: Args<'turn.start'>) => ipcRenderer.invoke(IPC_CHANNELS['turn.start'], cmd),
  cancelTurn: (cmd: Args<'turn.cancel'>) => ipcRenderer.invoke(IPC_CHANNELS['turn.cancel'], cmd),
  onEvent: (callback: (event: IpcEvent) => void) => listen(IPC_EVENT_CHANNEL, callback),
  onSubscriptionEnded: (callback: (frame: IpcSubscriptionEnded) => void) =>
    listen(IPC_SUBSCRIPTION_ENDED_CHANNEL, callback),
};

export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('parley', api);
