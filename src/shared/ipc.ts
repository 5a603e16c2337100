/**
 * The Electron IPC contract, in one object per direction (docs/ipc.md):
 * - `IPC_INVOKE`: renderer → main, one invoke channel per command, each carrying the command's fields
 *   (validated by the same schemas as the WebSocket protocol) and resolving to a reply value;
 * - `IPC_EVENTS`: main → renderer push channels and the schema of their payloads.
 * `ParleyPreloadApi` (what the preload exposes as `window.parley`) is derived from both, so a channel
 * without its preload function is a type error in the preload, and a command without a channel is a
 * type error here.
 */
import { z } from 'zod';
import {
  Command,
  ProtocolError,
  RESULT_SCHEMAS,
  SubscriptionEndedFrame,
  type CommandInput,
  type CommandType,
  type ResultOf,
} from './commands';
import { EventEnvelope } from './protocol';

export const IPC_PREFIX = 'parley:';

/**
 * Commands with an invoke channel: all but the WebSocket connection's own. `hello` is not needed (IPC
 * peers are authenticated by the shell, which checks the sender frame) and `auth.pair` mints a
 * browser pairing link for the WebSocket endpoint.
 */
export type IpcCommandType = Exclude<CommandType, 'hello' | 'auth.pair'>;

/** A command's fields as a preload function takes them: no `type` (the channel names it), no `id`. */
export type IpcArgs<T extends IpcCommandType> = Omit<Extract<CommandInput, { type: T }>, 'type' | 'id'>;
/** The same fields after validation (defaults applied). */
export type IpcParsedArgs<T extends IpcCommandType> = Omit<Extract<Command, { type: T }>, 'type' | 'id'>;

export interface IpcInvokeChannel<T extends IpcCommandType, F extends string> {
  readonly channel: `${typeof IPC_PREFIX}${T}`;
  readonly command: T;
  /** Name of the preload function that carries this command. */
  readonly fn: F;
  /** The command's schema without `type` and `id`. Unknown keys are stripped, as on the WebSocket. */
  readonly args: z.ZodType<IpcParsedArgs<T>, IpcArgs<T>>;
  readonly result: (typeof RESULT_SCHEMAS)[T];
}

function invoke<T extends IpcCommandType, const F extends string>(command: T, fn: F): IpcInvokeChannel<T, F> {
  const schema: z.ZodObject | undefined = Command.options.find(
    (option) => option.shape.type.value === command,
  );
  if (schema === undefined) throw new Error(`no command schema for '${command}'`);
  return {
    channel: `${IPC_PREFIX}${command}`,
    command,
    fn,
    // The schema is the command's own (looked up by its literal `type`), so the cast only restates that.
    args: schema.omit({ type: true, id: true }) as unknown as z.ZodType<IpcParsedArgs<T>, IpcArgs<T>>,
    result: RESULT_SCHEMAS[command],
  };
}

/** Invoke channels, by command type; `satisfies` makes a command without a channel a type error. */
export const IPC_INVOKE = {
  'session.create': invoke('session.create', 'createSession'),
  'session.list': invoke('session.list', 'listSessions'),
  'session.events': invoke('session.events', 'listEvents'),
  'session.subscribe': invoke('session.subscribe', 'subscribe'),
  'session.unsubscribe': invoke('session.unsubscribe', 'unsubscribe'),
  'turn.start': invoke('turn.start', 'startTurn'),
  'turn.cancel': invoke('turn.cancel', 'cancelTurn'),
  'scenario.list': invoke('scenario.list', 'listScenarios'),
  'world.get': invoke('world.get', 'getWorld'),
  'ledger.commits': invoke('ledger.commits', 'listCommits'),
  'ledger.verify': invoke('ledger.verify', 'verifyLedger'),
  'session.export': invoke('session.export', 'exportSession'),
  'session.fork': invoke('session.fork', 'forkSession'),
  'agents.config.get': invoke('agents.config.get', 'getAgentConfig'),
  'agents.config.set': invoke('agents.config.set', 'setAgentConfig'),
  'agents.pressure.set': invoke('agents.pressure.set', 'setPressure'),
  'agents.status': invoke('agents.status', 'getAgentStatus'),
  'agent.cancel': invoke('agent.cancel', 'cancelAgentStream'),
  'models.status': invoke('models.status', 'getModelStatus'),
  'models.list': invoke('models.list', 'listModels'),
  'models.config.set': invoke('models.config.set', 'setModelPoolConfig'),
  'models.load': invoke('models.load', 'loadModel'),
  'models.unload': invoke('models.unload', 'unloadModel'),
  'models.hint': invoke('models.hint', 'hintModel'),
  'npc.settings.get': invoke('npc.settings.get', 'getNpcSettings'),
  'npc.settings.set': invoke('npc.settings.set', 'setNpcSettings'),
} as const satisfies { readonly [T in IpcCommandType]: IpcInvokeChannel<T, string> };

export const IPC_COMMAND_TYPES = Object.keys(IPC_INVOKE) as IpcCommandType[];

/** The preload function carrying command `T`. */
export type IpcFunctionOf<T extends IpcCommandType> = (typeof IPC_INVOKE)[T]['fn'];

/**
 * What every invoke channel resolves to. Errors travel as values, `{ code, message }`: only plain
 * data survives Electron IPC, and a thrown error arrives as its message alone.
 */
export type IpcReply<R> =
  { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: ProtocolError };

/**
 * One push message of events: some events of one session, in seq order, each delivered once. The
 * shell sends at most one per session per frame interval (docs/ipc.md).
 */
export const IpcEventBatch = z
  .object({
    session_id: z.string().min(1),
    events: z.array(EventEnvelope).min(1),
  })
  .refine((batch) => batch.events.every((e) => e.session_id === batch.session_id), {
    message: 'every event of a batch belongs to the batch session',
    path: ['events'],
  });
export type IpcEventBatch = z.infer<typeof IpcEventBatch>;

/** Main → renderer push channels, by preload function name, with the schema of their payload. */
export const IPC_EVENTS = {
  onEvents: { channel: 'parley:events', payload: IpcEventBatch },
  onSubscriptionEnded: { channel: 'parley:subscription.ended', payload: SubscriptionEndedFrame },
} as const satisfies Record<string, { channel: `${typeof IPC_PREFIX}${string}`; payload: z.ZodType }>;
export type IpcEventName = keyof typeof IPC_EVENTS;
export type IpcPayloadOf<E extends IpcEventName> = z.infer<(typeof IPC_EVENTS)[E]['payload']>;
export type IpcEventChannel = (typeof IPC_EVENTS)[IpcEventName]['channel'];

/** One push message as it travels: the channel it is for and its payload. */
export type IpcPushMessage = {
  [E in IpcEventName]: {
    readonly channel: (typeof IPC_EVENTS)[E]['channel'];
    readonly payload: IpcPayloadOf<E>;
  };
}[IpcEventName];

/**
 * Main → preload only (never exposed to the page): hands over the MessagePort that carries every push
 * message as `IpcPushMessage`, when the shell is set to the port transport.
 */
export const IPC_PORT_CHANNEL = 'parley:push-port';

/**
 * What the preload exposes as `window.parley`: one function per channel, nothing generic. Command
 * functions resolve to a reply value rather than throwing; push functions take a callback and return
 * a function that removes it.
 */
export type ParleyPreloadApi = {
  readonly [T in IpcCommandType as IpcFunctionOf<T>]: (args: IpcArgs<T>) => Promise<IpcReply<ResultOf<T>>>;
} & {
  readonly [E in IpcEventName]: (callback: (payload: IpcPayloadOf<E>) => void) => () => void;
};
