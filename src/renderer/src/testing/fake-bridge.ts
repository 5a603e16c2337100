/** A scriptable Bridge for controller tests: records commands, answers them with `respond`. */
import type { ResultOf, SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { BridgeEmitter } from '../bridge/listeners';
import type {
  AnyBridgeCommand,
  Bridge,
  BridgeCommand,
  BridgeCommandType,
  BridgeStatus,
  Unsubscribe,
} from '../bridge/types';

export class FakeBridge implements Bridge {
  readonly requests: AnyBridgeCommand[] = [];
  /** Returns the result, or throws to reject the request. */
  respond: (command: AnyBridgeCommand) => unknown = () => {
    throw new Error('no answer scripted');
  };
  private readonly emitter = new BridgeEmitter({ state: 'connecting', error: null });

  request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>> {
    const c = command as AnyBridgeCommand;
    this.requests.push(c);
    return Promise.resolve().then(() => this.respond(c) as ResultOf<T>);
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
    this.setStatus({ state: 'closed', error: null });
  }

  // Test side ---------------------------------------------------------------------------------

  emit(...events: EventEnvelope[]): void {
    for (const e of events) this.emitter.emitEvent(e);
  }

  end(frame: SubscriptionEndedFrame): void {
    this.emitter.emitEnded(frame);
  }

  setStatus(status: BridgeStatus): void {
    this.emitter.setStatus(status);
  }

  typesSent(): string[] {
    return this.requests.map((r) => r.type);
  }
}
