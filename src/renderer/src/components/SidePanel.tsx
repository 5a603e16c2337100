import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useAppState } from '../app/context';
import { selectSidePanel } from '../store/selectors';
import {
  panelForShortcut,
  SIDE_PANEL_LABELS as LABEL,
  SIDE_PANELS,
  tabShortcut,
  type SidePanel as Panel,
} from '../store/view-slice';
import { AdmissionsPanel } from './AdmissionsPanel';
import { AgentsPanel } from './AgentsPanel';
import { EventLog } from './EventLog';
import { ModelsPanel } from './ModelsPanel';
import { ProvenanceTimeline } from './ProvenanceTimeline';
import { GatesPanel } from './RolloutGates';
import { SessionCharts } from './SessionCharts';
import { SettingsPanel } from './SettingsPanel';
import { ShortcutHelp } from './ShortcutHelp';
import { WorldView } from './WorldView';

const VIEW: Record<Panel, () => ReactNode> = {
  events: () => <EventLog />,
  agents: () => <AgentsPanel />,
  admissions: () => <AdmissionsPanel />,
  provenance: () => <ProvenanceTimeline />,
  world: () => <WorldView />,
  models: () => <ModelsPanel />,
  settings: () => <SettingsPanel />,
  gates: () => <GatesPanel />,
  charts: () => <SessionCharts />,
};

/**
 * The right-hand column, as tabs: the event log, the agent plane, the session's admissions, its
 * commits and provenance, the world state, the local models, the subscription settings, the rollout
 * gates and the session's charts. Alt+Shift+1…9 picks a tab from anywhere.
 */
export function SidePanel() {
  const current = useAppState(selectSidePanel);
  const show = useAppState((s) => s.showSidePanel);
  const tabs = useRef<Partial<Record<Panel, HTMLButtonElement | null>>>({});

  useEffect(() => {
    const onKeyDown = (event: globalThis.KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const panel = panelForShortcut(event);
      if (panel === null) return;
      event.preventDefault();
      show(panel);
    };
    window.addEventListener('keydown', onKeyDown);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
    };
  }, [show]);

  // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const next = SIDE_PANELS[(SIDE_PANELS.indexOf(current) + step + SIDE_PANELS.length) % SIDE_PANELS.length];
    if (next === undefined) return;
    show(next);
    tabs.current[next]?.focus();
  };

  return (
    <section className="panel side" aria-label="Inspector views">
      <div className="tabs" role="tablist" aria-label="Inspector views" onKeyDown={onKeyDown}>
        {SIDE_PANELS.map((panel) => (
          <button
            key={panel}
            ref={(el) => {
              tabs.current[panel] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${panel}`}
            className={`tab${panel === current ? ' tab--selected' : ''}`}
            data-testid={`tab-${panel}`}
            aria-selected={panel === current}
            aria-controls={`tabpanel-${panel}`}
            aria-keyshortcuts={tabShortcut(panel)}
            title={`${LABEL[panel]} (${tabShortcut(panel)})`}
            tabIndex={panel === current ? 0 : -1}
            onClick={() => {
              show(panel);
            }}
          >
            {LABEL[panel]}
          </button>
        ))}
        <ShortcutHelp />
      </div>
      <div
        className="side__body"
        role="tabpanel"
        id={`tabpanel-${current}`}
        aria-labelledby={`tab-${current}`}
      >
        {VIEW[current]()}
      </div>
    </section>
  );
}
