import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Ledger } from './authority/ledger';
import { systemClock, type Clock } from './core/clock';
import { silentLogger, type Logger } from './core/logger';
import { InteractionManager } from './interaction/manager';
import type { NpcConfig } from './interaction/session';
import type { SubscriberQueueOptions } from './interaction/subscriber-queue';
import { DEFAULT_SAMPLING, type ModelBackend } from './models/backend';
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
  readonly npcs?: readonly NpcConfig[];
  readonly eventLogCapacity?: number;
  readonly queue?: SubscriberQueueOptions;
  readonly validateEvents?: boolean;
}

/** Until scenarios arrive (authority-plane issue), the runtime ships one NPC on the scripted backend. */
export const DEFAULT_NPCS: readonly NpcConfig[] = [
  {
    id: 'mira',
    name: 'Mira, keeper of the Wayside Inn',
    persona: 'Warm, wary of strangers, knows every rumour on the north road.',
    model: { backend: 'scripted', model_id: 'scripted-innkeeper' },
    sampling: DEFAULT_SAMPLING,
  },
];

export interface ParleyRuntime {
  readonly runId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly manager: InteractionManager;
  readonly ledger: Ledger;
  readonly models: ModelProvider;
  /** Ends every turn and session, unloads models, closes the ledger. */
  dispose(): Promise<void>;
}

function randomRunId(): string {
  return randomBytes(4).toString('hex');
}

/** The composition root: one runtime from one config. No Electron, no transport. */
export function createRuntime(config: RuntimeConfig): ParleyRuntime {
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? silentLogger;
  const runId = config.runId ?? randomRunId();
  const ledger = Ledger.open(join(config.dataDir, 'ledger.sqlite'));
  const backends = config.backends ?? [new ScriptedBackend({ clock, ...config.scripted })];
  const models = new ModelProvider(clock, backends);
  const npcs = config.npcs ?? DEFAULT_NPCS;
  for (const npc of npcs)
    if (!models.has(npc.model))
      throw new Error(`NPC '${npc.id}' needs model backend '${npc.model.backend}', which is not configured`);
  const manager = new InteractionManager({
    runId,
    clock,
    logger,
    models,
    ledger,
    npcs,
    ...(config.eventLogCapacity === undefined ? {} : { eventLogCapacity: config.eventLogCapacity }),
    ...(config.queue === undefined ? {} : { queue: config.queue }),
    ...(config.validateEvents === undefined ? {} : { validateEvents: config.validateEvents }),
  });
  let disposed = false;
  return {
    runId,
    clock,
    logger,
    manager,
    ledger,
    models,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await manager.dispose();
      await models.dispose();
      ledger.close();
    },
  };
}
