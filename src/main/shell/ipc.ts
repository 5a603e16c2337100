import type { ProtocolError } from '../../shared/commands';
import { IPC_INVOKE, type IpcCommandType, type IpcReply } from '../../shared/ipc';
import { toProtocolError } from '../runtime/core/errors';
import type { ParleyRuntime } from '../runtime/runtime';
import { ClientContext, type Executable } from '../runtime/transport/client-context';
import { EventBatcher, type FrameTimer } from './event-batcher';
import { channelTransport, type PushTarget, type PushTransportFactory } from './push-transport';

/** The slice of Electron's `ipcMain` this module uses (tests pass a fake). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike extends PushTarget {
  readonly id: number;
  once(event: 'destroyed', listener: () => void): void;
  on(
    event: 'did-start-navigation',
    listener: (details: { readonly isMainFrame: boolean; readonly isSameDocument: boolean }) => void,
  ): void;
}

export interface IpcInvokeEventLike {
  readonly sender: WebContentsLike;
  /** URL of the frame that sent the message; null when the frame is gone. */
  readonly senderFrameUrl: string | null;
}

export interface IpcOptions {
  /** How push messages reach a window. Default `channelTransport` (why: push-transport.ts). */
  readonly transport?: PushTransportFactory;
  /** Frame interval and maximum pending events of each window's batcher (event-batcher.ts defaults). */
  readonly frameMs?: number;
  readonly maxPendingEvents?: number;
  /** Default: real timers. */
  readonly timer?: FrameTimer;
  /**
   * Check every result against the contract before replying, and answer `internal` when it does not
   * match: a runtime bug caught where it happens rather than in the renderer. For development and tests.
   */
  readonly validateResults?: boolean;
}

/** A window: its runtime client, its event batcher and its push transport, disposed together. */
interface WindowClient {
  readonly context: ClientContext;
  readonly batcher: EventBatcher;
  close(): void;
}

function issues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .map((i) => (i.path.length === 0 ? i.message : `${i.path.map(String).join('.')}: ${i.message}`))
    .join('; ');
}

/**
 * The only place IPC handlers are registered: one per channel of the contract (`IPC_INVOKE`). Every
 * handler checks the sender frame against `isTrustedUrl`, validates its one argument with the
 * channel's schema, and answers `IpcReply` values, errors as `{ code, message }` (only plain data
 * survives Electron IPC). Events go out through a per-window `EventBatcher`.
 */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  runtime: ParleyRuntime,
  isTrustedUrl: (url: string) => boolean,
  options: IpcOptions = {},
): () => void {
  const transportOf = options.transport ?? channelTransport;
  const clients = new Map<number, WindowClient>();
  const watched = new WeakSet<WebContentsLike>();
  const drop = (id: number): void => {
    const client = clients.get(id);
    if (client === undefined) return;
    clients.delete(id);
    client.close();
  };

  const clientFor = (sender: WebContentsLike): WindowClient => {
    const existing = clients.get(sender.id);
    if (existing !== undefined) return existing;
    const transport = transportOf(sender);
    // The batcher and the context refer to each other (back-pressure). No event reaches the batcher
    // before the context exists, so `onWritable` cannot run before `context` is initialised.
    const batcher = new EventBatcher({
      send: (message) => {
        transport.send(message);
      },
      ...(options.timer === undefined ? {} : { timer: options.timer }),
      ...(options.frameMs === undefined ? {} : { frameMs: options.frameMs }),
      ...(options.maxPendingEvents === undefined ? {} : { maxPending: options.maxPendingEvents }),
      onWritable: () => {
        context.writable();
      },
    });
    const context = new ClientContext(
      runtime,
      {
        sendEvent: (event) => batcher.add(event),
        sendControl: (frame) => {
          // Results and errors are invoke replies; only subscription ends are pushed.
          if (frame.type === 'subscription.ended') batcher.end(frame);
        },
      },
      `electron window #${sender.id}`,
    );
    const client: WindowClient = {
      context,
      batcher,
      close() {
        context.close();
        batcher.dispose();
        transport.close();
      },
    };
    clients.set(sender.id, client);
    if (!watched.has(sender)) {
      watched.add(sender);
      sender.once('destroyed', () => {
        drop(sender.id);
      });
      // A reload or navigation starts a new page: the old page's subscriptions (and, with the port
      // transport, its port) must not outlive it, or the new page's subscribe would be refused.
      sender.on('did-start-navigation', (details) => {
        if (details.isMainFrame && !details.isSameDocument) drop(sender.id);
      });
    }
    return client;
  };

  const fail = (error: ProtocolError): IpcReply<never> => ({ ok: false, error });

  const handle = async (
    type: IpcCommandType,
    event: IpcInvokeEventLike,
    args: readonly unknown[],
  ): Promise<IpcReply<unknown>> => {
    const { channel, args: schema, result: resultSchema } = IPC_INVOKE[type];
    if (event.senderFrameUrl === null || !isTrustedUrl(event.senderFrameUrl))
      return fail({ code: 'unauthorized', message: `IPC from an untrusted frame refused on ${channel}` });
    if (args.length > 1)
      return fail({
        code: 'invalid_command',
        message: `invalid ${type}: takes one argument, got ${args.length}`,
      });
    const parsed = schema.safeParse(args[0] ?? {});
    if (!parsed.success)
      return fail({ code: 'invalid_command', message: `invalid ${type}: ${issues(parsed.error)}` });
    try {
      const command = { ...parsed.data, type } as Executable;
      const { result, start } = await clientFor(event.sender).context.execute(command);
      if (options.validateResults === true) {
        const checked = resultSchema.safeParse(result);
        if (!checked.success)
          return fail({
            code: 'internal',
            message: `${type}: result does not match the contract: ${issues(checked.error)}`,
          });
      }
      // Replay starts after this reply is on its way.
      if (start !== undefined) setImmediate(start);
      return { ok: true, result };
    } catch (err) {
      return fail(toProtocolError(err));
    }
  };

  for (const type of Object.keys(IPC_INVOKE) as IpcCommandType[]) {
    ipcMain.handle(IPC_INVOKE[type].channel, (event, ...args) => handle(type, event, args));
  }

  return () => {
    for (const { channel } of Object.values(IPC_INVOKE)) ipcMain.removeHandler(channel);
    for (const client of clients.values()) client.close();
    clients.clear();
  };
}
