import { useMemo } from 'react';
import type { AgentAdmission } from '../../../shared/agents';
import type { EventPayload } from '../../../shared/protocol';
import { useAppState, useInspector } from '../app/context';
import { isLaneRunning, turnLanes, type LaneView, type StagedEnvelope } from '../store/agent-plane-reducer';
import { selectTurnAgents } from '../store/selectors';
import { countAdmissions, formatMs, formatScore, isDivergent } from './agent-format';
import { CriticalBadge, TerminalBadge, YesNo } from './AgentBadges';
import { shortHash, shortId } from './format';

/**
 * A turn's agent plane: what the control plane admitted, the agent streams (running, ended, or shadow
 * previews that did not run) and what the merge arbiter made of their envelopes.
 */
export function TurnAgents({ sessionId, turnId }: { sessionId: string; turnId: string }) {
  const agents = useAppState(selectTurnAgents(sessionId, turnId));
  const lanes = useMemo(() => (agents === undefined ? [] : turnLanes(agents)), [agents]);
  if (agents === undefined) return null;
  return (
    <section className="agents" aria-label="Agent plane">
      {agents.admission === null ? null : <Admissions admission={agents.admission} />}
      {lanes.length === 0 ? null : (
        <ul className="lanes" aria-label="Agent streams">
          {lanes.map((lane) => (
            <AgentLane key={lane.streamId} lane={lane} />
          ))}
        </ul>
      )}
      {agents.decision === null ? null : <ArbiterDecision decision={agents.decision} />}
    </section>
  );
}

function Admissions({ admission }: { admission: EventPayload<'agent_admission'> }) {
  const counts = countAdmissions(admission.admissions);
  return (
    // Open at first (what was admitted is the point of the view); the reader may fold it away.
    <details
      className="admissions"
      open
      data-testid="admissions"
      data-mode={admission.mode}
      data-pressure={admission.pressure}
    >
      <summary className="admissions__summary">
        <span className={`tag agent-mode agent-mode--${admission.mode}`}>{admission.mode.toUpperCase()}</span>
        <span>pressure {admission.pressure}</span>
        <span>
          {counts.requests} {counts.requests === 1 ? 'request' : 'requests'} · {counts.planned} planned ·{' '}
          {counts.executed} run
        </span>
        {counts.divergent > 0 ? (
          <span className="tag tag--warn" title="Policy and execution disagree">
            {counts.divergent} divergent
          </span>
        ) : null}
        <span className="admissions__facts">
          config v{admission.config_version} · plan{' '}
          <code title={admission.plan_hash}>{shortHash(admission.plan_hash)}</code>
        </span>
      </summary>
      {admission.admissions.length === 0 ? (
        <p className="muted">No agent asked to run this turn.</p>
      ) : (
        <table className="admissions__table">
          <thead>
            <tr>
              <th scope="col">agent / intent</th>
              <th scope="col">score</th>
              <th scope="col">threshold</th>
              <th scope="col">policy</th>
              <th scope="col">execution</th>
              <th scope="col">reason</th>
              <th scope="col">stream</th>
            </tr>
          </thead>
          <tbody>
            {admission.admissions.map((a) => (
              <AdmissionRow key={a.request_id} admission={a} />
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}

function AdmissionRow({ admission: a }: { admission: AgentAdmission }) {
  const divergent = isDivergent(a);
  return (
    <tr
      className={divergent ? 'admission admission--divergent' : 'admission'}
      data-testid="admission-row"
      data-agent={a.agent}
      data-intent={a.intent}
      data-policy-accepted={String(a.policy_accepted)}
      data-execution-accepted={String(a.execution_accepted)}
      data-divergent={String(divergent)}
      title={divergent ? 'Divergent: policy and execution disagree' : undefined}
    >
      <th scope="row">
        <span className="admission__agent">{a.agent}</span> {a.critical ? <CriticalBadge /> : null}
        <span className="admission__intent">{a.intent}</span>
        {divergent ? <span className="visually-hidden"> (divergent)</span> : null}
      </th>
      <td className="num" title={`relevance ${formatScore(a.relevance)}`}>
        {formatScore(a.score)}
      </td>
      <td className="num">{formatScore(a.threshold)}</td>
      <td>
        <YesNo value={a.policy_accepted} />
      </td>
      <td>
        <YesNo value={a.execution_accepted} />
      </td>
      <td className="admission__reason">{a.execution_reason}</td>
      <td>
        {a.stream_id === null ? (
          <span className="muted">—</span>
        ) : (
          <code title={a.stream_id}>{shortId(a.stream_id, 12)}</code>
        )}
      </td>
    </tr>
  );
}

function AgentLane({ lane }: { lane: LaneView }) {
  const inspector = useInspector();
  const running = isLaneRunning(lane.state);
  return (
    <li
      className={`lane lane--${lane.state}`}
      data-testid="agent-lane"
      data-stream-id={lane.streamId}
      data-agent={lane.agent}
      data-state={lane.state}
      data-terminal-reason={lane.terminalReason ?? ''}
    >
      <div className="lane__head">
        <span className="lane__agent" title={lane.streamId}>
          {lane.agent}
        </span>
        {lane.critical ? <CriticalBadge /> : null}
        <span className="lane__intent">{lane.intent ?? 'unknown intent'}</span>
        <span className={`tag lane-state lane-state--${lane.state}`}>{lane.state}</span>
        {lane.terminalReason === null ? null : (
          <TerminalBadge reason={lane.terminalReason} message={lane.message} />
        )}
        <span className="lane__facts">
          {lane.elapsedMs === null
            ? 'not run'
            : `${lane.tokens} ${lane.tokens === 1 ? 'token' : 'tokens'} · ${formatMs(lane.elapsedMs)}`}
        </span>
        {running ? (
          <button
            type="button"
            className="button button--small button--danger"
            data-testid="agent-lane-cancel"
            aria-label={`Cancel the ${lane.agent} stream`}
            onClick={() => void inspector.cancelAgentStream(lane.streamId)}
          >
            Cancel
          </button>
        ) : null}
      </div>
      {lane.text === '' ? null : (
        <p className="lane__text" data-testid="agent-lane-text">
          {lane.text}
          {lane.textMissing ? <span className="muted"> (some tokens dropped)</span> : null}
        </p>
      )}
      {lane.message === null ? null : <p className="lane__message">{lane.message}</p>}
      {lane.envelope === null ? null : <EnvelopeView envelope={lane.envelope} />}
    </li>
  );
}

function EnvelopeView({ envelope }: { envelope: StagedEnvelope }) {
  const blocking = envelope.blockingConditions;
  return (
    <div
      className="lane__envelope"
      data-testid="agent-lane-envelope"
      data-decision={envelope.decision}
      data-preview={String(envelope.preview)}
      data-blocking={String(blocking.length > 0)}
      title={`confidence ${formatScore(envelope.confidence)} · envelope ${envelope.envelopeHash}`}
    >
      <span className={`tag decision decision--${envelope.decision}`}>{envelope.decision}</span>
      {envelope.preview && envelope.decision !== 'preview' ? <span className="tag">preview</span> : null}{' '}
      <span className="lane__summary">{envelope.summary}</span>
      {blocking.length === 0 ? null : (
        <ul className="lane__blocking" aria-label="Blocking conditions">
          {blocking.map((b, i) => (
            // An envelope's conditions are a fixed list: position is identity.
            <li key={i}>
              <code>{b.code}</code> {b.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ArbiterDecision({ decision }: { decision: EventPayload<'arbiter_decision'> }) {
  return (
    <div
      className="arbiter"
      data-testid="arbiter-decision"
      data-mode={decision.mode}
      data-accepted={decision.accepted}
      data-rejected={decision.rejected}
      data-blocking={decision.blocking}
    >
      <p className="arbiter__headline">
        <strong>Arbiter</strong> <span className="muted">({decision.mode})</span>: {decision.accepted}{' '}
        accepted · {decision.rejected} rejected · {decision.committed} into the commit ·{' '}
        <span className={decision.blocking > 0 ? 'arbiter__blocking' : undefined}>
          {decision.blocking} blocking
        </span>{' '}
        <code title={decision.decision_hash}>{shortHash(decision.decision_hash)}</code>
      </p>
      {decision.verdicts.length === 0 ? null : (
        <ul className="arbiter__verdicts" aria-label="Arbiter verdicts">
          {decision.verdicts.map((v, i) => (
            <li
              // Verdicts are a fixed, ordered list (a stream may appear twice: a missing envelope and its stand-in).
              key={i}
              className={`arbiter-verdict arbiter-verdict--${v.accepted ? 'accepted' : 'rejected'}${v.blocking ? ' arbiter-verdict--blocking' : ''}`}
              data-testid="arbiter-verdict"
              data-stream-id={v.stream_id}
              data-accepted={String(v.accepted)}
              data-effect={v.effect}
              data-blocking={String(v.blocking)}
              title={v.stream_id}
            >
              <span className="arbiter-verdict__mark" aria-hidden="true">
                {v.accepted ? '✓' : '✗'}
              </span>
              <span className="visually-hidden">{v.accepted ? 'accepted:' : 'rejected:'}</span>{' '}
              <span className="arbiter-verdict__agent">{v.agent}</span>{' '}
              <span className="arbiter-verdict__intent">{v.intent}</span>{' '}
              <span className="tag">{v.effect}</span>
              {v.blocking ? <span className="tag tag--danger">blocks</span> : null}{' '}
              <span className="arbiter-verdict__reason">{v.reason}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
