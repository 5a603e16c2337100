import { ProtocolError, type ResultOf, type SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { IPC_EVENTS, type IpcReply } from '../../../shared/ipc';
import { IPC_FUNCTION, isIpcCommand, type ParleyPreloadApi } from './ipc-api';
import { BridgeEmitter } from './listeners';
import {
  BridgeError,
  type Bridge,
  type BridgeCommand,
  type BridgeCommandType,
  type BridgeStatus,
  type Unsubscribe,
} from './types';
import { parseResult } from './validate';

const CONNECTED: BridgeStatus = { state: 'connected', error: null };

/**
 * Electron bridge over the preload's `window.parley`. IPC to the main process has no connection to
 * lose, so the status is `connected` until disposed. What arrives is validated like WebSocket
 * frames: the preload is trusted code, but the contract is the contract. Events arrive in batches
 * (one per session per frame, docs/ipc.md) and are handed on one by one, in order; a batch that does
 * not match the contract is dropped whole.
 */
export class IpcBridge implements Bridge {
  private readonly emitter = new BridgeEmitter(CONNECTED);
  private readonly detach: Unsubscribe[];

  constructor(
    private readonly api: ParleyPreloadApi,
    private readonly onInvalid: (reason: string, value: unknown) => void = (reason, value) => {
      console.warn(`Parley: dropped an IPC message (${reason})`, value);
    },
  ) {
    this.detach = [
      api.onEvents((batch) => {
        const parsed = IPC_EVENTS.onEvents.payload.safeParse(batch);
        if (!parsed.success) {
          this.onInvalid('event batch not in the contract', batch);
          return;
        }
        for (const event of parsed.data.events) this.emitter.emitEvent(event);
      }),
      api.onSubscriptionEnded((frame) => {
        const parsed = IPC_EVENTS.onSubscriptionEnded.payload.safeParse(frame);
        if (parsed.success) this.emitter.emitEnded(parsed.data);
        else this.onInvalid('subscription.ended not in the contract', frame);
      }),
    ];
  }

  async request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>> {
    if (this.emitter.status.state === 'closed') throw new BridgeError('disposed', 'The bridge was disposed');
    const { type, ...args } = command;
    if (!isIpcCommand(type)) throw new BridgeError('unknown_command', `${type} has no IPC channel`);
    // The generic-per-channel signature cannot be expressed by indexing; every channel takes its command minus type.
    const invoke = this.api[IPC_FUNCTION[type]] as (
      args: Omit<BridgeCommand<T>, 'type'>,
    ) => Promise<IpcReply<unknown>>;
    let answer: IpcReply<unknown>;
    try {
      answer = await invoke(args);
    } catch (error) {
      throw new BridgeError('internal', `${type}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (answer.ok) return parseResult(type, answer.result);
    const error = ProtocolError.safeParse(answer.error);
    if (!error.success) throw new BridgeError('invalid_response', `${type}: malformed error answer`);
    throw new BridgeError(error.data.code, error.data.message, error.data.details ?? {});
  }

  onEvent(listener: (event: EventEnvelope) => void): Unsubscribe {
    return this.emitter.onEvent(listener);
  }

  onSubscriptionEnded(listener: (frame: SubscriptionEndedFrame) => void): Unsubscribe {
    return this.emitter.onSubscriptionEnded(listener);
  }

  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe {
    return this.emitter.onStatus(listener);
  }

  dispose(): void {
    if (this.emitter.status.state === 'closed') return;
    for (const detach of this.detach) detach();
    this.emitter.setStatus({ state: 'closed', error: null });
    this.emitter.clear();
  }
}
