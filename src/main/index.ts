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
import { isLoopback, modelsConfig, parseHostOptions } from './runtime/host-options';
import { createRuntime, type ParleyRuntime } from './runtime/runtime';
import { publishConnection, removeConnectionFile } from './runtime/transport/connection-file';
import { startServer, type ParleyServer } from './runtime/transport/ws-server';
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
/** With --listen: the endpoint for local tools, and its connection file. */
let endpoint: { server: ParleyServer; file: string } | undefined;

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
  if (parsed !== 'help' && parsed.listen) {
    if (!isLoopback(parsed.host))
      consoleLogger.warn(`binding ${parsed.host}: the endpoint is reachable from other machines`);
    try {
      // No inspector page and no pairing here: the window is the inspector; tools use the token file.
      const server = await startServer(runtime, {
        token: parsed.token,
        host: parsed.host,
        port: parsed.port,
        pairing: false,
      });
      const file = publishConnection(dataDir, server, runtime.runId, parsed.token, runtime.clock.now());
      endpoint = { server, file };
      consoleLogger.info('endpoint for local tools', {
        ws: server.wsUrl,
        agui: server.aguiUrl,
        connection_file: file,
      });
    } catch (err) {
      // A busy port must not cost the designer the window: say so and go on without the endpoint.
      dialog.showErrorBox(
        'Parley: endpoint for local tools not opened',
        `${(err as Error).message}\nThe inspector works; choose another --port for local tools.`,
      );
    }
  }
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
  const closing = endpoint;
  void runtime
    .dispose()
    .then(async () => {
      if (closing === undefined) return;
      await closing.server.close();
      removeConnectionFile(closing.file);
    })
    .finally(() => {
      app.quit();
    });
});

start().catch((err: unknown) => {
  consoleLogger.error('parley failed to start', { error: err instanceof Error ? err.message : String(err) });
  app.exit(1);
});
