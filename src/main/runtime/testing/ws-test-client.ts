import { expect } from 'vitest';
import WebSocket from 'ws';
import { ServerFrame, type ServerFrame as Frame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';

export type { Frame };

/** Every client a test opened, terminated by `closeAllClients()` in afterEach. */
const opened: WebSocket[] = [];

export function closeAllClients(): void {
  for (const ws of opened.splice(0)) ws.terminate();
}

/**
 * A WebSocket test client: frames are schema-checked as they arrive and kept in order; `event.batch`
 * frames are unpacked, so `events()` reads the same whether or not the client asked for batches.
 */
export class WsTestClient {
  readonly frames: Frame[] = [];
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = ServerFrame.parse(JSON.parse(data.toString('utf8')));
      const unpacked = frame.type === 'event.batch' ? frame.events : [frame];
      for (const f of unpacked) {
        this.frames.push(f);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(f)) return true;
          w.resolve(f);
          return false;
        });
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<WsTestClient> {
    const ws = new WebSocket(url, { headers });
    opened.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    return new WsTestClient(ws);
  }

  /** Opens and authenticates with `hello`. */
  static async hello(url: string, token: string, extra: Record<string, unknown> = {}): Promise<WsTestClient> {
    const c = await WsTestClient.open(url);
    const r = await c.call('h', { type: 'hello', protocol: 1, token, ...extra });
    expect(r.type).toBe('result');
    return c;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }
  next(pred: (f: Frame) => boolean): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
  reply(id: string): Promise<Frame> {
    return this.next((f) => (f.type === 'result' || f.type === 'error') && f.id === id);
  }
  async call(id: string, command: Record<string, unknown>): Promise<Frame> {
    this.send({ ...command, id });
    return this.reply(id);
  }
  /** `call` for a command that must succeed: its result. */
  async result<T>(id: string, command: Record<string, unknown>): Promise<T> {
    const f = await this.call(id, command);
    if (f.type !== 'result') throw new Error(`${String(command.type)} failed: ${JSON.stringify(f)}`);
    return f.result as T;
  }
  events(): EventEnvelope[] {
    return this.frames.filter((f): f is EventEnvelope => 'v' in f);
  }
  waitClosed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.closed !== undefined) resolve(this.closed);
      else
        this.ws.once('close', (code, reason) => {
          resolve({ code, reason: reason.toString() });
        });
    });
  }
}

export function errorCode(f: Frame): string | undefined {
  return f.type === 'error' ? f.error.code : undefined;
}
