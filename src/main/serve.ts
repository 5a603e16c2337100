/**
 * Headless host (`npm run serve`): the runtime under plain Node, the WebSocket endpoint and the built
 * renderer on one loopback port. No Electron anywhere in this import graph.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from './runtime/core/default-data-dir';
import { consoleLogger } from './runtime/core/logger';
import { HOST_USAGE, isLoopback, modelsConfig, parseHostOptions } from './runtime/host-options';
import { BUILTIN_SCENARIOS } from './runtime/authority/builtin-scenarios';
import { loadScenarioDir, type LoadedScenario } from './runtime/authority/scenario-loader';
import { createRuntime, type ParleyRuntime } from './runtime/runtime';
import { publishConnection, removeConnectionFile } from './runtime/transport/connection-file';
import { startServer } from './runtime/transport/ws-server';

async function main(): Promise<void> {
  let options;
  try {
    options = parseHostOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`parley serve: ${(err as Error).message}\n${HOST_USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`Usage: npm run serve -- [options]\n${HOST_USAGE}\n`);
    return;
  }
  if (!isLoopback(options.host))
    process.stderr.write(
      `\n!!! WARNING: binding ${options.host}: Parley's endpoint is reachable from other machines.\n` +
        '!!! Anyone with the token can drive the runtime. Use only on a network you trust.\n\n',
    );
  let scenarios: LoadedScenario[] = [...BUILTIN_SCENARIOS];
  let runtime: ParleyRuntime;
  const dataDir = options.dataDir ?? defaultDataDir();
  try {
    if (options.scenarioDir !== undefined)
      scenarios = [...scenarios, ...loadScenarioDir(options.scenarioDir)];
    const models = modelsConfig(options, dataDir, process.env);
    if (models.warning !== null) process.stderr.write(`parley serve: ${models.warning}\n`);
    runtime = createRuntime({
      dataDir,
      models: models.config,
      logger: consoleLogger,
      scripted: { tokenIntervalMs: options.tokenIntervalMs },
      scenarios,
    });
  } catch (err) {
    // An invalid scenario file, a clash of scenario ids, an unreadable ledger: say which, and stop.
    process.stderr.write(`parley serve: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const server = await startServer(runtime, {
    token: options.token,
    host: options.host,
    port: options.port,
    staticDir: join(here, '../renderer'),
  });
  // The token goes to this owner-only file, never to stdout, a log or a URL.
  const connectionFile = publishConnection(
    dataDir,
    server,
    runtime.runId,
    options.token,
    runtime.clock.now(),
  );
  const pair = server.pairingUrl();
  const minutes = Math.round((pair.expires_at - runtime.clock.now()) / 60_000);
  process.stdout.write(
    `Parley is serving (run ${runtime.runId}).\n` +
      `  Open the inspector: ${pair.page_url}\n` +
      `    (a one-time link, valid ${minutes} min; \`npm run pair\` prints a new one)\n` +
      `  WebSocket endpoint: ${server.wsUrl}\n` +
      `  AG-UI endpoint:     ${server.aguiUrl}\n` +
      `  Connection file (token for local tools, owner-only): ${connectionFile}\n` +
      `  Ledger: ${runtime.ledger.file}\n` +
      `  Model: ${describeDefaultModel(runtime)}; models folder ${runtime.catalog.modelsDir ?? '(none)'}\n` +
      `  Scenarios: ${runtime.scenarios
        .all()
        .map((s) => s.scenario.id)
        .join(', ')} (default ${runtime.scenarios.defaultId})\n` +
      `  Token: ${options.tokenFromEnv ? 'from PARLEY_TOKEN' : 'generated for this launch'}\n` +
      'Press Ctrl+C to stop.\n',
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping; running turns are cancelled, committed data is on disk.\n`);
    // Runtime first, so subscribers still connected see their turns cancelled and session_closed.
    void runtime
      .dispose()
      .then(() => server.close())
      .then(() => {
        removeConnectionFile(connectionFile);
        process.exit(0);
      });
  };
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
}

function describeDefaultModel(runtime: ParleyRuntime): string {
  const setting = runtime.npcSettings.list()[0];
  if (setting === undefined) return 'none';
  return setting.source === 'default'
    ? `${setting.model.backend}:${setting.model.model_id} for every NPC`
    : "each scenario's own models";
}

main().catch((err: unknown) => {
  process.stderr.write(`parley serve failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
