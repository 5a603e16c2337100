// `npm start`: launches the Electron host, or explains how to run Parley where no Electron binary exists.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { electronBinary } from './electron-binary.mjs';

const require = createRequire(import.meta.url);

const bin = electronBinary();
if (bin === undefined) {
  console.error(
    [
      'parley: no Electron binary is installed on this machine, so the desktop window cannot open.',
      '  (Electron downloads its binary separately from npm; run `npx install-electron` where the network allows.)',
      '',
      'Run Parley headless instead and open the inspector in a browser:',
      '  npm run serve',
    ].join('\n'),
  );
  process.exit(1);
}

// Build only once we know there is something to run it in.
const build = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'build'], {
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

const child = spawn(bin, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
