import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { STREAM_PATH, type ResultOf } from '../../../shared/commands';
import type { Clock } from '../core/clock';
import type { ParleyRuntime } from '../runtime';
import { AGUI_PATH, handleAgUiRequest } from './agui';
import { bearerToken, MIN_TOKEN_LENGTH, PairingCodes, tokenMatches } from './credentials';
import { WsConnection, type InvalidFrameLimit } from './ws-connection';

export interface ServerOptions {
  /** Per-launch token (at least 32 characters): in `hello`, or `Authorization: Bearer` on the upgrade. */
  readonly token: string;
  /** Interface to bind. Default 127.0.0.1; hosts warn loudly before binding anything else. */
  readonly host?: string;
  /** Port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Built renderer to serve over HTTP on the same port; omit for a server without the inspector page. */
  readonly staticDir?: string;
  /** Origins allowed besides this server's own (e.g. a Vite dev server). Exact match. */
  readonly extraOrigins?: readonly string[];
  /** Inbound frames larger than this get a `frame_too_large` error. Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /** `ws` maxPayload: larger inbound messages close the connection (1009) unread. Default 128 KiB. */
  readonly hardMaxFrameBytes?: number;
  /** Outbound buffered bytes per socket before event delivery pauses. Default 1 MiB. */
  readonly highWaterBytes?: number;
  /** Outbound buffered bytes per socket past which the client is dropped. Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /** Ping interval; a client missing two pongs in a row is dropped. Default 15 s. */
  readonly heartbeatMs?: number;
  /** A connection that has not authenticated within this is closed. Default 10 s. */
  readonly helloTimeoutMs?: number;
  /** Invalid frames tolerated per connection. Default a burst of 20, refilled at 5 per second. */
  readonly invalidFrames?: InvalidFrameLimit;
  /** Largest AG-UI request body. Default 256 KiB. */
  readonly aguiMaxBodyBytes?: number;
  /** Accept one-time pairing codes in `hello`. Default: on when the inspector page is served. */
  readonly pairing?: boolean;
  /** Default: the runtime's clock. */
  readonly clock?: Clock;
}

export interface ParleyServer {
  readonly port: number;
  readonly host: string;
  /** The inspector page, with no credential in it. */
  readonly url: string;
  readonly wsUrl: string;
  readonly aguiUrl: string;
  /** A one-time link for a browser: the page address with a pairing code in its fragment. */
  pairingUrl(): ResultOf<'auth.pair'>;
  /** Open WebSocket connections and the bytes each has waiting to be sent. */
  connections(): ConnectionStats[];
  close(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
};

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Writes a plain HTTP refusal on a socket that asked to upgrade. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, extra = ''): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n${extra}` +
      `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0] ?? '';
}

export interface ConnectionStats {
  readonly label: string;
  readonly authenticated: boolean;
  readonly bufferedBytes: number;
}

interface Live {
  readonly label: string;
  readonly connection: WsConnection;
  alive: boolean;
}

/**
 * The headless endpoint on one port: the WebSocket protocol at /v1/stream, AG-UI at /v1/agui and the
 * built renderer. Host and Origin are checked against exact allow-lists before anything else (DNS
 * rebinding, cross-site WebSocket hijacking); then the token, in `hello` or a bearer header.
 */
export async function startServer(runtime: ParleyRuntime, options: ServerOptions): Promise<ParleyServer> {
  if (options.token.length < MIN_TOKEN_LENGTH)
    throw new Error(`the server token must be at least ${MIN_TOKEN_LENGTH} characters (128 random bits)`);
  const host = options.host ?? '127.0.0.1';
  const maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
  const hardMax = options.hardMaxFrameBytes ?? 128 * 1024;
  if (hardMax < maxFrameBytes) throw new Error('hardMaxFrameBytes must be >= maxFrameBytes');
  const highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  if (maxBufferedBytes < highWaterBytes) throw new Error('maxBufferedBytes must be >= highWaterBytes');
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
  const invalidFrames = options.invalidFrames ?? { burst: 20, perSecond: 5 };
  const clock = options.clock ?? runtime.clock;
  const pairing = (options.pairing ?? options.staticDir !== undefined) ? new PairingCodes(clock) : undefined;

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

  // Exact match on the whole header: no prefix or suffix match, no empty host, no missing port.
  const hostAllowed = (req: IncomingMessage): boolean =>
    typeof req.headers.host === 'string' && allowedHosts.has(req.headers.host.toLowerCase());
  // Browsers always send Origin; local tools may omit it and still need the token.
  const originAllowed = (origin: string | undefined): boolean =>
    origin === undefined || allowedOrigins.has(origin);

  let aguiCounter = 0;
  const serveAgUi = (req: IncomingMessage, res: ServerResponse): void => {
    const origin = req.headers.origin;
    if (!originAllowed(origin)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('origin not allowed\n');
      return;
    }
    if (origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          'Access-Control-Allow-Methods': 'POST',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept',
          'Access-Control-Max-Age': '600',
        })
        .end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST, OPTIONS', 'Content-Type': 'text/plain' }).end('use POST\n');
      return;
    }
    const presented = bearerToken(req.headers.authorization);
    if (presented === null || !tokenMatches(options.token, presented)) {
      res
        .writeHead(401, { 'WWW-Authenticate': 'Bearer realm="parley"', 'Content-Type': 'text/plain' })
        .end(
          presented === null
            ? 'send Authorization: Bearer <token from the connection file>\n'
            : 'wrong token\n',
        );
      return;
    }
    handleAgUiRequest(runtime, req, res, {
      label: `agui#${++aguiCounter}${origin === undefined ? '' : ` (${origin})`}`,
      maxBodyBytes: options.aguiMaxBodyBytes ?? 256 * 1024,
    });
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('host not allowed\n');
      return;
    }
    if (pathOf(req) === AGUI_PATH) {
      serveAgUi(req, res);
      return;
    }
    if (serveStatic === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no inspector page is served here\n');
      return;
    }
    serveStatic(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: hardMax, perMessageDeflate: false });
  const live = new Map<WebSocket, Live>();
  let pageBase = '';
  const pairingUrl = (): ResultOf<'auth.pair'> => {
    if (pairing === undefined) throw new Error('pairing is off on this server');
    const { code, expiresAt } = pairing.issue();
    return { page_url: `${pageBase}/#pair=${code}`, expires_at: expiresAt };
  };

  let clientCounter = 0;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(req);
    if (path !== STREAM_PATH) {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path}`);
      return;
    }
    if (!hostAllowed(req)) {
      refuseUpgrade(socket, 403, 'host not allowed');
      return;
    }
    const origin = req.headers.origin;
    if (!originAllowed(origin)) {
      refuseUpgrade(socket, 403, 'origin not allowed');
      return;
    }
    const presented = bearerToken(req.headers.authorization);
    if (req.headers.authorization !== undefined) {
      if (presented === null || !tokenMatches(options.token, presented)) {
        refuseUpgrade(socket, 401, 'wrong token', 'WWW-Authenticate: Bearer realm="parley"\r\n');
        return;
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
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
        terminate: () => {
          ws.terminate();
        },
        cork: () => {
          socket.cork();
        },
        uncork: () => {
          socket.uncork();
        },
      };
      const label = `ws#${++clientCounter}${origin === undefined ? '' : ` (${origin})`}`;
      const connection = new WsConnection(runtime, wire, {
        token: options.token,
        preAuthenticated: presented !== null,
        ...(pairing === undefined ? {} : { pairing, pairingUrl }),
        maxFrameBytes,
        highWaterBytes,
        maxBufferedBytes,
        invalidFrames,
        heartbeatMs,
        clock,
        serverName: `parley/${runtime.runId}`,
        label,
      });
      const entry: Live = { label, connection, alive: true };
      live.set(ws, entry);
      const helloWait = new AbortController();
      clock.sleep(helloTimeoutMs, helloWait.signal).then(
        () => {
          if (!connection.isAuthenticated) ws.close(1008, 'hello_timeout');
        },
        () => undefined,
      );
      ws.on('pong', () => {
        entry.alive = true;
      });
      ws.on('message', (data: RawData, isBinary: boolean) => {
        entry.alive = true;
        const buf = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        if (isBinary) connection.receiveBinary(buf.byteLength);
        else connection.receive(buf.toString('utf8'), buf.byteLength);
      });
      ws.on('close', () => {
        helloWait.abort();
        live.delete(ws);
        connection.dispose();
      });
      ws.on('error', (err) => {
        runtime.logger.warn('websocket error', { error: err.message });
      });
    });
  });

  // Half-open connections (a peer that vanished without a FIN) answer no ping: dropped on the next beat.
  const stopping = new AbortController();
  const beat = (): void => {
    for (const [ws, entry] of live) {
      if (!entry.alive) {
        ws.terminate();
        continue;
      }
      entry.alive = false;
      ws.ping();
    }
  };
  const heartbeat = async (): Promise<void> => {
    for (;;) {
      await clock.sleep(heartbeatMs, stopping.signal);
      beat();
    }
  };
  heartbeat().catch(() => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    stopping.abort();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const names =
    host === '127.0.0.1' || host === 'localhost' ? ['127.0.0.1', 'localhost'] : [hostForUrl(host)];
  allowedHosts = new Set(names.map((n) => `${n}:${port}`));
  allowedOrigins = new Set([...names.map((n) => `http://${n}:${port}`), ...(options.extraOrigins ?? [])]);
  const base = `${hostForUrl(host)}:${port}`;
  pageBase = `http://${base}`;

  return {
    port,
    host,
    url: `${pageBase}/`,
    wsUrl: `ws://${base}${STREAM_PATH}`,
    aguiUrl: `${pageBase}${AGUI_PATH}`,
    pairingUrl,
    connections: () =>
      [...live].map(([ws, { label, connection }]) => ({
        label,
        authenticated: connection.isAuthenticated,
        bufferedBytes: ws.bufferedAmount,
      })),
    async close() {
      stopping.abort();
      for (const ws of live.keys()) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
