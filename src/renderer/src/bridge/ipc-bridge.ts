import { ProtocolError, SubscriptionEndedFrame, type ResultOf } from '../../../shared/commands';
import { EventEnvelope } from '../../../shared/protocol';
import type { IpcReply } from '../../../shared/ipc';
import { IPC_FUNCTION, type ParleyPreloadApi } from './ipc-api';
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
 * frames: the preload is trusted code, but the contract is the contract.
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
      api.onEvent((event) => {
        const parsed = EventEnvelope.safeParse(event);
        if (parsed.success) this.emitter.emitEvent(parsed.data);
        else this.onInvalid('event not in the contract', event);
      }),
      api.onSubscriptionEnded((frame) => {
        const parsed = SubscriptionEndedFrame.safeParse(frame);
        if (parsed.success) this.emitter.emitEnded(parsed.data);
        else this.onInvalid('subscription.ended not in the contract', frame);
      }),
    ];
  }

  async request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>> {
    if (this.emitter.status.state === 'closed') throw new BridgeError('disposed', 'The bridge was disposed');
    const { type, ...args } = command;
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
