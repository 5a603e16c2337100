/**
 * Crash durability of the ledger: a runtime process (testing/crash-child.ts) commits as fast as it can
 * and is SIGKILLed at a random point, over and over, on the same data dir. After every kill the ledger
 * must open, pass SQLite's integrity check, hold every commit the child reported (each report is
 * written only after its commit event, i.e. after the transaction committed) with the same
 * provenance hash, and verify: the hash chain is whole and every session's state replays.
 *
 * Kill points come from a seeded PRNG (PARLEY_CRASH_SEED overrides the seed; the timing of the child
 * still varies from run to run, so a failure prints the seed, the kill number and how it was chosen):
 * - `startup`: a random delay after the child says it is opening the runtime, up to its usual time from
 *   there to its first commit, so the kill lands in `Ledger.open` (WAL recovery of the previous child's
 *   hot WAL, or the schema migrations of a fresh file), in session registration or in the first turns.
 *   The first kill on each fresh data dir is always a startup kill;
 * - `after-k`: at once when the k-th report line arrives (k random), i.e. while the child is between
 *   or inside the next commits;
 * - `busy`: a random 0-150 ms after the first report line, anywhere in the busy commit loop (including
 *   WAL checkpoints, which the WAL carried over from killed children makes frequent).
 *
 * A kill while the child creates a fresh ledger (before its first commit) may leave a file a read-only
 * open refuses (no schema yet, or a hot rollback journal from the switch to WAL); that is accepted
 * only while nothing was promised, and a normal open must then recover it.
 *
 * A data dir accumulates the ledger over DIR_KILLS kills, then a fresh dir starts: verify replays the
 * whole ledger each time, so one ever-growing ledger would make the test quadratic.
 *
 * The child is bundled once with esbuild (spawning tsx 200 times is slow) into node_modules/.cache, so
 * its one external import (better-sqlite3, native) resolves from the project's node_modules.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock';
import { BUILTIN_EXTENSIONS } from './builtin-extensions';
import { ExtensionManager } from './extensions';
import { Ledger } from './ledger';
import { verifyLedger } from './replay';

const KILLS = 200;
/** Kills per data dir before a fresh one starts. */
const DIR_KILLS = 20;
const BUSY_WINDOW_MS = 150;
const MAX_K = 60;
/** A child that neither reports nor dies within this is a failure, not a slow machine. */
const CHILD_STALL_MS = 20_000;
const SEED = Number(process.env.PARLEY_CRASH_SEED ?? 0x5eed_c0de) >>> 0;

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CHILD_SOURCE = join(ROOT, 'src/main/runtime/testing/crash-child.ts');

/** mulberry32: small, fast, good enough to spread kill points; deterministic from the seed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Reported {
  readonly seq: number;
  readonly hash: string;
  readonly outcome: 'committed' | 'failed';
}

type KillPlan =
  | { readonly mode: 'startup'; readonly afterOpenMs: number }
  | { readonly mode: 'after-k'; readonly k: number }
  | { readonly mode: 'busy'; readonly afterFirstMs: number };

interface ChildRun {
  /** Complete lines only: a line cut by the kill promises nothing. */
  readonly reported: Reported[];
  readonly tornLine: boolean;
  /** From the child's `open` phase line to its first report, ms (undefined if killed before one). */
  readonly openToFirstMs: number | undefined;
  readonly stderr: string;
}

function describePlan(plan: KillPlan): string {
  switch (plan.mode) {
    case 'startup':
      return `startup, ${plan.afterOpenMs.toFixed(1)} ms after the child began opening the runtime`;
    case 'after-k':
      return `after report line ${plan.k}`;
    case 'busy':
      return `busy, ${plan.afterFirstMs.toFixed(1)} ms after the first report line`;
  }
}

/** Runs one child on `dataDir` and SIGKILLs it as `plan` says. Rejects if it dies on its own or stalls. */
function runAndKill(bundle: string, dataDir: string, runId: string, plan: KillPlan): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, dataDir, runId], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: Reported[] = [];
    let pending = '';
    let stderr = '';
    let openedAt: number | undefined;
    let openToFirstMs: number | undefined;
    let killed = false;
    let stalled = false;
    const timers: NodeJS.Timeout[] = [];
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const later = (ms: number): void => {
      timers.push(setTimeout(kill, ms));
    };
    timers.push(
      setTimeout(() => {
        stalled = true;
        kill();
      }, CHILD_STALL_MS),
    );

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = JSON.parse(line) as Reported | { phase: 'open' };
        if ('seq' in parsed) {
          reported.push(parsed);
          continue;
        }
        openedAt = performance.now();
        if (plan.mode === 'startup') later(plan.afterOpenMs);
      }
      if (openToFirstMs === undefined && reported.length > 0) {
        openToFirstMs = performance.now() - (openedAt ?? Number.NaN);
        if (plan.mode === 'busy') later(plan.afterFirstMs);
      }
      if (plan.mode === 'after-k' && reported.length >= plan.k) kill();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      if (stalled)
        reject(
          new Error(`child ${runId} stalled: ${reported.length} reports in ${CHILD_STALL_MS} ms\n${stderr}`),
        );
      else if (!killed || signal !== 'SIGKILL')
        reject(
          new Error(
            `child ${runId} ended by itself (code ${String(code)}, signal ${String(signal)}) ` +
              `after ${reported.length} reports:\n${stderr}`,
          ),
        );
      else resolve({ reported, tornLine: pending.length > 0, openToFirstMs, stderr });
    });
  });
}

function median(values: readonly number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

let workDir: string;
let bundle: string;

beforeAll(async () => {
  // Inside the project, so the bundle's external import (better-sqlite3) resolves from node_modules.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  workDir = mkdtempSync(join(cache, 'parley-crash-'));
  bundle = join(workDir, 'crash-child.mjs');
  await build({
    entryPoints: [CHILD_SOURCE],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // ESM builds first: some dependencies' CommonJS builds do not bundle into ESM (dynamic requires).
    mainFields: ['module', 'main'],
    external: ['better-sqlite3', 'node-llama-cpp'],
    logLevel: 'warning',
  });
}, 60_000);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('ledger under SIGKILL', () => {
  it(`keeps every reported commit, stays sound and verifies after each of ${KILLS} kills`, async () => {
    const rand = prng(SEED);
    const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
    // Verify re-runs extension workloads; a generous budget keeps a noisy machine from failing them.
    const extensions = new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock, budgetMs: 30_000 });
    const dataRoot = mkdtempSync(join(tmpdir(), 'parley-crash-data-'));
    const startups: number[] = [];
    /** Why read-only opens of a ledger killed during its creation failed, distinct. */
    const creationErrors = new Set<string>();
    const stats = {
      kills: 0,
      modes: { startup: 0, 'after-k': 0, busy: 0 } as Record<KillPlan['mode'], number>,
      reported: 0,
      unreported: 0,
      torn: 0,
      noLedgerYet: 0,
      duringCreation: 0,
      normalOpens: 0,
      records: 0,
      maxRecords: 0,
    };
    try {
      let dataDir = '';
      /** Every report seen on the current data dir, by commit seq. */
      let promised = new Map<number, Reported>();
      let lastCount = 0;
      for (let kill = 1; kill <= KILLS; kill++) {
        if ((kill - 1) % DIR_KILLS === 0) {
          stats.records += lastCount;
          dataDir = join(dataRoot, `d${kill}`);
          promised = new Map();
          lastCount = 0;
        }
        const usualStartup = median(startups) ?? 20;
        const r = (kill - 1) % DIR_KILLS === 0 ? 0 : rand();
        const plan: KillPlan =
          r < 0.2
            ? { mode: 'startup', afterOpenMs: rand() * usualStartup * 1.2 }
            : r < 0.6
              ? { mode: 'after-k', k: int(1, MAX_K) }
              : { mode: 'busy', afterFirstMs: rand() * BUSY_WINDOW_MS };
        const where = `seed ${SEED}, kill ${kill} (${describePlan(plan)})`;
        const run = await runAndKill(bundle, dataDir, `k${kill}`, plan);
        stats.kills++;
        stats.modes[plan.mode]++;
        stats.reported += run.reported.length;
        if (run.tornLine) stats.torn++;
        if (run.openToFirstMs !== undefined && Number.isFinite(run.openToFirstMs))
          startups.push(run.openToFirstMs);
        for (const rep of run.reported) {
          expect(promised.has(rep.seq), `${where}: commit ${rep.seq} reported twice`).toBe(false);
          promised.set(rep.seq, rep);
        }

        const file = join(dataDir, 'ledger.sqlite');
        if (!existsSync(file) && promised.size === 0) {
          // Killed before the child created its ledger: nothing was promised.
          stats.noLedgerYet++;
          continue;
        }
        let ledger: Ledger;
        try {
          ledger = Ledger.open(file, { readonly: true });
        } catch (err) {
          // Killed while the child was creating the ledger, before anything could be promised: a
          // read-only open cannot read the file yet (no schema: "no such table: commits"; or, killed
          // inside the switch to WAL, a hot rollback journal only a writer may roll back). A normal open
          // must recover and migrate it. Once anything was promised, the read-only open must work.
          if (promised.size > 0) throw new Error(`${where}: read-only open failed: ${String(err)}`);
          creationErrors.add(String(err).replaceAll(file, '<ledger>'));
          const writable = Ledger.open(file);
          try {
            expect(writable.integrityCheck(), `${where}: integrity_check after ${String(err)}`).toBe('ok');
            expect(writable.count()).toBe(0);
          } finally {
            writable.close();
          }
          stats.duringCreation++;
          continue;
        }
        let count: number;
        try {
          expect(ledger.integrityCheck(), `${where}: integrity_check`).toBe('ok');
          const stored = new Map<number, { hash: string; outcome: string }>();
          for (const row of ledger.commits())
            stored.set(row.commit_seq, { hash: row.provenance_hash, outcome: row.outcome });
          const missing = [...promised.values()].filter((p) => {
            const s = stored.get(p.seq);
            return s?.hash !== p.hash || s.outcome !== p.outcome;
          });
          expect(missing, `${where}: reported commits missing or different after the kill`).toEqual([]);
          count = ledger.count();
          expect(count, `${where}: the ledger shrank`).toBeGreaterThanOrEqual(lastCount);
          const report = await verifyLedger(ledger, { extensions });
          expect(report.first_divergence, `${where}: verify`).toBeNull();
          expect(report.ok).toBe(true);
          expect(report.commits_checked).toBe(count);
        } finally {
          ledger.close();
        }
        stats.unreported += count - lastCount - run.reported.length;
        lastCount = count;
        stats.maxRecords = Math.max(stats.maxRecords, count);

        // A normal (writable) open must work too: it recovers the WAL and checkpoints on close. Not
        // every time, so most children start on a hot WAL left by the one killed before them.
        if (rand() < 0.3 || kill % DIR_KILLS === 0 || kill === KILLS) {
          const writable = Ledger.open(file);
          try {
            expect(writable.integrityCheck(), `${where}: integrity_check after a normal open`).toBe('ok');
            expect(writable.count(), `${where}: records after a normal open`).toBe(count);
          } finally {
            writable.close();
          }
          stats.normalOpens++;
        }
      }
      stats.records += lastCount;
    } finally {
      rmSync(dataRoot, { recursive: true, force: true });
    }
    console.log(
      `ledger crash: ${stats.kills} kills (startup ${stats.modes.startup}, after-k ${stats.modes['after-k']}, ` +
        `busy ${stats.modes.busy}; seed ${SEED}), ${stats.reported} commits reported and all found, ` +
        `${stats.records} records in ${Math.ceil(KILLS / DIR_KILLS)} ledgers (largest ${stats.maxRecords}), ` +
        `${stats.unreported} committed but unreported at the kill, ${stats.torn} torn report lines, ` +
        `${stats.noLedgerYet} kills before the ledger file existed, ${stats.duringCreation} during its creation ` +
        `(read-only open refused: ${[...creationErrors].join(' / ') || '-'}), ` +
        `${stats.normalOpens} normal reopens`,
    );
    expect(stats.kills).toBe(KILLS);
  }, 600_000);
});
