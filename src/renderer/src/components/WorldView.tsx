import { useMemo } from 'react';
import type { WorldState } from '../../../shared/world';
import { useAppState, useInspector } from '../app/context';
import {
  selectEventStateHash,
  selectSelectedSessionId,
  selectSessionScenario,
  selectSessionWorld,
} from '../store/selectors';
import { changedPaths } from '../store/world-reducer';
import { formatValue, namesOf, type Names } from './authority-format';
import { shortHash } from './format';

/**
 * The selected session's world state as the runtime last answered `world.get`: read on selection and
 * after every commit. Values that changed with the newest commit are marked.
 */
export function WorldView() {
  const inspector = useInspector();
  const sessionId = useAppState(selectSelectedSessionId);
  const world = useAppState(selectSessionWorld(sessionId));
  const scenario = useAppState(selectSessionScenario(sessionId));
  const eventHash = useAppState(selectEventStateHash(sessionId));
  const snapshot = world?.snapshot ?? null;
  const previous = world?.previous ?? null;
  const changed = useMemo(
    () =>
      snapshot === null || previous === null
        ? new Set<string>()
        : changedPaths(previous.state, snapshot.state),
    [snapshot, previous],
  );

  if (sessionId === null) return <p className="empty">Select a session to see its world state.</p>;
  const names = namesOf(scenario);
  // The events announced a newer state than the one shown: a refetch is on its way (or failed).
  const behind = snapshot !== null && eventHash !== null && eventHash !== snapshot.state_hash;

  return (
    <div
      className="world"
      data-testid="world-view"
      data-loading={String(world?.loading ?? false)}
      data-state-hash={snapshot?.state_hash ?? ''}
    >
      <header className="side__header">
        <h2>{scenario?.title ?? snapshot?.scenario_id ?? 'World state'}</h2>
        <span className="panel__facts">
          {snapshot === null ? null : (
            <>
              <span>
                {snapshot.last_commit_seq === null
                  ? 'initial state'
                  : `after commit #${snapshot.last_commit_seq}`}
              </span>
              <span>
                state{' '}
                <code
                  data-testid="world-state-hash"
                  data-hash={snapshot.state_hash}
                  title={snapshot.state_hash}
                >
                  {shortHash(snapshot.state_hash)}
                </code>
              </span>
            </>
          )}
          {behind ? <span className="tag tag--warn">updating…</span> : null}
          <button
            type="button"
            className="button button--small"
            data-testid="world-refresh"
            onClick={() => void inspector.refreshWorld(sessionId)}
            disabled={world?.loading ?? false}
          >
            Refresh
          </button>
        </span>
      </header>
      {world?.error == null ? null : (
        <p className="inline-error" role="alert" data-testid="world-error">
          Could not read world state: {world.error}
        </p>
      )}
      {snapshot === null ? (
        <p className="empty">
          {world?.loading === true ? 'Reading world state…' : 'No world state read yet.'}
        </p>
      ) : (
        <div className="world__body">
          <Inventories state={snapshot.state} names={names} changed={changed} />
          <Flags state={snapshot.state} changed={changed} />
          <Relationships state={snapshot.state} names={names} changed={changed} />
          <Quests state={snapshot.state} names={names} changed={changed} />
        </div>
      )}
    </div>
  );
}

interface SectionProps {
  state: WorldState;
  changed: ReadonlySet<string>;
}

const mark = (changed: ReadonlySet<string>, path: string) =>
  changed.has(path) ? { 'data-changed': 'true', className: 'changed' } : { 'data-changed': 'false' };

function Inventories({ state, names, changed }: SectionProps & { names: Names }) {
  const entries = Object.entries(state.inventories);
  return (
    <section className="world__section" aria-label="Inventories">
      <h3>Inventories</h3>
      <table className="world__table">
        <thead>
          <tr>
            <th scope="col">character</th>
            <th scope="col">{names.currency}</th>
            <th scope="col">items</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([who, inventory]) => {
            const items = Object.entries(inventory.items);
            return (
              <tr key={who} data-testid="inventory" data-character={who}>
                <th scope="row" title={who}>
                  {names.character(who)}
                </th>
                <td
                  data-testid="coin"
                  data-value={inventory.coin}
                  {...mark(changed, `/inventories/${who}/coin`)}
                >
                  {inventory.coin}
                </td>
                <td>
                  {items.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    <ul className="world__items">
                      {items.map(([item, count]) => (
                        <li
                          key={item}
                          data-testid="item"
                          data-item={item}
                          data-count={count}
                          title={item}
                          {...mark(changed, `/inventories/${who}/items/${item}`)}
                        >
                          {names.item(item)} ×{count}
                        </li>
                      ))}
                    </ul>
                  )}
                  {[...changed]
                    .filter((p) => p.startsWith(`/inventories/${who}/items/`))
                    .map((p) => p.slice(`/inventories/${who}/items/`.length))
                    .filter((item) => !(item in inventory.items))
                    .map((item) => (
                      <span key={item} className="world__gone changed" title={`${item}: none left`}>
                        {names.item(item)} ×0
                      </span>
                    ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Flags({ state, changed }: SectionProps) {
  const entries = Object.entries(state.flags);
  return (
    <section className="world__section" aria-label="Flags">
      <h3>Flags</h3>
      {entries.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <dl className="world__pairs">
          {entries.map(([flag, value]) => (
            <div key={flag} data-testid="flag" data-flag={flag} {...mark(changed, `/flags/${flag}`)}>
              <dt>{flag}</dt>
              <dd>{formatValue(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function Relationships({ state, names, changed }: SectionProps & { names: Names }) {
  const rows = Object.entries(state.relationships).flatMap(([from, row]) =>
    Object.entries(row).map(([toward, score]) => ({ from, toward, score })),
  );
  return (
    <section className="world__section" aria-label="Relationships">
      <h3>Relationships</h3>
      {rows.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <table className="world__table">
          <tbody>
            {rows.map(({ from, toward, score }) => (
              <tr
                key={`${from}/${toward}`}
                data-testid="relationship"
                data-from={from}
                data-toward={toward}
                data-value={score}
                {...mark(changed, `/relationships/${from}/${toward}`)}
              >
                <th scope="row">
                  {names.character(from)} → {names.character(toward)}
                </th>
                <td className="world__score">
                  <meter
                    min={-100}
                    max={100}
                    low={-20}
                    high={20}
                    optimum={100}
                    value={score}
                    aria-hidden="true"
                  />
                  <span>{score > 0 ? `+${score}` : score}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Quests({ state, names, changed }: SectionProps & { names: Names }) {
  const entries = Object.entries(state.quests);
  return (
    <section className="world__section" aria-label="Quests">
      <h3>Quests</h3>
      {entries.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <ul className="world__quests">
          {entries.map(([quest, { status }]) => (
            <li
              key={quest}
              data-testid="quest"
              data-quest={quest}
              data-status={status}
              {...mark(changed, `/quests/${quest}/status`)}
            >
              <span title={quest}>{names.quest(quest)}</span>
              <span className={`tag quest-status quest-status--${status}`}>{status}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
