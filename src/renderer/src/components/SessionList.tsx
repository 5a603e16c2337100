import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppState, useInspector } from '../app/context';
import { forkOriginLabel } from '../store/sessions-slice';
import {
  selectScenarios,
  selectSession,
  selectSessionIds,
  selectSessionScenario,
  selectUnreadCount,
} from '../store/selectors';
import { unreadLabel } from '../store/unread-reducer';
import { clockTime, shortId } from './format';

export function SessionList() {
  const inspector = useInspector();
  const sessionIds = useAppState(useShallow(selectSessionIds));
  const connected = useAppState((s) => s.connection.state === 'connected');
  const scenarios = useAppState(selectScenarios);
  // Null: the default (the runtime's default scenario, the scenario's default NPC).
  const [chosenScenario, setChosenScenario] = useState<string | null>(null);
  const [chosenNpc, setChosenNpc] = useState<string | null>(null);

  const scenario =
    scenarios.list.find((s) => s.scenario_id === (chosenScenario ?? scenarios.defaultId)) ??
    scenarios.list[0];
  const npcId =
    chosenNpc !== null && scenario?.npcs.some((n) => n.npc_id === chosenNpc) === true
      ? chosenNpc
      : scenario?.default_npc;

  return (
    <aside className="panel sessions" aria-label="Sessions">
      <header className="panel__header">
        <h2>Sessions</h2>
        <button
          type="button"
          className="button"
          data-testid="new-session"
          disabled={!connected}
          title={
            scenario === undefined
              ? 'New session with the runtime defaults'
              : `New session: ${scenario.title}`
          }
          onClick={() =>
            void inspector.createSession(
              scenario === undefined
                ? {}
                : { scenarioId: scenario.scenario_id, ...(npcId === undefined ? {} : { npcId }) },
            )
          }
        >
          New session
        </button>
      </header>
      <div className="new-session" role="group" aria-label="New session">
        <label className="new-session__field">
          <span>Scenario</span>
          <select
            data-testid="scenario-select"
            value={scenario?.scenario_id ?? ''}
            disabled={scenarios.list.length === 0}
            onChange={(event) => {
              setChosenScenario(event.target.value);
              setChosenNpc(null);
            }}
          >
            {scenarios.list.length === 0 ? <option value="">(runtime default)</option> : null}
            {scenarios.list.map((s) => (
              <option key={s.scenario_id} value={s.scenario_id}>
                {s.title}
              </option>
            ))}
          </select>
        </label>
        <label className="new-session__field">
          <span>NPC</span>
          <select
            data-testid="npc-select"
            value={npcId ?? ''}
            disabled={scenario === undefined}
            onChange={(event) => {
              setChosenNpc(event.target.value);
              // Picking an NPC suggests a session with it soon: its model may prewarm.
              if (scenario !== undefined)
                void inspector.hint('npc_selected', {
                  scenarioId: scenario.scenario_id,
                  npcId: event.target.value,
                });
            }}
          >
            {scenario === undefined ? <option value="">(default)</option> : null}
            {scenario?.npcs.map((n) => (
              <option key={n.npc_id} value={n.npc_id}>
                {n.name}
              </option>
            ))}
          </select>
        </label>
        {scenarios.error === null ? null : (
          <p className="new-session__error" title={scenarios.error}>
            Scenarios unavailable; new sessions use the runtime defaults.
          </p>
        )}
      </div>
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
  const scenario = useAppState(selectSessionScenario(sessionId));
  const selected = useAppState((s) => s.sessions.selectedId === sessionId);
  const closed = useAppState((s) => (s.dialogue.sessions[sessionId]?.closedReason ?? null) !== null);
  const unread = useAppState(selectUnreadCount(sessionId));
  if (session === undefined) return null;
  const npcName = scenario?.npcs.find((n) => n.npc_id === session.npc_id)?.name ?? session.npc_id;
  const forkLabel = forkOriginLabel(session, (id) => shortId(id));
  return (
    <li>
      <button
        type="button"
        className={`session-item${selected ? ' session-item--selected' : ''}`}
        data-testid="session-item"
        data-session-id={sessionId}
        data-scenario-id={session.scenario_id}
        data-npc-id={session.npc_id}
        data-forked-from={session.forked_from?.session_id}
        data-unread={unread}
        aria-current={selected}
        onClick={() => void inspector.selectSession(sessionId)}
      >
        <span className="session-item__head">
          <span className="session-item__npc">{npcName}</span>
          {unread === 0 ? null : (
            // Part of the button's name ("Mira … 3 new events"); the number alone is what shows.
            <span
              className="unread-badge"
              data-testid="unread-badge"
              data-count={unread}
              title={unreadLabel(unread)}
            >
              <span aria-hidden="true">{unread > 99 ? '99+' : unread}</span>
              <span className="visually-hidden">{`, ${unreadLabel(unread)}`}</span>
            </span>
          )}
        </span>
        <span className="session-item__scenario">{scenario?.title ?? session.scenario_id}</span>
        {forkLabel === null ? null : (
          <span
            className="session-item__scenario"
            data-testid="forked-from"
            title={forkOriginLabel(session) ?? undefined}
          >
            {forkLabel}
          </span>
        )}
        <span className="session-item__meta">
          <code title={sessionId}>{shortId(sessionId)}</code>
          <time>{clockTime(session.created_at)}</time>
          {closed ? <span className="tag">closed</span> : null}
        </span>
      </button>
    </li>
  );
}
