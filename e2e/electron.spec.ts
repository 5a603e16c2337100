import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { electronBinary } from '../scripts/electron-binary.mjs';

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
