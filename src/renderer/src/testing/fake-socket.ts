/** An in-memory server end for the WebSocket bridge, and a manual clock for its backoff timer. */
import type { Delay, MinimalSocket, SocketFactory, SocketHandlers } from '../bridge/socket';

export interface SentFrame {
  type: string;
  id?: string;
  [key: string]: unknown;
}

export class FakeSocket implements MinimalSocket {
  readonly sent: SentFrame[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(
    readonly url: string,
    private readonly handlers: SocketHandlers,
  ) {}

  send(data: string): void {
    if (this.closedWith !== null) throw new Error('send on a closed socket');
    this.sent.push(JSON.parse(data) as SentFrame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }

  // Server side ------------------------------------------------------------------------------

  open(): void {
    this.handlers.open();
  }

  receive(frame: unknown): void {
    this.handlers.message(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  drop(code = 1006, reason = ''): void {
    this.handlers.close({ code, reason });
  }

  /** Opens the socket and accepts its `hello`. */
  handshake(extra: Record<string, unknown> = {}): void {
    this.open();
    const hello = this.lastSent('hello');
    this.receive({
      type: 'result',
      id: hello.id,
      command: 'hello',
      result: {
        protocol: 1,
        server: 'fake',
        max_frame_bytes: 1_048_576,
        batch: true,
        heartbeat_ms: 15_000,
        ...extra,
      },
    });
  }

  lastSent(type: string): SentFrame {
    const frame = this.sent.findLast((f) => f.type === type);
    if (frame === undefined) throw new Error(`nothing of type ${type} was sent`);
    return frame;
  }

  sentOf(type: string): SentFrame[] {
    return this.sent.filter((f) => f.type === type);
  }

  /** Answers the last command of `type` with `result`. */
  answer(type: string, result: unknown): void {
    const frame = this.lastSent(type);
    this.receive({ type: 'result', id: frame.id, command: type, result });
  }

  /** Answers the last command of `type` with an error frame. */
  fail(type: string, code: string, message = code, details?: Record<string, unknown>): void {
    const frame = this.lastSent(type);
    this.receive({ type: 'error', id: frame.id, error: { code, message, ...(details ? { details } : {}) } });
  }
}

export class FakeServer {
  readonly sockets: FakeSocket[] = [];

  readonly factory: SocketFactory = (url, handlers) => {
    const socket = new FakeSocket(url, handlers);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error('no socket was opened');
    return socket;
  }
}

export class ManualTimers {
  private pending: { callback: () => void; ms: number; cancelled: boolean }[] = [];

  readonly delay: Delay = (callback, ms) => {
    const timer = { callback, ms, cancelled: false };
    this.pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };

  /** Delays of the timers still waiting, in order. */
  get waiting(): number[] {
    return this.pending.filter((t) => !t.cancelled).map((t) => t.ms);
  }

  /** Fires the oldest waiting timer; returns its delay. */
  fireNext(): number {
    const index = this.pending.findIndex((t) => !t.cancelled);
    const timer = this.pending[index];
    if (timer === undefined) throw new Error('no timer is waiting');
    this.pending.splice(index, 1);
    timer.callback();
    return timer.ms;
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
