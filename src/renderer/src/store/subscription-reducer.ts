/**
 * This window's subscription to each session: the overflow policy it asked for and what the runtime
 * answered. Plain functions; the inspector records each `session.subscribe` here, so a resubscription
 * (after an overflow, a resume gap or a policy change) keeps the policy chosen.
 */
import type { OverflowPolicy } from '../../../shared/protocol';

export type SubscriptionPhase = 'subscribing' | 'subscribed' | 'failed';

export interface SessionSubscription {
  /** The policy asked for; once `subscribed`, the one the runtime applies. */
  policy: OverflowPolicy;
  phase: SubscriptionPhase;
  /** The seq the current subscription started from (the runtime's answer); null before one. */
  fromSeq: number | null;
  /** Why the last subscribe failed. */
  error: string | null;
}

export interface SubscriptionsState {
  sessions: Readonly<Record<string, SessionSubscription>>;
}

export const EMPTY_SUBSCRIPTIONS: SubscriptionsState = { sessions: {} };

/** The runtime's default, used until a policy is chosen for the session. */
export const DEFAULT_OVERFLOW_POLICY: OverflowPolicy = 'drop_telemetry';

/** The policy a (re)subscription to the session asks for. */
export function policyFor(state: SubscriptionsState, sessionId: string): OverflowPolicy {
  return state.sessions[sessionId]?.policy ?? DEFAULT_OVERFLOW_POLICY;
}

export function subscribeRequested(
  state: SubscriptionsState,
  sessionId: string,
  policy: OverflowPolicy,
): SubscriptionsState {
  const held = state.sessions[sessionId];
  return {
    sessions: {
      ...state.sessions,
      [sessionId]: { policy, phase: 'subscribing', fromSeq: held?.fromSeq ?? null, error: null },
    },
  };
}

export function subscribeConfirmed(
  state: SubscriptionsState,
  result: { session_id: string; from_seq: number; overflow_policy: OverflowPolicy },
): SubscriptionsState {
  return {
    sessions: {
      ...state.sessions,
      [result.session_id]: {
        policy: result.overflow_policy,
        phase: 'subscribed',
        fromSeq: result.from_seq,
        error: null,
      },
    },
  };
}

/** The subscribe failed; the policy asked for stays chosen for the next attempt. */
export function subscribeFailed(
  state: SubscriptionsState,
  sessionId: string,
  message: string,
): SubscriptionsState {
  const held = state.sessions[sessionId];
  return {
    sessions: {
      ...state.sessions,
      [sessionId]: {
        policy: held?.policy ?? DEFAULT_OVERFLOW_POLICY,
        phase: 'failed',
        fromSeq: held?.fromSeq ?? null,
        error: message,
      },
    },
  };
}
