import { beforeEach, describe, expect, it } from 'vitest';
import { createAppStore, type AppStore } from './app-store';
import {
  EMPTY_SUBSCRIPTIONS,
  policyFor,
  subscribeConfirmed,
  subscribeFailed,
  subscribeRequested,
} from './subscription-reducer';

describe('subscription reducer', () => {
  it('asks with the runtime default until a policy is chosen, then keeps the chosen one', () => {
    expect(policyFor(EMPTY_SUBSCRIPTIONS, 's1')).toBe('drop_telemetry');
    const asked = subscribeRequested(EMPTY_SUBSCRIPTIONS, 's1', 'fail');
    expect(asked.sessions['s1']).toEqual({
      policy: 'fail',
      phase: 'subscribing',
      fromSeq: null,
      error: null,
    });
    expect(policyFor(asked, 's1')).toBe('fail');
    expect(policyFor(asked, 's2')).toBe('drop_telemetry');
  });

  it('records the runtime’s answer, and keeps the last start seq while resubscribing', () => {
    const subscribed = subscribeConfirmed(EMPTY_SUBSCRIPTIONS, {
      session_id: 's1',
      from_seq: 7,
      overflow_policy: 'drop_telemetry',
    });
    expect(subscribed.sessions['s1']).toEqual({
      policy: 'drop_telemetry',
      phase: 'subscribed',
      fromSeq: 7,
      error: null,
    });
    expect(subscribeRequested(subscribed, 's1', 'fail').sessions['s1']).toMatchObject({
      policy: 'fail',
      phase: 'subscribing',
      fromSeq: 7,
    });
  });

  it('keeps the policy asked for when the subscribe fails', () => {
    const failed = subscribeFailed(subscribeRequested(EMPTY_SUBSCRIPTIONS, 's1', 'fail'), 's1', 'x: gone');
    expect(failed.sessions['s1']).toEqual({
      policy: 'fail',
      phase: 'failed',
      fromSeq: null,
      error: 'x: gone',
    });
    expect(subscribeFailed(EMPTY_SUBSCRIPTIONS, 's2', 'y').sessions['s2']?.policy).toBe('drop_telemetry');
  });
});

describe('subscription slice', () => {
  let store: AppStore;
  beforeEach(() => {
    store = createAppStore();
  });

  it('holds each session’s subscription', () => {
    store.getState().subscribeRequested('s1', 'fail');
    store.getState().subscribeConfirmed({ session_id: 's1', from_seq: 3, overflow_policy: 'fail' });
    store.getState().subscribeFailed('s2', 'nope');
    expect(store.getState().subscriptions.sessions).toEqual({
      s1: { policy: 'fail', phase: 'subscribed', fromSeq: 3, error: null },
      s2: { policy: 'drop_telemetry', phase: 'failed', fromSeq: null, error: 'nope' },
    });
  });
});
