/**
 * The headless host as a user starts it: what it prints, the connection file it leaves for local
 * tools, and `npm run pair`. The launch token must appear in none of its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestPairingLink } from './cli/pair';
import { connectionFilePath, readConnectionFile } from './runtime/transport/connection-file';
import { closeAllClients, errorCode, WsTestClient } from './runtime/testing/ws-test-client';

let child: ChildProcess | undefined;
let dataDir: string | undefined;

afterEach(() => {
  closeAllClients();
  if (child?.exitCode === null) child.kill('SIGKILL');
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function serve(): Promise<{ output: () => string; link: string; proc: ChildProcess }> {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-serve-'));
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/main/serve.ts', '--port', '0', '--data-dir', dataDir, '--model', 'scenario'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARLEY_TOKEN: undefined } },
  );
  child = proc;
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const link = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Open the inspector: (\S+)/.exec(output);
      if (match?.[1] !== undefined && output.includes('Press Ctrl+C')) {
        clearInterval(timer);
        resolve(match[1]);
      }
      if (proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`serve exited ${proc.exitCode}:\n${output}`));
      }
    }, 20);
  });
  return { output: () => output, link, proc };
}

describe('npm run serve', () => {
  it('prints a one-time link, keeps the token in an owner-only file, and never prints the token', async () => {
    const { output, link, proc } = await serve();
    const file = connectionFilePath(dataDir ?? '');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const info = readConnectionFile(file);
    expect(info.token).toMatch(/^[0-9a-f]{32}$/);
    expect(info.pid).toBe(proc.pid);
    expect(link).toMatch(/#pair=[0-9a-f]{32}$/);
    expect(link.startsWith(info.http_url)).toBe(true);

    // The printed link pairs once.
    const code = link.split('#pair=')[1] ?? '';
    const browser = await WsTestClient.open(info.ws_url);
    const hello = await browser.call('1', { type: 'hello', protocol: 1, pair: code });
    expect(hello.type === 'result' && hello.result).toMatchObject({ token: info.token });
    const replay = await WsTestClient.open(info.ws_url);
    expect(errorCode(await replay.call('1', { type: 'hello', protocol: 1, pair: code }))).toBe(
      'unauthorized',
    );

    // `npm run pair` mints a fresh link from the connection file.
    const fresh = await requestPairingLink(dataDir ?? '');
    expect(fresh.page_url).not.toBe(link);
    expect(fresh.page_url).toMatch(/#pair=[0-9a-f]{32}$/);

    expect(output()).toContain(file);
    expect(output()).not.toContain(info.token);

    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    expect(existsSync(file)).toBe(false);
    expect(output()).not.toContain(info.token);
  });

  it('`npm run pair` says what is wrong when no server runs', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-serve-'));
    await expect(requestPairingLink(dataDir)).rejects.toThrow(/no connection file at .*npm run serve/);
  });
});
