import type { StateCreator } from 'zustand';
import type { OverflowPolicy } from '../../../shared/protocol';
import type { AppState } from './app-store';
import {
  EMPTY_SUBSCRIPTIONS,
  subscribeConfirmed,
  subscribeFailed,
  subscribeRequested,
  type SubscriptionsState,
} from './subscription-reducer';

/** This window's session subscriptions and their overflow policies (the Settings view). */
export interface SubscriptionSlice {
  subscriptions: SubscriptionsState;
  subscribeRequested: (sessionId: string, policy: OverflowPolicy) => void;
  subscribeConfirmed: (result: {
    session_id: string;
    from_seq: number;
    overflow_policy: OverflowPolicy;
  }) => void;
  subscribeFailed: (sessionId: string, message: string) => void;
}

export const createSubscriptionSlice: StateCreator<AppState, [], [], SubscriptionSlice> = (set) => ({
  subscriptions: EMPTY_SUBSCRIPTIONS,
  subscribeRequested: (sessionId, policy) => {
    set((s) => ({ subscriptions: subscribeRequested(s.subscriptions, sessionId, policy) }));
  },
  subscribeConfirmed: (result) => {
    set((s) => ({ subscriptions: subscribeConfirmed(s.subscriptions, result) }));
  },
  subscribeFailed: (sessionId, message) => {
    set((s) => ({ subscriptions: subscribeFailed(s.subscriptions, sessionId, message) }));
  },
});
