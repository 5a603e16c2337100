// `npm run check:electron`: Electronegativity over Parley's Electron code; fails on any HIGH finding.
//
//   node scripts/electronegativity.mjs [--input <dir>] [--report <dir>]
//
// --input defaults to src/ (tests left out: their fakes are not the app). Exit codes: 0 no HIGH
// finding, 1 HIGH findings, 2 the scan itself failed (nothing analysed, a file it could not parse,
// no checks loaded). It never passes silently.
//
// Electronegativity's own CLI cannot be used here: it reads options the commander 2 way and npm
// hoists commander 10 next to it, so `electronegativity -i …` only prints its usage. Its runner is
// the same code, called directly. Two network calls are switched off so the result depends on the
// source alone: the translations download (the bundled en-US strings are used) and
// AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK, which fetches Electron's release list (keeping Electron
// current is the dependency updates' job). The Electron version is the installed one.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCANNED = /\.(js|jsx|ts|tsx|html|htm)$/;
const TEST_FILE = /\.test\.(ts|tsx|js|mjs)$/;
const EXCLUDED_CHECKS = ['availablesecurityfixesglobalcheck'];

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ input: string, report: string | undefined }} */
  const options = { input: join(ROOT, 'src'), report: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--input' || flag === '--report') && value !== undefined) {
      if (flag === '--input') options.input = resolve(value);
      else options.report = resolve(value);
      i++;
    } else {
      throw new Error(
        `unknown argument ${flag}; usage: electronegativity.mjs [--input <dir>] [--report <dir>]`,
      );
    }
  }
  return options;
}

/** Copies the files Electronegativity reads (minus tests) into `to`; returns the source files copied. */
function stage(from, to) {
  /** @type {string[]} */
  const copied = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (name === 'node_modules') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (SCANNED.test(name) && !TEST_FILE.test(name)) {
        const rel = relative(from, path);
        mkdirSync(dirname(join(to, rel)), { recursive: true });
        cpSync(path, join(to, rel));
        copied.push(rel);
      }
    }
  };
  walk(from);
  return copied;
}

/** Electronegativity's runner with its translations loaded from disk instead of the network. */
function loadRunner() {
  const base = dirname(require.resolve('@doyensec/electronegativity/package.json'));
  const i18nFile = join(base, 'dist', 'locales', 'i18n.js');
  const i18n = require(require.resolve('i18n', { paths: [base] }));
  const offline = new Module(i18nFile);
  offline.filename = i18nFile;
  offline.loaded = true;
  offline.exports = async () => {
    i18n.configure({
      locales: ['en-US'],
      defaultLocale: 'en-US',
      directory: join(base, 'dist', 'locales'),
      updateFiles: false,
      objectNotation: true,
      register: globalThis,
    });
    i18n.setLocale('en-US');
  };
  require.cache[i18nFile] = offline;
  return require('@doyensec/electronegativity');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const report = options.report ?? mkdtempSync(join(tmpdir(), 'parley-electronegativity-'));
  const staged = join(report, 'input');
  mkdirSync(staged, { recursive: true });
  const files = statSync(options.input, { throwIfNoEntry: false })?.isDirectory()
    ? stage(options.input, staged)
    : [];
  if (files.length === 0) {
    console.error(
      `electronegativity: analysed 0 files under ${options.input}: nothing to check is a failure`,
    );
    return 2;
  }
  const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  const csv = join(report, 'electronegativity.csv');
  const run = loadRunner();
  const result = await run({
    input: staged,
    output: csv,
    isSarif: false,
    customScan: [],
    excludeFromScan: EXCLUDED_CHECKS,
    isRelative: true,
    electronVersionOverride: electronVersion,
    parserPlugins: [],
  });
  if (result.atomicChecks === 0) {
    console.error('electronegativity: no checks loaded');
    return 2;
  }
  const failed = result.errors.filter((e) => !e.tolerable);
  for (const e of result.errors) {
    console.error(
      `electronegativity: ${e.tolerable ? 'warning' : 'error'}: ${relative(staged, e.file)}: ${e.message}`,
    );
  }
  if (failed.length > 0) {
    console.error(
      `electronegativity: ${failed.length} file(s) could not be analysed: the scan is incomplete`,
    );
    return 2;
  }

  const order = { HIGH: 0, MEDIUM: 1, LOW: 2, INFORMATIONAL: 3 };
  const issues = [...result.issues].sort(
    (a, b) => order[a.severity.name] - order[b.severity.name] || a.file.localeCompare(b.file),
  );
  for (const i of issues) {
    const where = `${i.file}:${i.location.line}:${i.location.column}`;
    const review = i.manualReview ? ' (manual review)' : '';
    console.log(`${i.severity.name} ${i.confidence.name} ${i.id} ${where}${review}\n    ${i.description}`);
  }
  const high = issues.filter((i) => i.severity.name === 'HIGH').length;
  const count = (name) => issues.filter((i) => i.severity.name === name).length;
  console.log(
    `electronegativity ${result.globalChecks + result.atomicChecks} checks, Electron ${electronVersion}, ` +
      `${files.length} files: ${high} high, ${count('MEDIUM')} medium, ${count('LOW')} low, ` +
      `${count('INFORMATIONAL')} informational. Report: ${csv}`,
  );
  return high > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(
      `electronegativity: the scan failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    process.exitCode = 2;
  },
);
