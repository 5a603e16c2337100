import type { GateStatus, RolloutGate } from '../../../shared/agents';
import { useAppState, useInspector } from '../app/context';
import { selectAgentControl } from '../store/selectors';

/**
 * The Rollout gates tab: the gates of `agents.status`, read when the tab opens and again after the
 * selected session's arbiter decisions, commit attempts and config changes while it is shown.
 */
export function GatesPanel() {
  const inspector = useInspector();
  const control = useAppState(selectAgentControl);
  const { status } = control;
  return (
    <div className="agents-panel" data-testid="gates-panel" data-loading={String(control.statusLoading)}>
      <header className="side__header">
        <h2>Rollout gates</h2>
        <span className="panel__facts">
          <button
            type="button"
            className="button button--small"
            data-testid="gates-refresh"
            disabled={control.statusLoading}
            onClick={() => void inspector.refreshAgentStatus()}
          >
            Refresh
          </button>
        </span>
      </header>
      {control.statusError === null ? null : (
        <p className="inline-error" role="alert" data-testid="agent-status-error">
          Could not read the agent status: {control.statusError}
        </p>
      )}
      <div className="agents-panel__body">
        {status === null ? (
          <p className="empty">
            {control.statusLoading ? 'Reading the gates…' : 'No agent status read yet.'}
          </p>
        ) : (
          <RolloutGates gates={status.gates} />
        )}
      </div>
    </div>
  );
}

/** One row per gate: mark, title, status and the figures behind it. */
export function RolloutGates({ gates }: { gates: readonly RolloutGate[] }) {
  return (
    <section className="agents-panel__section" aria-label="Rollout gates">
      <ul className="gates">
        {gates.map((gate) => (
          <li
            key={gate.id}
            className={`gate gate--${gate.status}`}
            data-testid="rollout-gate"
            data-gate={gate.id}
            data-status={gate.status}
          >
            <span className="gate__mark" aria-hidden="true">
              {GATE_MARK[gate.status]}
            </span>
            <span className="gate__title">{gate.title}</span>
            <span className={`tag gate__status`}>{gate.status}</span>
            <span className="gate__detail">{gate.detail}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

const GATE_MARK: Record<GateStatus, string> = { pass: '✓', fail: '✗', pending: '…' };
