/**
 * IPC event batching (a section of bench/run.ts), in the benchmark's own process, without Electron.
 *
 * Measured: events per second from the shell's event sink to a receiver that has the events in hand,
 * through a headless stand-in for the Electron hop: a `node:worker_threads` MessageChannel, whose
 * postMessage structured-clones each message out and in and dispatches one `message` event per message,
 * as `webContents.send` / a MessagePort do (Electron adds a process hop this cannot show).
 *
 * - unbatched: one message per event, the envelope itself (the shell's previous shape);
 * - batched: the real `EventBatcher` (src/main/shell/event-batcher.ts), one `parley:events` message per
 *   session per frame, at several loads (events per frame per session), frames driven by a virtual
 *   timer so the figure is the CPU cost of the path, not the 16 ms wait.
 *
 * Events: real `token_delta` envelopes of SESSIONS sessions, interleaved. The producer yields to the
 * event loop every YIELD_EVERY events or so, so the receiver drains as it goes. Every run checks that each
 * session's seqs arrive complete and in order. Rounds alternate between the arrangements.
 */
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import { buildEvent } from '../src/main/runtime/interaction/session';
import { EventBatcher } from '../src/main/shell/event-batcher';
import { VirtualFrameTimer } from '../src/main/shell/virtual-frame-timer';
import type { IpcPushMessage } from '../src/shared/ipc';
import type { EventEnvelope } from '../src/shared/protocol';

const SESSIONS = 2;
const FRAME_MS = 16;
const YIELD_EVERY = 512;
/** Events per frame per session for the batched runs: a lone slow stream up to a token burst. */
export const IPC_LOADS = [1, 8, 64, 512] as const;

export interface IpcBenchOptions {
  readonly quick: boolean;
}

export interface IpcArrangement {
  readonly label: string;
  /** null: one message per event. */
  readonly eventsPerFrame: number | null;
  /** Events per second, one per round. */
  readonly rounds: readonly number[];
  /** Messages per run. */
  readonly messages: number;
}

export interface IpcBenchResult {
  readonly events: number;
  readonly sessions: number;
  readonly meanEventBytes: number;
  readonly frameMs: number;
  readonly unbatched: IpcArrangement;
  readonly batched: readonly IpcArrangement[];
}

function streamOf(count: number): EventEnvelope[] {
  const words = 'Evening, traveller. The fire is warm and the stew is hot; a room is four coin.'.split(' ');
  const seq = new Array<number>(SESSIONS).fill(0);
  return Array.from({ length: count }, (_, i) => {
    const s = i % SESSIONS;
    const n = ++(seq[s] as number);
    return buildEvent(`bench.s${s + 1}`, n, `bench.s${s + 1}.t1`, 1_700_000_000_000 + i, 'token_delta', {
      text: `${words[n % words.length] ?? 'ale'} `,
      index: n - 1,
    });
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Counts what arrives and checks per-session order; resolves when `total` events are in. */
function receiver(
  port: MessageChannel['port2'],
  total: number,
): { done: Promise<void>; messages: () => number } {
  const lastSeq = new Map<string, number>();
  let received = 0;
  let messages = 0;
  let fail: (error: Error) => void = () => undefined;
  const take = (event: EventEnvelope): void => {
    const expected = (lastSeq.get(event.session_id) ?? 0) + 1;
    if (event.seq !== expected)
      fail(new Error(`ipc bench: ${event.session_id} seq ${event.seq}, expected ${expected}`));
    lastSeq.set(event.session_id, event.seq);
    received++;
  };
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    port.on('message', (data: IpcPushMessage | EventEnvelope) => {
      messages++;
      if ('channel' in data) {
        if (data.channel === 'parley:events') for (const event of data.payload.events) take(event);
      } else take(data);
      if (received >= total) resolve();
    });
  });
  return { done, messages: () => messages };
}

async function runUnbatched(
  events: readonly EventEnvelope[],
): Promise<{ seconds: number; messages: number }> {
  const { port1, port2 } = new MessageChannel();
  try {
    const rx = receiver(port2, events.length);
    const started = performance.now();
    for (let i = 0; i < events.length; i++) {
      port1.postMessage(events[i]);
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
    }
    await rx.done;
    return { seconds: (performance.now() - started) / 1000, messages: rx.messages() };
  } finally {
    port1.close();
  }
}

async function runBatched(
  events: readonly EventEnvelope[],
  perFrame: number,
): Promise<{ seconds: number; messages: number }> {
  const { port1, port2 } = new MessageChannel();
  const timer = new VirtualFrameTimer();
  const batcher = new EventBatcher({
    send: (message) => {
      port1.postMessage(message);
    },
    timer,
    frameMs: FRAME_MS,
    maxPending: events.length + 1,
  });
  try {
    const rx = receiver(port2, events.length);
    const frame = perFrame * SESSIONS;
    const framesPerYield = Math.max(1, Math.round(YIELD_EVERY / frame));
    const started = performance.now();
    for (let i = 0, frames = 0; i < events.length; frames++) {
      const end = Math.min(events.length, i + frame);
      for (; i < end; i++) batcher.add(events[i] as EventEnvelope);
      timer.advance(FRAME_MS);
      if (frames % framesPerYield === framesPerYield - 1) await nextTurn();
    }
    batcher.flush();
    await rx.done;
    return { seconds: (performance.now() - started) / 1000, messages: rx.messages() };
  } finally {
    batcher.dispose();
    port1.close();
  }
}

/** Runs the comparison; prints nothing (see `reportIpc`). */
export async function benchIpcBatching(options: IpcBenchOptions): Promise<IpcBenchResult> {
  const count = options.quick ? 40_000 : 200_000;
  const rounds = options.quick ? 3 : 5;
  const events = streamOf(count);
  const warmup = events.slice(0, Math.min(count, 20_000));
  await runUnbatched(warmup);
  for (const load of IPC_LOADS) await runBatched(warmup, load);

  const unbatched: number[] = [];
  const batched = IPC_LOADS.map(() => [] as number[]);
  let unbatchedMessages = 0;
  const batchedMessages = IPC_LOADS.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    // Alternate which arrangement goes first, so neither always runs on a warmer (or fuller) heap.
    const order = round % 2 === 0 ? [-1, ...IPC_LOADS.keys()] : [...IPC_LOADS.keys(), -1];
    for (const which of order) {
      if (which < 0) {
        const run = await runUnbatched(events);
        unbatched.push(count / run.seconds);
        unbatchedMessages = run.messages;
      } else {
        const run = await runBatched(events, IPC_LOADS[which] as number);
        batched[which]?.push(count / run.seconds);
        batchedMessages[which] = run.messages;
      }
    }
  }
  const bytes = events.slice(0, 1000).reduce((n, e) => n + JSON.stringify(e).length, 0);
  return {
    events: count,
    sessions: SESSIONS,
    meanEventBytes: bytes / Math.min(1000, count),
    frameMs: FRAME_MS,
    unbatched: { label: 'unbatched', eventsPerFrame: null, rounds: unbatched, messages: unbatchedMessages },
    batched: IPC_LOADS.map((load, i) => ({
      label: `batched, ${load}/frame/session`,
      eventsPerFrame: load,
      rounds: batched[i] ?? [],
      messages: batchedMessages[i] ?? 0,
    })),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median events/s of an arrangement. */
export function ipcEventsPerSecond(arrangement: IpcArrangement): number {
  return median(arrangement.rounds);
}

const num = (v: number): string => Math.round(v).toLocaleString('en-US');

/**
 * Prints the section's rows with the caller's `line(label, value)`. Returns the ratio batched/unbatched
 * at 64 events per frame per session (a busy turn with agent streams), for a summary.
 */
export function reportIpc(result: IpcBenchResult, line: (label: string, value: string) => void): number {
  const base = ipcEventsPerSecond(result.unbatched);
  line(
    'events',
    `${num(result.events)} token_delta envelopes, ${result.sessions} sessions interleaved, ` +
      `mean ${result.meanEventBytes.toFixed(0)} B as JSON`,
  );
  line('hop', 'worker_threads MessageChannel, one thread: structured clone out + in, one dispatch/message');
  line(
    'unbatched (1 message per event)',
    `${num(base)} events/s  (rounds ${result.unbatched.rounds.map(num).join(', ')})`,
  );
  let headline = Number.NaN;
  for (const arrangement of result.batched) {
    const eps = ipcEventsPerSecond(arrangement);
    const ratio = eps / base;
    if (arrangement.eventsPerFrame === 64) headline = ratio;
    line(
      `batched, ${arrangement.eventsPerFrame ?? 0} events/frame/session`,
      `${num(eps)} events/s  ${ratio.toFixed(2)}x  ` +
        `(${num(arrangement.messages)} messages; rounds ${arrangement.rounds.map(num).join(', ')})`,
    );
  }
  line(
    'messages to the renderer',
    `unbatched ${num(result.unbatched.messages)}; batched at most one per ${result.frameMs} ms per session`,
  );
  return headline;
}
