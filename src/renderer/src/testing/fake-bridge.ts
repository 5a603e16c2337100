/** A scriptable Bridge for controller tests: records commands, answers them with `respond`. */
import type { ResultOf, SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { Listeners } from '../bridge/listeners';
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
  private readonly events = new Listeners<EventEnvelope>();
  private readonly ended = new Listeners<SubscriptionEndedFrame>();
  private readonly statuses = new Listeners<BridgeStatus>();
  private status: BridgeStatus = { state: 'connecting', error: null };

  request<T extends BridgeCommandType>(command: BridgeCommand<T>): Promise<ResultOf<T>> {
    const c = command as AnyBridgeCommand;
    this.requests.push(c);
    return Promise.resolve().then(() => this.respond(c) as ResultOf<T>);
  }

  onEvent(listener: (event: EventEnvelope) => void): Unsubscribe {
    return this.events.add(listener);
  }

  onSubscriptionEnded(listener: (frame: SubscriptionEndedFrame) => void): Unsubscribe {
    return this.ended.add(listener);
  }

  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe {
    const off = this.statuses.add(listener);
    listener(this.status);
    return off;
  }

  dispose(): void {
    this.setStatus({ state: 'closed', error: null });
  }

  // Test side ---------------------------------------------------------------------------------

  emit(...events: EventEnvelope[]): void {
    for (const e of events) this.events.emit(e);
  }

  end(frame: SubscriptionEndedFrame): void {
    this.ended.emit(frame);
  }

  setStatus(status: BridgeStatus): void {
    this.status = status;
    this.statuses.emit(status);
  }

  typesSent(): string[] {
    return this.requests.map((r) => r.type);
  }
}
