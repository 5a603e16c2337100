import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';

const require = createRequire(import.meta.url);

/** Path of the Electron binary if one is installed; the npm package alone does not include it. */
function electronBinary(): string | undefined {
  const pkgDir = dirname(require.resolve('electron/package.json'));
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const bin = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : undefined;
}

const binary = electronBinary();

test.describe('Electron mode', () => {
  test.skip(
    binary === undefined,
    'no Electron binary on this machine: the electron npm package installs without it here',
  );

  test('opens the inspector over IPC with a hardened window', async () => {
    if (binary === undefined) return;
    const app = await electron.launch({
      executablePath: binary,
      args: ['.', '--no-sandbox', '--data-dir', join(process.cwd(), 'test-results', 'electron-data')],
    });
    const window = await app.firstWindow();
    // Sandboxed, isolated renderer: no Node globals, only the preload's one-function-per-channel API.
    const globals = await window.evaluate(
      '({ require: typeof require, process: typeof process, parley: typeof window.parley, send: typeof window.parley?.send })',
    );
    expect(globals).toEqual({
      require: 'undefined',
      process: 'undefined',
      parley: 'object',
      send: 'undefined',
    });
    await window.getByTestId('new-session').click();
    await expect(window.getByTestId('session-item')).toHaveCount(1);
    await app.close();
  });
});
