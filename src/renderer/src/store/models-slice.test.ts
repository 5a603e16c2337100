import { beforeEach, describe, expect, it } from 'vitest';
import { MIRA_MODEL, pooled, poolStatus, POOL_CONFIG, WREN_MODEL } from '../testing/model-fixtures';
import { createAppStore, type AppStore } from './app-store';
import { modelKey } from './models-reducer';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('models slice', () => {
  it('reads the pool status, keeps it on a failure, and tracks load commands in flight', () => {
    store.getState().modelStatusRequested();
    expect(store.getState().models.statusLoading).toBe(true);
    store.getState().modelStatusLoaded(poolStatus([pooled(MIRA_MODEL, { state: 'unloaded', progress: 0 })]));
    expect(store.getState().models).toMatchObject({ statusLoading: false, statusError: null });
    expect(store.getState().models.status?.models.map((m) => m.model)).toEqual([MIRA_MODEL]);
    store.getState().modelStatusFailed('timed out');
    expect(store.getState().models.statusError).toBe('timed out');
    expect(store.getState().models.status).not.toBeNull();

    store.getState().modelActionStarted(MIRA_MODEL, 'load');
    store.getState().modelActionStarted(WREN_MODEL, 'unload');
    expect(store.getState().models.pending).toEqual({
      [modelKey(MIRA_MODEL)]: 'load',
      [modelKey(WREN_MODEL)]: 'unload',
    });
    store.getState().modelActionEnded(MIRA_MODEL);
    expect(store.getState().models.pending).toEqual({ [modelKey(WREN_MODEL)]: 'unload' });
  });

  it('takes a new pool config into the held status and leaves state untouched without one', () => {
    const before = store.getState();
    store.getState().poolConfigLoaded({ ...POOL_CONFIG, max_loaded: 7 });
    // No status held yet: nothing to change, the same state object.
    expect(store.getState().models).toBe(before.models);
    store.getState().modelStatusLoaded(poolStatus([]));
    store.getState().poolConfigLoaded({ ...POOL_CONFIG, max_loaded: 7 });
    expect(store.getState().models.status?.config.max_loaded).toBe(7);
  });
});
