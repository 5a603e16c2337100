import type { TerminalReason } from '../../../shared/agents';
import { TERMINAL_TONE } from './agent-format';

/** Critical intents may block a commit, are never shed and may spawn under HIGH pressure. */
export function CriticalBadge() {
  return (
    <span className="tag tag--critical" title="Critical: may block the commit; never shed">
      critical
    </span>
  );
}

/** How a stream ended. */
export function TerminalBadge({ reason, message }: { reason: TerminalReason; message: string | null }) {
  return (
    <span
      className={`tag terminal terminal--${TERMINAL_TONE[reason]}`}
      data-testid="agent-terminal-reason"
      title={message ?? reason}
    >
      {reason}
    </span>
  );
}

/** A policy or execution answer. */
export function YesNo({ value }: { value: boolean }) {
  return <span className={`yesno yesno--${String(value)}`}>{value ? '✓ yes' : '✗ no'}</span>;
}
