import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useAppState } from '../app/context';
import { selectSidePanel } from '../store/selectors';
import { SIDE_PANELS, type SidePanel as Panel } from '../store/view-slice';
import { AgentsPanel } from './AgentsPanel';
import { EventLog } from './EventLog';
import { ModelsPanel } from './ModelsPanel';
import { ProvenanceTimeline } from './ProvenanceTimeline';
import { WorldView } from './WorldView';

const LABEL: Record<Panel, string> = {
  events: 'Events',
  world: 'World',
  provenance: 'Provenance',
  agents: 'Agents',
  models: 'Models',
};

const VIEW: Record<Panel, () => ReactNode> = {
  events: () => <EventLog />,
  world: () => <WorldView />,
  provenance: () => <ProvenanceTimeline />,
  agents: () => <AgentsPanel />,
  models: () => <ModelsPanel />,
};

/**
 * The right-hand column: the event log, the world state, the provenance timeline, the agent plane and
 * the local models, as tabs.
 */
export function SidePanel() {
  const current = useAppState(selectSidePanel);
  const show = useAppState((s) => s.showSidePanel);
  const tabs = useRef<Partial<Record<Panel, HTMLButtonElement | null>>>({});

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
            tabIndex={panel === current ? 0 : -1}
            onClick={() => {
              show(panel);
            }}
          >
            {LABEL[panel]}
          </button>
        ))}
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
