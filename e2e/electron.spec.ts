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
    const app = await electron.launch({
      executablePath: binary,
      args: ['.', '--no-sandbox', '--data-dir', join(process.cwd(), 'test-results', 'electron-data')],
    });
    const window = await app.firstWindow();
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const win = BrowserWindow.getAllWindows()[0];
      const p = win?.webContents.getLastWebPreferences();
      return {
        contextIsolation: p?.contextIsolation,
        sandbox: p?.sandbox,
        nodeIntegration: p?.nodeIntegration,
      };
    });
    expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    await window.getByTestId('new-session').click();
    await expect(window.getByTestId('session-item')).toHaveCount(1);
    await app.close();
  });
});
