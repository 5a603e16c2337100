import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, 'electronegativity.mjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-electronegativity-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function scan(...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
}

function fixture(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

describe('npm run check:electron (scripts/electronegativity.mjs)', () => {
  it('passes our Electron code: no HIGH finding', () => {
    const report = join(dir, 'ours');
    const result = scan('--report', report);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/ 0 high, /);
    expect(result.status).toBe(0);
    // It really analysed the shell, and wrote the report it names.
    expect(result.stdout).toMatch(/Electron \d+\.\d+\.\d+, \d{2,} files:/);
    expect(readFileSync(join(report, 'electronegativity.csv'), 'utf8')).toMatch(/^issue, severity,/);
  });

  it('fails on a window without context isolation, naming the findings', () => {
    const input = fixture('bad', {
      'main.js': [
        "const { app, BrowserWindow } = require('electron');",
        'app.whenReady().then(() => {',
        '  const win = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false } });',
        "  win.loadURL('http://example.com/');",
        '});',
        '',
      ].join('\n'),
    });
    const result = scan('--input', input, '--report', join(dir, 'bad-report'));
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^HIGH \w+ CONTEXT_ISOLATION_JS_CHECK main\.js:3:/m);
    // With Electron's default sandbox this version rates nodeIntegration alone as informational.
    expect(result.stdout).toMatch(/^\w+ \w+ NODE_INTEGRATION_JS_CHECK main\.js:3:/m);
    expect(result.stdout).toMatch(/ 1 files: 2 high, /);
  });

  it('leaves test files out: a fake window in a test is not the app', () => {
    const input = fixture('tests-only', {
      'main.js': "console.log('no windows here');\n",
      'window.test.ts': 'new BrowserWindow({ webPreferences: { nodeIntegration: true } });\n',
    });
    const result = scan('--input', input, '--report', join(dir, 'tests-only-report'));
    expect(result.stdout).toMatch(/ 1 files: /);
    expect(result.stdout).not.toMatch(/NODE_INTEGRATION_JS_CHECK/);
  });

  it('never passes silently: nothing to analyse, or a file it cannot parse, is a failure', () => {
    const empty = scan('--input', fixture('empty', { 'README.md': 'no code\n' }), '--report', join(dir, 'e'));
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/analysed 0 files/);

    const missing = scan('--input', join(dir, 'does-not-exist'), '--report', join(dir, 'm'));
    expect(missing.status).toBe(2);

    const broken = scan(
      '--input',
      fixture('broken', { 'main.ts': 'const = = ;\n' }),
      '--report',
      join(dir, 'b'),
    );
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/could not be analysed/);

    const usage = scan('--bogus');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/unknown argument --bogus/);
  });
});
