import { beforeEach, describe, expect, it } from 'vitest';
import { createAppStore, type AppStore } from './app-store';
import { INITIAL_CONNECTION } from './connection-slice';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('connection slice', () => {
  it('starts connecting and takes each bridge status as it comes, error included', () => {
    expect(store.getState().connection).toEqual(INITIAL_CONNECTION);
    store.getState().setConnection({ state: 'connected', error: null });
    expect(store.getState().connection).toEqual({ state: 'connected', error: null });
    const refused = { state: 'closed', error: { code: 'unauthorized', message: 'bad token' } } as const;
    store.getState().setConnection(refused);
    expect(store.getState().connection).toEqual(refused);
    // Nothing else moves.
    expect(store.getState().sessions.list).toEqual([]);
  });
});
