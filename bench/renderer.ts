/**
 * Renderer under a token firehose (section 7 of bench/run.ts): the built inspector (`out/renderer`) in
 * Debian's Chromium, driven by Playwright, against a Parley runtime + server in this process (the
 * browser is its own process, so the page's main thread is measured apart from the runtime).
 *
 * The NPC's model is the deliberately scripted `FirehoseBackend`, paced at TOKENS_PER_SECOND: one
 * turn (`tokens:<n>`) streams n token_delta events over the measured time. Measured in the page, from
 * the player line sent to the turn's terminal state shown:
 * - long tasks (PerformanceObserver 'longtask', > 50 ms): count and longest;
 * - frames (a requestAnimationFrame counter): mean frame rate and the worst 1 s window;
 * - JS heap used (CDP `Performance.getMetrics`, after `HeapProfiler.collectGarbage`) before and after;
 * - what the store holds at the end: the event log's entries (bounded) and the rows in the DOM.
 * Events/s is the server side's count: token chunks the model produced / first to last token.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type CDPSession, type Page } from '@playwright/test';
import type { LoadedModel, LoadOptions, ModelBackend, TokenChunk } from '../src/main/runtime/models/backend';
import { createRuntime, type ParleyRuntime } from '../src/main/runtime/runtime';
import { FirehoseBackend } from '../src/main/runtime/testing/firehose-backend';
import { startServer, type ParleyServer } from '../src/main/runtime/transport/ws-server';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/support/chromium';

const num = (v: number): string => Math.round(v).toLocaleString('en-US');
const TOKENS_PER_SECOND = 5_000;
const LONG_TASK_MS = 50;
/** The turn may end this long after its last token (commit of a long reply, a slow last frame). */
const SETTLE_LIMIT_MS = 10_000;
const STEP_LIMIT_MS = 15_000;
const TERMINAL_STATES = ['committed', 'failed', 'cancelled', 'rejected'];
const BENCH_TOKEN = 'bench-renderer-token-0123456789abcdef0123';

export interface RendererBenchOptions {
  readonly quick: boolean;
  readonly line: (label: string, value: string) => void;
}

export interface RendererResult {
  readonly seconds: number;
  readonly tokensAsked: number;
  /** Server side: token chunks the model produced, and first to last token, seconds. */
  readonly tokensProduced: number;
  readonly streamSeconds: number;
  /** Player line sent → turn shown in its terminal state, seconds. */
  readonly measuredSeconds: number;
  readonly turnState: string;
  readonly longTasks: number;
  readonly longestTaskMs: number;
  readonly longTaskTotalMs: number;
  readonly meanFps: number;
  readonly worstSecondFps: number;
  readonly heapBeforeMb: number;
  readonly heapAfterMb: number;
  /** Event log entries the store holds for the session, and how many it evicted. */
  readonly logEntries: number;
  readonly logEvicted: string;
  readonly domRows: number;
  readonly domNodes: number;
  readonly telemetryDropped: string;
}

/** Counts the chunks every stream of `inner` yields, and when the first and last came. */
class CountingBackend implements ModelBackend {
  readonly kind: string;
  tokens = 0;
  first = 0;
  last = 0;

  constructor(private readonly inner: ModelBackend) {
    this.kind = inner.kind;
  }

  async load(modelId: string, options?: LoadOptions): Promise<LoadedModel> {
    const model = await this.inner.load(modelId, options);
    return { ...model, stream: (request, signal) => this.count(model.stream(request, signal)) };
  }

  private async *count(chunks: AsyncIterable<TokenChunk>): AsyncGenerator<TokenChunk> {
    for await (const chunk of chunks) {
      const now = performance.now();
      if (this.tokens === 0) this.first = now;
      this.tokens++;
      this.last = now;
      yield chunk;
    }
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** Runs in the page (a string: bench code has no DOM types). */
const PROBE = `(() => {
  const probe = { longTasks: [], frames: [], running: true };
  window.__parleyProbe = probe;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: false });
  const tick = (t) => {
    if (!probe.running) return;
    probe.frames.push(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

interface ProbeData {
  readonly longTasks: { start: number; duration: number }[];
  readonly frames: number[];
}

async function heapMb(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
  return used / (1024 * 1024);
}

async function domNodes(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'Nodes')?.value ?? Number.NaN;
}

/** Fewest frames in any 1 s window inside [from, to] (frame timestamps ascending, ms). */
function worstSecond(frames: readonly number[], from: number, to: number): number {
  if (to - from < 1000) return frames.filter((t) => t >= from && t <= to).length / ((to - from) / 1000);
  let worst = Number.POSITIVE_INFINITY;
  let j = 0;
  // Windows start at `from` and at each frame; a window [s, s + 1000) must end by `to`.
  const starts = [from, ...frames.filter((t) => t > from && t + 1000 <= to)];
  for (const s of starts) {
    while (j < frames.length && (frames[j] as number) < s) j++;
    let k = j;
    while (k < frames.length && (frames[k] as number) < s + 1000) k++;
    worst = Math.min(worst, k - j);
  }
  return worst;
}

async function measure(page: Page, cdp: CDPSession, tokens: number, counter: CountingBackend) {
  await page.getByTestId('new-session').click();
  await page.getByTestId('session-item').first().waitFor({ timeout: STEP_LIMIT_MS });
  await page.getByTestId('player-input').waitFor({ timeout: STEP_LIMIT_MS });
  await page.evaluate(PROBE);
  const heapBeforeMb = await heapMb(cdp);

  const t0 = await page.evaluate<number>('performance.now()');
  const wall0 = performance.now();
  await page.getByTestId('player-input').fill(`tokens:${tokens}`);
  await page.getByTestId('player-input').press('Enter');
  const expected = (tokens / TOKENS_PER_SECOND) * 1000;
  // Polled from here every 250 ms (the page's CSP forbids Playwright's in-page string predicates), so
  // waiting costs the page next to nothing.
  const terminal = `(() => {
    const turn = document.querySelector('[data-testid="turn"]');
    return turn !== null && ${JSON.stringify(TERMINAL_STATES)}.includes(turn.getAttribute('data-state'));
  })()`;
  const deadline = wall0 + expected + SETTLE_LIMIT_MS + STEP_LIMIT_MS;
  while (!(await page.evaluate<boolean>(terminal))) {
    if (performance.now() > deadline)
      throw new Error(`the turn did not end within ${Math.round(deadline - wall0)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const measuredSeconds = (performance.now() - wall0) / 1000;
  const t1 = await page.evaluate<number>('(window.__parleyProbe.running = false, performance.now())');
  const probe = await page.evaluate<ProbeData>('window.__parleyProbe');
  const turnState = (await page.getByTestId('turn').first().getAttribute('data-state')) ?? 'unknown';
  const heapAfterMb = await heapMb(cdp);

  const frames = probe.frames.filter((t) => t >= t0 && t <= t1);
  const longTasks = probe.longTasks.filter((e) => e.start + e.duration >= t0 && e.start <= t1);
  const log = page.getByTestId('event-log');
  const logEntries = Number((await log.getAttribute('data-count')) ?? Number.NaN);
  const facts = (await log.locator('.panel__facts').textContent()) ?? '';
  const dropped = page.locator('[title^="The server dropped telemetry"]');
  return {
    measuredSeconds,
    turnState,
    tokensProduced: counter.tokens,
    streamSeconds: (counter.last - counter.first) / 1000,
    longTasks: longTasks.filter((e) => e.duration > LONG_TASK_MS).length,
    longestTaskMs: longTasks.reduce((m, e) => Math.max(m, e.duration), 0),
    longTaskTotalMs: longTasks.reduce((s, e) => s + e.duration, 0),
    meanFps: frames.length / ((t1 - t0) / 1000),
    worstSecondFps: worstSecond(frames, t0, t1),
    heapBeforeMb,
    heapAfterMb,
    logEntries,
    logEvicted: /(\d+) older evicted/.exec(facts)?.[1] ?? '0',
    domRows: await page.getByTestId('event-row').count(),
    domNodes: await domNodes(cdp),
    telemetryDropped: (await dropped.count()) > 0 ? ((await dropped.first().textContent()) ?? '') : 'none',
  };
}

export async function rendererBench(
  options: RendererBenchOptions,
): Promise<RendererResult | { skipped: string }> {
  const staticDir = join(process.cwd(), 'out/renderer');
  if (!existsSync(join(staticDir, 'index.html'))) return { skipped: 'run npm run build first' };
  if (!existsSync(CHROMIUM)) return { skipped: `no ${CHROMIUM} (apt-get install -y chromium)` };
  const seconds = options.quick ? 10 : 30;
  const tokens = seconds * TOKENS_PER_SECOND;

  const started = performance.now();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'parley-bench-renderer-'));
  const counter = new CountingBackend(new FirehoseBackend(undefined, { tokensPerSecond: TOKENS_PER_SECOND }));
  let runtime: ParleyRuntime | undefined;
  let server: ParleyServer | undefined;
  let browser: Browser | undefined;
  try {
    runtime = createRuntime({ dataDir, runId: 'bench', backends: [counter] });
    server = await startServer(runtime, { token: BENCH_TOKEN, host: '127.0.0.1', port: 0, staticDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_LIMIT_MS);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(server.pairingUrl().page_url);
    await page
      .locator('[data-testid="connection-status"][data-state="connected"]')
      .waitFor({ timeout: STEP_LIMIT_MS });
    const result = await measure(page, cdp, tokens, counter);
    const { line } = options;
    const r: RendererResult = { seconds, tokensAsked: tokens, ...result };
    line(
      'stream (server side)',
      `${num(r.tokensProduced)} token_delta in ${r.streamSeconds.toFixed(1)} s = ` +
        `${num(r.tokensProduced / r.streamSeconds)} events/s (asked ${num(TOKENS_PER_SECOND)}/s for ${seconds} s)`,
    );
    line(
      '  measured in the page',
      `${r.measuredSeconds.toFixed(1)} s, line sent → turn ${r.turnState}; telemetry dropped: ${r.telemetryDropped}`,
    );
    line(
      'long tasks (> 50 ms)',
      `${r.longTasks}, longest ${r.longestTaskMs.toFixed(0)} ms, ${r.longTaskTotalMs.toFixed(0)} ms in all`,
    );
    line(
      'frame rate',
      `mean ${r.meanFps.toFixed(1)} fps, worst 1 s window ${r.worstSecondFps.toFixed(0)} fps`,
    );
    line(
      'JS heap used (after GC)',
      `before ${r.heapBeforeMb.toFixed(1)} MB, after ${r.heapAfterMb.toFixed(1)} MB ` +
        `(${r.heapAfterMb >= r.heapBeforeMb ? '+' : ''}${(r.heapAfterMb - r.heapBeforeMb).toFixed(1)} MB)`,
    );
    line(
      'store at the end',
      `${num(r.logEntries)} log entries held, ${r.logEvicted} evicted; ${r.domRows} rows in the DOM, ${r.domNodes} nodes`,
    );
    line('  section time', `${((performance.now() - started) / 1000).toFixed(1)} s`);
    return r;
  } finally {
    await browser?.close();
    await server?.close();
    await runtime?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
