import { Command, type ProtocolError } from '../../shared/commands';
import {
  IPC_CHANNELS,
  IPC_EVENT_CHANNEL,
  IPC_SUBSCRIPTION_ENDED_CHANNEL,
  type IpcReply,
} from '../../shared/ipc';
import { toProtocolError } from '../runtime/core/errors';
import type { ParleyRuntime } from '../runtime/runtime';
import { ClientContext, type Executable } from '../runtime/transport/client-context';

/** The slice of Electron's `ipcMain` this module uses (tests pass a fake). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike {
  readonly id: number;
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): void;
}

export interface IpcInvokeEventLike {
  readonly sender: WebContentsLike;
  /** URL of the frame that sent the message; null when the frame is gone. */
  readonly senderFrameUrl: string | null;
}

/**
 * The only place IPC handlers are registered. Every channel is prefixed, checks the sender frame
 * against `isTrustedUrl`, validates its argument with the protocol schemas, and returns errors as
 * `{ code, message }` values (only plain data survives Electron IPC).
 */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  runtime: ParleyRuntime,
  isTrustedUrl: (url: string) => boolean,
): () => void {
  const clients = new Map<number, ClientContext>();

  const contextFor = (sender: WebContentsLike): ClientContext => {
    let ctx = clients.get(sender.id);
    if (ctx === undefined) {
      const created = new ClientContext(
        runtime,
        {
          sendEvent: (event) => {
            if (!sender.isDestroyed()) sender.send(IPC_EVENT_CHANNEL, event);
            return true;
          },
          sendControl: (frame) => {
            if (frame.type === 'subscription.ended' && !sender.isDestroyed())
              sender.send(IPC_SUBSCRIPTION_ENDED_CHANNEL, frame);
          },
        },
        `electron window #${sender.id}`,
      );
      clients.set(sender.id, created);
      sender.once('destroyed', () => {
        created.close();
        clients.delete(sender.id);
      });
      ctx = created;
    }
    return ctx;
  };

  const fail = (error: ProtocolError): IpcReply<never> => ({ ok: false, error });

  for (const [type, channel] of Object.entries(IPC_CHANNELS)) {
    ipcMain.handle(channel, async (event, arg: unknown) => {
      if (event.senderFrameUrl === null || !isTrustedUrl(event.senderFrameUrl))
        return fail({ code: 'unauthorized', message: `IPC from an untrusted frame refused on ${channel}` });
      const parsed = Command.safeParse({ ...(typeof arg === 'object' && arg !== null ? arg : {}), type });
      if (!parsed.success)
        return fail({
          code: 'invalid_command',
          message: `invalid ${type}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        });
      try {
        const { result, start } = await contextFor(event.sender).execute(parsed.data as Executable);
        // Replay starts after this reply is on its way.
        if (start !== undefined) setImmediate(start);
        return { ok: true, result };
      } catch (err) {
        return fail(toProtocolError(err));
      }
    });
  }

  return () => {
    for (const channel of Object.values(IPC_CHANNELS)) ipcMain.removeHandler(channel);
    for (const ctx of clients.values()) ctx.close();
    clients.clear();
  };
}
