/**
 * How a window's push messages (event batches, subscription ends) reach its preload. Two transports
 * behind one interface, chosen in `registerIpcHandlers`:
 *
 * - `channelTransport` (default): `webContents.send(channel, payload)`, one IPC message per push.
 * - `portTransport`: a `MessageChannelMain` per window; its second port is handed to the preload once
 *   (`IPC_PORT_CHANNEL`), then every push is `port.postMessage({ channel, payload })`. Everything goes
 *   over the port, so event batches and subscription ends keep their relative order.
 *
 * Why the channel is the default: both are one structured-clone message per push, and after batching
 * a window gets at most ~60 event messages a second per session, so the per-message cost of either is
 * noise. The one published Electron comparison (electron/electron#22404) found `ipcRenderer.sendTo`
 * faster than MessagePorts for many small messages (Blink's port yields every 200 messages). The port
 * also needs a re-handshake whenever the page reloads. Switch only after measuring both in Electron
 * (docs/ipc.md); this machine has no Electron binary.
 */
import { IPC_PORT_CHANNEL, type IpcPushMessage } from '../../shared/ipc';

export interface PushTransport {
  /** Never throws: a push to a destroyed window is dropped. */
  send(message: IpcPushMessage): void;
  close(): void;
}

/** The sending end of Electron's `MessagePortMain`, as used here. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  close(): void;
}

/** The slice of a `webContents` the transports use. */
export interface PushTarget {
  send(channel: string, payload: unknown): void;
  /**
   * `transfer` holds the `port2` of `portTransport`'s `createChannel`: a `MessagePortMain` from the same
   * Electron as the webContents. Typed `never[]` so that Electron's webContents fits this interface.
   */
  postMessage(channel: string, message: unknown, transfer: never[]): void;
  isDestroyed(): boolean;
}

export type PushTransportFactory = (target: PushTarget) => PushTransport;

/** Electron throws when a window is destroyed between the check and the send; the push is moot then. */
function guarded(target: PushTarget, post: () => void): void {
  if (target.isDestroyed()) return;
  try {
    post();
  } catch {
    // Destroyed concurrently: nobody is left to read it.
  }
}

export const channelTransport: PushTransportFactory = (target) => ({
  send(message) {
    guarded(target, () => {
      target.send(message.channel, message.payload);
    });
  },
  close() {
    // Nothing held.
  },
});

/** `createChannel` is `() => new MessageChannelMain()` in Electron, a fake in tests. */
export function portTransport(
  createChannel: () => { port1: MessagePortLike; port2: unknown },
): PushTransportFactory {
  return (target) => {
    let port: MessagePortLike | null = null;
    let closed = false;
    return {
      send(message) {
        if (closed) return;
        guarded(target, () => {
          if (port === null) {
            const channel = createChannel();
            target.postMessage(IPC_PORT_CHANNEL, null, [channel.port2 as never]);
            port = channel.port1;
          }
          port.postMessage(message);
        });
      },
      close() {
        closed = true;
        port?.close();
        port = null;
      },
    };
  };
}
