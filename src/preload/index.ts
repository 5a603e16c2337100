/**
 * The renderer's only door to the runtime: one function per IPC channel, nothing generic.
 * Runs sandboxed (CommonJS, contextIsolation on).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  IPC_CHANNELS,
  IPC_EVENT_CHANNEL,
  IPC_SUBSCRIPTION_ENDED_CHANNEL,
  type ParleyPreloadApi,
} from '../shared/ipc';

/** Push channels carry plain data the renderer's bridge validates against the protocol schemas. */
function listen(channel: string, callback: (payload: never) => void): () => void {
  const listener = (_event: IpcRendererEvent, payload: unknown): void => {
    callback(payload as never);
  };
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const api = {
  createSession: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['session.create'], cmd),
  listSessions: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['session.list'], cmd),
  subscribe: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['session.subscribe'], cmd),
  unsubscribe: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['session.unsubscribe'], cmd),
  startTurn: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['turn.start'], cmd),
  cancelTurn: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['turn.cancel'], cmd),
  listScenarios: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['scenario.list'], cmd),
  getWorld: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['world.get'], cmd),
  listCommits: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['ledger.commits'], cmd),
  verifyLedger: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['ledger.verify'], cmd),
  exportSession: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['session.export'], cmd),
  getAgentConfig: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['agents.config.get'], cmd),
  setAgentConfig: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['agents.config.set'], cmd),
  setPressure: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['agents.pressure.set'], cmd),
  getAgentStatus: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['agents.status'], cmd),
  cancelAgentStream: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['agent.cancel'], cmd),
  getModelStatus: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['models.status'], cmd),
  listModels: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['models.list'], cmd),
  setModelPoolConfig: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['models.config.set'], cmd),
  loadModel: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['models.load'], cmd),
  unloadModel: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['models.unload'], cmd),
  hintModel: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['models.hint'], cmd),
  getNpcSettings: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['npc.settings.get'], cmd),
  setNpcSettings: (cmd) => ipcRenderer.invoke(IPC_CHANNELS['npc.settings.set'], cmd),
  onEvent: (callback) => listen(IPC_EVENT_CHANNEL, callback),
  onSubscriptionEnded: (callback) => listen(IPC_SUBSCRIPTION_ENDED_CHANNEL, callback),
} satisfies ParleyPreloadApi;

contextBridge.exposeInMainWorld('parley', api);
