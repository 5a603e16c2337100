import { createHash, timingSafeEqual } from 'node:crypto';
import {
  PROTOCOL_VERSION,
  type Command,
  type ControlFrame,
  type ProtocolError,
} from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { toProtocolError } from '../core/errors';
import type { ParleyRuntime } from '../runtime';
import { ClientContext, type Executed } from './client-context';
import { decodeCommand, encodeControl, encodeEvent } from './codec';

/** The part of a `ws` WebSocket a connection needs; tests use in-memory fakes. */
export interface WireSocket {
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Optional write coalescing on the underlying TCP socket (net.Socket cork/uncork). */
  cork?(): void;
  uncork?(): void;
}

export interface ConnectionOptions {
  /** The per-launch token a client must present in `hello`. */
  readonly token: string;
  /** Largest inbound frame answered normally; larger ones get `frame_too_large`. */
  readonly maxFrameBytes: number;
  /** Outbound bytes buffered in the socket before event delivery pauses. */
  readonly highWaterBytes: number;
  readonly serverName: string;
  /** Names the client in audit records, e.g. `ws#3 (http://127.0.0.1:5178)`. */
  readonly label?: string;
}

/** WebSocket close codes used by the endpoint. */
export const CloseCode = { policyViolation: 1008 } as const;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time token comparison (over digests, so lengths never leak through timing). */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

/**
 * One WebSocket client: `hello` first (protocol version + token), then commands. Malformed or invalid
 * frames get an `error` frame and the connection stays usable; a missing or wrong token closes it.
 */
export class WsConnection {
  private readonly context: ClientContext;
  private authenticated = false;
  private closed = false;
  private waitingForDrain = false;
  private corked = false;
  private readonly uncorkLater = (): void => {
    this.uncork();
  };

  constructor(
    runtime: ParleyRuntime,
    private readonly socket: WireSocket,
    private readonly options: ConnectionOptions,
  ) {
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

  receive(text: string, byteLength: number): void {
    if (this.closed) return;
    const decoded = decodeCommand(text, byteLength, this.options.maxFrameBytes);
    if (!decoded.ok) {
      this.sendError(decoded.id, decoded.error);
      return;
    }
    this.handle(decoded.command);
  }

  /** Binary frames are not part of the protocol. */
  receiveBinary(byteLength: number): void {
    if (this.closed) return;
    this.sendError(null, {
      code: 'invalid_command',
      message: `binary frame of ${byteLength} bytes refused: commands are JSON text frames`,
    });
  }

  /** The socket closed: end this client's subscriptions. */
  dispose(): void {
    this.closed = true;
    this.context.close();
  }

  private handle(command: Command): void {
    const id = command.id ?? null;
    if (command.type === 'hello') {
      if (command.protocol !== PROTOCOL_VERSION) {
        this.sendError(id, {
          code: 'unsupported_protocol',
          message: `protocol ${command.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
          details: { supported: [PROTOCOL_VERSION] },
        });
        return;
      }
      if (!tokenMatches(this.options.token, command.token)) {
        this.refuse(id, { code: 'unauthorized', message: 'wrong token' });
        return;
      }
      this.authenticated = true;
      this.sendControl({
        type: 'result',
        id,
        command: 'hello',
        result: {
          protocol: PROTOCOL_VERSION,
          server: this.options.serverName,
          max_frame_bytes: this.options.maxFrameBytes,
        },
      });
      return;
    }
    if (!this.authenticated) {
      this.refuse(id, {
        code: 'hello_required',
        message: `send 'hello' with the launch token before '${command.type}'`,
      });
      return;
    }
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
      this.sendError(id, toProtocolError(err));
    }
  }

  private sendEvent(event: EventEnvelope): boolean {
    if (this.closed) return true;
    // Telemetry bursts (token deltas) leave in one write per event-loop turn; authoritative events
    // flush at once, so an ACK or a commit never waits behind coalescing.
    if (event.class === 'telemetry') this.cork();
    const text = encodeEvent(event);
    const writable = this.socket.bufferedAmount + text.length < this.options.highWaterBytes;
    if (writable) this.socket.send(text);
    else {
      // Saturated: this frame's write callback means everything queued before it has been flushed.
      this.waitingForDrain = true;
      this.socket.send(text, () => {
        if (!this.waitingForDrain || this.closed) return;
        this.waitingForDrain = false;
        this.context.writable();
      });
    }
    if (event.class === 'authoritative') this.uncork();
    return writable;
  }

  private cork(): void {
    if (this.corked || this.socket.cork === undefined) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.uncorkLater);
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork?.();
  }

  private sendControl(frame: ControlFrame): void {
    if (this.closed) return;
    this.socket.send(encodeControl(frame));
    this.uncork();
  }

  private sendError(id: string | null, error: ProtocolError): void {
    this.sendControl({ type: 'error', id, error });
  }

  /** Authentication failure: say why, then close. */
  private refuse(id: string | null, error: ProtocolError): void {
    this.sendError(id, error);
    this.closed = true;
    this.context.close();
    this.socket.close(CloseCode.policyViolation, error.code);
  }
}
