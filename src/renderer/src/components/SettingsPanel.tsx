import { PROTOCOL_VERSION } from '../../../shared/commands';
import { OverflowPolicy } from '../../../shared/protocol';
import { useAppState, useInspector } from '../app/context';
import { DEFAULT_OVERFLOW_POLICY } from '../store/subscription-reducer';
import { selectConnection, selectSelectedSessionId, selectSessionSubscription } from '../store/selectors';

const POLICY_HELP: Record<OverflowPolicy, string> = {
  drop_telemetry:
    'When this window falls behind, the runtime drops telemetry (tokens, model events) and says how many.',
  fail: 'When this window falls behind, the runtime ends the subscription; it resumes from the next seq.',
};

/**
 * The selected session's subscription (its overflow policy: changing it subscribes again from the next
 * seq) and what this window knows of its connection.
 */
export function SettingsPanel() {
  const inspector = useInspector();
  const sessionId = useAppState(selectSelectedSessionId);
  const subscription = useAppState(selectSessionSubscription(sessionId));
  const connection = useAppState(selectConnection);
  const policy = subscription?.policy ?? DEFAULT_OVERFLOW_POLICY;
  const phase = subscription?.phase ?? 'none';
  return (
    <div className="settings-panel" data-testid="settings-panel">
      <header className="side__header">
        <h2>Settings</h2>
      </header>
      <div className="settings-panel__body">
        <section className="agents-panel__section" aria-labelledby="settings-subscription-heading">
          <h3 id="settings-subscription-heading">Subscription</h3>
          {sessionId === null ? (
            <p className="empty">Select a session to set how its events reach this window.</p>
          ) : (
            <>
              <label className="settings-panel__field">
                <span>Overflow policy</span>
                <select
                  data-testid="overflow-policy"
                  value={policy}
                  disabled={phase === 'subscribing' || connection.state !== 'connected'}
                  onChange={(event) =>
                    void inspector.setOverflowPolicy(sessionId, OverflowPolicy.parse(event.target.value))
                  }
                >
                  {OverflowPolicy.options.map((option) => (
                    <option key={option} value={option}>
                      {option}
                    </option>
                  ))}
                </select>
              </label>
              <p className="muted">{POLICY_HELP[policy]}</p>
              <p
                className="settings-panel__subscription"
                data-testid="subscription"
                data-policy={subscription?.policy ?? ''}
                data-phase={phase}
                data-from-seq={subscription?.fromSeq ?? ''}
              >
                {describePhase(phase, subscription?.fromSeq ?? null)}
              </p>
              {subscription?.error == null ? null : (
                <p className="inline-error" role="alert" data-testid="subscription-error">
                  {subscription.error}
                </p>
              )}
            </>
          )}
        </section>
        <section className="agents-panel__section" aria-labelledby="settings-connection-heading">
          <h3 id="settings-connection-heading">Connection</h3>
          <dl className="settings-panel__facts" data-testid="connection-facts" data-state={connection.state}>
            <dt>state</dt>
            <dd>{connection.state}</dd>
            <dt>protocol</dt>
            <dd>v{PROTOCOL_VERSION}</dd>
            {connection.error === null ? null : (
              <>
                <dt>last error</dt>
                <dd>
                  {connection.error.code}: {connection.error.message}
                </dd>
              </>
            )}
          </dl>
        </section>
      </div>
    </div>
  );
}

function describePhase(phase: string, fromSeq: number | null): string {
  switch (phase) {
    case 'subscribing':
      return 'Subscribing…';
    case 'subscribed':
      return `Subscribed from seq ${fromSeq ?? '?'}.`;
    case 'failed':
      return 'Not subscribed: the last subscribe failed.';
    default:
      return 'Not subscribed yet.';
  }
}
