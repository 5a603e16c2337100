import type { StateCreator } from 'zustand';
import type { AppState } from './app-store';
import { NO_LOG_FILTER, type LogFilter } from './event-log-reducer';

/** The side panel's tabs, in the order of the tab row and of their shortcuts. */
export const SIDE_PANELS = [
  'events',
  'agents',
  'admissions',
  'provenance',
  'world',
  'models',
  'settings',
  'gates',
  'charts',
] as const;
export type SidePanel = (typeof SIDE_PANELS)[number];

/** Each tab's name: its label and accessible name. */
export const SIDE_PANEL_LABELS: Readonly<Record<SidePanel, string>> = {
  events: 'Events',
  agents: 'Agents',
  admissions: 'Admissions',
  provenance: 'Commits',
  world: 'World state',
  models: 'Models',
  settings: 'Settings',
  gates: 'Rollout gates',
  charts: 'Charts',
};

/**
 * Alt+Shift+1…n picks the n-th tab. Chromium on Linux takes Alt+1…9 (and Ctrl+1…9) for its own
 * tabs, so the plain chords would not reach the page in a browser.
 */
export const TAB_SHORTCUT_PREFIX = 'Alt+Shift+';

export function tabShortcut(panel: SidePanel): string {
  return `${TAB_SHORTCUT_PREFIX}${SIDE_PANELS.indexOf(panel) + 1}`;
}

export interface KeyChord {
  code: string;
  altKey: boolean;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/** The tab a key chord picks, or null. Reads `code`, not `key`: Shift turns `1` into `!` (US layout). */
export function panelForShortcut(chord: KeyChord): SidePanel | null {
  if (!chord.altKey || !chord.shiftKey || chord.ctrlKey || chord.metaKey) return null;
  const match = /^(?:Digit|Numpad)([1-9])$/.exec(chord.code);
  return match === null ? null : (SIDE_PANELS[Number(match[1]) - 1] ?? null);
}

export interface ViewSlice {
  sidePanel: SidePanel;
  showSidePanel: (panel: SidePanel) => void;
  /** The event log's filters; they outlive the tab (switching away and back keeps them). */
  logFilter: LogFilter;
  /** Changes the named filters, keeps the others. */
  setLogFilter: (change: Partial<LogFilter>) => void;
  resetLogFilter: () => void;
  /** The log row whose payload is shown, by event id; null for none. */
  selectedLogEventId: string | null;
  selectLogEvent: (eventId: string | null) => void;
  /** The Admissions tab shows only this agent's rows; null for every agent. */
  admissionAgent: string | null;
  setAdmissionAgent: (agent: string | null) => void;
}

export const createViewSlice: StateCreator<AppState, [], [], ViewSlice> = (set) => ({
  sidePanel: 'events',
  showSidePanel: (sidePanel) => {
    set({ sidePanel });
  },
  logFilter: NO_LOG_FILTER,
  setLogFilter: (change) => {
    set((s) => ({ logFilter: { ...s.logFilter, ...change } }));
  },
  resetLogFilter: () => {
    set({ logFilter: NO_LOG_FILTER });
  },
  selectedLogEventId: null,
  selectLogEvent: (selectedLogEventId) => {
    set({ selectedLogEventId });
  },
  admissionAgent: null,
  setAdmissionAgent: (admissionAgent) => {
    set({ admissionAgent });
  },
});
