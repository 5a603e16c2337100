/**
 * `npm run verify -- <ledger.sqlite | bundle.json>` and `npm run ledger -- <command>`: audit tools
 * that read the ledger (never write it) or an exported session bundle.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BUILTIN_EXTENSIONS } from '../runtime/authority/builtin-extensions';
import { ExtensionManager } from '../runtime/authority/extensions';
import { Ledger, LedgerError } from '../runtime/authority/ledger';
import {
  BundleError,
  exportSession,
  parseBundle,
  replayBundle,
  verifyLedger,
  type ReplayResult,
} from '../runtime/authority/replay';
import { loadScenarioFile, ScenarioError } from '../runtime/authority/scenario-loader';
import { systemClock } from '../runtime/core/clock';

export const USAGE = `Usage:
  npm run verify -- <ledger.sqlite | bundle.json> [--session <id>] [--json]
      Rebuild world state from each session's scenario plus its committed patches; check every
      record hash, the hash chain, the stored text, every state hash, and re-derive each patch and
      verdict. Reports the first divergence by commit sequence. Exit 0 ok, 1 divergence, 2 error.
  npm run ledger -- sessions <ledger.sqlite>
  npm run ledger -- export <ledger.sqlite> <session_id> [--out <bundle.json>]
  npm run ledger -- import <bundle.json> [--json]
      Replay an exported session from the bundle alone and print its world state.
  npm run ledger -- check-scenario <file.scenario.json>...`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

class UsageError extends Error {}

interface Parsed {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

function parseArgs(argv: readonly string[], valued: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const name = arg.slice(2);
    if (valued.includes(name)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else if (name === 'json') flags.set(name, true);
    else throw new UsageError(`unknown option ${arg}`);
  }
  return { positional, flags };
}

function extensions(): ExtensionManager {
  // Replay re-runs extension workloads; a generous budget so a slow disk or CI box is not a divergence.
  return new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock, budgetMs: 10_000 });
}

function isBundleFile(file: string): boolean {
  return file.endsWith('.json');
}

function describe(report: ReplayResult, source: string): string {
  const lines = [
    `${source}: ${report.ok ? 'OK' : 'DIVERGED'} — ${report.commits_checked} record(s) checked, ` +
      `${report.sessions_checked} session(s) replayed`,
    `  chain head: ${report.head_hash ?? '(empty ledger)'}`,
  ];
  for (const [session, hash] of Object.entries(report.state_hashes))
    lines.push(`  ${session}: state ${hash}`);
  const d = report.first_divergence;
  if (d !== null)
    lines.push(
      `  first divergence at commit ${d.commit_seq}${d.session_id === null ? '' : ` (session ${d.session_id})`}: ` +
        `[${d.kind}] ${d.message}`,
    );
  return `${lines.join('\n')}\n`;
}

function jsonReport(report: ReplayResult): string {
  const { states: _states, ...rest } = report;
  return `${JSON.stringify(rest, null, 2)}\n`;
}

async function verify(args: Parsed, io: Io): Promise<number> {
  const [file, ...extra] = args.positional;
  if (file === undefined || extra.length > 0) throw new UsageError('verify takes one file');
  const session = args.flags.get('session');
  let report: ReplayResult;
  if (isBundleFile(file)) {
    if (session !== undefined) throw new UsageError('--session applies to ledger files, not bundles');
    report = await replayBundle(parseBundle(readFileSync(file, 'utf8'), file), { extensions: extensions() });
  } else {
    const ledger = Ledger.open(file, { readonly: true });
    try {
      if (typeof session === 'string' && ledger.session(session) === undefined)
        throw new LedgerError(`${file} has no session '${session}'`);
      report = await verifyLedger(ledger, {
        extensions: extensions(),
        ...(typeof session === 'string' ? { sessionId: session } : {}),
      });
    } finally {
      ledger.close();
    }
  }
  io.out(args.flags.has('json') ? jsonReport(report) : describe(report, file));
  return report.ok ? 0 : 1;
}

function sessions(args: Parsed, io: Io): number {
  const [file] = args.positional;
  if (file === undefined) throw new UsageError('sessions takes a ledger file');
  const ledger = Ledger.open(file, { readonly: true });
  try {
    for (const s of ledger.sessions()) {
      const commits = ledger.commitsForSession(s.session_id);
      io.out(
        `${s.session_id}\t${s.scenario_id}\t${s.npc_id}\t${commits.length} record(s)\t` +
          `${new Date(s.created_at).toISOString()}\n`,
      );
    }
  } finally {
    ledger.close();
  }
  return 0;
}

function exportCommand(args: Parsed, io: Io): number {
  const [file, sessionId] = args.positional;
  if (file === undefined || sessionId === undefined)
    throw new UsageError('export takes a ledger file and a session id');
  const ledger = Ledger.open(file, { readonly: true });
  let text: string;
  try {
    text = `${JSON.stringify(exportSession(ledger, sessionId), null, 2)}\n`;
  } finally {
    ledger.close();
  }
  const out = args.flags.get('out');
  if (typeof out === 'string') {
    writeFileSync(out, text);
    io.err(`wrote ${out}\n`);
  } else io.out(text);
  return 0;
}

async function importCommand(args: Parsed, io: Io): Promise<number> {
  const [file] = args.positional;
  if (file === undefined) throw new UsageError('import takes a bundle file');
  const bundle = parseBundle(readFileSync(file, 'utf8'), file);
  const report = await replayBundle(bundle, { extensions: extensions() });
  if (args.flags.has('json')) {
    const state = report.states.get(bundle.session.session_id) ?? null;
    io.out(`${JSON.stringify({ report: JSON.parse(jsonReport(report)) as unknown, state }, null, 2)}\n`);
  } else {
    io.out(describe(report, file));
    io.out(`${JSON.stringify(report.states.get(bundle.session.session_id) ?? null, null, 2)}\n`);
  }
  return report.ok ? 0 : 1;
}

function checkScenario(args: Parsed, io: Io): number {
  if (args.positional.length === 0) throw new UsageError('check-scenario takes one or more files');
  let failed = 0;
  for (const file of args.positional) {
    try {
      const loaded = loadScenarioFile(file);
      io.out(`${file}: ok (scenario '${loaded.scenario.id}', content hash ${loaded.contentHash})\n`);
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      failed++;
      io.err(`${err.message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'verify':
        return await verify(parseArgs(rest, ['session']), io);
      case 'sessions':
        return sessions(parseArgs(rest, []), io);
      case 'export':
        return exportCommand(parseArgs(rest, ['out']), io);
      case 'import':
        return await importCommand(parseArgs(rest, []), io);
      case 'check-scenario':
        return checkScenario(parseArgs(rest, []), io);
      case undefined:
      case '--help':
      case 'help':
        io.out(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`parley ledger: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof LedgerError || err instanceof BundleError || err instanceof ScenarioError) {
      io.err(`parley ledger: ${err.message}\n`);
      return 2;
    }
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') {
      io.err(`parley ledger: ${err.message}\n`);
      return 2;
    }
    // Exit 1 means "diverged"; anything unexpected is an error (2), with its stack for a bug report.
    io.err(
      `parley ledger: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 2;
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href)
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
