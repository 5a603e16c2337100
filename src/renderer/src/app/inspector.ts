/**
 * The inspector's controller: wires the bridge to the store and turns user intents into commands.
 * Lives outside React; components call its methods and read the store, never the bridge.
 */
import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { BridgeError, type Bridge, type BridgeStatus } from '../bridge/types';
import { animationFrameScheduler, createEventBatcher, type FrameScheduler } from '../events/event-batcher';
import type { AppStore } from '../store/app-store';
import type { CommandFailure } from '../store/feedback-slice';
import { selectActiveTurnId } from '../store/selectors';

export interface InspectorOptions {
  bridge: Bridge;
  store: AppStore;
  /** When batched events are applied. Default: once per animation frame. */
  scheduler?: FrameScheduler;
}

/** User intents. None of the returned promises rejects: failures land in the store's `commandError`. */
export interface Inspector {
  refreshSessions(): Promise<void>;
  /** Creates a session, selects it and subscribes to it. */
  createSession(): Promise<void>;
  /** Selects a session and subscribes to it (once; later selections reuse the subscription). */
  selectSession(sessionId: string): Promise<void>;
  /** Starts a turn in the selected session. True when the runtime accepted it. */
  sendTurn(text: string): Promise<boolean>;
  /** Cancels the selected session's running turn, if any. */
  cancelActiveTurn(): Promise<void>;
  /** Applies buffered events now (tests, and before reading the store after a burst). */
  flush(): void;
  /** Detaches from the bridge and the store. The bridge belongs to whoever created it. */
  dispose(): void;
}

export function createInspector({
  bridge,
  store,
  scheduler = animationFrameScheduler,
}: InspectorOptions): Inspector {
  const batcher = createEventBatcher<EventEnvelope>((events) => {
    store.getState().ingestEvents(events);
  }, scheduler);
  /** Sessions this inspector has subscribed to (or is subscribing to). */
  const subscribed = new Set<string>();

  const fail = (command: string, error: unknown): void => {
    store.getState().reportCommandError(toFailure(command, error));
  };

  const refreshSessions = async (): Promise<void> => {
    try {
      const { sessions } = await bridge.request({ type: 'session.list' });
      store.getState().setSessions(sessions);
    } catch (error) {
      fail('session.list', error);
    }
  };

  const subscribe = async (sessionId: string, fromSeq?: number): Promise<void> => {
    if (subscribed.has(sessionId)) return;
    subscribed.add(sessionId);
    batcher.flush();
    let from = fromSeq ?? (store.getState().dialogue.sessions[sessionId]?.lastSeq ?? 0) + 1;
    // At most one retry: a `resume_gap` names the oldest seq still buffered.
    for (let attempt = 0; ; attempt++) {
      try {
        await bridge.request({ type: 'session.subscribe', session_id: sessionId, from_seq: from });
        return;
      } catch (error) {
        if (error instanceof BridgeError && error.code === 'already_subscribed') return;
        const oldest = error instanceof BridgeError ? error.details['oldest_seq'] : undefined;
        if (
          attempt === 0 &&
          error instanceof BridgeError &&
          error.code === 'resume_gap' &&
          typeof oldest === 'number'
        ) {
          fail(
            'session.subscribe',
            new BridgeError(
              'resume_gap',
              `Events ${from}–${oldest - 1} are no longer buffered; showing from seq ${oldest}.`,
            ),
          );
          from = oldest;
          continue;
        }
        subscribed.delete(sessionId);
        fail('session.subscribe', error);
        return;
      }
    }
  };

  const onSubscriptionEnded = (frame: SubscriptionEndedFrame): void => {
    subscribed.delete(frame.session_id);
    const { code } = frame.error;
    if (code === 'subscription_overflow' || code === 'resume_gap') {
      // The subscription fell behind or could not resume: continue right after the last delivered event.
      void subscribe(frame.session_id, frame.last_seq + 1);
      return;
    }
    fail('session.subscribe', new BridgeError(code, frame.error.message));
  };

  const onStatus = (status: BridgeStatus): void => {
    store.getState().setConnection(status);
    if (status.state === 'connected') void refreshSessions();
  };

  const detach = [
    bridge.onEvent((event) => {
      batcher.push(event);
    }),
    bridge.onSubscriptionEnded(onSubscriptionEnded),
    bridge.onStatus(onStatus),
  ];

  return {
    refreshSessions,

    async createSession() {
      store.getState().clearCommandError();
      try {
        const session = await bridge.request({ type: 'session.create' });
        store.getState().upsertSession(session);
        store.getState().selectSession(session.session_id);
        await subscribe(session.session_id);
      } catch (error) {
        fail('session.create', error);
      }
    },

    async selectSession(sessionId) {
      store.getState().selectSession(sessionId);
      await subscribe(sessionId);
    },

    async sendTurn(text) {
      const sessionId = store.getState().sessions.selectedId;
      if (sessionId === null) return false;
      store.getState().clearCommandError();
      try {
        const { turn_id, accepted } = await bridge.request({
          type: 'turn.start',
          session_id: sessionId,
          text,
        });
        store.getState().recordTurnStart(sessionId, turn_id, text, accepted);
        return accepted;
      } catch (error) {
        fail('turn.start', error);
        return false;
      }
    },

    async cancelActiveTurn() {
      const state = store.getState();
      const sessionId = state.sessions.selectedId;
      const turnId = selectActiveTurnId(state);
      if (sessionId === null || turnId === null) return;
      try {
        await bridge.request({ type: 'turn.cancel', session_id: sessionId, turn_id: turnId });
      } catch (error) {
        fail('turn.cancel', error);
      }
    },

    flush: () => {
      batcher.flush();
    },

    dispose() {
      for (const d of detach) d();
      batcher.dispose();
    },
  };
}

function toFailure(command: string, error: unknown): CommandFailure {
  if (error instanceof BridgeError) return { command, code: error.code, message: error.message };
  return { command, code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
