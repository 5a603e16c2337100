import { useMemo } from 'react';
import { useAppState } from '../app/context';
import { admissionAgents, filterAdmissions, sessionAdmissions } from '../store/admissions';
import {
  selectAdmissionAgent,
  selectSelectedSessionId,
  selectSelectedTurnIds,
  selectSessionAgents,
} from '../store/selectors';
import { formatScore, isDivergent } from './agent-format';
import { CriticalBadge, YesNo } from './AgentBadges';
import { shortId } from './format';

/**
 * Every `agent_admission` row of the selected session across its turns, newest turn first, from the
 * agent plane the dialogue's turn views read too. A filter keeps one agent's rows.
 */
export function AdmissionsPanel() {
  const sessionId = useAppState(selectSelectedSessionId);
  const agents = useAppState(selectSessionAgents(sessionId));
  const turnIds = useAppState(selectSelectedTurnIds);
  const agent = useAppState(selectAdmissionAgent);
  const setAgent = useAppState((s) => s.setAdmissionAgent);
  const all = useMemo(() => sessionAdmissions(agents, turnIds), [agents, turnIds]);
  const choices = useMemo(() => admissionAgents(all), [all]);
  const rows = useMemo(() => filterAdmissions(all, agent), [all, agent]);

  if (sessionId === null) return <p className="empty">Select a session to see its admissions.</p>;
  return (
    <div
      className="admissions-panel"
      data-testid="admissions-panel"
      data-count={rows.length}
      data-total={all.length}
    >
      <header className="side__header">
        <h2>Admissions</h2>
        <span className="panel__facts">
          <span>
            {rows.length} of {all.length} shown
          </span>
          <label className="admissions-panel__filter">
            <span>Agent</span>
            <select
              data-testid="admissions-agent-filter"
              value={agent ?? ''}
              onChange={(event) => {
                setAgent(event.target.value === '' ? null : event.target.value);
              }}
            >
              <option value="">all agents</option>
              {/* A chosen agent stays a choice even in a session that has none of its rows. */}
              {(agent === null || choices.includes(agent) ? choices : [...choices, agent]).map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
        </span>
      </header>
      {rows.length === 0 ? (
        <p className="empty" data-testid="admissions-empty">
          {all.length === 0
            ? 'No admissions yet: they arrive with each turn.'
            : 'No admission of this agent.'}
        </p>
      ) : (
        <div className="admissions-panel__scroll">
          <table className="admissions__table admissions-panel__table" aria-label="Admissions">
            <thead>
              <tr>
                <th scope="col">turn</th>
                <th scope="col">agent / intent</th>
                <th scope="col">score</th>
                <th scope="col">admitted</th>
                <th scope="col">runs</th>
                <th scope="col">why</th>
                <th scope="col">mode</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ key, turnId, turnNumber, mode, pressure, admission: a }) => {
                const divergent = isDivergent(a);
                return (
                  <tr
                    key={key}
                    className={divergent ? 'admission admission--divergent' : 'admission'}
                    data-testid="admission-entry"
                    data-turn-id={turnId}
                    data-turn={turnNumber}
                    data-agent={a.agent}
                    data-intent={a.intent}
                    data-mode={mode}
                    data-policy-accepted={String(a.policy_accepted)}
                    data-execution-accepted={String(a.execution_accepted)}
                    data-divergent={String(divergent)}
                  >
                    <td className="num">
                      <span title={turnId}>#{turnNumber}</span>{' '}
                      <code className="muted">{shortId(turnId, 6)}</code>
                    </td>
                    <th scope="row">
                      <span className="admission__agent">{a.agent}</span>{' '}
                      {a.critical ? <CriticalBadge /> : null}
                      <span className="admission__intent">{a.intent}</span>
                      {divergent ? <span className="visually-hidden"> (divergent)</span> : null}
                    </th>
                    <td className="num" title={`threshold ${formatScore(a.threshold)}`}>
                      {formatScore(a.score)}
                    </td>
                    <td>
                      <YesNo value={a.policy_accepted} />
                    </td>
                    <td>
                      <YesNo value={a.execution_accepted} />
                    </td>
                    <td className="admission__reason">{a.execution_reason}</td>
                    <td>
                      <span className={`tag agent-mode agent-mode--${mode}`} title={`pressure ${pressure}`}>
                        {mode.toUpperCase()}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
