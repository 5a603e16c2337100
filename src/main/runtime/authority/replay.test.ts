import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionBundle } from '../../../shared/commands';
import { ACTION_PREFIX } from '../../../shared/proposals';
import { main as ledgerCli, type Io } from '../../cli/ledger-cli';
import { systemClock } from '../core/clock';
import { canonicalJson, hashCanonical } from '../core/hash';
import { ScriptedBackend } from '../models/scripted-backend';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { BUILTIN_EXTENSIONS } from './builtin-extensions';
import { defineHandler, ExtensionManager, extensionOf, type Extension } from './extensions';
import { Ledger } from './ledger';
import { exportSession, parseBundle, replayBundle, verifyLedger } from './replay';
import { pointer } from './world-state';

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, '__fixtures__');
const GOLDEN_BUNDLE = join(FIXTURES, 'golden-session.bundle.json');
const GOLDEN_EXPECTED = join(FIXTURES, 'golden-session.expected.json');

let t: TestRuntime | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.dispose();
  t = undefined;
});

const manager = (exts: readonly Extension[] = BUILTIN_EXTENSIONS) =>
  new ExtensionManager(exts, { clock: systemClock, budgetMs: 10_000 });

function reply(say: string, actions: readonly unknown[] = []): string {
  return [say, ...actions.map((a) => `${ACTION_PREFIX} ${JSON.stringify(a)}`)].join('\n');
}

/** The turns of the golden session: commits of every extension and governance failures between them. */
const SCRIPT = [
  reply('Rats, yes. Deal with them and I will pay.', [{ kind: 'start_quest', quest: 'rat_trouble' }]),
  reply('A room is four silver.', [{ kind: 'sell_item', item: 'room_key', to: 'player', price: 4 }]),
  reply('Here, take it all.', [{ kind: 'give_coin', to: 'player', amount: 50 }]),
  reply('The cellar is clear? Bless you.', [
    { kind: 'set_flag', flag: 'cellar_cleared', value: true },
    { kind: 'set_flag', flag: 'rats_in_cellar', value: false },
    { kind: 'adjust_relationship', toward: 'player', delta: 8 },
  ]),
  reply('As promised.', [
    { kind: 'complete_quest', quest: 'rat_trouble' },
    { kind: 'give_coin', to: 'player', amount: 10 },
  ]),
  reply('The north road? Not yet.', [{ kind: 'start_quest', quest: 'north_road' }]),
  reply('Stew, then.', [{ kind: 'sell_item', item: 'stew', to: 'player', count: 2, price: 2 }]),
];

/** Runs SCRIPT in one session (two sessions when `second`), returning the runtime and session ids. */
async function playSession(options: { extensions?: readonly Extension[]; second?: boolean } = {}) {
  const planned = [...SCRIPT];
  t = createTestRuntime({
    backends: [
      new ScriptedBackend({ clock: systemClock, tokenIntervalMs: 0, script: () => planned.shift() ?? 'Hm.' }),
    ],
    ...(options.extensions === undefined ? {} : { extensions: options.extensions }),
  });
  const ids: string[] = [];
  const sessions = options.second === true ? 2 : 1;
  for (let n = 0; n < sessions; n++) {
    const s = t.openSession();
    ids.push(s.session.id);
    const turns = n === 0 ? SCRIPT.length : 2;
    if (n > 0) planned.push(...SCRIPT.slice(0, 2));
    for (let i = 0; i < turns; i++) {
      s.session.startTurn(`line ${i}`);
      await s.session.whenIdle();
    }
  }
  return { t, ids };
}

function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  db.prepare(sql).run(...params);
  db.close();
}

describe('verify and replay', () => {
  it('rebuilds every session from the ledger alone, hash for hash', async () => {
    const { t, ids } = await playSession({ second: true });
    const outcomes = t.runtime.ledger.commitsForSession(ids[0] ?? '').map((r) => r.outcome);
    expect(outcomes).toEqual([
      'committed',
      'committed',
      'failed',
      'committed',
      'committed',
      'failed',
      'committed',
    ]);
    const report = await verifyLedger(t.runtime.ledger, { extensions: manager() });
    expect(report.first_divergence).toBeNull();
    expect(report.commits_checked).toBe(9);
    expect(report.sessions_checked).toBe(2);
    for (const id of ids) {
      const live = t.runtime.manager.get(id).worldState;
      expect(report.state_hashes[id]).toBe(live.hash);
      expect(report.states.get(id)).toEqual(live.state);
    }
  });

  it('detects an edited or deleted row at its commit sequence number', async () => {
    const { t } = await playSession();
    const file = t.runtime.ledger.file;
    const check = async () => {
      const ledger = Ledger.open(file, { readonly: true });
      try {
        return (await verifyLedger(ledger, { extensions: manager() })).first_divergence;
      } finally {
        ledger.close();
      }
    };
    expect(await check()).toBeNull();
    t.runtime.ledger.close();

    // The model text of commit 2.
    tamper(file, `UPDATE commits SET final_text = final_text || '!' WHERE commit_seq = 2`);
    expect(await check()).toMatchObject({ commit_seq: 2, kind: 'text_hash' });
    tamper(
      file,
      `UPDATE commits SET final_text = substr(final_text, 1, length(final_text) - 1) WHERE commit_seq = 2`,
    );
    expect(await check()).toBeNull();

    // The provenance record of commit 4 (its patch), leaving the stored hash.
    const row = new Database(file, { readonly: true })
      .prepare('SELECT provenance_json FROM commits WHERE commit_seq = 4')
      .get() as { provenance_json: string };
    const record = JSON.parse(row.provenance_json) as {
      patch: { op: string; path: string; value?: unknown }[];
    };
    const forged = {
      ...record,
      patch: record.patch.map((op) => (op.op === 'replace' ? { ...op, value: 99 } : op)),
    };
    tamper(file, 'UPDATE commits SET provenance_json = ? WHERE commit_seq = 4', canonicalJson(forged));
    expect(await check()).toMatchObject({ commit_seq: 4, kind: 'row_hash' });
    // ... and with its hash recomputed: the patch no longer reaches the recorded state.
    tamper(file, 'UPDATE commits SET provenance_hash = ? WHERE commit_seq = 4', hashCanonical(forged));
    expect(await check()).toMatchObject({ commit_seq: 4, kind: 'state_after' });
    tamper(
      file,
      'UPDATE commits SET provenance_json = ?, provenance_hash = ? WHERE commit_seq = 4',
      row.provenance_json,
      hashCanonical(record),
    );
    expect(await check()).toBeNull();

    // A deleted row.
    tamper(file, 'DELETE FROM commits WHERE commit_seq = 3');
    expect(await check()).toMatchObject({ commit_seq: 3, kind: 'sequence' });
    expect((await check())?.message).toMatch(/commit 3 is missing/);
  });

  it('catches Date.now or Math.random in the apply path by re-deriving each patch', async () => {
    const others = BUILTIN_EXTENSIONS.filter((e) => e.id !== 'flags' && e.id !== 'relationships');
    // Two extensions that read the clock and the RNG while planning.
    const clocky = extensionOf('flags', [
      defineHandler('set_flag', (ctx) => [
        { op: 'replace', path: pointer('flags', ctx.action.flag), value: Date.now() % 2 === 0 },
      ]),
    ]);
    const dicey = extensionOf('relationships', [
      defineHandler('adjust_relationship', (ctx) => [
        {
          op: 'add',
          path: pointer('relationships', ctx.actor, ctx.action.toward),
          value: Math.floor(Math.random() * 50),
        },
      ]),
    ]);
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_000);
    const rnd = vi.spyOn(Math, 'random').mockReturnValue(0.1);
    const { t } = await playSession({ extensions: [...others, clocky, dicey] });
    const live = manager([...others, clocky, dicey]);
    // Same clock and RNG on replay: no divergence (the check itself is not flaky).
    expect((await verifyLedger(t.runtime.ledger, { extensions: live })).first_divergence).toBeNull();
    now.mockReturnValue(1_001);
    expect((await verifyLedger(t.runtime.ledger, { extensions: live })).first_divergence).toMatchObject({
      commit_seq: 4,
      kind: 'rederive',
    });
    now.mockReturnValue(1_000);
    rnd.mockReturnValue(0.9);
    expect((await verifyLedger(t.runtime.ledger, { extensions: live })).first_divergence).toMatchObject({
      commit_seq: 4,
      kind: 'rederive',
    });
  });

  it('exports a session as one bundle that replays alone; a doctored bundle is caught', async () => {
    const { t, ids } = await playSession({ second: true });
    const id = ids[0] ?? '';
    const bundle = SessionBundle.parse(JSON.parse(JSON.stringify(exportSession(t.runtime.ledger, id))));
    expect(bundle.commits).toHaveLength(SCRIPT.length);
    const replayed = await replayBundle(bundle, { extensions: manager() });
    expect(replayed.first_divergence).toBeNull();
    expect(replayed.state_hashes[id]).toBe(t.runtime.manager.get(id).worldState.hash);

    const doctored = structuredClone(bundle);
    const last = doctored.commits.at(-1);
    if (last === undefined) throw new Error('empty bundle');
    last.final_text = 'I never said that.';
    expect((await replayBundle(doctored, { extensions: manager() })).first_divergence).toMatchObject({
      commit_seq: last.commit_seq,
      kind: 'text_hash',
    });
    const scenario = structuredClone(bundle);
    scenario.scenario_json = scenario.scenario_json.replace('"coin":12', '"coin":1200');
    expect((await replayBundle(scenario, { extensions: manager() })).first_divergence?.kind).toBe('session');
    expect(() => parseBundle('{"format":"other"}', 'x.json')).toThrow(/x\.json: not a Parley session bundle/);
  });

  it('the CLI verifies a ledger and a bundle, reports divergence with exit 1, bad input with exit 2', async () => {
    const { t, ids } = await playSession();
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s) };
    const file = t.runtime.ledger.file;
    expect(await ledgerCli(['verify', file], io)).toBe(0);
    expect(out.join('')).toMatch(/OK — 7 record\(s\) checked, 1 session\(s\) replayed/);
    out.length = 0;
    expect(await ledgerCli(['export', file, ids[0] ?? ''], io)).toBe(0);
    const bundleFile = join(t.dataDir, 'session.bundle.json');
    writeFileSync(bundleFile, out.join(''));
    out.length = 0;
    expect(await ledgerCli(['import', bundleFile, '--json'], io)).toBe(0);
    const imported = JSON.parse(out.join('')) as { report: { ok: boolean }; state: { inventories: unknown } };
    expect(imported.report.ok).toBe(true);
    expect(imported.state.inventories).toEqual(
      t.runtime.manager.get(ids[0] ?? '').worldState.state.inventories,
    );
    out.length = 0;
    t.runtime.ledger.close();
    tamper(file, `UPDATE commits SET final_text = 'x' WHERE commit_seq = 5`);
    expect(await ledgerCli(['verify', file], io)).toBe(1);
    expect(out.join('')).toMatch(/first divergence at commit 5 .*\[text_hash\]/);
    expect(await ledgerCli(['verify', join(t.dataDir, 'missing.sqlite')], io)).toBe(2);
    expect(await ledgerCli(['verify'], io)).toBe(2);
    expect(await ledgerCli(['frobnicate'], io)).toBe(2);
    expect(await ledgerCli(['verify', file, '--session', 'nobody'], io)).toBe(2);
    expect(err.join('')).toMatch(/has no session 'nobody'/);
    expect(err.join('')).toMatch(/no ledger at .*missing\.sqlite/);
    expect(err.join('')).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('golden replay fixture', () => {
  // Regenerate (only when the record format changes on purpose): PARLEY_WRITE_GOLDEN=1 npx vitest run replay
  it.runIf(process.env.PARLEY_WRITE_GOLDEN === '1')('writes the fixture', async () => {
    const { t, ids } = await playSession();
    const bundle = exportSession(t.runtime.ledger, ids[0] ?? '');
    const report = await replayBundle(bundle, { extensions: manager() });
    writeFileSync(GOLDEN_BUNDLE, `${JSON.stringify(bundle, null, 2)}\n`);
    writeFileSync(
      GOLDEN_EXPECTED,
      `${JSON.stringify({ head_hash: report.head_hash, state_hashes: report.state_hashes }, null, 2)}\n`,
    );
    expect(report.ok).toBe(true);
  });

  it('reproduces identical hashes in every time zone and locale', async () => {
    expect(existsSync(GOLDEN_BUNDLE)).toBe(true);
    const expected = JSON.parse(readFileSync(GOLDEN_EXPECTED, 'utf8')) as {
      head_hash: string;
      state_hashes: Record<string, string>;
    };
    const child = join(import.meta.dirname, '..', 'testing', 'replay-child.ts');
    const environments = [
      { TZ: 'UTC', LC_ALL: 'C', LANG: 'C' },
      { TZ: 'Pacific/Kiritimati', LC_ALL: 'tr_TR.UTF-8', LANG: 'tr_TR.UTF-8' },
      { TZ: 'America/St_Johns', LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' },
      { TZ: 'Asia/Kathmandu', LC_ALL: 'ar_EG.UTF-8', LANG: 'ar_EG.UTF-8' },
    ];
    const results = await Promise.all(
      environments.map(async (env) => {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', child, GOLDEN_BUNDLE], {
          env: { ...process.env, ...env },
        });
        return JSON.parse(stdout) as {
          ok: boolean;
          head_hash: string;
          state_hashes: Record<string, string>;
          probe: { time_zone: string; date: string };
        };
      }),
    );
    for (const r of results) {
      expect(r.ok).toBe(true);
      expect(r.head_hash).toBe(expected.head_hash);
      expect(r.state_hashes).toEqual(expected.state_hashes);
    }
    // The environments really differed: four time zones, and the same instant prints four ways.
    expect(new Set(results.map((r) => r.probe.time_zone)).size).toBe(environments.length);
    expect(new Set(results.map((r) => r.probe.date)).size).toBe(environments.length);
  }, 60_000);
});
