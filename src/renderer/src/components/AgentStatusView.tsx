import { PressureLevel, TERMINAL_REASONS, type PressureStatus } from '../../../shared/agents';
import type { AgentsStatusResult } from '../../../shared/commands';
import { useInspector } from '../app/context';
import { formatMs } from './agent-format';

/** `agents.status`: pressure (and the switch that forces it) and streams; the gates have their own tab. */
export function AgentStatusView({ status }: { status: AgentsStatusResult }) {
  return (
    <>
      <PressureView pressure={status.pressure} />
      <section className="agents-panel__section" aria-labelledby="agents-streams-heading">
        <h3 id="agents-streams-heading">Streams</h3>
        <p
          className="agent-streams"
          data-testid="agent-streams"
          data-active={status.active_streams.length}
          data-queued={status.queued_streams.length}
          title={[...status.active_streams, ...status.queued_streams].join('\n')}
        >
          {status.active_streams.length} running · {status.queued_streams.length} queued
        </p>
        <ul className="terminal-counts" aria-label="Ended streams by terminal reason">
          {TERMINAL_REASONS.map((reason) => (
            <li
              key={reason}
              data-testid="terminal-count"
              data-reason={reason}
              data-count={status.terminal_counts[reason]}
            >
              <span className="terminal-counts__reason">{reason}</span> {status.terminal_counts[reason]}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

const PRESSURE_OPTIONS = ['auto', ...PressureLevel.options] as const;

function PressureView({ pressure }: { pressure: PressureStatus }) {
  const inspector = useInspector();
  const s = pressure.signals;
  return (
    <section className="agents-panel__section" aria-labelledby="agents-pressure-heading">
      <h3 id="agents-pressure-heading">Pressure</h3>
      <div className="pressure-switch" role="group" aria-label="Force the pressure level">
        {PRESSURE_OPTIONS.map((option) => {
          const level = option === 'auto' ? null : option;
          return (
            <button
              key={option}
              type="button"
              className="button button--small pressure-option"
              data-testid="pressure-option"
              data-level={option}
              aria-pressed={pressure.forced === level}
              title={level === null ? 'Use the level the signals give' : `Force ${level} (testing)`}
              onClick={() => void inspector.setPressure(level)}
            >
              {option}
            </button>
          );
        })}
      </div>
      <p
        className={`pressure pressure--${pressure.level}`}
        data-testid="pressure-level"
        data-level={pressure.level}
        data-forced={String(pressure.forced !== null)}
      >
        <strong>{pressure.level}</strong>{' '}
        {pressure.forced === null ? '(computed)' : `(forced; computed ${pressure.computed})`} ·{' '}
        {pressure.reason}
      </p>
      <dl className="pressure__signals">
        <dt>streams</dt>
        <dd>
          {s.active_streams} running, {s.queued_streams} queued, at most {s.max_concurrent}
        </dd>
        <dt>queue fill</dt>
        <dd>{Math.round(s.queue_fill * 100)}%</dd>
        <dt>event loop p99</dt>
        <dd>{formatMs(s.event_loop_delay_ms)}</dd>
      </dl>
    </section>
  );
}
