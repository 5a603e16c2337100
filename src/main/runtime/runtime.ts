import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AgentStreamConfig } from '../../shared/agents';
import type { ResultOf, SessionBundle } from '../../shared/commands';
import type { ScriptedModel } from '../../shared/scenario';
import type { VerifyReport } from '../../shared/world';
import { BUILTIN_EXTENSIONS } from './authority/builtin-extensions';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_ID } from './authority/builtin-scenarios';
import { ExtensionManager, type Extension } from './authority/extensions';
import { Ledger } from './authority/ledger';
import { ScenarioCatalog } from './authority/scenario-catalog';
import { exportSession, verifyLedger } from './authority/replay';
import type { LoadedScenario } from './authority/scenario-loader';
import { AgentControlPlane } from './agents/control-plane';
import type { AgentDefinition } from './agents/contracts';
import { RuntimeError } from './core/errors';
import { systemClock, type Clock } from './core/clock';
import { canonicalJson } from './core/hash';
import { silentLogger, type Logger } from './core/logger';
import { InteractionManager } from './interaction/manager';
import type { SubscriberQueueOptions } from './interaction/subscriber-queue';
import type { ModelBackend } from './models/backend';
import { ModelProvider } from './models/model-provider';
import { ScriptedBackend } from './models/scripted-backend';

export interface RuntimeConfig {
  /** Folder for the ledger and other persistent state. Created if missing. */
  readonly dataDir: string;
  /** Scopes every id this runtime makes (sessions, turns, events). Default: 8 random hex chars. */
  readonly runId?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Model backends. Default: the scripted backend only. */
  readonly backends?: readonly ModelBackend[];
  /** Pace of the default scripted backend. */
  readonly scripted?: { readonly tokenIntervalMs?: number; readonly loadMs?: number };
  /** Scenarios sessions can be started in. Default: the built-in samples. */
  readonly scenarios?: readonly LoadedScenario[];
  /** Scenario of `session.create` without a scenario_id. Default: `wayside-inn`, else the first. */
  readonly defaultScenarioId?: string;
  /** Extensions that turn proposals into patches. Default: inventory, relationships, quests, flags. */
  readonly extensions?: readonly Extension[];
  /** Time budget of one extension workload, ms. Default 250. */
  readonly extensionBudgetMs?: number;
  readonly eventLogCapacity?: number;
  readonly queue?: SubscriberQueueOptions;
  readonly validateEvents?: boolean;
  /** The agent-stream control plane. */
  readonly agents?: {
    /** Initial flags; default conservative (SHADOW, no pilot agents). */
    readonly config?: Partial<AgentStreamConfig>;
    /** Default: the built-in agents. */
    readonly definitions?: readonly AgentDefinition[];
    /** Pause after each piece of text an agent streams, ms. Default 20. */
    readonly tokenIntervalMs?: number;
    /** Count event-loop delay as a pressure signal. Default true (tests turn it off: it is noise there). */
    readonly measureEventLoop?: boolean;
  };
}

export interface ParleyRuntime {
  readonly runId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly manager: InteractionManager;
  readonly ledger: Ledger;
  readonly models: ModelProvider;
  readonly scenarios: ScenarioCatalog;
  readonly extensions: ExtensionManager;
  readonly agents: AgentControlPlane;
  /** A session's ledger records after `afterSeq`, at most `limit`; sessions of earlier runs too. */
  commits(sessionId: string, afterSeq: number, limit: number): ResultOf<'ledger.commits'>;
  /** Checks the chain and replays every session (or one) from the ledger alone. */
  verify(sessionId?: string): Promise<VerifyReport>;
  /** One session as a portable bundle. */
  exportSession(sessionId: string, includeTelemetry: boolean): SessionBundle;
  /** Ends every turn and session, unloads models, closes the ledger. */
  dispose(): Promise<void>;
}

/** Every scenario's scripted models by model id; one id defined differently by two scenarios is an error. */
function scriptedModels(scenarios: readonly LoadedScenario[]): Record<string, ScriptedModel> {
  const models: Record<string, ScriptedModel> = {};
  const owner: Record<string, string> = {};
  for (const s of scenarios)
    for (const [id, model] of Object.entries(s.scenario.scripted_models)) {
      const existing = models[id];
      if (existing !== undefined && canonicalJson(existing) !== canonicalJson(model))
        throw new Error(
          `scripted model '${id}' is defined differently by ${owner[id] ?? '?'} and ${s.source}`,
        );
      models[id] = model;
      owner[id] = s.source;
    }
  return models;
}

function randomRunId(): string {
  return randomBytes(4).toString('hex');
}

/** The composition root: one runtime from one config. No Electron, no transport. */
export function createRuntime(config: RuntimeConfig): ParleyRuntime {
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? silentLogger;
  const runId = config.runId ?? randomRunId();
  const loaded = config.scenarios ?? BUILTIN_SCENARIOS;
  const scenarios = new ScenarioCatalog(
    loaded,
    config.defaultScenarioId ??
      (loaded.some((s) => s.scenario.id === DEFAULT_SCENARIO_ID) ? DEFAULT_SCENARIO_ID : undefined),
  );
  const backends = config.backends ?? [
    new ScriptedBackend({ clock, models: scriptedModels(loaded), ...config.scripted }),
  ];
  const models = new ModelProvider(clock, backends);
  for (const s of loaded)
    for (const [id, npc] of Object.entries(s.scenario.npcs))
      if (!models.has(npc.model))
        throw new Error(
          `NPC '${id}' of scenario '${s.scenario.id}' (${s.source}) needs model backend '${npc.model.backend}', which is not configured`,
        );
  const extensions = new ExtensionManager(config.extensions ?? BUILTIN_EXTENSIONS, {
    clock,
    ...(config.extensionBudgetMs === undefined ? {} : { budgetMs: config.extensionBudgetMs }),
  });
  const ledger = Ledger.open(join(config.dataDir, 'ledger.sqlite'));
  const eventLoop =
    config.agents?.measureEventLoop === false ? null : monitorEventLoopDelay({ resolution: 10 });
  eventLoop?.enable();
  // p99 over windows of at least a second: the worse of the last full window and the current one.
  // Reading it does not reset it, so a client polling status does not change what turns see.
  let window = { start: clock.now(), lastP99: 0 };
  const eventLoopDelay = (): number => {
    if (eventLoop === null) return 0;
    const current = eventLoop.count > 0 ? eventLoop.percentile(99) / 1e6 : 0;
    if (clock.now() - window.start < 1_000) return Math.max(window.lastP99, current);
    window = { start: clock.now(), lastP99: current };
    eventLoop.reset();
    return current;
  };
  const agents: AgentControlPlane = new AgentControlPlane({
    runId,
    clock,
    logger,
    ...(config.agents?.definitions === undefined ? {} : { agents: config.agents.definitions }),
    ...(config.agents?.config === undefined ? {} : { config: config.agents.config }),
    ...(config.agents?.tokenIntervalMs === undefined
      ? {}
      : { tokenIntervalMs: config.agents.tokenIntervalMs }),
    signals: (): { queue_fill: number; event_loop_delay_ms: number } => ({
      queue_fill: manager.queueFill(),
      event_loop_delay_ms: eventLoopDelay(),
    }),
  });
  const manager: InteractionManager = new InteractionManager({
    runId,
    clock,
    logger,
    models,
    ledger,
    extensions,
    agents,
    scenarios,
    ...(config.eventLogCapacity === undefined ? {} : { eventLogCapacity: config.eventLogCapacity }),
    ...(config.queue === undefined ? {} : { queue: config.queue }),
    ...(config.validateEvents === undefined ? {} : { validateEvents: config.validateEvents }),
  });
  agents.config.onChange((change) => {
    manager.forEach((s) => {
      s.publishConfigChanged(change);
    });
  });
  const requireKnownSession = (sessionId: string): void => {
    if (manager.find(sessionId) === undefined && ledger.session(sessionId) === undefined)
      throw new RuntimeError('unknown_session', `no session '${sessionId}' in this runtime or its ledger`);
  };
  let disposed = false;
  return {
    runId,
    clock,
    logger,
    manager,
    ledger,
    models,
    scenarios,
    extensions,
    agents,
    commits(sessionId, afterSeq, limit) {
      requireKnownSession(sessionId);
      const rows = ledger.commitsForSession(sessionId, afterSeq, limit + 1);
      return {
        session_id: sessionId,
        more: rows.length > limit,
        commits: rows.slice(0, limit).map((r) => ({
          commit_seq: r.commit_seq,
          session_id: r.session_id,
          turn_id: r.turn_id,
          outcome: r.outcome,
          provenance_hash: r.provenance_hash,
          record: JSON.parse(r.provenance_json) as Record<string, unknown>,
        })),
      };
    },
    async verify(sessionId) {
      if (sessionId !== undefined) requireKnownSession(sessionId);
      // Its own read-only connection: a consistent snapshot while this one keeps committing turns.
      const reader = Ledger.open(ledger.file, { readonly: true });
      try {
        const { states: _states, ...report } = await verifyLedger(reader, {
          extensions,
          ...(sessionId === undefined ? {} : { sessionId }),
        });
        return report;
      } finally {
        reader.close();
      }
    },
    exportSession(sessionId, includeTelemetry) {
      requireKnownSession(sessionId);
      return exportSession(
        ledger,
        sessionId,
        includeTelemetry ? manager.find(sessionId)?.bufferedEvents() : undefined,
      );
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      agents.dispose();
      eventLoop?.disable();
      await manager.dispose();
      await models.dispose();
      ledger.close();
    },
  };
}
