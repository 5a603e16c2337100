/**
 * Electron IPC contract: one channel per command, each carrying the same command object as the
 * WebSocket protocol (validated by the same schemas), plus two push channels.
 */
import type { CommandInput, CommandType, ProtocolError, ResultOf, SubscriptionEndedFrame } from './commands';
import type { EventEnvelope } from './protocol';

export const IPC_PREFIX = 'parley:';

/** Invoke channels, by command type. `hello` has none: IPC peers are authenticated by the shell. */
export const IPC_CHANNELS = {
  'session.create': 'parley:session.create',
  'session.list': 'parley:session.list',
  'session.subscribe': 'parley:session.subscribe',
  'session.unsubscribe': 'parley:session.unsubscribe',
  'turn.start': 'parley:turn.start',
  'turn.cancel': 'parley:turn.cancel',
  'scenario.list': 'parley:scenario.list',
  'world.get': 'parley:world.get',
  'ledger.commits': 'parley:ledger.commits',
  'ledger.verify': 'parley:ledger.verify',
  'session.export': 'parley:session.export',
  'agents.config.get': 'parley:agents.config.get',
  'agents.config.set': 'parley:agents.config.set',
  'agents.pressure.set': 'parley:agents.pressure.set',
  'agents.status': 'parley:agents.status',
  'agent.cancel': 'parley:agent.cancel',
  'models.status': 'parley:models.status',
  'models.list': 'parley:models.list',
  'models.config.set': 'parley:models.config.set',
  'models.load': 'parley:models.load',
  'models.unload': 'parley:models.unload',
  'models.hint': 'parley:models.hint',
  'npc.settings.get': 'parley:npc.settings.get',
  'npc.settings.set': 'parley:npc.settings.set',
} as const satisfies Partial<Record<CommandType, `${typeof IPC_PREFIX}${string}`>>;
export type IpcCommandType = keyof typeof IPC_CHANNELS;

/** Main → renderer push channels. */
export const IPC_EVENT_CHANNEL = 'parley:event';
export const IPC_SUBSCRIPTION_ENDED_CHANNEL = 'parley:subscription.ended';

/** What every invoke channel resolves to; only plain data crosses IPC, so errors travel as values. */
export type IpcReply<R> =
  { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: ProtocolError };

export type IpcEvent = EventEnvelope;
export type IpcSubscriptionEnded = SubscriptionEndedFrame;

/** A command's fields as a preload function takes them: no `type` (the channel names it), no `id`. */
export type IpcArgs<T extends IpcCommandType> = Omit<Extract<CommandInput, { type: T }>, 'type' | 'id'>;

type Invoke<T extends IpcCommandType> = (args: IpcArgs<T>) => Promise<IpcReply<ResultOf<T>>>;

/**
 * What the preload exposes as `window.parley`: one function per channel, nothing generic. Command
 * functions resolve to a reply value rather than throwing, because only an error's `message`
 * survives Electron's IPC.
 */
export interface ParleyPreloadApi {
  createSession: Invoke<'session.create'>;
  listSessions: Invoke<'session.list'>;
  subscribe: Invoke<'session.subscribe'>;
  unsubscribe: Invoke<'session.unsubscribe'>;
  startTurn: Invoke<'turn.start'>;
  cancelTurn: Invoke<'turn.cancel'>;
  listScenarios: Invoke<'scenario.list'>;
  getWorld: Invoke<'world.get'>;
  listCommits: Invoke<'ledger.commits'>;
  verifyLedger: Invoke<'ledger.verify'>;
  exportSession: Invoke<'session.export'>;
  getAgentConfig: Invoke<'agents.config.get'>;
  setAgentConfig: Invoke<'agents.config.set'>;
  setPressure: Invoke<'agents.pressure.set'>;
  getAgentStatus: Invoke<'agents.status'>;
  cancelAgentStream: Invoke<'agent.cancel'>;
  getModelStatus: Invoke<'models.status'>;
  listModels: Invoke<'models.list'>;
  setModelPoolConfig: Invoke<'models.config.set'>;
  loadModel: Invoke<'models.load'>;
  unloadModel: Invoke<'models.unload'>;
  hintModel: Invoke<'models.hint'>;
  getNpcSettings: Invoke<'npc.settings.get'>;
  setNpcSettings: Invoke<'npc.settings.set'>;
  /** Events of every session this window subscribed to. Returns a function that removes the listener. */
  onEvent: (callback: (event: IpcEvent) => void) => () => void;
  onSubscriptionEnded: (callback: (frame: IpcSubscriptionEnded) => void) => () => void;
}
