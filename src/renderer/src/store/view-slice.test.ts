import { beforeEach, describe, expect, it } from 'vitest';
import { createAppStore, type AppStore } from './app-store';
import { NO_LOG_FILTER } from './event-log-reducer';
import { panelForShortcut, SIDE_PANEL_LABELS, SIDE_PANELS, tabShortcut } from './view-slice';

let store: AppStore;

beforeEach(() => {
  store = createAppStore();
});

describe('view slice', () => {
  it('changes only the named log filters, and resets them all', () => {
    expect(store.getState().logFilter).toBe(NO_LOG_FILTER);
    store.getState().setLogFilter({ eventClass: 'telemetry' });
    store.getState().setLogFilter({ text: 'commit' });
    expect(store.getState().logFilter).toEqual({ ...NO_LOG_FILTER, eventClass: 'telemetry', text: 'commit' });
    store.getState().resetLogFilter();
    expect(store.getState().logFilter).toBe(NO_LOG_FILTER);
  });

  it('keeps the Admissions tab’s agent filter', () => {
    expect(store.getState().admissionAgent).toBeNull();
    store.getState().setAdmissionAgent('lore');
    expect(store.getState().admissionAgent).toBe('lore');
    store.getState().setAdmissionAgent(null);
    expect(store.getState().admissionAgent).toBeNull();
  });

  it('selects and clears the log row whose payload shows', () => {
    store.getState().selectLogEvent('s1.4');
    expect(store.getState().selectedLogEventId).toBe('s1.4');
    store.getState().selectLogEvent(null);
    expect(store.getState().selectedLogEventId).toBeNull();
  });
});

describe('tab shortcuts', () => {
  it('has nine tabs, each labelled, the ninth on Alt+Shift+9', () => {
    expect(SIDE_PANELS).toHaveLength(9);
    expect(SIDE_PANELS.map((p) => SIDE_PANEL_LABELS[p])).toEqual([
      'Events',
      'Agents',
      'Admissions',
      'Commits',
      'World state',
      'Models',
      'Settings',
      'Rollout gates',
      'Charts',
    ]);
    expect(tabShortcut('charts')).toBe('Alt+Shift+9');
  });

  const chord = (
    code: string,
    mods: Partial<Record<'altKey' | 'shiftKey' | 'ctrlKey' | 'metaKey', boolean>>,
  ) => ({
    code,
    altKey: false,
    shiftKey: false,
    ctrlKey: false,
    metaKey: false,
    ...mods,
  });

  it('picks the n-th tab with Alt+Shift+n, from the digit row or the keypad', () => {
    expect(panelForShortcut(chord('Digit1', { altKey: true, shiftKey: true }))).toBe('events');
    expect(panelForShortcut(chord('Numpad3', { altKey: true, shiftKey: true }))).toBe('admissions');
    expect(panelForShortcut(chord('Digit4', { altKey: true, shiftKey: true }))).toBe('provenance');
    expect(panelForShortcut(chord('Digit7', { altKey: true, shiftKey: true }))).toBe('settings');
    expect(panelForShortcut(chord('Digit8', { altKey: true, shiftKey: true }))).toBe('gates');
    expect(panelForShortcut(chord(`Digit${SIDE_PANELS.length}`, { altKey: true, shiftKey: true }))).toBe(
      'charts',
    );
    expect(tabShortcut('charts')).toBe(`Alt+Shift+${SIDE_PANELS.length}`);
  });

  it('ignores other chords, digits past the last tab and other keys', () => {
    expect(panelForShortcut(chord('Digit1', { altKey: true }))).toBeNull();
    expect(panelForShortcut(chord('Digit1', { altKey: true, shiftKey: true, ctrlKey: true }))).toBeNull();
    expect(panelForShortcut(chord('Digit1', { altKey: true, shiftKey: true, metaKey: true }))).toBeNull();
    expect(panelForShortcut(chord('Digit0', { altKey: true, shiftKey: true }))).toBeNull();
    expect(panelForShortcut(chord('KeyE', { altKey: true, shiftKey: true }))).toBeNull();
  });
});
