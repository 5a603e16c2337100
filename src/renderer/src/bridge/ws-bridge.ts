import {
  PROTOCOL_VERSION,
  ProtocolError,
  ServerFrame,
  type CommandType,
  type ErrorFrame,
  type ResultFrame,
  type ResultOf,
  type SubscriptionEndedFrame,
} from '../../../shared/commands';
import type { EventEnvelope, OverflowPolicy } from '../../../shared/protocol';
import { BridgeEmitter } from './listeners';
import type { Credential, TokenStore } from './page-location';
import {
  browserSocketFactory,
  timerDelay,
  type Delay,
  type MinimalSocket,
  type SocketFactory,
} from './socket';
import {
  BridgeError,
  type AnyBridgeCommand,
  type Bridge,
  type BridgeCommand,
  type BridgeCommandType,
  type BridgeErrorInfo,
  type BridgeStatus,
  type Unsubscribe,
} from './types';
import { parseResult } from './validate';

export interface WsBridgeOptions {
  /** `ws://host/v1/stream` or `wss://…`. */
  url: string;
  /** What `hello` presents. Null when the page was opened without one: the bridge stays closed and says why. */
  credential: Credential | null;
  /** Keeps the token a pairing returns (for reconnects and reloads); forgets one the server refuses. */
  tokens?: TokenStore;
  /** Default: the browser's `WebSocket`. */
  createSocket?: SocketFactory;
  /** Timer for reconnect backoff. Default: `setTimeout`. */
  delay?: Delay;
  /** Delay before the first reconnect attempt; doubled after each failed attempt. Default 250 ms. */
  reconnectInitialMs?: number;
  /** Upper bound of the reconnect delay. Default 10 000 ms. */
  reconnectMaxMs?: number;
  /** Frames that are not JSON or not in the contract are dropped and reported here. Default: `console.warn`. */
  onInvalidFrame?: (reason: string, data: string) => void;
}

interface Pending {
  readonly command: CommandType;
  resolve(result: unknown): void;
  reject(error: BridgeError): void;
}

interface Outgoing {
  readonly id: string;
  readonly frame: string;
  readonly pending: Pending;
}

const NOT_PAIRED =
  'Not paired with a Parley server. Open the one-time link `npm run serve` printed, or run `npm run pair` for a new one.';

/** Server answers to `hello` that retrying cannot fix. */
const FATAL_HELLO_CODES: ReadonlySet<string> = new Set(['unauthorized', 'unsupported_protocol']);

/**
 * Browser-mode bridge: one WebSocket at a time, `hello` first, commands correlated by id.
 *
 * Invariants:
 * - Requests wait for a handshake in flight (`connecting`) and are sent when it completes; while
 *   waiting out a backoff (`reconnecting`) or `closed` they reject at once with `not_connected`,
 *   so a click never turns into a command sent minutes later.
 * - A request sent on a socket that then closes rejects with `connection_lost`: it may or may not
 *   have run, and commands like `turn.start` are not safe to repeat blindly.
 * - Every subscription still open when a connection drops is re-requested on the next connection
 *   from (highest seq seen + 1), so a session's events continue without gaps or duplicates.
 */
export class WsBridge implements Bridge {
  private readonly url: string;
  private credential: Credential | null;
  private readonly tokens: TokenStore | undefined;
  private readonly createSocket: SocketFactory;
  private readonly delay: Delay;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private readonly onInvalidFrame: (reason: string, data: string) => void;

  private readonly emitter = new BridgeEmitter({ state: 'connecting', error: null });
  /** Identity of the current connection attempt; callbacks from older sockets are ignored. */
  private connection: object | null = null;
  private socket: MinimalSocket | null = null;
  private helloId: string | null = null;
  private handshaken = false;
  private failedAttempts = 0;
  private cancelRetry: (() => void) | null = null;
  private requestCounter = 0;
  /** Sent on the current socket, awaiting an answer. */
  private readonly inFlight = new Map<string, Pending>();
  /** Waiting for the handshake in flight. */
  private queued: Outgoing[] = [];
  /** Subscriptions to restore after a reconnect, with their overflow policy. */
  private readonly subscriptions = new Map<string, OverflowPolicy>();
  /** Per session: the seq a resumed subscription starts from (highest seq seen + 1). */
  private readonly resumeFrom = new Map<string, number>();

  constructor(options: WsBridgeOptions) {
    const initial = options.reconnectInitialMs ?? 250;
    const max = options.reconnectMaxMs ?? 10_000;
    if (!(initial > 0) || !(max >= initial)) {
      throw new RangeError(
        `reconnect delays need 0 < reconnectInitialMs <= reconnectMaxMs, got ${initial} and ${max}`,
      );
    }
    this.url = options.url;
    this.credential = options.credential;
    this.tokens = options.tokens;
    this.createSocket = options.createSocket ?? browserSocketFactory;
    this.delay = options.delay ?? timerDelay;
    this.reconnectInitialMs = initial;
    this.reconnectMaxMs = max;
    this.onInvalidFrame =
      options.onInvalidFrame ??
      ((reason, data) => {
        console.warn(`Parley: dropped a server frame (${reason})`, data.slice(0, 200));
      });

    if (this.credential === null || this.credential.value === '') {
      // No listener can be registered yet, so this only records the status.
      this.emitter.setStatus({ state: 'closed', error: { code: 'unauthorized', message: NOT_PAIRED } });
    } else {
      this.connect();
    }
  }

  request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>> {
    const state = this.emitter.status.state;
    if (state === 'closed' || state === 'reconnecting') {
      const why = this.emitter.status.error?.message;
      return Promise.reject(
        new BridgeError(
          'not_connected',
          `Not connected to the runtime${why === undefined ? '' : `: ${why}`}`,
        ),
      );
    }
    const id = `r${++this.requestCounter}`;
    const type: T = command.type;
    return new Promise<ResultOf<T>>((resolve, reject) => {
      const pending: Pending = {
        command: type,
        resolve: (result) => {
          try {
            resolve(parseResult(type, result));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
        reject: (error) => {
          this.forgetFailedSubscription(command as AnyBridgeCommand, error);
          reject(error);
        },
      };
      this.trackSubscription(command as AnyBridgeCommand);
      const outgoing: Outgoing = { id, frame: JSON.stringify({ ...command, id }), pending };
      if (this.handshaken) this.send(outgoing);
      else this.queued.push(outgoing);
    });
  }

  onEvent(listener: (event: EventEnvelope) => void): Unsubscribe {
    return this.emitter.onEvent(listener);
  }

  onSubscriptionEnded(listener: (frame: SubscriptionEndedFrame) => void): Unsubscribe {
    return this.emitter.onSubscriptionEnded(listener);
  }

  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe {
    return this.emitter.onStatus(listener);
  }

  dispose(): void {
    if (this.emitter.status.state === 'closed' && this.connection === null && this.cancelRetry === null) {
      this.emitter.clear();
      return;
    }
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.dropConnection(1000, 'client disposed');
    this.rejectAll(new BridgeError('disposed', 'The bridge was disposed'));
    this.emitter.setStatus({ state: 'closed', error: null });
    this.emitter.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Connection lifecycle: connecting → (hello ok) connected → (close) reconnecting → connecting …
  // A refused hello or dispose() ends in closed.

  private connect(): void {
    this.cancelRetry = null;
    const connection = {};
    this.connection = connection;
    this.handshaken = false;
    this.emitter.setStatus({ state: 'connecting', error: this.emitter.status.error });
    const current = (): boolean => this.connection === connection;
    try {
      this.socket = this.createSocket(this.url, {
        open: () => {
          if (current()) this.sendHello();
        },
        message: (data) => {
          if (current()) this.receive(data);
        },
        close: ({ code, reason }) => {
          if (current())
            this.connectionLost(`connection closed (${code}${reason === '' ? '' : `: ${reason}`})`);
        },
      });
    } catch (error) {
      this.connectionLost(
        `cannot open ${this.url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private sendHello(): void {
    const id = `hello${++this.requestCounter}`;
    this.helloId = id;
    const credential = this.credential;
    if (credential === null) return;
    this.socket?.send(
      JSON.stringify({
        type: 'hello',
        id,
        protocol: PROTOCOL_VERSION,
        [credential.kind]: credential.value,
        batch: true,
      }),
    );
  }

  private handshakeDone(result: unknown): void {
    // A pairing code works once: reconnects (and reloads) present the token it was traded for.
    const token = (result as { token?: unknown } | null)?.token;
    if (typeof token === 'string' && token !== '') {
      this.credential = { kind: 'token', value: token };
      this.tokens?.save(token);
    }
    this.handshaken = true;
    this.failedAttempts = 0;
    this.emitter.setStatus({ state: 'connected', error: null });
    // Restore subscriptions before anything queued, so a queued command sees the same world as
    // before the drop.
    for (const [sessionId, policy] of this.subscriptions) this.resume(sessionId, policy);
    const queued = this.queued;
    this.queued = [];
    for (const outgoing of queued) this.send(outgoing);
  }

  private resume(sessionId: string, policy: OverflowPolicy): void {
    const fromSeq = this.resumeFrom.get(sessionId) ?? 1;
    this.request({
      type: 'session.subscribe',
      session_id: sessionId,
      from_seq: fromSeq,
      overflow_policy: policy,
    }).then(
      () => undefined,
      (error: unknown) => {
        if (!(error instanceof BridgeError) || error.code === 'connection_lost' || error.code === 'disposed')
          return;
        // The subscription cannot continue (e.g. `resume_gap`): tell the owner, as the server would.
        this.emitter.emitEnded({
          type: 'subscription.ended',
          session_id: sessionId,
          last_seq: fromSeq - 1,
          error: toProtocolError(error),
        });
      },
    );
  }

  private connectionLost(message: string): void {
    this.dropConnection();
    this.rejectAll(new BridgeError('connection_lost', message));
    if (this.emitter.status.state === 'closed') return;
    const delayMs = Math.min(this.reconnectMaxMs, this.reconnectInitialMs * 2 ** this.failedAttempts);
    this.failedAttempts++;
    this.emitter.setStatus({ state: 'reconnecting', error: { code: 'connection_lost', message } });
    this.cancelRetry = this.delay(() => {
      this.connect();
    }, delayMs);
  }

  private refused(error: BridgeErrorInfo): void {
    this.dropConnection(1000, 'handshake refused');
    this.rejectAll(new BridgeError(error.code, error.message));
    this.emitter.setStatus({ state: 'closed', error });
  }

  private dropConnection(code?: number, reason?: string): void {
    const socket = this.socket;
    this.connection = null;
    this.socket = null;
    this.helloId = null;
    this.handshaken = false;
    if (socket !== null && code !== undefined) {
      try {
        socket.close(code, reason);
      } catch {
        // Already closed: nothing left to release.
      }
    }
  }

  private rejectAll(error: BridgeError): void {
    const pending = [...this.inFlight.values(), ...this.queued.map((q) => q.pending)];
    this.inFlight.clear();
    this.queued = [];
    for (const p of pending) p.reject(error);
  }

  // -------------------------------------------------------------------------------------------
  // Frames.

  private send(outgoing: Outgoing): void {
    this.inFlight.set(outgoing.id, outgoing.pending);
    try {
      this.socket?.send(outgoing.frame);
    } catch (error) {
      this.inFlight.delete(outgoing.id);
      outgoing.pending.reject(
        new BridgeError(
          'connection_lost',
          `send failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
  }

  private receive(data: string): void {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      this.onInvalidFrame('not JSON', data);
      return;
    }
    const parsed = ServerFrame.safeParse(json);
    if (!parsed.success) {
      this.onInvalidFrame(`not in the contract: ${parsed.error.issues[0]?.message ?? 'invalid'}`, data);
      return;
    }
    const frame = parsed.data;
    switch (frame.type) {
      case 'result':
        this.receiveResult(frame, data);
        return;
      case 'error':
        this.receiveError(frame, data);
        return;
      case 'subscription.ended':
        this.subscriptions.delete(frame.session_id);
        this.emitter.emitEnded(frame);
        return;
      case 'event.batch':
        for (const event of frame.events) this.receiveEvent(event);
        return;
      default:
        this.receiveEvent(frame);
    }
  }

  private receiveEvent(event: EventEnvelope): void {
    this.resumeFrom.set(
      event.session_id,
      Math.max(this.resumeFrom.get(event.session_id) ?? 1, event.seq + 1),
    );
    this.emitter.emitEvent(event);
  }

  private receiveResult(frame: ResultFrame, data: string): void {
    if (frame.id !== null && frame.id === this.helloId) {
      if (frame.command === 'hello') {
        this.handshakeDone(frame.result);
      } else {
        this.refused({ code: 'invalid_response', message: `hello was answered as ${frame.command}` });
      }
      return;
    }
    const pending = frame.id === null ? undefined : this.inFlight.get(frame.id);
    if (frame.id === null || pending === undefined) {
      this.onInvalidFrame('result for no pending command', data);
      return;
    }
    this.inFlight.delete(frame.id);
    if (frame.command !== pending.command) {
      pending.reject(
        new BridgeError('invalid_response', `${pending.command} was answered as ${frame.command}`),
      );
      return;
    }
    pending.resolve(frame.result);
  }

  private receiveError(frame: ErrorFrame, data: string): void {
    const { code, message } = frame.error;
    if (frame.id !== null && frame.id === this.helloId) {
      if (code === 'unauthorized') {
        if (this.credential?.kind === 'token') this.tokens?.forget();
        this.refused({
          code,
          message:
            this.credential?.kind === 'token'
              ? `${message}. The server may have restarted (each launch has a new token). ${NOT_PAIRED}`
              : message,
        });
      } else if (FATAL_HELLO_CODES.has(code)) this.refused({ code, message });
      else this.connectionLost(`handshake failed: ${code}: ${message}`);
      return;
    }
    const pending = frame.id === null ? undefined : this.inFlight.get(frame.id);
    if (frame.id === null || pending === undefined) {
      this.onInvalidFrame(`error for no pending command: ${code}: ${message}`, data);
      return;
    }
    this.inFlight.delete(frame.id);
    pending.reject(new BridgeError(code, message, frame.error.details ?? {}));
  }

  // -------------------------------------------------------------------------------------------
  // Subscription bookkeeping for resume.

  private trackSubscription(command: AnyBridgeCommand): void {
    if (command.type === 'session.subscribe') {
      this.subscriptions.set(command.session_id, command.overflow_policy ?? 'drop_telemetry');
      this.resumeFrom.set(command.session_id, command.from_seq ?? 1);
    } else if (command.type === 'session.unsubscribe') {
      this.subscriptions.delete(command.session_id);
    }
  }

  private forgetFailedSubscription(command: AnyBridgeCommand, error: BridgeError): void {
    // A subscribe lost with its connection stays tracked: the next connection restores it.
    if (command.type === 'session.subscribe' && error.code !== 'connection_lost') {
      this.subscriptions.delete(command.session_id);
    }
  }
}

function toProtocolError(error: BridgeError): ProtocolError {
  // Client-side codes have no protocol equivalent; they are reported as `internal`.
  const known = ProtocolError.shape.code.safeParse(error.code);
  return {
    code: known.success ? known.data : 'internal',
    message: error.message,
    details: { ...error.details },
  };
}
