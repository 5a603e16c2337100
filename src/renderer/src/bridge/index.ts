import type { ParleyPreloadApi } from './ipc-api';
import { IpcBridge } from './ipc-bridge';
import { streamUrl, takeCredential, tokenStore } from './page-location';
import type { Bridge } from './types';
import { WsBridge } from './ws-bridge';

/**
 * The bridge for where this page runs: Electron's preload API when present, otherwise the
 * WebSocket endpoint of the server that served the page.
 */
export function createBridge(win: Window = window): Bridge {
  const preload = (win as Window & { parley?: ParleyPreloadApi }).parley;
  if (preload !== undefined) return new IpcBridge(preload);
  const env = { location: win.location, storage: win.sessionStorage, history: win.history };
  return new WsBridge({
    url: streamUrl(win.location),
    credential: takeCredential(env),
    tokens: tokenStore(env),
  });
}

export type { Bridge, BridgeStatus, ConnectionState } from './types';
export { BridgeError } from './types';
