import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { STREAM_PATH } from '../../../shared/commands';
import type { ParleyRuntime } from '../runtime';
import { WsConnection } from './ws-connection';

export interface ServerOptions {
  /** Per-launch token clients must present in `hello`. Required. */
  readonly token: string;
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Built renderer to serve over HTTP on the same port; omit for a WebSocket-only server. */
  readonly staticDir?: string;
  /** Origins allowed besides this server's own (e.g. a Vite dev server). Exact match. */
  readonly extraOrigins?: readonly string[];
  /** Inbound frames larger than this get a `frame_too_large` error. Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /** Inbound frames larger than this close the connection (1009) unread. Default 1 MiB. */
  readonly hardMaxFrameBytes?: number;
  /** Outbound buffered bytes per socket before event delivery pauses. Default 1 MiB. */
  readonly highWaterBytes?: number;
}

export interface ParleyServer {
  readonly port: number;
  readonly host: string;
  /** Page URL for a browser; the token travels in the fragment, never sent to the server or logged. */
  readonly pageUrl: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Writes a plain HTTP refusal on a socket that asked to upgrade. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Not Found'}\r\nConnection: close\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * The headless endpoint: the WebSocket protocol at /v1/stream and the built renderer, on one port.
 * Host and Origin are checked against exact allow-lists before anything else (DNS rebinding and
 * cross-site WebSocket hijacking); the token is checked in `hello`.
 */
export async function startServer(runtime: ParleyRuntime, options: ServerOptions): Promise<ParleyServer> {
  if (options.token.length < 16) throw new Error('the server token must be at least 16 characters');
  const host = options.host ?? '127.0.0.1';
  const maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
  const hardMax = options.hardMaxFrameBytes ?? 1024 * 1024;
  if (hardMax < maxFrameBytes) throw new Error('hardMaxFrameBytes must be >= maxFrameBytes');
  const highWaterBytes = options.highWaterBytes ?? 1024 * 1024;

  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();
  const serveStatic =
    options.staticDir === undefined
      ? undefined
      : sirv(options.staticDir, {
          single: true,
          dev: false,
          etag: true,
          setHeaders: (res) => {
            for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
          },
        });

  const hostAllowed = (req: IncomingMessage): boolean =>
    typeof req.headers.host === 'string' && allowedHosts.has(req.headers.host.toLowerCase());

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('host not allowed\n');
      return;
    }
    if (serveStatic === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no renderer is served here\n');
      return;
    }
    serveStatic(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: hardMax, perMessageDeflate: false });
  const connections = new Set<WebSocket>();

  let clientCounter = 0;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== STREAM_PATH) {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path ?? ''}`);
      return;
    }
    if (!hostAllowed(req)) {
      refuseUpgrade(socket, 403, 'host not allowed');
      return;
    }
    const origin = req.headers.origin;
    // Browsers always send Origin; local tools may omit it and still need the token.
    if (origin !== undefined && !allowedOrigins.has(origin)) {
      refuseUpgrade(socket, 403, 'origin not allowed');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      connections.add(ws);
      const wire = {
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        send: (data: string, cb?: (err?: Error) => void) => {
          ws.send(data, cb);
        },
        close: (code: number, reason: string) => {
          ws.close(code, reason);
        },
        cork: () => {
          socket.cork();
        },
        uncork: () => {
          socket.uncork();
        },
      };
      const connection = new WsConnection(runtime, wire, {
        token: options.token,
        maxFrameBytes,
        highWaterBytes,
        serverName: `parley/${runtime.runId}`,
        label: `ws#${++clientCounter}${origin === undefined ? '' : ` (${origin})`}`,
      });
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const buf = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        if (isBinary) connection.receiveBinary(buf.byteLength);
        else connection.receive(buf.toString('utf8'), buf.byteLength);
      });
      ws.on('close', () => {
        connections.delete(ws);
        connection.dispose();
      });
      ws.on('error', (err) => {
        runtime.logger.warn('websocket error', { error: err.message });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const names =
    host === '127.0.0.1' || host === 'localhost' ? ['127.0.0.1', 'localhost'] : [hostForUrl(host)];
  allowedHosts = new Set(names.map((n) => `${n}:${port}`));
  allowedOrigins = new Set([...names.map((n) => `http://${n}:${port}`), ...(options.extraOrigins ?? [])]);
  const base = `${hostForUrl(host)}:${port}`;

  return {
    port,
    host,
    pageUrl: `http://${base}/#token=${options.token}`,
    wsUrl: `ws://${base}${STREAM_PATH}`,
    async close() {
      for (const ws of connections) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
