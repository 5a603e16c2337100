/**
 * Electron host (`npm start`): the runtime in the main process, the renderer over typed IPC.
 * The runtime itself never sees Electron; this file and src/main/shell adapt it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain } from 'electron';
import { consoleLogger } from './runtime/core/logger';
import { BUILTIN_SCENARIOS } from './runtime/authority/builtin-scenarios';
import { loadScenarioDir } from './runtime/authority/scenario-loader';
import { modelsConfig, parseHostOptions } from './runtime/host-options';
import { createRuntime, type ParleyRuntime } from './runtime/runtime';
import { registerIpcHandlers } from './shell/ipc';
import { utilityWorkerLauncher } from './shell/utility-launcher';
import { createMainWindow, hardenSession, isTrustedRendererUrl } from './shell/window';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..');

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

let runtime: ParleyRuntime | undefined;
let unregister: (() => void) | undefined;

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession();
  const parsed = parseHostOptions(process.argv.slice(1), process.env, false);
  const dataDir = (parsed === 'help' ? undefined : parsed.dataDir) ?? app.getPath('userData');
  try {
    const scenarioDir = parsed === 'help' ? undefined : parsed.scenarioDir;
    const models = parsed === 'help' ? undefined : modelsConfig(parsed, dataDir, process.env);
    if (models?.warning != null) consoleLogger.warn(models.warning);
    runtime = createRuntime({
      dataDir,
      logger: consoleLogger,
      ...(models === undefined
        ? {}
        : { models: { ...models.config, llama: { launcher: utilityWorkerLauncher } } }),
      ...(scenarioDir === undefined
        ? {}
        : { scenarios: [...BUILTIN_SCENARIOS, ...loadScenarioDir(scenarioDir)] }),
    });
  } catch (err) {
    // An invalid scenario file or an unreadable ledger: name it and stop, rather than open a broken window.
    dialog.showErrorBox('Parley cannot start', (err as Error).message);
    app.exit(1);
    return;
  }
  unregister = registerIpcHandlers(
    {
      handle: (channel, listener) => {
        ipcMain.handle(channel, (event, ...rest: unknown[]) =>
          listener({ sender: event.sender, senderFrameUrl: event.senderFrame?.url ?? null }, ...rest),
        );
      },
      removeHandler: (channel) => {
        ipcMain.removeHandler(channel);
      },
    },
    runtime,
    (url) => isTrustedRendererUrl(url, outDir),
  );
  createMainWindow(outDir);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(outDir);
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || runtime === undefined) return;
  event.preventDefault();
  quitting = true;
  unregister?.();
  void runtime.dispose().finally(() => {
    app.quit();
  });
});

start().catch((err: unknown) => {
  consoleLogger.error('parley failed to start', { error: err instanceof Error ? err.message : String(err) });
  app.exit(1);
});
