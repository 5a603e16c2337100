import { ProtocolError, SubscriptionEndedFrame, type ResultOf } from '../../../shared/commands';
import { EventEnvelope } from '../../../shared/protocol';
import type { IpcReply } from '../../../shared/ipc';
import { IPC_FUNCTION, type ParleyPreloadApi } from './ipc-api';
import { Listeners } from './listeners';
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
  private readonly eventListeners = new Listeners<EventEnvelope>();
  private readonly endedListeners = new Listeners<SubscriptionEndedFrame>();
  private readonly statusListeners = new Listeners<BridgeStatus>();
  private readonly detach: Unsubscribe[];
  private status: BridgeStatus = CONNECTED;

  constructor(
    private readonly api: ParleyPreloadApi,
    private readonly onInvalid: (reason: string, value: unknown) => void = (reason, value) => {
      console.warn(`Parley: dropped an IPC message (${reason})`, value);
    },
  ) {
    this.detach = [
      api.onEvent((event) => {
        const parsed = EventEnvelope.safeParse(event);
        if (parsed.success) this.eventListeners.emit(parsed.data);
        else this.onInvalid('event not in the contract', event);
      }),
      api.onSubscriptionEnded((frame) => {
        const parsed = SubscriptionEndedFrame.safeParse(frame);
        if (parsed.success) this.endedListeners.emit(parsed.data);
        else this.onInvalid('subscription.ended not in the contract', frame);
      }),
    ];
  }

  async request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>> {
    if (this.status.state === 'closed') throw new BridgeError('disposed', 'The bridge was disposed');
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
    return this.eventListeners.add(listener);
  }

  onSubscriptionEnded(listener: (frame: SubscriptionEndedFrame) => void): Unsubscribe {
    return this.endedListeners.add(listener);
  }

  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe {
    const unsubscribe = this.statusListeners.add(listener);
    listener(this.status);
    return unsubscribe;
  }

  dispose(): void {
    if (this.status.state === 'closed') return;
    for (const detach of this.detach) detach();
    this.status = { state: 'closed', error: null };
    this.statusListeners.emit(this.status);
    this.eventListeners.clear();
    this.endedListeners.clear();
    this.statusListeners.clear();
  }
}
