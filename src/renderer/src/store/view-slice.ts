import type { StateCreator } from 'zustand';
import type { AppState } from './app-store';

/** The side panel's tabs. */
export const SIDE_PANELS = ['events', 'world', 'provenance', 'agents', 'models'] as const;
export type SidePanel = (typeof SIDE_PANELS)[number];

export interface ViewSlice {
  sidePanel: SidePanel;
  showSidePanel: (panel: SidePanel) => void;
}

export const createViewSlice: StateCreator<AppState, [], [], ViewSlice> = (set) => ({
  sidePanel: 'events',
  showSidePanel: (sidePanel) => {
    set({ sidePanel });
  },
});
