/**
 * Attacks and abuse against the headless endpoint: hostile Host and Origin headers, token attacks,
 * oversized and fragmented messages, header floods, half-open peers and clients that stop reading.
 * Each must be refused or contained to the one connection, while other clients keep streaming.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EventEnvelope } from '../../../shared/protocol';
import { ManualClock } from '../core/clock';
import type { Logger } from '../core/logger';
import { FirehoseBackend } from '../testing/firehose-backend';
import { streamViolations } from '../testing/invariants';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { closeAllClients, errorCode, WsTestClient } from '../testing/ws-test-client';
import { startServer, type ParleyServer, type ServerOptions } from './ws-server';

const TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
let t: TestRuntime | undefined;
let server: ParleyServer | undefined;
let logged: string[] = [];

const capturingLogger: Logger = {
  info: (m, f) => logged.push(JSON.stringify({ m, f })),
  warn: (m, f) => logged.push(JSON.stringify({ m, f })),
  error: (m, f) => logged.push(JSON.stringify({ m, f })),
};

async function start(
  options: Partial<ServerOptions> = {},
  firehose = false,
): Promise<{ s: ParleyServer; rt: TestRuntime }> {
  logged = [];
  const rt = createTestRuntime({
    logger: capturingLogger,
    ...(firehose ? { backends: [new FirehoseBackend()] } : {}),
  });
  t = rt;
  const s = await startServer(rt.runtime, {
    token: TOKEN,
    maxFrameBytes: 1024,
    hardMaxFrameBytes: 4096,
    ...options,
  });
  server = s;
  return { s, rt };
}

afterEach(async () => {
  closeAllClients();
  await server?.close();
  await t?.dispose();
  server = undefined;
  t = undefined;
});

/** Sends raw bytes and collects the reply until the server closes or `ms` pass. */
function raw(port: number, text: string, ms = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(reply);
    }, ms);
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (reply === '') reject(err);
      else resolve(reply);
    });
    socket.write(text);
  });
}

function statusOf(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
}

const UPGRADE_HEADERS =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** Status of an upgrade with these headers (101 when accepted). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

async function openSession(c: WsTestClient, policy = 'drop_telemetry'): Promise<string> {
  const { session_id: id } = await c.result<{ session_id: string }>('c', { type: 'session.create' });
  await c.result('s', { type: 'session.subscribe', session_id: id, overflow_policy: policy });
  return id;
}

describe('Host and Origin allow-lists', () => {
  it('refuses every Host but the exact server address, on plain HTTP and on the upgrade', async () => {
    const { s } = await start();
    const hostile = [
      `:${s.port}`,
      'localhost.evil.com',
      `localhost.evil.com:${s.port}`,
      `127.0.0.1:${s.port}.evil.com`,
      `127.0.0.1.evil.com:${s.port}`,
      '127.0.0.1',
      `127.0.0.1:${s.port + 1}`,
      '',
    ];
    for (const host of hostile) {
      const get = await raw(s.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      const up = await raw(s.port, `GET /v1/stream HTTP/1.1\r\nHost: ${host}\r\n${UPGRADE_HEADERS}\r\n`);
      // 403 from our allow-list; Node itself answers 400 to a Host it cannot parse. Never 101 or 404.
      expect([host, statusOf(get)]).toEqual([host, host === '' ? expect.any(Number) : 403]);
      expect([400, 403]).toContain(statusOf(get));
      expect([400, 403]).toContain(statusOf(up));
    }
    // A request without any Host is refused too.
    expect([400, 403]).toContain(statusOf(await raw(s.port, 'GET / HTTP/1.0\r\n\r\n')));
    // The exact addresses are accepted.
    expect(await upgradeStatus(s.wsUrl, { Host: `localhost:${s.port}` })).toBe(101);
    expect(await upgradeStatus(s.wsUrl, {})).toBe(101);
  });

  it('refuses unknown Origins with 403: null, look-alikes, other ports and schemes', async () => {
    const { s } = await start();
    const origins = [
      'null',
      'http://evil.example',
      `http://localhost.evil.com:${s.port}`,
      `http://127.0.0.1:${s.port}.evil.com`,
      `http://127.0.0.1:${s.port + 1}`,
      `https://127.0.0.1:${s.port}`,
      `http://127.0.0.1:${s.port}/`,
    ];
    for (const origin of origins)
      expect([origin, await upgradeStatus(s.wsUrl, { Origin: origin })]).toEqual([origin, 403]);
    expect(await upgradeStatus(s.wsUrl, { Origin: `http://127.0.0.1:${s.port}` })).toBe(101);
    expect(await upgradeStatus(s.wsUrl, { Origin: `http://localhost:${s.port}` })).toBe(101);
    const agui = await fetch(s.aguiUrl, {
      method: 'POST',
      headers: { Origin: 'http://evil.example', Authorization: `Bearer ${TOKEN}` },
    });
    expect(agui.status).toBe(403);
  });
});

describe('the launch token', () => {
  it('is required in hello or a bearer header, never taken from the URL', async () => {
    const { s } = await start();
    // In the query string it is ignored: hello without a credential is refused.
    const viaQuery = await WsTestClient.open(`${s.wsUrl}?token=${TOKEN}`);
    expect(errorCode(await viaQuery.call('1', { type: 'hello', protocol: 1 }))).toBe('unauthorized');
    expect((await viaQuery.waitClosed()).code).toBe(1008);
    // A wrong bearer token is refused at the upgrade.
    expect(await upgradeStatus(s.wsUrl, { Authorization: `Bearer ${TOKEN.replace('f', 'e')}` })).toBe(401);
    expect(await upgradeStatus(s.wsUrl, { Authorization: `Basic ${TOKEN}` })).toBe(401);
    // The right one authenticates the connection; hello then only negotiates the protocol.
    const viaHeader = await WsTestClient.open(s.wsUrl, { Authorization: `Bearer ${TOKEN}` });
    expect((await viaHeader.call('1', { type: 'hello', protocol: 1 })).type).toBe('result');
    expect((await viaHeader.call('2', { type: 'session.list' })).type).toBe('result');
    // Both credentials at once is ambiguous.
    const both = await WsTestClient.open(s.wsUrl);
    expect(errorCode(await both.call('1', { type: 'hello', protocol: 1, token: TOKEN, pair: 'x' }))).toBe(
      'unauthorized',
    );
    // A token differing in one character, or a prefix, is refused.
    for (const wrong of [TOKEN.slice(0, -1), `${TOKEN}0`, TOKEN.toUpperCase()]) {
      const c = await WsTestClient.open(s.wsUrl);
      expect(errorCode(await c.call('1', { type: 'hello', protocol: 1, token: wrong }))).toBe('unauthorized');
    }
    const agui = await fetch(s.aguiUrl, { method: 'POST', body: '{}' });
    expect([agui.status, agui.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="parley"']);
  });

  it('a pairing code works once, expires, and trades for the token without putting it in a URL', async () => {
    const clock = new ManualClock(1_000_000);
    // No heartbeat inside the test: virtual time would outrun real pongs.
    const { s } = await start({ pairing: true, clock, heartbeatMs: 3_600_000, helloTimeoutMs: 3_600_000 });
    const first = s.pairingUrl();
    expect(first.page_url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/#pair=[0-9a-f]{32}$`));
    expect(first.page_url).not.toContain(TOKEN);
    const code = first.page_url.split('#pair=')[1] ?? '';
    const paired = await WsTestClient.open(s.wsUrl);
    const hello = await paired.call('1', { type: 'hello', protocol: 1, pair: code });
    expect(hello.type === 'result' && hello.result).toMatchObject({ token: TOKEN });
    // Used: refused the second time.
    const again = await WsTestClient.open(s.wsUrl);
    const refused = await again.call('1', { type: 'hello', protocol: 1, pair: code });
    expect(refused.type === 'error' && refused.error.message).toMatch(/already used or expired/);
    // Expired: refused after its lifetime even if never used.
    const late = s.pairingUrl().page_url.split('#pair=')[1] ?? '';
    await clock.advance(10 * 60_000);
    const tooLate = await WsTestClient.open(s.wsUrl);
    expect(errorCode(await tooLate.call('1', { type: 'hello', protocol: 1, pair: late }))).toBe(
      'unauthorized',
    );
    // A token holder can mint a link (what `npm run pair` does).
    const minted = await paired.result<{ page_url: string }>('2', { type: 'auth.pair' });
    expect(minted.page_url).toContain('#pair=');
  });

  it('appears in no log line, server URL, or error message, however clients fail', async () => {
    const { s } = await start({ pairing: true });
    const c = await WsTestClient.open(s.wsUrl);
    await c.call('1', { type: 'hello', protocol: 1, token: `${TOKEN}x` });
    const d = await WsTestClient.hello(s.wsUrl, TOKEN);
    d.send('{not json');
    await d.call('2', { type: 'turn.start', session_id: TOKEN, text: 'hi' });
    await d.call('3', { type: TOKEN });
    const texts = [
      ...logged,
      s.url,
      s.wsUrl,
      s.aguiUrl,
      s.pairingUrl().page_url,
      ...[...c.frames, ...d.frames].flatMap((f) => (f.type === 'error' ? [f.error.message] : [])),
    ];
    // The error for the unknown session echoes what the client sent; nothing else may carry the token.
    const leaks = texts.filter((x) => x.includes(TOKEN) && !x.includes(`'${TOKEN}'`));
    expect(leaks).toEqual([]);
    expect(texts.length).toBeGreaterThan(6);
  });

  it('opens the AG-UI endpoint to the bearer token only', async () => {
    const { s } = await start();
    const run = (auth: string | undefined) =>
      fetch(s.aguiUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'text/event-stream',
          ...(auth === undefined ? {} : { Authorization: auth }),
        },
        body: JSON.stringify({
          threadId: 't1',
          runId: 'r1',
          state: {},
          messages: [{ id: 'm1', role: 'user', content: 'I need a room for the night.' }],
          tools: [],
          context: [],
          forwardedProps: {},
        }),
      });
    expect((await run(undefined)).status).toBe(401);
    expect((await run(`Bearer ${TOKEN.slice(1)}`)).status).toBe(401);
    expect(t?.runtime.manager.list()).toHaveLength(0);
    const ok = await run(`Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await ok.text();
    expect(body).toContain('"type":"RUN_STARTED"');
    expect(body.trimEnd().split('\n\n').at(-1)).toContain('"type":"RUN_FINISHED"');
  });

  it('refuses a token shorter than 128 bits', async () => {
    const rt = createTestRuntime();
    t = rt;
    await expect(startServer(rt.runtime, { token: 'short-token-0123456789' })).rejects.toThrow(
      /32 characters/,
    );
  });
});

describe('abusive traffic is contained to its connection', () => {
  /** A client streaming a long turn; resolves with its events once the turn commits. */
  async function streamingBystander(s: ParleyServer, tokens: number) {
    const b = await WsTestClient.hello(s.wsUrl, TOKEN, { batch: true });
    const id = await openSession(b);
    await b.result('t', { type: 'turn.start', session_id: id, text: `tokens:${tokens}` });
    await b.next((f) => f.type === 'token_delta' && f.payload.index === 10);
    return {
      done: async (): Promise<EventEnvelope[]> => {
        await b.next((f) => f.type === 'commit_succeeded');
        return b.events();
      },
    };
  }

  it('a 20 MB message closes only its connection (1009), unread', async () => {
    const { s } = await start({}, true);
    const bystander = await streamingBystander(s, 5_000);
    const attacker = await WsTestClient.hello(s.wsUrl, TOKEN);
    attacker.ws.send(Buffer.alloc(20 * 1024 * 1024, 0x61).toString('latin1'));
    expect((await attacker.waitClosed()).code).toBe(1009);
    const events = await bystander.done();
    expect(events.filter((e) => e.type === 'token_delta')).toHaveLength(5_000);
    expect(streamViolations(events)).toEqual([]);
  });

  it('a flood of tiny fragments closes only its connection once they pass maxPayload', async () => {
    const { s } = await start({}, true);
    const bystander = await streamingBystander(s, 5_000);
    const attacker = await WsTestClient.hello(s.wsUrl, TOKEN);
    const closed = attacker.waitClosed();
    for (let i = 0; i < 20_000 && attacker.ws.readyState === WebSocket.OPEN; i++)
      attacker.ws.send('x', { fin: false });
    expect((await closed).code).toBe(1009);
    expect((await bystander.done()).filter((e) => e.type === 'commit_succeeded')).toHaveLength(1);
  });

  it('a flood of invalid messages is rate limited: answered, then closed (1008)', async () => {
    const { s } = await start({ invalidFrames: { burst: 20, perSecond: 5 } }, true);
    const bystander = await streamingBystander(s, 3_000);
    const attacker = await WsTestClient.hello(s.wsUrl, TOKEN);
    for (let i = 0; i < 2_000 && attacker.ws.readyState === WebSocket.OPEN; i++) attacker.send('{nope');
    const closed = await attacker.waitClosed();
    expect(closed).toEqual({ code: 1008, reason: 'rate_limited' });
    const errors = attacker.frames.filter((f) => f.type === 'error');
    // 20 answered, then the refusal naming the limit.
    expect(errors.length).toBeGreaterThanOrEqual(21);
    expect(errors.length).toBeLessThan(40);
    expect(errors.map(errorCode).at(-1)).toBe('rate_limited');
    expect((await bystander.done()).filter((e) => e.type === 'commit_succeeded')).toHaveLength(1);
  });

  it('an upgrade with 2,000 headers is refused (400) and the server keeps serving', async () => {
    const { s } = await start({}, true);
    const bystander = await streamingBystander(s, 3_000);
    // 2,000 short headers stay under Node's 16 KiB header size limit (which answers 431 first).
    const junk = 'x: 1\r\n'.repeat(2_000);
    // The key comes after Node's 2,000-header cap, so the upgrade reaches ws without it
    // (CVE-2024-37890 crashed ws < 8.17.1 on exactly this).
    const reply = await raw(
      s.port,
      `GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Version: 13\r\n${junk}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(statusOf(reply)).toBe(400);
    expect((await bystander.done()).filter((e) => e.type === 'commit_succeeded')).toHaveLength(1);
    expect((await WsTestClient.hello(s.wsUrl, TOKEN)).ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('liveness', () => {
  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const { s } = await start({ heartbeatMs: 40 });
    const healthy = await WsTestClient.hello(s.wsUrl, TOKEN);
    const silent = new WebSocket(s.wsUrl, { autoPong: false });
    await new Promise((r) => silent.once('open', r));
    const code = await new Promise<number>((r) => silent.once('close', r));
    // Terminated without a closing handshake.
    expect(code).toBe(1006);
    expect((await healthy.call('1', { type: 'session.list' })).type).toBe('result');
    expect(healthy.closed).toBeUndefined();
  });

  it('closes a connection that never says hello', async () => {
    const { s } = await start({ helloTimeoutMs: 30 });
    const idle = await WsTestClient.open(s.wsUrl);
    expect(await idle.waitClosed()).toEqual({ code: 1008, reason: 'hello_timeout' });
  });
});

describe('resume over the wire', () => {
  it('a client resuming past the buffer gets resume_gap naming the oldest seq and the ledger', async () => {
    logged = [];
    const rt = createTestRuntime({ eventLogCapacity: 16 });
    t = rt;
    const s = await startServer(rt.runtime, { token: TOKEN });
    server = s;
    const a = await WsTestClient.hello(s.wsUrl, TOKEN);
    const id = await openSession(a);
    await a.result('t', { type: 'turn.start', session_id: id, text: 'Evening! Any rooms free tonight?' });
    await a.next((f) => f.type === 'commit_succeeded');
    const last = a.events().at(-1)?.seq ?? 0;
    expect(last).toBeGreaterThan(16);
    const b = await WsTestClient.hello(s.wsUrl, TOKEN);
    const gap = await b.call('r', { type: 'session.subscribe', session_id: id, from_seq: 2 });
    expect(gap.type === 'error' && gap.error).toMatchObject({
      code: 'resume_gap',
      details: { oldest_seq: last - 15 },
    });
    expect(gap.type === 'error' && gap.error.message).toMatch(/ledger/);
    // From the oldest buffered seq on, the resume is exact.
    await b.result('r2', { type: 'session.subscribe', session_id: id, from_seq: last - 15 });
    await b.next((f) => 'seq' in f && f.seq === last);
    expect(b.events().map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => last - 15 + i));
  });
});

describe('slow consumers', () => {
  const HIGH_WATER = 64 * 1024;

  it('a client that stops reading stays bounded in server memory and gets its overflow policy', async () => {
    const { s } = await start({ highWaterBytes: HIGH_WATER, maxBufferedBytes: 4 * 1024 * 1024 }, true);
    const slow = await WsTestClient.hello(s.wsUrl, TOKEN);
    const failing = await WsTestClient.hello(s.wsUrl, TOKEN);
    const fast = await WsTestClient.hello(s.wsUrl, TOKEN, { batch: true });
    const id = await openSession(slow);
    await failing.result('s', { type: 'session.subscribe', session_id: id, overflow_policy: 'fail' });
    await fast.result('s', { type: 'session.subscribe', session_id: id });
    const [slowStats, failingStats] = s.connections();
    const socketOf = (c: WsTestClient) =>
      (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socketOf(slow).pause();
    socketOf(failing).pause();
    let peak = 0;
    const sampler = setInterval(() => {
      for (const c of s.connections())
        if (c.label === slowStats?.label || c.label === failingStats?.label)
          peak = Math.max(peak, c.bufferedBytes);
    }, 2);
    await fast.result('t', { type: 'turn.start', session_id: id, text: 'tokens:40000' });
    await fast.next((f) => f.type === 'commit_succeeded');
    clearInterval(sampler);
    // Bounded: the high-water mark plus the frame that crossed it, never the 40,000 events (~9 MB).
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(HIGH_WATER + 8 * 1024);
    // The fast reader was not held back.
    expect(fast.events().filter((e) => e.type === 'token_delta').length).toBeGreaterThan(30_000);
    socketOf(slow).resume();
    socketOf(failing).resume();
    await slow.next((f) => f.type === 'commit_succeeded');
    const got = slow.events();
    const overflow = got.filter((e) => e.type === 'stream_overflow');
    expect(overflow.length).toBeGreaterThan(0);
    expect(got.filter((e) => e.type === 'token_delta').length).toBeLessThan(40_000);
    // Every gap explained, every authoritative event present.
    expect(streamViolations(got)).toEqual([]);
    const ended = await failing.next((f) => f.type === 'subscription.ended');
    expect(ended.type === 'subscription.ended' && ended.error.code).toBe('subscription_overflow');
  });

  it('a client that stops reading its replies is dropped past maxBufferedBytes', async () => {
    const { s } = await start({ highWaterBytes: HIGH_WATER, maxBufferedBytes: 256 * 1024 });
    const hog = await WsTestClient.hello(s.wsUrl, TOKEN);
    const other = await WsTestClient.hello(s.wsUrl, TOKEN);
    const id = await openSession(hog);
    (hog.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const closed = new Promise<number>((r) => hog.ws.once('close', r));
    let peak = 0;
    for (let i = 0; i < 20_000 && hog.ws.readyState === WebSocket.OPEN; i++) {
      hog.send({ type: 'world.get', id: `w${i}`, session_id: id });
      if (i % 100 === 0) {
        await new Promise((r) => setImmediate(r));
        for (const c of s.connections()) peak = Math.max(peak, c.bufferedBytes);
      }
    }
    expect(await closed).toBe(1006);
    expect(peak).toBeLessThan(256 * 1024 + 64 * 1024);
    expect((await other.call('1', { type: 'session.list' })).type).toBe('result');
  });
});
