import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AgentStreamConfig } from '../../shared/agents';
import type { ResultOf, SessionBundle, SessionSummary } from '../../shared/commands';
import type { ScriptedModel } from '../../shared/scenario';
import type { VerifyReport } from '../../shared/world';
import { BUILTIN_EXTENSIONS } from './authority/builtin-extensions';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_ID } from './authority/builtin-scenarios';
import { ExtensionManager, type Extension } from './authority/extensions';
import { Ledger } from './authority/ledger';
import { ScenarioCatalog } from './authority/scenario-catalog';
import { exportSession, stateAfterCommit, verifyLedger } from './authority/replay';
import type { LoadedScenario } from './authority/scenario-loader';
import { AgentControlPlane } from './agents/control-plane';
import type { AgentDefinition } from './agents/contracts';
import { RuntimeError } from './core/errors';
import { systemClock, type Clock } from './core/clock';
import { canonicalJson } from './core/hash';
import { silentLogger, type Logger } from './core/logger';
import { InteractionManager } from './interaction/manager';
import type { SubscriberQueueOptions } from './interaction/subscriber-queue';
import type { ModelRef } from '../../shared/common';
import type { DiscoveredModel, ModelPoolConfig, PrewarmHint } from '../../shared/models';
import type { ModelBackend } from './models/backend';
import {
  EMBEDDED_MODEL_ID,
  embeddedModelPath,
  LlamaBackend,
  ModelCatalog,
  type LlamaBackendOptions,
} from './models/llama/llama-backend';
import { ModelPool, type RestartPolicy } from './models/model-pool';
import { NpcSettings } from './models/npc-settings';
import { OpenAiCompatibleBackend } from './models/openai-backend';
import { ScriptedBackend } from './models/scripted-backend';

export interface RuntimeConfig {
  /** Folder for the ledger and other persistent state. Created if missing. */
  readonly dataDir: string;
  /** Scopes every id this runtime makes (sessions, turns, events). Default: 8 random hex chars. */
  readonly runId?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Model backends. Default: scripted, llama (local GGUF files) and, when configured, openai. */
  readonly backends?: readonly ModelBackend[];
  /** The local-models plane. */
  readonly models?: {
    /** Warm pool limits and the prewarm flag (off by default here; the hosts turn it on). */
    readonly pool?: Partial<ModelPoolConfig>;
    readonly restart?: Partial<RestartPolicy>;
    /** Every NPC speaks with this model unless the designer picks another; null: the scenario's. */
    readonly defaultModel?: ModelRef | null;
    /** Folder scanned for `.gguf` files (model discovery). */
    readonly modelsDir?: string;
    /** Options of the default llama backend. */
    readonly llama?: Partial<Omit<LlamaBackendOptions, 'clock' | 'catalog'>>;
    /** An OpenAI-compatible server (Ollama, LM Studio, llama.cpp server, vLLM): backend `openai`. */
    readonly openai?: { readonly baseUrl: string; readonly apiKey?: string };
  };
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
  readonly models: ModelPool;
  readonly npcSettings: NpcSettings;
  /** Resolves llama model ids to files: the models folder and the embedded model. */
  readonly catalog: ModelCatalog;
  readonly scenarios: ScenarioCatalog;
  readonly extensions: ExtensionManager;
  readonly agents: AgentControlPlane;
  /** A session's ledger records after `afterSeq`, at most `limit`; sessions of earlier runs too. */
  commits(sessionId: string, afterSeq: number, limit: number): ResultOf<'ledger.commits'>;
  /** Checks the chain and replays every session (or one) from the ledger alone. */
  verify(sessionId?: string): Promise<VerifyReport>;
  /** One session as a portable bundle. */
  exportSession(sessionId: string, includeTelemetry: boolean): SessionBundle;
  /**
   * A new session forked from a committed record of `sessionId` (of this runtime or its ledger): same
   * scenario and NPC, its world as that commit left it. The original session is untouched.
   */
  forkSession(sessionId: string, commitSeq: number): SessionSummary;
  /** Model discovery: every model each backend offers, with its description or why it is unusable. */
  discoverModels(): Promise<ResultOf<'models.list'>>;
  /** A client hint (NPC selected, player typing): prewarms that NPC's model when prewarm is on. */
  hint(hint: PrewarmHint, scenarioId: string, npcId: string): ResultOf<'models.hint'>;
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
  const modelsConfig = config.models ?? {};
  const embedded = embeddedModelPath();
  const catalog = new ModelCatalog(
    modelsConfig.modelsDir,
    new Map(embedded === undefined ? [] : [[EMBEDDED_MODEL_ID, embedded]]),
  );
  const backends = config.backends ?? [
    new ScriptedBackend({ clock, models: scriptedModels(loaded), ...config.scripted }),
    new LlamaBackend({ clock, catalog, ...modelsConfig.llama }),
    ...(modelsConfig.openai === undefined ? [] : [new OpenAiCompatibleBackend(modelsConfig.openai)]),
  ];
  const models = new ModelPool({
    clock,
    logger,
    backends,
    ...(modelsConfig.pool === undefined ? {} : { config: modelsConfig.pool }),
    ...(modelsConfig.restart === undefined ? {} : { restart: modelsConfig.restart }),
  });
  const defaultModel = modelsConfig.defaultModel ?? null;
  if (defaultModel !== null && !models.has(defaultModel))
    throw new Error(`the default model needs backend '${defaultModel.backend}', which is not configured`);
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
  const npcSettings = new NpcSettings(scenarios, defaultModel, (m) => models.has(m));
  const manager: InteractionManager = new InteractionManager({
    runId,
    clock,
    logger,
    models,
    npcSettings,
    ledger,
    extensions,
    agents,
    scenarios,
    ...(config.eventLogCapacity === undefined ? {} : { eventLogCapacity: config.eventLogCapacity }),
    ...(config.queue === undefined ? {} : { queue: config.queue }),
    ...(config.validateEvents === undefined ? {} : { validateEvents: config.validateEvents }),
  });
  // Pool lifecycle events reach every live session (the model pool is shared by all of them).
  models.onEvent((event) => {
    manager.forEach((s) => {
      s.publishPoolEvent(event);
    });
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
    npcSettings,
    catalog,
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
    async discoverModels() {
      const found: DiscoveredModel[] = [];
      for (const backend of models.allBackends()) {
        if (backend.list === undefined) continue;
        for (const m of await backend.list()) {
          const d = m.description;
          found.push({
            model: { backend: backend.kind, model_id: m.modelId },
            path: m.path ?? null,
            name: d?.name ?? null,
            architecture: d?.architecture ?? null,
            parameters: d?.parameters ?? null,
            quantization: d?.quantization ?? null,
            context_length: d?.contextLength ?? null,
            file_bytes: d?.fileBytes ?? null,
            estimated_bytes: d?.estimatedBytes ?? null,
            error: m.error,
          });
        }
      }
      return { models_dir: catalog.modelsDir ?? null, models: found };
    },
    hint(hint, scenarioId, npcId) {
      const { model } = npcSettings.resolve(scenarioId, npcId);
      const state = models.stateOf(model);
      const prewarming = models.config.prewarm && state !== 'ready' && state !== 'loading';
      // Session-level in every live session: a hint has no turn.
      if (prewarming) models.prewarm(model, hint);
      return { model, prewarming };
    },
    exportSession(sessionId, includeTelemetry) {
      requireKnownSession(sessionId);
      return exportSession(
        ledger,
        sessionId,
        includeTelemetry ? manager.find(sessionId)?.bufferedEvents() : undefined,
      );
    },
    forkSession(sessionId, commitSeq) {
      requireKnownSession(sessionId);
      const row = ledger.session(sessionId);
      if (row === undefined)
        throw new RuntimeError('unknown_session', `session '${sessionId}' is not registered in the ledger`);
      const commit = ledger.commitAt(commitSeq);
      const refuse = (why: string): never => {
        throw new RuntimeError('unknown_commit', `cannot fork ${sessionId} at commit ${commitSeq}: ${why}`, {
          session_id: sessionId,
          commit_seq: commitSeq,
        });
      };
      if (commit === undefined) return refuse('the ledger has no such commit');
      if (commit.session_id !== sessionId) return refuse(`it is a record of session ${commit.session_id}`);
      if (commit.outcome !== 'committed') return refuse('it is a failed attempt, which changed nothing');
      // The scenario it plays: the live session's, or the catalog's if it is still the same content.
      let scenario = manager.find(sessionId)?.scenario;
      if (scenario === undefined) {
        const current = scenarios.all().find((s) => s.scenario.id === row.scenario_id);
        if (current?.contentHash !== row.scenario_hash)
          throw new RuntimeError(
            'unknown_scenario',
            `session '${sessionId}' plays a version of scenario '${row.scenario_id}' this runtime does not have`,
          );
        scenario = current;
      }
      const { state } = stateAfterCommit(ledger, sessionId, commitSeq, scenario);
      return manager
        .forkSession(scenario, row.npc_id, { from: { session_id: sessionId, commit_seq: commitSeq }, state })
        .summary();
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
