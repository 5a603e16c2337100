import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, chromium, type Browser } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium';

export interface ParleyServerProcess {
  /** The one-time inspector link serve printed (a pairing code in its fragment; works once). */
  readonly url: string;
  readonly dataDir: string;
  readonly ledgerFile: string;
}

/** Starts the built headless server (`out/main/serve.js`) on a free port with a temp data dir. */
async function startServe(
  tokenIntervalMs: number,
  /** `scenario`: the scenarios' scripted models; `embedded`: the host's default, the embedded model. */
  models: 'scenario' | 'embedded' = 'scenario',
): Promise<{ server: ParleyServerProcess; stop: () => Promise<void> }> {
  const entry = join(process.cwd(), 'out/main/serve.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npx electron-vite build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    // Most flows need the scripted models' exact replies, not the embedded model's.
    [
      entry,
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--token-interval-ms',
      String(tokenIntervalMs),
      ...(models === 'scenario' ? ['--model', 'scenario'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serve did not start in 20 s:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Open the inspector: (\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${String(code)}:\n${output}`));
    });
  });
  return {
    server: { url, dataDir, ledgerFile: join(dataDir, 'ledger.sqlite') },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const test = base.extend<
  { parley: ParleyServerProcess; parleyEmbedded: ParleyServerProcess },
  { chromiumBrowser: Browser }
>({
  chromiumBrowser: [
    async ({}, use) => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],
  // A page in Debian's Chromium, not a downloaded browser.
  page: async ({ chromiumBrowser }, use) => {
    const context = await chromiumBrowser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await use(page);
    await context.close();
  },
  // Paced slowly enough that a person (and a test) can cancel mid-stream.
  parley: async ({}, use) => {
    const { server, stop } = await startServe(60);
    await use(server);
    await stop();
  },
  // As `npm run serve` starts by default: every NPC speaks through the embedded llama.cpp model.
  parleyEmbedded: async ({}, use) => {
    const { server, stop } = await startServe(60, 'embedded');
    await use(server);
    await stop();
  },
});

export { expect } from '@playwright/test';
