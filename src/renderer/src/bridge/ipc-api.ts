/**
 * The preload's `window.parley` API (defined in src/shared/ipc.ts, shared with the preload) and the
 * mapping from command types to its functions.
 */
import type { ParleyPreloadApi } from '../../../shared/ipc';
import type { BridgeCommandType } from './types';

export type { IpcArgs, ParleyPreloadApi } from '../../../shared/ipc';

/** Which preload function carries which command. */
export const IPC_FUNCTION = {
  'session.create': 'createSession',
  'session.list': 'listSessions',
  'session.subscribe': 'subscribe',
  'session.unsubscribe': 'unsubscribe',
  'turn.start': 'startTurn',
  'turn.cancel': 'cancelTurn',
  'scenario.list': 'listScenarios',
  'world.get': 'getWorld',
  'ledger.commits': 'listCommits',
  'ledger.verify': 'verifyLedger',
  'session.export': 'exportSession',
  'agents.config.get': 'getAgentConfig',
  'agents.config.set': 'setAgentConfig',
  'agents.pressure.set': 'setPressure',
  'agents.status': 'getAgentStatus',
  'agent.cancel': 'cancelAgentStream',
  'models.status': 'getModelStatus',
  'models.list': 'listModels',
  'models.config.set': 'setModelPoolConfig',
  'models.load': 'loadModel',
  'models.unload': 'unloadModel',
  'models.hint': 'hintModel',
  'npc.settings.get': 'getNpcSettings',
  'npc.settings.set': 'setNpcSettings',
} as const satisfies Record<BridgeCommandType, keyof ParleyPreloadApi>;
