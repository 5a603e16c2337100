import { beforeEach, describe, expect, it } from 'vitest';
import { createAppStore, type AppStore } from './app-store';
import { policyFor } from './subscription-reducer';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('subscription slice', () => {
  it('keeps the policy a session was subscribed with, and the last failure', () => {
    expect(policyFor(store.getState().subscriptions, 's1')).toBe('drop_telemetry');
    store.getState().subscribeRequested('s1', 'fail');
    expect(store.getState().subscriptions.sessions.s1).toMatchObject({
      phase: 'subscribing',
      policy: 'fail',
    });
    store.getState().subscribeConfirmed({ session_id: 's1', from_seq: 7, overflow_policy: 'fail' });
    expect(store.getState().subscriptions.sessions.s1).toMatchObject({
      phase: 'subscribed',
      policy: 'fail',
      fromSeq: 7,
    });
    expect(policyFor(store.getState().subscriptions, 's1')).toBe('fail');
    store.getState().subscribeFailed('s1', 'resume_gap');
    expect(store.getState().subscriptions.sessions.s1).toMatchObject({
      phase: 'failed',
      error: 'resume_gap',
    });
    // Another session is untouched.
    expect(store.getState().subscriptions.sessions.s2).toBeUndefined();
  });
});
