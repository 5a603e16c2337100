import { useState } from 'react';
import { agentMode } from '../../../shared/agents';
import type { AgentsConfigResult } from '../../../shared/commands';
import { useAppState, useInspector } from '../app/context';
import { selectAgentControl, selectLatestConfigChange } from '../store/selectors';
import { describeConfigChange } from './agent-format';
import { AgentFlagsForm } from './AgentFlagsForm';
import { AgentStatusView } from './AgentStatusView';
import { CriticalBadge } from './AgentBadges';
import { clockTime } from './format';

/**
 * The agent-stream control plane, runtime-wide: mode, pilot agents and flags (they apply from the
 * next turn), pressure and streams (the rollout gates have their own tab). Read when the tab opens and
 * kept fresh while shown.
 */
export function AgentsPanel() {
  const inspector = useInspector();
  const control = useAppState(selectAgentControl);
  const { config, status } = control;
  const loading = control.configLoading || control.statusLoading;
  return (
    <div className="agents-panel" data-testid="agents-panel" data-loading={String(loading)}>
      <header className="side__header">
        <h2>Agents</h2>
        <span className="panel__facts">
          {config === null ? null : (
            <span data-testid="agent-config-version" data-version={config.version}>
              config v{config.version}
            </span>
          )}
          <button
            type="button"
            className="button button--small"
            data-testid="agents-refresh"
            disabled={loading}
            onClick={() => void inspector.refreshAgents()}
          >
            Refresh
          </button>
        </span>
      </header>
      {control.configError === null ? null : (
        <p className="inline-error" role="alert" data-testid="agent-config-load-error">
          Could not read the agent config: {control.configError}
        </p>
      )}
      {control.statusError === null ? null : (
        <p className="inline-error" role="alert" data-testid="agent-status-error">
          Could not read the agent status: {control.statusError}
        </p>
      )}
      <div className="agents-panel__body">
        {config === null ? (
          <p className="empty">
            {control.configLoading ? 'Reading the agent config…' : 'No agent config read yet.'}
          </p>
        ) : (
          <AgentConfigView config={config} setError={control.setError} />
        )}
        {status === null ? null : <AgentStatusView status={status} />}
      </div>
    </div>
  );
}

function AgentConfigView({ config, setError }: { config: AgentsConfigResult; setError: string | null }) {
  const inspector = useInspector();
  const mode = agentMode(config.config);
  return (
    <>
      <section className="agents-panel__section" aria-labelledby="agents-mode-heading">
        <h3 id="agents-mode-heading">Mode</h3>
        <div className="agent-mode-row">
          <button
            type="button"
            role="switch"
            aria-checked={mode === 'pilot'}
            className={`agent-mode-switch agent-mode-switch--${mode}`}
            data-testid="agent-mode-toggle"
            data-mode={mode}
            onClick={() => void inspector.setAgentConfig({ agentStreamsEnabled: mode !== 'pilot' })}
          >
            <span className="agent-mode-switch__track" aria-hidden="true" />
            <span>{mode === 'pilot' ? 'PILOT' : 'SHADOW'}</span>
          </button>
          <span className="muted">
            {mode === 'pilot'
              ? 'Pilot agents run as streams; the others stay previews.'
              : 'Plans and previews only: no agent runs.'}
          </span>
        </div>
        <p className="agents-panel__note">Changes apply from the next turn.</p>
        <LatestConfigChange />
      </section>
      <PilotAgents config={config} />
      <section className="agents-panel__section" aria-labelledby="agents-flags-heading">
        <h3 id="agents-flags-heading">Flags</h3>
        <AgentFlagsForm config={config} setError={setError} />
      </section>
    </>
  );
}

/**
 * One checkbox per agent. A click shows its new state at once, while the change is on its way; the
 * config the runtime answers with then decides (a refused change unticks it again).
 */
function PilotAgents({ config }: { config: AgentsConfigResult }) {
  const inspector = useInspector();
  const [pending, setPending] = useState<Readonly<Record<string, boolean>>>({});
  const pilots = config.config.agentStreamPilotAgents as readonly string[];

  const toggle = async (agent: string, enabled: boolean) => {
    setPending((p) => ({ ...p, [agent]: enabled }));
    await inspector.setPilotAgent(agent, enabled);
    setPending((p) => {
      if (p[agent] !== enabled) return p; // Clicked again meanwhile: that change is still on its way.
      const { [agent]: _done, ...rest } = p;
      return rest;
    });
  };

  return (
    <section className="agents-panel__section" aria-labelledby="agents-pilots-heading">
      <h3 id="agents-pilots-heading">Pilot agents</h3>
      <ul className="pilots">
        {config.agents.map((agent) => (
          <li key={agent.name}>
            <label className="pilot">
              <input
                type="checkbox"
                data-testid="pilot-toggle"
                data-agent={agent.name}
                checked={pending[agent.name] ?? pilots.includes(agent.name)}
                onChange={(event) => void toggle(agent.name, event.target.checked)}
              />
              <span className="pilot__name">{agent.name}</span>
              <span className="pilot__intent">{agent.intent}</span>
              {agent.critical ? <CriticalBadge /> : null}
              <span className="pilot__description">{agent.description}</span>
            </label>
          </li>
        ))}
      </ul>
    </section>
  );
}

function LatestConfigChange() {
  const change = useAppState(selectLatestConfigChange);
  if (change === null) return null;
  return (
    <div
      className="config-changed"
      role="status"
      data-testid="config-changed"
      data-version={change.version}
      data-changed-by={change.changed_by}
    >
      <span>
        Last change: v{change.version} by <code>{change.changed_by}</code> at {clockTime(change.timestamp)}
      </span>
      <ul className="config-changed__list">
        {change.changes.map((c) => (
          <li key={c.key}>
            <code>{describeConfigChange(c)}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
