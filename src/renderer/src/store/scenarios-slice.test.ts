import { beforeEach, describe, expect, it } from 'vitest';
import { SCENARIO } from '../testing/envelopes';
import { createAppStore, type AppStore } from './app-store';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('scenarios slice', () => {
  it('keeps the list on a failed read and clears the error on the next answer', () => {
    expect(store.getState().scenarios).toEqual({ list: [], defaultId: null, error: null });
    store.getState().setScenarios([SCENARIO], SCENARIO.scenario_id);
    expect(store.getState().scenarios).toEqual({
      list: [SCENARIO],
      defaultId: SCENARIO.scenario_id,
      error: null,
    });
    store.getState().scenariosFailed('connection lost');
    expect(store.getState().scenarios).toEqual({
      list: [SCENARIO],
      defaultId: SCENARIO.scenario_id,
      error: 'connection lost',
    });
    store.getState().setScenarios([], 'other');
    expect(store.getState().scenarios).toEqual({ list: [], defaultId: 'other', error: null });
  });
});
