/**
 * Electron host (`npm start`): the runtime in the main process, the renderer over typed IPC.
 * The runtime itself never sees Electron; this file and src/main/shell adapt it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import { consoleLogger } from './runtime/core/logger';
import { BUILTIN_SCENARIOS } from './runtime/authority/builtin-scenarios';
import { loadScenarioDir } from './runtime/authority/scenario-loader';
import { modelsConfig, parseHostOptions } from './runtime/host-options';
import { createRuntime, type ParleyRuntime } from './runtime/runtime';
import { registerIpcHandlers } from './shell/ipc';
import { utilityWorkerLauncher } from './shell/utility-launcher';
import { APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './shell/app-protocol';
import { APP_SCHEME, isRendererUrl, rendererUrl } from './shell/security';
import { createMainWindow, hardenApp, hardenSession } from './shell/window';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..');

const packaged = app.isPackaged;
// The page that may navigate, open nothing, and talk IPC: see docs/electron-security.md.
const renderer = rendererUrl(packaged, process.env);

app.enableSandbox();
// Must happen before `ready`: the renderer's scheme gets real origins and a secure context.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME_PRIVILEGES.scheme, privileges: { ...APP_SCHEME_PRIVILEGES.privileges } },
]);
hardenApp(app, renderer);

let runtime: ParleyRuntime | undefined;
let unregister: (() => void) | undefined;

async function start(): Promise<void> {
  await app.whenReady();
  protocol.handle(APP_SCHEME, createAppProtocolHandler(join(outDir, 'renderer')));
  hardenSession(session.defaultSession);
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
    (url) => isRendererUrl(url, renderer),
    // A result that breaks the contract is caught in the main process during development.
    { validateResults: !packaged },
  );
  createMainWindow(BrowserWindow, outDir, renderer, packaged);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0)
      createMainWindow(BrowserWindow, outDir, renderer, packaged);
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
