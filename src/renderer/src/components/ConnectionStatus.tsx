import { useAppState } from '../app/context';
import type { ConnectionState } from '../bridge/types';
import { selectConnection } from '../store/selectors';

const LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

export function ConnectionStatus() {
  const { state, error } = useAppState(selectConnection);
  return (
    <div
      className={`connection connection--${state}`}
      data-testid="connection-status"
      data-state={state}
      role="status"
    >
      <span className="connection__dot" aria-hidden="true" />
      <span>{LABEL[state]}</span>
      {error !== null && state !== 'connected' ? (
        <span className="connection__error" title={error.code}>
          {error.message}
        </span>
      ) : null}
    </div>
  );
}
