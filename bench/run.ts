/**
 * Parley transport benchmarks (`npm run bench [-- --quick]`: bundled like the app, then run). Prints figures and
 * ratios against a bare `ws` baseline measured the same way on the same machine. Not a test: a missed
 * goal is reported, never turned into a non-zero exit. Errors (a server that does not start, a wrong
 * frame, the time limit) do exit non-zero.
 *
 * Arrangement, identical for Parley and the baseline: each server runs in a child process, this same file
 * forked with `--serve <mode>` (port 0 on 127.0.0.1, port reported over IPC), so client and server never
 * share an event loop; the parent process is the one client.
 *
 * 1. ACK round trip: `turn.start` sent → `turn_accepted` received, versus a bare echo of a frame of the
 *    same size. Each Parley turn is cancelled right after its ACK, and the cancel's result awaited,
 *    before the next sample (a session runs one turn at a time).
 * 2. Sustained `token_delta` throughput to one subscribed client, scripted backend at tokenIntervalMs 0,
 *    versus a bare server sending the same frames (captured from the Parley run) with the same
 *    backpressure rule. Parley is measured twice: one frame per event, and a client that asked for
 *    `event.batch` frames (the inspector does).
 * 3. Ledger commits, in this process, on the disk of the OS temp dir (WAL, synchronous=FULL):
 *    - full turns per second through the runtime (default scenario, NPC Mira's keyword-driven scripted
 *      model at tokenIntervalMs 0, a mix of committing and governance-failing player lines, one turn at
 *      a time), and verify/replay speed over the ledger those turns wrote;
 *    - `Ledger.commit` per second with real commit inputs (taken from those turns' records), versus a
 *      bare better-sqlite3 insert transaction of a row of the same size, same pragmas, same directory,
 *      in alternating rounds.
 * 6. IPC event batching (bench/ipc.ts): events/s through the shell's EventBatcher into a worker_threads
 *    MessageChannel (structured clone, as Electron's hop), one message per event vs per-frame batches.
 * 4. Agent control plane per turn, in this process (bench/agents.ts): planning + arbitration of a turn with
 *    50 intent requests (`planSpawns`, one envelope per planned spawn, `decideStaged`), versus building
 *    that turn's own events alone (payload validation and envelope, as `Session.publishEvent` does), in
 *    alternating rounds.
 * 7. Renderer under a firehose (bench/renderer.ts): the built inspector in Chromium (Playwright) while one
 *    scripted turn streams 5,000 token_delta events/s for 30 s (quick: 10 s): long tasks, frame rate, JS
 *    heap before and after, the event log's bound. Skipped, and said so, without `out/renderer` or
 *    /usr/bin/chromium.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import WebSocket, { WebSocketServer } from 'ws';
import { Ledger, type CommitInput } from '../src/main/runtime/authority/ledger';
import type { ProvenanceRecord } from '../src/main/runtime/authority/provenance';
import { createRuntime, type ParleyRuntime } from '../src/main/runtime/runtime';
import { FirehoseBackend } from '../src/main/runtime/testing/firehose-backend';
import { startServer } from '../src/main/runtime/transport/ws-server';
import { AGENT_NAMES } from '../src/shared/agents';
import { PROTOCOL_VERSION, STREAM_PATH, type CommandInput } from '../src/shared/commands';
import {
  AGENT_REQUESTS,
  AGENT_TURN_EVENTS,
  AGENT_TURN_TOKENS,
  EVENT_TURN_FACTOR,
  agentPlaneCost,
} from './agents';
import { benchIpcBatching, reportIpc } from './ipc';
import { modelBench, type ModelBenchResult, type Timing } from './models';
import { rendererBench } from './renderer';

const quick = process.argv.includes('--quick');
/** `--transport`: only the WebSocket sections (1, 2), e.g. while working on the transport. */
const transportOnly = process.argv.includes('--transport');
const ACK_WARMUP = quick ? 50 : 300;
const ACK_SAMPLES = quick ? 200 : 2000;
/** Parley and bare samples alternate in blocks of this many. */
const ACK_BLOCK = 100;
const STREAM_WARMUP_TOKENS = quick ? 2_000 : 10_000;
const STREAM_TOKENS = quick ? 10_000 : 60_000;
const STREAM_ROUNDS = 3;
/** The whole run must end within this; a hang is a bug, reported as such. */
const RUN_LIMIT_MS = 360_000;
const STEP_LIMIT_MS = 60_000;

const LEDGER_TURNS = quick ? 240 : 2_400;
const LEDGER_COMMITS = quick ? 1_000 : 10_000;
const LEDGER_WARMUP = quick ? 200 : 1_000;
const LEDGER_ROUNDS = 3;

const AGENT_TURNS = quick ? 200 : 1_000;
const AGENT_WARMUP = quick ? 200 : 500;
const AGENT_ROUNDS = quick ? 3 : 5;

const GOAL_ACK_RATIO = 1.5;
const GOAL_THROUGHPUT_RATIO = 0.5;
/** Local models: the runtime's time to first token and tokens/s within 5% of node-llama-cpp called directly. */
const GOAL_MODEL_OVERHEAD = 0.05;
const MODEL_ROUNDS = quick ? 5 : 15;
const MODEL_MAX_TOKENS = quick ? 64 : 160;

const ACK_TEXT = 'Good evening. Is there a room free for the night, and something hot to eat?';
const TOKEN_DELTA_MARK = '"type":"token_delta"';
const BATCH_MARK = '"type":"event.batch"';

// ---------------------------------------------------------------------------------------------
// Server side (child process, `--serve <mode>`)
//
//   parley-ack      Parley runtime + server; the scripted model waits 60 s before its first token, so a
//                   turn stays quiet between its ACK and the client's cancel.
//   parley-stream   Parley runtime + server; scripted model at tokenIntervalMs 0 replying with as many
//                   word tokens as the player line asks for (`tokens:<n>`).
//   bare-echo       a bare `ws` server echoing each text frame.
//   bare-stream     a bare `ws` server that, on any frame, sends the frames given to it over IPC, with the
//                   same high-water backpressure rule as Parley's connection (1 MiB buffered).

function rawBuffer(data: WebSocket.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

type ServerMode = 'parley-ack' | 'parley-stream' | 'bare-echo' | 'bare-stream';
const SERVER_MODES: readonly ServerMode[] = ['parley-ack', 'parley-stream', 'bare-echo', 'bare-stream'];

/** Child → parent. */
type ChildMessage =
  | { readonly type: 'ready'; readonly port: number; readonly url: string; readonly token: string }
  | { readonly type: 'frames-loaded'; readonly count: number };

/** Parent → child. */
type ParentMessage =
  { readonly type: 'frames'; readonly frames: readonly string[] } | { readonly type: 'stop' };

const BENCH_TOKEN = 'bench-token-0123456789abcdef0123456789';
/** Same as the Parley server's default: event delivery pauses past this many buffered bytes. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** A forgotten child must not outlive the benchmark. */
const CHILD_LIFETIME_MS = 300_000;

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function startParley(mode: 'parley-ack' | 'parley-stream'): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'parley-bench-'));
  const runtime: ParleyRuntime =
    mode === 'parley-ack'
      ? createRuntime({ dataDir, runId: 'bench', scripted: { tokenIntervalMs: 60_000 } })
      : // The default scenario's NPC (Mira), her model replaced by the uncapped bench script.
        createRuntime({ dataDir, runId: 'bench', backends: [new FirehoseBackend()] });
  const server = await startServer(runtime, { token: BENCH_TOKEN, host: '127.0.0.1', port: 0 });
  send({ type: 'ready', port: server.port, url: server.wsUrl, token: BENCH_TOKEN });
  return async () => {
    await server.close();
    await runtime.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/** Sends `frames` in order, pausing at the high-water mark until the socket has flushed. */
function streamFrames(ws: WebSocket, frames: readonly string[]): void {
  let i = 0;
  const pump = (): void => {
    while (i < frames.length) {
      const frame = frames[i++] as string;
      if (ws.bufferedAmount + frame.length < HIGH_WATER_BYTES) {
        ws.send(frame);
        continue;
      }
      ws.send(frame, () => {
        pump();
      });
      return;
    }
  };
  pump();
}

async function startBare(mode: 'bare-echo' | 'bare-stream'): Promise<() => Promise<void>> {
  let frames: readonly string[] = [];
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    if (message.type !== 'frames') return;
    frames = message.frames;
    send({ type: 'frames-loaded', count: frames.length });
  });
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: STREAM_PATH,
    perMessageDeflate: false,
    maxPayload: 1024 * 1024,
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (ws) => {
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (mode === 'bare-echo') ws.send(isBinary ? data : rawBuffer(data).toString('utf8'));
      else streamFrames(ws, frames);
    });
  });
  const { port } = wss.address() as { port: number };
  send({ type: 'ready', port, url: `ws://127.0.0.1:${port}${STREAM_PATH}`, token: BENCH_TOKEN });
  return () =>
    new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => {
        resolve();
      });
    });
}

async function serve(mode: ServerMode | undefined): Promise<void> {
  if (mode === undefined || !SERVER_MODES.includes(mode) || process.send === undefined) {
    process.stderr.write(
      `bench/run.ts --serve <mode> is forked by bench/run.ts; modes: ${SERVER_MODES.join(', ')}\n`,
    );
    process.exit(2);
  }
  setTimeout(() => {
    process.stderr.write(`bench server (${mode}) outlived ${CHILD_LIFETIME_MS} ms; exiting\n`);
    process.exit(3);
  }, CHILD_LIFETIME_MS).unref();
  const stop =
    mode === 'parley-ack' || mode === 'parley-stream' ? await startParley(mode) : await startBare(mode);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('message', (raw) => {
    if ((raw as ParentMessage).type === 'stop') shutdown();
  });
  process.on('disconnect', shutdown);
}

// ---------------------------------------------------------------------------------------------
// Child servers, seen from the client process

interface ServerChild {
  readonly mode: ServerMode;
  readonly url: string;
  readonly token: string;
  send(message: ParentMessage): void;
  next(type: ChildMessage['type']): Promise<ChildMessage>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

function withLimit<T>(promise: Promise<T>, what: string, ms = STEP_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, limit]).finally(() => {
    clearTimeout(timer);
  });
}

async function startChild(mode: ServerMode): Promise<ServerChild> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', mode], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      children.delete(child);
      resolve();
    });
  });
  const waiters: { type: ChildMessage['type']; resolve: (m: ChildMessage) => void }[] = [];
  const inbox: ChildMessage[] = [];
  child.on('message', (raw) => {
    const message = raw as ChildMessage;
    const i = waiters.findIndex((w) => w.type === message.type);
    if (i < 0) inbox.push(message);
    else waiters.splice(i, 1)[0]?.resolve(message);
  });
  const next = (type: ChildMessage['type']): Promise<ChildMessage> => {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as ChildMessage);
    const failed = exited.then(() => {
      throw new Error(`${mode} server exited before sending '${type}'`);
    });
    const got = new Promise<ChildMessage>((resolve) => waiters.push({ type, resolve }));
    return withLimit(Promise.race([got, failed]), `${mode} server '${type}'`);
  };
  const ready = await next('ready');
  if (ready.type !== 'ready') throw new Error('unreachable');
  return {
    mode,
    url: ready.url,
    token: ready.token,
    send: (message) => child.send(message),
    next,
    async stop() {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      await withLimit(exited, `${mode} server exit`, 10_000).catch(() => {
        child.kill('SIGKILL');
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client

type Json = Record<string, unknown>;

/** One WebSocket client with a swappable per-frame handler (no promise per frame on the hot path). */
class Client {
  onFrame: (data: Buffer) => void = () => undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      this.onFrame(rawBuffer(data));
    });
  }

  static open(url: string): Promise<Client> {
    return withLimit(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.once('open', () => {
          resolve(new Client(ws));
        });
        ws.once('error', reject);
      }),
      `connect ${url}`,
    );
  }

  /** Resolves with the first frame (parsed) that `pred` accepts; every frame until then is parsed too. */
  waitFor(pred: (frame: Json) => boolean, what: string): Promise<Json> {
    return withLimit(
      new Promise((resolve, reject) => {
        this.onFrame = (data) => {
          const frame = JSON.parse(data.toString('utf8')) as Json;
          if (frame.type === 'error') {
            this.onFrame = () => undefined;
            reject(new Error(`${what}: server error ${JSON.stringify(frame.error)}`));
            return;
          }
          if (!pred(frame)) return;
          this.onFrame = () => undefined;
          resolve(frame);
        };
      }),
      what,
    );
  }

  async request(command: CommandInput & { id: string }): Promise<Json> {
    const answer = this.waitFor((f) => f.type === 'result' && f.id === command.id, command.type);
    this.ws.send(JSON.stringify(command));
    return (await answer).result as Json;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      this.ws.once('close', () => {
        resolve();
      });
      this.ws.close();
    });
  }
}

/** hello + session.create + session.subscribe; returns the session id. */
async function openParleySession(client: Client, token: string, batch = false): Promise<string> {
  await client.request({ type: 'hello', id: 'hello', protocol: PROTOCOL_VERSION, token, batch });
  const session = await client.request({ type: 'session.create', id: 'create' });
  const sessionId = String(session.session_id);
  await client.request({ type: 'session.subscribe', id: 'subscribe', session_id: sessionId });
  return sessionId;
}

// ---------------------------------------------------------------------------------------------
// Statistics

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly samples: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

function latency(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, samples: values.length };
}

interface Throughput {
  readonly events: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly dropped: number;
}

const eventsPerSecond = (t: Throughput): number => t.events / t.seconds;
const mbPerSecond = (t: Throughput): number => t.bytes / t.seconds / (1024 * 1024);

function medianBy<T>(items: readonly T[], key: (t: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  const mid = sorted[Math.floor(sorted.length / 2)];
  if (mid === undefined) throw new Error('no measurements');
  return mid;
}

// ---------------------------------------------------------------------------------------------
// 1. ACK round trip

/** One timed exchange; returns milliseconds. */
type Sampler = (i: number) => Promise<number>;

async function parleyAckSampler(
  client: Client,
  token: string,
): Promise<{ sample: Sampler; frameBytes: number }> {
  const sessionId = await openParleySession(client, token);
  const frameOf = (i: number): string =>
    JSON.stringify({
      type: 'turn.start',
      id: `a${i}`,
      session_id: sessionId,
      text: ACK_TEXT,
    } satisfies CommandInput);
  const sample: Sampler = async (i) => {
    const start = frameOf(i);
    const ack = client.waitFor((f) => f.type === 'turn_accepted', 'turn_accepted');
    const t0 = performance.now();
    client.ws.send(start);
    const accepted = await ack;
    const elapsed = performance.now() - t0;
    // End the turn before the next sample: cancel it and wait for the cancel's result, the last frame of
    // the exchange (turn_accepted, result, turn_cancelled, result).
    await client.request({
      type: 'turn.cancel',
      id: `c${i}`,
      session_id: sessionId,
      turn_id: String(accepted.turn_id),
    });
    return elapsed;
  };
  return { sample, frameBytes: Buffer.byteLength(frameOf(ACK_WARMUP + ACK_SAMPLES)) };
}

function bareEchoSampler(client: Client, frameBytes: number): { sample: Sampler; frameBytes: number } {
  // A JSON frame of exactly the turn.start frame's size; the client parses the echo like any frame.
  const frameOf = (i: number): string => {
    const base = JSON.stringify({ type: 'echo', id: `e${i}`, pad: '' });
    return JSON.stringify({
      type: 'echo',
      id: `e${i}`,
      pad: 'x'.repeat(Math.max(0, frameBytes - base.length)),
    });
  };
  const sample: Sampler = async (i) => {
    const frame = frameOf(i);
    const echoed = client.waitFor(() => true, 'echo');
    const t0 = performance.now();
    client.ws.send(frame);
    await echoed;
    return performance.now() - t0;
  };
  return { sample, frameBytes: Buffer.byteLength(frameOf(ACK_WARMUP + ACK_SAMPLES)) };
}

interface AckResult {
  readonly parley: Latency;
  readonly bare: Latency;
  readonly parleyFrameBytes: number;
  readonly bareFrameBytes: number;
}

/** One client to each server, recorded in `clients` for closing. */
async function openPair(clients: Client[], parleyUrl: string, bareUrl: string): Promise<[Client, Client]> {
  const parley = await Client.open(parleyUrl);
  clients.push(parley);
  const bare = await Client.open(bareUrl);
  clients.push(bare);
  return [parley, bare];
}

/** Both servers run side by side; samples alternate in blocks so drift on the machine hits both alike. */
async function ackRoundTrip(): Promise<AckResult> {
  const [parleyServer, bareServer] = await Promise.all([startChild('parley-ack'), startChild('bare-echo')]);
  const clients: Client[] = [];
  try {
    const [parleyClient, bareClient] = await openPair(clients, parleyServer.url, bareServer.url);
    const parley = await parleyAckSampler(parleyClient, parleyServer.token);
    const bare = bareEchoSampler(bareClient, parley.frameBytes);
    for (let i = 0; i < ACK_WARMUP; i++) {
      await parley.sample(i);
      await bare.sample(i);
    }
    const parleyTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let i = ACK_WARMUP; i < ACK_WARMUP + ACK_SAMPLES; i += ACK_BLOCK) {
      const end = Math.min(i + ACK_BLOCK, ACK_WARMUP + ACK_SAMPLES);
      for (let j = i; j < end; j++) parleyTimes.push(await parley.sample(j));
      for (let j = i; j < end; j++) bareTimes.push(await bare.sample(j));
    }
    return {
      parley: latency(parleyTimes),
      bare: latency(bareTimes),
      parleyFrameBytes: parley.frameBytes,
      bareFrameBytes: bare.frameBytes,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([parleyServer.stop(), bareServer.stop()]);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. token_delta throughput

/** Counts token_delta frames until turn_final; keeps their text when `capture` is given. */
/** How many times `mark` occurs in `data` (an `event.batch` frame carries many token deltas). */
function countMarks(data: Buffer, mark: string): number {
  let n = 0;
  for (let at = data.indexOf(mark); at !== -1; at = data.indexOf(mark, at + mark.length)) n++;
  return n;
}

/** Counts token_delta events until turn_final; keeps their frames when `capture` is given. */
async function parleyStreamRound(
  client: Client,
  sessionId: string,
  tokens: number,
  capture?: string[],
): Promise<Throughput> {
  let events = 0;
  let bytes = 0;
  let dropped = 0;
  let t1 = 0;
  const done = withLimit(
    new Promise<void>((resolve, reject) => {
      client.onFrame = (data) => {
        const batched = data.subarray(0, 24).includes(BATCH_MARK);
        if (!batched && data.includes(TOKEN_DELTA_MARK)) {
          events++;
          bytes += data.length;
          capture?.push(data.toString('utf8'));
          return;
        }
        if (batched) {
          events += countMarks(data, TOKEN_DELTA_MARK);
          bytes += data.length;
        }
        // A batch may end with the frame that finishes the turn; only the tail needs parsing.
        const frames: Json[] = batched
          ? (JSON.parse(data.toString('utf8')) as { events: Json[] }).events.filter(
              (e) => e.type !== 'token_delta',
            )
          : [JSON.parse(data.toString('utf8')) as Json];
        for (const frame of frames) {
          if (frame.type === 'error')
            reject(new Error(`stream: server error ${JSON.stringify(frame.error)}`));
          else if (frame.type === 'stream_overflow') dropped += Number((frame.payload as Json).dropped);
          else if (frame.type === 'turn_final') t1 = performance.now();
          else if (
            frame.type === 'commit_succeeded' ||
            frame.type === 'commit_failed' ||
            frame.type === 'turn_failed'
          )
            resolve();
        }
      };
    }),
    `stream of ${tokens} tokens`,
  );
  const t0 = performance.now();
  client.ws.send(
    JSON.stringify({ type: 'turn.start', id: `s${tokens}`, session_id: sessionId, text: `tokens:${tokens}` }),
  );
  await done;
  client.onFrame = () => undefined;
  if (t1 === 0) throw new Error('stream ended without turn_final');
  return { events, bytes, seconds: (t1 - t0) / 1000, dropped };
}

async function bareStreamRound(client: Client, count: number): Promise<Throughput> {
  let events = 0;
  let bytes = 0;
  let t1 = 0;
  const done = withLimit(
    new Promise<void>((resolve) => {
      client.onFrame = (data) => {
        if (data.includes(TOKEN_DELTA_MARK)) {
          events++;
          bytes += data.length;
        }
        if (events === count) {
          t1 = performance.now();
          resolve();
        }
      };
    }),
    `bare stream of ${count} frames`,
  );
  const t0 = performance.now();
  client.ws.send('{"type":"go"}');
  await done;
  client.onFrame = () => undefined;
  return { events, bytes, seconds: (t1 - t0) / 1000, dropped: 0 };
}

interface StreamResult {
  readonly parley: Throughput[];
  /** The same turns to a client that asked for `event.batch` frames in hello. */
  readonly batched: Throughput[];
  readonly bare: Throughput[];
  readonly frames: number;
  readonly meanFrameBytes: number;
}

/**
 * A warm-up turn, then one turn whose token_delta frames are captured for the baseline, then Parley and
 * bare rounds alternating (both servers run side by side).
 */
async function tokenThroughput(): Promise<StreamResult> {
  const [parleyServer, bareServer] = await Promise.all([
    startChild('parley-stream'),
    startChild('bare-stream'),
  ]);
  const clients: Client[] = [];
  try {
    const [parleyClient, bareClient] = await openPair(clients, parleyServer.url, bareServer.url);
    const batchClient = await Client.open(parleyServer.url);
    clients.push(batchClient);
    const sessionId = await openParleySession(parleyClient, parleyServer.token);
    const batchSession = await openParleySession(batchClient, parleyServer.token, true);
    await parleyStreamRound(parleyClient, sessionId, STREAM_WARMUP_TOKENS);
    await parleyStreamRound(batchClient, batchSession, STREAM_WARMUP_TOKENS);
    const frames: string[] = [];
    await parleyStreamRound(parleyClient, sessionId, STREAM_TOKENS, frames);
    if (frames.length === 0) throw new Error('no token_delta frames captured');
    bareServer.send({ type: 'frames', frames });
    await bareServer.next('frames-loaded');
    await bareStreamRound(bareClient, frames.length);
    const parley: Throughput[] = [];
    const batched: Throughput[] = [];
    const bare: Throughput[] = [];
    for (let r = 0; r < STREAM_ROUNDS; r++) {
      parley.push(await parleyStreamRound(parleyClient, sessionId, STREAM_TOKENS));
      batched.push(await parleyStreamRound(batchClient, batchSession, STREAM_TOKENS));
      bare.push(await bareStreamRound(bareClient, frames.length));
    }
    const meanFrameBytes = frames.reduce((n, f) => n + Buffer.byteLength(f), 0) / frames.length;
    return { parley, batched, bare, frames: frames.length, meanFrameBytes };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([parleyServer.stop(), bareServer.stop()]);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Ledger commits

/**
 * Player lines for Mira (wayside-inn's scripted model answers by keyword). Each session plays them in
 * order: commits with real world changes (quest, sales, flags, coin, relationships), commits with an
 * empty patch, and commits that fail governance (a 50-silver bribe over the coin limit, an unknown
 * action), each writing one ledger record.
 */
const LEDGER_LINES: readonly string[] = [
  'Good evening! Terrible rain out there.',
  'Is there any work going? I hear you have rats.',
  'I need a room to sleep in.',
  "I'm hungry. What's for supper?",
  'Take this bribe and keep quiet.',
  'Thank you, that was kind.',
  'Can you show me some magic?',
  'The cellar is cleared, the rats are gone.',
  'Now, about my reward.',
  'Would you sell me your map of the fords?',
  'This ale is swill.',
  'Any news from the bridge?',
];

/** A real commit input and the bytes its ledger row stores (text columns). */
interface CommitTemplate {
  readonly input: CommitInput;
  readonly rowBytes: number;
}

interface TurnsResult {
  readonly turns: number;
  readonly seconds: number;
  readonly committed: number;
  /** Failed attempts by the stage that failed them. */
  readonly failed: Readonly<Record<string, number>>;
  readonly meanTokens: number;
  readonly verifyRecords: number;
  readonly verifySeconds: number;
  /** One session's records (every line once), as commit inputs. */
  readonly templates: CommitTemplate[];
}

/**
 * One warm-up session, then LEDGER_TURNS turns end to end (sessions of LEDGER_LINES, one turn at a time,
 * each awaited to its commit event), then `verify` over the ledger they wrote.
 */
async function ledgerTurns(dataDir: string): Promise<TurnsResult> {
  const runtime = createRuntime({ dataDir, runId: 'bench', scripted: { tokenIntervalMs: 0 } });
  try {
    const play = async (turns: number): Promise<void> => {
      let session = runtime.manager.createSession();
      for (let i = 0; i < turns; i++) {
        if (i > 0 && i % LEDGER_LINES.length === 0) {
          await session.close();
          session = runtime.manager.createSession();
        }
        const started = session.startTurn(LEDGER_LINES[i % LEDGER_LINES.length] as string);
        if (!started.accepted) throw new Error(`ledger turn rejected: ${started.reason}`);
        await session.whenIdle();
      }
      await session.close();
    };
    await play(LEDGER_LINES.length);
    const warm = runtime.ledger.count();
    const t0 = performance.now();
    await play(LEDGER_TURNS);
    const seconds = (performance.now() - t0) / 1000;
    const rows = [...runtime.ledger.commits()];
    const timed = rows.slice(warm);
    if (timed.length !== LEDGER_TURNS)
      throw new Error(`${LEDGER_TURNS} turns wrote ${timed.length} ledger records`);
    const records = rows.map((row) => JSON.parse(row.provenance_json) as ProvenanceRecord);

    const v0 = performance.now();
    const report = await runtime.verify();
    const verifySeconds = (performance.now() - v0) / 1000;
    if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.first_divergence)}`);

    const templates = rows.slice(0, LEDGER_LINES.length).map((row, i): CommitTemplate => {
      const {
        v: _v,
        commit_seq: _seq,
        prev_provenance_hash: _prev,
        ...rest
      } = records[i] as ProvenanceRecord;
      const rowBytes = [
        row.session_id,
        row.turn_id,
        row.outcome,
        row.final_text,
        row.provenance_json,
        row.provenance_hash,
      ].reduce((n, text) => n + Buffer.byteLength(text), 0);
      return { input: { ...rest, final_text: row.final_text }, rowBytes };
    });
    return {
      turns: LEDGER_TURNS,
      seconds,
      committed: timed.filter((r) => r.outcome === 'committed').length,
      failed: records.slice(warm).reduce<Record<string, number>>((by, r) => {
        if (r.failure !== null) by[r.failure.stage] = (by[r.failure.stage] ?? 0) + 1;
        return by;
      }, {}),
      meanTokens: records.slice(warm).reduce((n, r) => n + r.token_count, 0) / LEDGER_TURNS,
      verifyRecords: report.commits_checked,
      verifySeconds,
      templates,
    };
  } finally {
    await runtime.dispose();
  }
}

interface CommitResult {
  /** Commits per second, one figure per round. */
  readonly parley: number[];
  readonly bare: number[];
  readonly meanRowBytes: number;
}

/** `Ledger.commit` versus a bare insert transaction of the same row sizes, alternating rounds, same directory. */
function ledgerCommits(dir: string, templates: readonly CommitTemplate[]): CommitResult {
  const ledger = Ledger.open(join(dir, 'commits.sqlite'));
  const db = new Database(join(dir, 'bare.sqlite'));
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    db.pragma('synchronous = FULL');
    const sync = db.pragma('synchronous', { simple: true }) as number;
    if (mode !== 'wal' || sync !== 2)
      throw new Error(`bare database: journal_mode ${mode}, synchronous ${sync}`);
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT');
    const insert = db.prepare('INSERT INTO rows (id, body) VALUES (?, ?)');
    const bareCommit = db.transaction((id: number, body: string) => {
      insert.run(id, body);
    });
    const bodies = templates.map((t) => 'x'.repeat(t.rowBytes));

    let next = 0;
    /** Inputs are built before the clock starts, as bodies are for the bare rows. */
    const parleyRound = (n: number): number => {
      const inputs = Array.from({ length: n }, (_, j): CommitInput => {
        const i = next + j;
        const t = templates[i % templates.length] as CommitTemplate;
        return { ...t.input, turn_id: `${t.input.turn_id}.b${i}` };
      });
      next += n;
      const t0 = performance.now();
      for (const input of inputs) ledger.commit(input);
      return n / ((performance.now() - t0) / 1000);
    };
    let nextId = 0;
    const bareRound = (n: number): number => {
      const t0 = performance.now();
      for (let j = 0; j < n; j++) {
        const id = ++nextId;
        bareCommit(id, bodies[id % bodies.length] as string);
      }
      return n / ((performance.now() - t0) / 1000);
    };

    parleyRound(LEDGER_WARMUP);
    bareRound(LEDGER_WARMUP);
    const parley: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < LEDGER_ROUNDS; r++) {
      parley.push(parleyRound(LEDGER_COMMITS));
      bare.push(bareRound(LEDGER_COMMITS));
    }
    const meanRowBytes = templates.reduce((n, t) => n + t.rowBytes, 0) / templates.length;
    return { parley, bare, meanRowBytes };
  } finally {
    ledger.close();
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const us = (msValue: number): string => `${(msValue * 1000).toFixed(1)} µs`;
const num = (v: number): string => Math.round(v).toLocaleString('en-US');
const ratio = (v: number): string => `${v.toFixed(2)}x`;
const pct = (v: number): string => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;

function line(label: string, value: string): void {
  process.stdout.write(`  ${label.padEnd(34)} ${value}\n`);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: did not finish within ${RUN_LIMIT_MS} ms; stopping\n`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, RUN_LIMIT_MS);
  watchdog.unref();

  const cpus = os.cpus();
  process.stdout.write(
    'Parley benchmarks' + (quick ? ' (--quick: small counts, figures are rough)' : '') + '\n',
  );
  line('node', process.version);
  line('platform', `${process.platform} ${os.release()} ${process.arch}`);
  line('cpus', `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`);
  line('memory', `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`);
  line('arrangement', 'server in a forked child process, this process is the client, 127.0.0.1');

  process.stdout.write(
    `\n1. ACK round trip (${ACK_SAMPLES} samples each after ${ACK_WARMUP} warm-up, alternating in blocks of ${ACK_BLOCK})\n`,
  );
  const ack = await ackRoundTrip();
  line('frame size', `${ack.parleyFrameBytes} B turn.start / ${ack.bareFrameBytes} B echo`);
  line(
    'Parley turn.start → turn_accepted',
    `p50 ${us(ack.parley.p50)}  p99 ${us(ack.parley.p99)}  mean ${us(ack.parley.mean)}`,
  );
  line('bare ws echo', `p50 ${us(ack.bare.p50)}  p99 ${us(ack.bare.p99)}  mean ${us(ack.bare.mean)}`);
  const ackP50 = ack.parley.p50 / ack.bare.p50;
  const ackP99 = ack.parley.p99 / ack.bare.p99;
  line('ratio Parley / bare', `p50 ${ratio(ackP50)}  p99 ${ratio(ackP99)}`);

  process.stdout.write(
    `\n2. token_delta throughput to one client (${STREAM_TOKENS} tokens per turn, median of ${STREAM_ROUNDS} alternating rounds)\n`,
  );
  const stream = await tokenThroughput();
  const p = medianBy(stream.parley, eventsPerSecond);
  const b = medianBy(stream.bare, eventsPerSecond);
  line('frames', `${stream.frames} real token_delta frames, mean ${stream.meanFrameBytes.toFixed(0)} B`);
  line(
    'Parley (scripted, tokenIntervalMs 0)',
    `${num(eventsPerSecond(p))} events/s  ${mbPerSecond(p).toFixed(2)} MB/s`,
  );
  line('  rounds (events/s)', stream.parley.map((r) => num(eventsPerSecond(r))).join(', '));
  const droppedTotal = stream.parley.reduce((n, r) => n + r.dropped, 0);
  line('  dropped (drop_telemetry)', `${droppedTotal} in ${STREAM_ROUNDS} rounds`);
  line('bare ws, same frames', `${num(eventsPerSecond(b))} events/s  ${mbPerSecond(b).toFixed(2)} MB/s`);
  line('  rounds (events/s)', stream.bare.map((r) => num(eventsPerSecond(r))).join(', '));
  const pb = medianBy(stream.batched, eventsPerSecond);
  line(
    'Parley, event.batch client',
    `${num(eventsPerSecond(pb))} events/s  ${mbPerSecond(pb).toFixed(2)} MB/s`,
  );
  line('  rounds (events/s)', stream.batched.map((r) => num(eventsPerSecond(r))).join(', '));
  const droppedBatched = stream.batched.reduce((n, r) => n + r.dropped, 0);
  line('  dropped (drop_telemetry)', `${droppedBatched} in ${STREAM_ROUNDS} rounds`);
  const tputSingle = eventsPerSecond(p) / eventsPerSecond(b);
  const tput = eventsPerSecond(pb) / eventsPerSecond(b);
  line('ratio Parley / bare', `one frame per event ${ratio(tputSingle)}  event.batch ${ratio(tput)}`);

  const transportSummary = (): void => {
    process.stdout.write('\nSummary (goals reported, not enforced)\n');
    line(
      `ACK p50 <= ${GOAL_ACK_RATIO}x bare echo`,
      `${ratio(ackP50)}  ${ackP50 <= GOAL_ACK_RATIO ? 'MET' : 'MISSED'}`,
    );
    line(
      `throughput >= ${GOAL_THROUGHPUT_RATIO}x bare ws`,
      `${ratio(tput)} with event.batch  ${tput >= GOAL_THROUGHPUT_RATIO ? 'MET' : 'MISSED'}  (one frame per event: ${ratio(tputSingle)})`,
    );
  };
  const ipcSection = async (): Promise<number> => {
    process.stdout.write(
      "\n6. IPC event batching through the shell's EventBatcher, headless " +
        "(a worker_threads MessageChannel stands in for Electron's hop)\n",
    );
    return reportIpc(await benchIpcBatching({ quick }), line);
  };
  if (transportOnly) {
    const ipcRatio = await ipcSection();
    transportSummary();
    line('IPC batching (64/frame/session)', `${ratio(ipcRatio)} the events/s of one message per event`);
    return;
  }

  process.stdout.write(
    `\n3. ledger commits (WAL, synchronous=FULL, in ${os.tmpdir()}; median of ${LEDGER_ROUNDS} alternating rounds)\n`,
  );
  const ledgerDir = mkdtempSync(join(os.tmpdir(), 'parley-bench-ledger-'));
  try {
    const turns = await ledgerTurns(join(ledgerDir, 'turns'));
    line(
      'full turns (Mira, pace 0)',
      `${num(turns.turns / turns.seconds)} turns/s  ${us((turns.seconds * 1000) / turns.turns)} per turn`,
    );
    const failed = Object.entries(turns.failed).map(([stage, n]) => `${n} at ${stage}`);
    line(
      '  turns',
      `${turns.turns} one at a time, ${turns.meanTokens.toFixed(1)} tokens each: ` +
        `${turns.committed} committed, failed ${failed.join(', ') || 'none'}`,
    );
    line(
      'verify/replay of that ledger',
      `${num(turns.verifyRecords / turns.verifySeconds)} records/s  (${turns.verifyRecords} records)`,
    );
    const commits = ledgerCommits(ledgerDir, turns.templates);
    const pc = medianBy(commits.parley, (v) => v);
    const bc = medianBy(commits.bare, (v) => v);
    line(
      'row',
      `mean ${commits.meanRowBytes.toFixed(0)} B (text columns), ${turns.templates.length} real records cycled`,
    );
    line('Ledger.commit', `${num(pc)} commits/s  ${us(1000 / pc)} each`);
    line('  rounds (commits/s)', commits.parley.map(num).join(', '));
    line('bare insert tx, same row size', `${num(bc)} commits/s  ${us(1000 / bc)} each`);
    line('  rounds (commits/s)', commits.bare.map(num).join(', '));
    line('ratio cost Ledger.commit / bare', ratio(bc / pc));
  } finally {
    rmSync(ledgerDir, { recursive: true, force: true });
  }

  process.stdout.write(
    `\n4. agent control plane per turn, in this process (${AGENT_TURNS} turns per round, ` +
      `${AGENT_TURNS * EVENT_TURN_FACTOR} for events alone; median of ${AGENT_ROUNDS} alternating rounds)\n`,
  );
  const agents = agentPlaneCost({ turns: AGENT_TURNS, warmup: AGENT_WARMUP, rounds: AGENT_ROUNDS });
  const { shape } = agents;
  const plane = medianBy(agents.plane, (r) => r.total);
  const events = medianBy(agents.events, (v) => v);
  line(
    'intent requests',
    `${shape.requests} over the ${AGENT_NAMES.length} agents/intents, seeded relevance 0.25..1; PILOT, all pilot agents`,
  );
  line(
    '  plan',
    `${shape.planned} planned (${shape.executed} run, ${shape.previews} previews), ${shape.belowThreshold} below threshold`,
  );
  line(
    '  arbiter',
    `${shape.accepted} accepted, ${shape.duplicates} rejected (same agent + intent); ` +
      `envelopes mean ${shape.meanEnvelopeBytes.toFixed(0)} B`,
  );
  line('planning (planSpawns)', `${us(plane.planning)} per turn`);
  line('envelopes (one per spawn)', `${us(plane.envelopes)} per turn`);
  line('arbitration (decideStaged)', `${us(plane.arbitration)} per turn`);
  line('planning + arbitration', `${us(plane.total)} per turn`);
  line('  rounds (µs per turn)', agents.plane.map((r) => (r.total * 1000).toFixed(1)).join(', '));
  line(
    "turn's events alone",
    `${us(events)} per turn (${AGENT_TURN_EVENTS} events, mean ${agents.meanEventBytes.toFixed(0)} B)`,
  );
  line('  events', `turn_accepted, ${AGENT_TURN_TOKENS} token_delta, turn_final, commit_succeeded`);
  line('  rounds (µs per turn)', agents.events.map((v) => (v * 1000).toFixed(1)).join(', '));
  const agentRatio = plane.total / events;
  line('ratio planning+arbitration/events', ratio(agentRatio));
  line(
    '  planning only / arbitration only',
    `${ratio(plane.planning / events)} / ${ratio(plane.arbitration / events)} of the events`,
  );

  process.stdout.write(
    `\n5. local model through the runtime vs node-llama-cpp directly (median of ${MODEL_ROUNDS} alternating rounds)\n`,
  );
  const modelRuns: ModelRun[] = [];
  for (const model of ['embedded', 'larger'] as const) {
    const result = await modelBench({ rounds: MODEL_ROUNDS, maxTokens: MODEL_MAX_TOKENS, model });
    modelRuns.push(reportModel(model, result));
  }
  const ipcRatio = await ipcSection();

  process.stdout.write(
    `\n7. renderer in Chromium while a scripted turn streams 5,000 token_delta/s for ${quick ? 10 : 30} s\n`,
  );
  const renderer = await rendererBench({ quick, line });
  if ('skipped' in renderer) line('skipped', renderer.skipped);

  transportSummary();
  line('IPC batching (64/frame/session)', `${ratio(ipcRatio)} the events/s of one message per event`);
  line(
    'renderer under 5,000 events/s',
    'skipped' in renderer
      ? `skipped: ${renderer.skipped}`
      : `longest task ${renderer.longestTaskMs.toFixed(0)} ms (${renderer.longTasks} over 50 ms), ` +
          `${renderer.meanFps.toFixed(0)} fps mean / ${renderer.worstSecondFps.toFixed(0)} worst 1 s, ` +
          `heap ${renderer.heapBeforeMb.toFixed(1)} → ${renderer.heapAfterMb.toFixed(1)} MB; no goal set`,
  );
  line(
    'agent plane / turn events',
    `${ratio(agentRatio)}  (${us(plane.total)} vs ${us(events)} per turn, ${AGENT_REQUESTS} requests; no goal set)`,
  );
  for (const run of modelRuns) {
    const met = Math.max(run.ttftOverhead, run.tpsOverhead) <= GOAL_MODEL_OVERHEAD;
    line(
      `${run.label}: overhead <= ${GOAL_MODEL_OVERHEAD * 100}%`,
      `first token ${pct(run.ttftOverhead)}, tokens/s ${pct(-run.tpsOverhead)}  ${met ? 'MET' : 'MISSED'}`,
    );
    line(
      `${run.label}: cold/warm/prewarmed`,
      `${run.result.cold.ttft.toFixed(0)} ms / ${run.result.warm.ttft.toFixed(1)} ms / ` +
        `${run.result.prewarm.ttft.toFixed(1)} ms to first token; prewarm hid ${run.result.prewarm.hiddenMs} ms`,
    );
  }
}

interface ModelRun {
  readonly label: string;
  readonly result: ModelBenchResult;
  readonly ttftOverhead: number;
  readonly tpsOverhead: number;
}

/** Prints one model's rows of section 5. */
function reportModel(label: string, models: ModelBenchResult): ModelRun {
  const median = (list: readonly Timing[], key: (t: Timing) => number): number => key(medianBy(list, key));
  process.stdout.write(`  ${label}\n`);
  line('  model', `${models.model}, ${num(models.parameters)} parameters, ${models.threads} thread(s)`);
  line(
    '  prompt',
    `${models.promptChars} characters (wayside-inn system prompt + player line), ${models.maxTokens} tokens max`,
  );
  const rTtft = median(models.runtime, (t) => t.ttft);
  const dTtft = median(models.direct, (t) => t.ttft);
  const rTps = median(models.runtime, (t) => t.tokensPerSecond);
  const dTps = median(models.direct, (t) => t.tokensPerSecond);
  line(
    '  runtime: time to first token',
    `${rTtft.toFixed(2)} ms  (rounds ${models.runtime.map((t) => t.ttft.toFixed(1)).join(', ')})`,
  );
  line(
    '  direct: time to first token',
    `${dTtft.toFixed(2)} ms  (rounds ${models.direct.map((t) => t.ttft.toFixed(1)).join(', ')})`,
  );
  line(
    '  runtime: tokens/s',
    `${num(rTps)}  (${models.runtime[0]?.tokens ?? 0} tokens in ${models.runtime[0]?.chunks ?? 0} chunks per turn)`,
  );
  line(
    '  direct: tokens/s',
    `${num(dTps)}  (${models.direct[0]?.tokens ?? 0} tokens in ${models.direct[0]?.chunks ?? 0} chunks per turn)`,
  );
  const ttftOverhead = rTtft / dTtft - 1;
  const tpsOverhead = 1 - rTps / dTps;
  line(
    '  runtime vs direct',
    `first token ${pct(ttftOverhead)} (${(rTtft - dTtft).toFixed(2)} ms)  tokens/s ${pct(-tpsOverhead)}`,
  );
  line(
    '  cold first turn (worker + load)',
    `first token ${models.cold.ttft.toFixed(0)} ms, of which load ${models.cold.loadMs} ms`,
  );
  line('  warm second turn', `first token ${models.warm.ttft.toFixed(1)} ms`);
  line(
    '  prewarmed first turn',
    `first token ${models.prewarm.ttft.toFixed(1)} ms; prewarm (${models.prewarm.trigger}) hid ${models.prewarm.hiddenMs} ms of load`,
  );
  return { label, result: models, ttftOverhead, tpsOverhead };
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  serve(process.argv[serveAt + 1] as ServerMode | undefined).catch((err: unknown) => {
    process.stderr.write(
      `bench server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
} else {
  main()
    .catch((err: unknown) => {
      process.stderr.write(
        `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    })
    .finally(() => {
      for (const child of children) child.kill('SIGKILL');
    });
}
