import type { StateCreator } from 'zustand';
import type { ScenarioSummary } from '../../../shared/scenario';
import type { AppState } from './app-store';

export interface ScenariosSlice {
  scenarios: {
    list: readonly ScenarioSummary[];
    defaultId: string | null;
    /** Why `scenario.list` failed; sessions can still be created with the runtime's defaults. */
    error: string | null;
  };
  setScenarios: (list: readonly ScenarioSummary[], defaultId: string) => void;
  scenariosFailed: (error: string) => void;
}

export const createScenariosSlice: StateCreator<AppState, [], [], ScenariosSlice> = (set) => ({
  scenarios: { list: [], defaultId: null, error: null },
  setScenarios: (list, defaultId) => {
    set({ scenarios: { list, defaultId, error: null } });
  },
  scenariosFailed: (error) => {
    set((state) => ({ scenarios: { ...state.scenarios, error } }));
  },
});
