import {
  PROTOCOL_VERSION,
  type Command,
  type ControlFrame,
  type ProtocolError,
  type ResultOf,
} from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import type { Clock } from '../core/clock';
import { RuntimeError, toProtocolError } from '../core/errors';
import type { ParleyRuntime } from '../runtime';
import { ClientContext, type Executable, type Executed } from './client-context';
import { decodeCommand, encodeControl, encodeEvent } from './codec';
import { tokenMatches, type PairingCodes } from './credentials';

/** The part of a `ws` WebSocket a connection needs; tests use in-memory fakes. */
export interface WireSocket {
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake (which a client that stopped reading never completes). */
  terminate(): void;
  /** Optional write coalescing on the underlying TCP socket (net.Socket cork/uncork). */
  cork?(): void;
  uncork?(): void;
}

export interface InvalidFrameLimit {
  /** Invalid frames tolerated in a burst. */
  readonly burst: number;
  /** Refill rate of the burst allowance, frames per second. */
  readonly perSecond: number;
}

export interface ConnectionOptions {
  /** The per-launch token a client presents in `hello` (or in the upgrade's Authorization header). */
  readonly token: string;
  /** The upgrade request already carried the right bearer token: `hello` needs no credential. */
  readonly preAuthenticated?: boolean;
  /** One-time codes `hello` may present instead of the token; absent: pairing is off. */
  readonly pairing?: PairingCodes;
  /** Mints a pairing link for `auth.pair`; absent: the command is refused. */
  readonly pairingUrl?: () => ResultOf<'auth.pair'>;
  /** Largest inbound frame answered normally; larger ones get `frame_too_large`. */
  readonly maxFrameBytes: number;
  /** Outbound bytes buffered in the socket before event delivery pauses (the overflow policy takes over). */
  readonly highWaterBytes: number;
  /** Outbound bytes buffered past which the client is dropped: it stopped reading even its replies. */
  readonly maxBufferedBytes: number;
  /** Invalid frames (unreadable, unknown, schema-violating, binary) allowed before the connection is closed. */
  readonly invalidFrames: InvalidFrameLimit;
  readonly heartbeatMs: number;
  readonly clock: Clock;
  readonly serverName: string;
  /** Names the client in audit records, e.g. `ws#3 (http://127.0.0.1:5178)`. */
  readonly label?: string;
}

/** WebSocket close codes used by the endpoint. */
export const CloseCode = { policyViolation: 1008 } as const;

/**
 * One WebSocket client: `hello` first (protocol version + credential), then commands. Malformed or
 * invalid frames get an `error` frame and the connection stays usable, until they come faster than
 * the invalid-frame limit allows; a missing or wrong credential closes it.
 */
export class WsConnection {
  private readonly context: ClientContext;
  private authenticated = false;
  private closed = false;
  private waitingForDrain = false;
  private corked = false;
  private batching = false;
  /** Encoded telemetry events waiting for the end of this event-loop turn (batching clients only). */
  private batch: string[] = [];
  private batchBytes = 0;
  private allowance: number;
  private allowanceAt: number;
  private readonly endOfTurn = (): void => {
    this.flushBatch();
    this.uncork();
  };

  constructor(
    runtime: ParleyRuntime,
    private readonly socket: WireSocket,
    private readonly options: ConnectionOptions,
  ) {
    this.allowance = options.invalidFrames.burst;
    this.allowanceAt = options.clock.now();
    this.context = new ClientContext(
      runtime,
      {
        sendEvent: (event) => this.sendEvent(event),
        sendControl: (frame) => {
          this.sendControl(frame);
        },
      },
      options.label ?? 'ws',
    );
  }

  get isAuthenticated(): boolean {
    return this.authenticated;
  }

  receive(text: string, byteLength: number): void {
    if (this.closed) return;
    const decoded = decodeCommand(text, byteLength, this.options.maxFrameBytes);
    if (!decoded.ok) {
      this.invalid(decoded.id, decoded.error);
      return;
    }
    this.handle(decoded.command);
  }

  /** Binary frames are not part of the protocol. */
  receiveBinary(byteLength: number): void {
    if (this.closed) return;
    this.invalid(null, {
      code: 'invalid_command',
      message: `binary frame of ${byteLength} bytes refused: commands are JSON text frames`,
    });
  }

  /** The socket closed: end this client's subscriptions. */
  dispose(): void {
    this.shutdown();
  }

  /** An invalid frame: answered, and counted against a token bucket refilled over time. */
  private invalid(id: string | null, error: ProtocolError): void {
    const now = this.options.clock.now();
    const { burst, perSecond } = this.options.invalidFrames;
    this.allowance = Math.min(burst, this.allowance + ((now - this.allowanceAt) / 1000) * perSecond);
    this.allowanceAt = now;
    if (this.allowance < 1) {
      this.refuse(null, {
        code: 'rate_limited',
        message: `more than ${burst} invalid frames (refilled at ${perSecond}/s); the last: ${error.message}`,
      });
      return;
    }
    this.allowance -= 1;
    this.sendError(id, error);
  }

  private handle(command: Command): void {
    const id = command.id ?? null;
    if (command.type === 'hello') {
      this.hello(id, command);
      return;
    }
    if (!this.authenticated) {
      this.refuse(id, {
        code: 'hello_required',
        message: `send 'hello' with a credential before '${command.type}'`,
      });
      return;
    }
    if (command.type === 'auth.pair') {
      if (this.options.pairingUrl === undefined)
        this.sendError(id, { code: 'invalid_command', message: 'this server does not pair browsers' });
      else this.sendControl({ type: 'result', id, command: 'auth.pair', result: this.options.pairingUrl() });
      return;
    }
    this.execute(id, command);
  }

  private hello(id: string | null, command: Extract<Command, { type: 'hello' }>): void {
    if (command.protocol !== PROTOCOL_VERSION) {
      this.sendError(id, {
        code: 'unsupported_protocol',
        message: `protocol ${command.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
        details: { supported: [PROTOCOL_VERSION] },
      });
      return;
    }
    if (this.authenticated) {
      this.sendError(id, { code: 'invalid_command', message: 'hello was already answered' });
      return;
    }
    const { token, pair } = command;
    let paired = false;
    if (token !== undefined && pair !== undefined) {
      this.refuse(id, { code: 'unauthorized', message: "send either 'token' or 'pair', not both" });
      return;
    }
    if (token !== undefined) {
      if (!tokenMatches(this.options.token, token)) {
        this.refuse(id, { code: 'unauthorized', message: 'wrong token' });
        return;
      }
    } else if (pair !== undefined) {
      if (this.options.pairing?.redeem(pair) !== true) {
        this.refuse(id, {
          code: 'unauthorized',
          message:
            'this pairing code is unknown, already used or expired; get a new link with `npm run pair`',
        });
        return;
      }
      paired = true;
    } else if (this.options.preAuthenticated !== true) {
      this.refuse(id, {
        code: 'unauthorized',
        message: "hello needs a credential: 'token' (from the connection file) or 'pair'",
      });
      return;
    }
    this.authenticated = true;
    this.batching = command.batch;
    this.sendControl({
      type: 'result',
      id,
      command: 'hello',
      result: {
        protocol: PROTOCOL_VERSION,
        server: this.options.serverName,
        max_frame_bytes: this.options.maxFrameBytes,
        batch: this.batching,
        heartbeat_ms: this.options.heartbeatMs,
        ...(paired ? { token: this.options.token } : {}),
      },
    });
  }

  private execute(id: string | null, command: Executable): void {
    const answer = ({ result, start }: Executed): void => {
      if (this.closed) return;
      this.sendControl({ type: 'result', id, command: command.type, result });
      start?.();
    };
    try {
      const executed = this.context.execute(command);
      if (executed instanceof Promise)
        executed.then(answer, (err: unknown) => {
          if (!this.closed) this.sendError(id, toProtocolError(err));
        });
      else answer(executed);
    } catch (err) {
      const error = toProtocolError(err);
      // A schema-valid command the runtime refused is a normal answer; only wire-level garbage counts.
      if (err instanceof RuntimeError && error.code === 'invalid_command') this.invalid(id, error);
      else this.sendError(id, error);
    }
  }

  private sendEvent(event: EventEnvelope): boolean {
    if (this.closed) return true;
    const text = encodeEvent(event);
    if (this.batching) return this.queueBatched(text, event.class === 'authoritative');
    // Telemetry bursts (token deltas) leave in one write per event-loop turn; authoritative events
    // flush at once, so an ACK or a commit never waits behind coalescing.
    if (event.class === 'telemetry') this.cork();
    const writable = this.write(text);
    if (event.class === 'authoritative') this.uncork();
    return writable;
  }

  /** Batching: telemetry waits for the end of the turn; an authoritative event ends the batch at once. */
  private queueBatched(text: string, authoritative: boolean): boolean {
    if (this.batch.length === 0 && !authoritative) setImmediate(this.endOfTurn);
    this.batch.push(text);
    this.batchBytes += text.length;
    const writable = this.socket.bufferedAmount + this.batchBytes < this.options.highWaterBytes;
    if (authoritative) this.flushBatch();
    else if (!writable) this.flushBatch(false);
    return writable;
  }

  private flushBatch(writable = true): void {
    if (this.batch.length === 0 || this.closed) return;
    const frame =
      this.batch.length === 1
        ? (this.batch[0] as string)
        : `{"type":"event.batch","events":[${this.batch.join(',')}]}`;
    this.batch = [];
    this.batchBytes = 0;
    if (writable) this.write(frame);
    else this.writeSaturated(frame);
  }

  /** Sends; false when the socket holds more than the high-water mark (delivery pauses until drained). */
  private write(text: string): boolean {
    const writable = this.socket.bufferedAmount + text.length < this.options.highWaterBytes;
    if (writable) this.socket.send(text);
    else this.writeSaturated(text);
    return writable;
  }

  private writeSaturated(text: string): void {
    // This frame's write callback means everything queued before it has been flushed.
    this.waitingForDrain = true;
    this.socket.send(text, () => {
      if (!this.waitingForDrain || this.closed) return;
      this.waitingForDrain = false;
      this.context.writable();
    });
    this.checkBuffered();
  }

  /** A client that stopped reading even its replies is dropped before it costs unbounded memory. */
  private checkBuffered(): void {
    const buffered = this.socket.bufferedAmount;
    if (buffered <= this.options.maxBufferedBytes || this.closed) return;
    this.shutdown();
    this.socket.terminate();
  }

  private cork(): void {
    if (this.corked || this.socket.cork === undefined) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.endOfTurn);
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork?.();
  }

  private sendControl(frame: ControlFrame): void {
    if (this.closed) return;
    this.flushBatch();
    this.socket.send(encodeControl(frame));
    this.uncork();
    this.checkBuffered();
  }

  private sendError(id: string | null, error: ProtocolError): void {
    this.sendControl({ type: 'error', id, error });
  }

  /** Authentication failure or abuse: say why, then close. */
  private refuse(id: string | null, error: ProtocolError): void {
    this.sendError(id, error);
    if (this.closed) return;
    this.shutdown();
    this.socket.close(CloseCode.policyViolation, error.code);
  }

  /** Nothing more is sent and the client's subscriptions end. */
  private shutdown(): void {
    this.closed = true;
    this.batch = [];
    this.context.close();
  }
}
