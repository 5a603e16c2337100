import { useShallow } from 'zustand/react/shallow';
import { useAppState, useInspector } from '../app/context';
import { selectSession, selectSessionIds } from '../store/selectors';
import { clockTime, shortId } from './format';

export function SessionList() {
  const inspector = useInspector();
  const sessionIds = useAppState(useShallow(selectSessionIds));
  const connected = useAppState((s) => s.connection.state === 'connected');
  return (
    <aside className="panel sessions" aria-label="Sessions">
      <header className="panel__header">
        <h2>Sessions</h2>
        <button
          type="button"
          className="button"
          data-testid="new-session"
          disabled={!connected}
          onClick={() => void inspector.createSession()}
        >
          New session
        </button>
      </header>
      {sessionIds.length === 0 ? (
        <p className="empty">No sessions yet.</p>
      ) : (
        <ul className="sessions__list">
          {sessionIds.map((id) => (
            <SessionItem key={id} sessionId={id} />
          ))}
        </ul>
      )}
    </aside>
  );
}

function SessionItem({ sessionId }: { sessionId: string }) {
  const inspector = useInspector();
  const session = useAppState(selectSession(sessionId));
  const selected = useAppState((s) => s.sessions.selectedId === sessionId);
  const closed = useAppState((s) => (s.dialogue.sessions[sessionId]?.closedReason ?? null) !== null);
  if (session === undefined) return null;
  return (
    <li>
      <button
        type="button"
        className={`session-item${selected ? ' session-item--selected' : ''}`}
        data-testid="session-item"
        data-session-id={sessionId}
        aria-current={selected}
        onClick={() => void inspector.selectSession(sessionId)}
      >
        <span className="session-item__npc">{session.npc_id}</span>
        <span className="session-item__meta">
          <code title={sessionId}>{shortId(sessionId)}</code>
          <time>{clockTime(session.created_at)}</time>
          {closed ? <span className="tag">closed</span> : null}
        </span>
      </button>
    </li>
  );
}
