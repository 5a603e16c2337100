/**
 * The renderer's only door to the runtime: `window.parley`, one function per IPC channel, nothing
 * generic (api.ts). Runs sandboxed (CommonJS, contextIsolation on). A MessagePort, when the shell uses
 * one, stays here: contextBridge cannot pass ports, and the page needs none.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadApi } from './api';

const api = createPreloadApi({
  invoke: (channel, arg) => ipcRenderer.invoke(channel, arg),
  on: (channel, listener) => {
    ipcRenderer.on(channel, (event, payload: unknown) => {
      listener(event.ports, payload);
    });
  },
});

contextBridge.exposeInMainWorld('parley', api);
