import type { Verdict } from '../../../shared/world';
import { useAppState, useInspector } from '../app/context';
import {
  actionsState,
  retryLine,
  type ActionsState,
  type CommitOutcome,
  type Turn,
} from '../store/dialogue-reducer';
import { selectSessionBusy, selectSessionNpcId, selectSessionScenario, selectTurn } from '../store/selectors';
import { describeAction, namesOf } from './authority-format';
import { shortHash, shortId } from './format';
import { TurnAgents } from './TurnAgents';
import { TurnWaterfall } from './TurnWaterfall';

/**
 * One exchange: the player's line, the NPC's reply, the actions it proposes, the agent plane's pass over
 * it, what became of them and where the time went.
 */
export function TurnBlock({ sessionId, turnId }: { sessionId: string; turnId: string }) {
  const inspector = useInspector();
  const turn = useAppState(selectTurn(sessionId, turnId));
  const connected = useAppState((s) => s.connection.state === 'connected');
  const busy = useAppState(selectSessionBusy(sessionId));
  if (turn === undefined) return null;
  const committed = turn.state === 'committed';
  const retry = retryLine(turn);
  return (
    <article
      className={`turn turn--${turn.state}`}
      data-testid="turn"
      data-state={turn.state}
      data-turn-id={turnId}
      aria-label={`Turn ${shortId(turnId)}`}
    >
      <div className="line line--player">
        <span className="line__speaker">Player</span>
        <p className="line__text" data-testid="player-line">
          {turn.playerText ?? <em className="muted">(line not recorded by this window)</em>}
        </p>
      </div>
      {turn.state === 'rejected' ? null : (
        <div className="line line--npc">
          <span className="line__speaker">NPC</span>
          <p
            className={`line__text reply ${committed ? 'reply--committed' : 'reply--preview'}`}
            data-testid="npc-reply"
            data-preview={String(!committed)}
            title={
              committed
                ? 'Committed: canonical text from the ledger'
                : 'Preview: not canonical until committed'
            }
          >
            {turn.replyText}
            {turn.state === 'streaming' && !turn.proposingActions ? (
              <span className="caret" aria-hidden="true" />
            ) : null}
          </p>
        </div>
      )}
      {turn.state === 'streaming' && turn.proposingActions ? (
        <p className="turn__proposing" data-testid="proposing-actions">
          proposing actions…
        </p>
      ) : null}
      <ProposedActions sessionId={sessionId} turn={turn} />
      <TurnAgents sessionId={sessionId} turnId={turnId} />
      {turn.commit === null ? null : <CommitOutcomeView commit={turn.commit} />}
      <TurnWaterfall sessionId={sessionId} turnId={turnId} />
      <footer className="turn__meta">
        <span className={`turn-status turn-status--${turn.state}`} data-testid="turn-status">
          {statusText(turn)}
        </span>
        {committed && turn.commit?.outcome === 'committed' ? (
          <span
            className="badge badge--commit"
            data-testid="commit-badge"
            title={`provenance ${turn.commit.provenance_hash}`}
          >
            committed #{turn.commit.commit_seq} · <code>{shortHash(turn.commit.provenance_hash)}</code>
          </span>
        ) : null}
        {committed && turn.commit?.outcome === 'committed' ? (
          <ForkButton
            disabled={!connected}
            commitSeq={turn.commit.commit_seq}
            onFork={(commitSeq) => void inspector.forkSession(sessionId, commitSeq)}
          />
        ) : null}
        {retry === null ? null : (
          <button
            type="button"
            className="button"
            data-testid="retry"
            disabled={!connected || busy}
            title={busy ? 'A turn is running in this session' : `Send “${retry}” again as a new turn`}
            onClick={() => void inspector.retryTurn(sessionId, turnId)}
          >
            Retry
          </button>
        )}
        <span className="turn__facts">
          {turn.state === 'rejected' ? null : <span>{turn.tokenCount} tokens</span>}
          {turn.model === null ? null : <span>{turn.model}</span>}
          <code title={turnId}>{shortId(turnId)}</code>
        </span>
      </footer>
    </article>
  );
}

/** Starts a new session from this commit's world; the original session is untouched. */
function ForkButton({
  commitSeq,
  disabled,
  onFork,
}: {
  commitSeq: number;
  disabled: boolean;
  onFork: (commitSeq: number) => void;
}) {
  return (
    <button
      type="button"
      className="button"
      data-testid="fork"
      data-commit-seq={commitSeq}
      disabled={disabled}
      title={`New session starting from the world after commit #${commitSeq}, same scenario and NPC`}
      onClick={() => {
        onFork(commitSeq);
      }}
    >
      Fork from here
    </button>
  );
}

const STATE_MARK: Record<ActionsState, string> = {
  pending: '…',
  committed: '✓',
  refused: '✗',
  discarded: '–',
};

const STATE_TEXT: Record<ActionsState, string> = {
  pending: 'pending: applied only if the commit succeeds',
  committed: 'committed: applied to world state',
  refused: 'refused: the commit failed, nothing was applied',
  discarded: 'discarded: the turn ended without a commit',
};

function ProposedActions({ sessionId, turn }: { sessionId: string; turn: Turn }) {
  const scenario = useAppState(selectSessionScenario(sessionId));
  const npcId = useAppState(selectSessionNpcId(sessionId));
  if (turn.proposals === null || (turn.proposals.length === 0 && turn.proposalErrors.length === 0))
    return null;
  const names = namesOf(scenario);
  const actor = scenario?.npcs.find((n) => n.npc_id === npcId)?.name ?? npcId ?? 'The NPC';
  const state = actionsState(turn);
  // Failures that name an action, by its index in the proposals.
  const blame = new Map<number, string[]>();
  if (turn.commit?.outcome === 'failed')
    for (const verdict of turn.commit.verdicts)
      for (const f of verdict.failures)
        if (f.action_index !== null)
          blame.set(f.action_index, [...(blame.get(f.action_index) ?? []), `${verdict.rule}: ${f.message}`]);

  return (
    <div className="proposals">
      {turn.proposals.length === 0 ? null : (
        <ul className="chips" aria-label="Proposed actions" data-testid="action-chips" data-state={state}>
          {turn.proposals.map((action, index) => {
            const text = describeAction(action, names, actor);
            const blamed = blame.get(index);
            return (
              <li
                // Proposals are a fixed list per turn: the index is their identity (verdicts use it too).
                key={index}
                className={`chip chip--${state}${blamed === undefined ? '' : ' chip--blamed'}`}
                data-testid="action-chip"
                data-state={state}
                data-kind={action.kind}
                data-index={index}
                data-blamed={String(blamed !== undefined)}
                title={[text.title, STATE_TEXT[state], ...(blamed ?? [])].join('\n')}
              >
                <span className="chip__mark" aria-hidden="true">
                  {STATE_MARK[state]}
                </span>
                <span className="chip__label">{text.label}</span>
                <span className="chip__state">{state}</span>
              </li>
            );
          })}
        </ul>
      )}
      {turn.proposalErrors.length === 0 ? null : (
        <ul className="proposal-errors" aria-label="Unreadable action lines">
          {turn.proposalErrors.map((error) => (
            <li key={error.line} data-testid="proposal-error" data-line={error.line}>
              <span className="proposal-errors__where">line {error.line}</span>{' '}
              <code className="proposal-errors__text">{error.text}</code>{' '}
              <span className="proposal-errors__message">{error.message}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function CommitOutcomeView({ commit }: { commit: CommitOutcome }) {
  if (commit.outcome === 'committed') {
    return (
      <div className="outcome outcome--committed" data-testid="commit-outcome" data-outcome="committed">
        <VerdictList verdicts={commit.verdicts} />
        <span className="outcome__state" title={`${commit.state_hash_before} → ${commit.state_hash}`}>
          state <code>{shortHash(commit.state_hash_before)}</code> →{' '}
          <code>{shortHash(commit.state_hash)}</code>
        </span>
      </div>
    );
  }
  return (
    <div
      className="outcome outcome--failed"
      data-testid="commit-failed"
      data-outcome="failed"
      data-code={commit.code}
      data-stage={commit.stage}
    >
      <p className="outcome__headline">
        <strong>Commit refused</strong> at <code>{commit.stage}</code>: <code>{commit.code}</code>
        <span className="outcome__message"> — {commit.message}</span>
      </p>
      {commit.verdicts.length === 0 ? null : <VerdictList verdicts={commit.verdicts} />}
      <span className="outcome__state" title={commit.state_hash}>
        world state unchanged · <code>{shortHash(commit.state_hash)}</code>
        {commit.commit_seq === null || commit.provenance_hash === null ? null : (
          <>
            {' '}
            · attempt #{commit.commit_seq}{' '}
            <code title={commit.provenance_hash}>{shortHash(commit.provenance_hash)}</code>
          </>
        )}
      </span>
    </div>
  );
}

/** Every governance rule's verdict: passing ones as a compact row, failing ones with their messages. */
function VerdictList({ verdicts }: { verdicts: readonly Verdict[] }) {
  return (
    <ul className="verdicts" aria-label="Governance verdicts">
      {verdicts.map((v) => (
        <li
          key={v.rule}
          className={`verdict verdict--${v.ok ? 'ok' : 'failed'}`}
          data-testid="verdict"
          data-rule={v.rule}
          data-ok={String(v.ok)}
          title={v.message}
        >
          <span className="verdict__mark" aria-hidden="true">
            {v.ok ? '✓' : '✗'}
          </span>
          <span className="visually-hidden">{v.ok ? 'passed:' : 'failed:'}</span>{' '}
          <span className="verdict__rule">{v.rule}</span>
          {v.ok ? null : (
            <>
              <span className="verdict__message">: {v.message}</span>
              {v.failures.length > 1 ? (
                <ul className="verdict__failures">
                  {v.failures.map((f, i) => (
                    <li key={i}>
                      {f.action_index === null ? 'turn' : `action ${f.action_index + 1}`}: {f.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function statusText(turn: Turn): string {
  switch (turn.state) {
    case 'streaming':
      return turn.tokensMissing ? 'streaming… (some tokens dropped)' : 'streaming…';
    case 'final-preview':
      return 'preview · awaiting commit';
    case 'committed':
      return 'committed';
    case 'cancelled':
      return `cancelled (${turn.reason ?? 'unknown'}) after ${turn.tokenCount} tokens · nothing committed`;
    case 'failed':
      // A refused commit explains itself in its outcome box; the status only says what it means.
      return turn.commit?.outcome === 'failed'
        ? 'commit refused · nothing committed'
        : `failed: ${turn.reason ?? 'unknown'} · nothing committed`;
    case 'rejected':
      return `rejected: ${turn.reason ?? '…'}`;
  }
}
