/**
 * The preload's `window.parley` API, as the IPC contract in src/shared/ipc.ts defines it, and the
 * mapping from command types to its functions (derived from the contract).
 */
import { IPC_INVOKE, type IpcCommandType, type IpcFunctionOf } from '../../../shared/ipc';

export type { IpcArgs, ParleyPreloadApi } from '../../../shared/ipc';

/** Which preload function carries which command. */
export const IPC_FUNCTION = Object.fromEntries(
  Object.values(IPC_INVOKE).map((channel) => [channel.command, channel.fn]),
) as { readonly [T in IpcCommandType]: IpcFunctionOf<T> };

/** Whether a command has an IPC channel (the WebSocket connection's own commands have none). */
export function isIpcCommand(type: string): type is IpcCommandType {
  return Object.hasOwn(IPC_INVOKE, type);
}
