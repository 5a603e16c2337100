/**
 * The renderer's only view of the runtime. Two implementations: Electron IPC through the preload
 * (`ipc-bridge.ts`) and a WebSocket in browser mode (`ws-bridge.ts`). Components never see either;
 * the inspector controller (`app/inspector.ts`) is the one consumer.
 */
import type {
  CommandInput,
  CommandType,
  ErrorCode,
  ResultOf,
  SubscriptionEndedFrame,
} from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';

/** Commands the inspector sends; `hello` and `auth.pair` belong to the WebSocket handshake and pairing tools. */
export type BridgeCommandType = Exclude<CommandType, 'hello' | 'auth.pair'>;

/** Commands as callers write them: defaults may be omitted, the correlation id is the bridge's. */
export type BridgeCommands = { [K in BridgeCommandType]: Omit<Extract<CommandInput, { type: K }>, 'id'> };

/** The command of type `T`. */
export type BridgeCommand<T extends BridgeCommandType> = BridgeCommands[T] & { type: T };

/** Any one command, discriminated on `type`. */
export type AnyBridgeCommand = BridgeCommands[BridgeCommandType];

/** Failures that happen on this side of the wire, next to the server's `ErrorCode`s. */
export const ClientErrorCode = {
  /** No connection, and no handshake in flight that the request could wait for. */
  not_connected: 'not_connected',
  /** The connection dropped before the answer arrived; the command may or may not have run. */
  connection_lost: 'connection_lost',
  /** The server's answer did not match the contract. */
  invalid_response: 'invalid_response',
  disposed: 'disposed',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export type BridgeErrorCode = ErrorCode | ClientErrorCode;

export interface BridgeErrorInfo {
  code: BridgeErrorCode;
  message: string;
}

/** What a failed `request` rejects with. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';

  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export type ConnectionState =
  /** A connection attempt (socket + handshake) is in flight. */
  | 'connecting'
  | 'connected'
  /** Waiting out the backoff before the next attempt. */
  | 'reconnecting'
  /** Disposed, or refused for good (bad token, unsupported protocol): no further attempts. */
  | 'closed';

export interface BridgeStatus {
  state: ConnectionState;
  /** Why the last connection ended or was refused; null while healthy. */
  error: BridgeErrorInfo | null;
}

export type Unsubscribe = () => void;

export interface Bridge {
  /** Sends one command; resolves with its validated result, rejects with a `BridgeError`. */
  request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>>;
  /** Every event of every subscribed session, validated, in arrival order. */
  onEvent(listener: (event: EventEnvelope) => void): Unsubscribe;
  /** A subscription the server ended (e.g. overflow under `fail`), or one that could not be resumed. */
  onSubscriptionEnded(listener: (frame: SubscriptionEndedFrame) => void): Unsubscribe;
  /** Connection status changes. The listener is called at once with the current status. */
  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe;
  dispose(): void;
}
