import { useAppState } from '../app/context';
import { selectCommandError } from '../store/selectors';

/** The last command that failed, until dismissed or the next command. */
export function ErrorBanner() {
  const failure = useAppState(selectCommandError);
  const clear = useAppState((s) => s.clearCommandError);
  if (failure === null) return null;
  return (
    <div className="error-banner" role="alert" data-testid="command-error" data-code={failure.code}>
      <span className="error-banner__what">{failure.command} failed:</span>{' '}
      <code className="error-banner__code">{failure.code}</code>{' '}
      <span className="error-banner__message">{failure.message}</span>
      <button type="button" className="button button--ghost" onClick={clear} aria-label="Dismiss error">
        ×
      </button>
    </div>
  );
}
