import { useAppState } from '../app/context';
import type { Turn } from '../store/dialogue-reducer';
import { selectTurn } from '../store/selectors';
import { shortHash, shortId } from './format';

/** One exchange: the player's line, the NPC's reply and where that reply stands. */
export function TurnBlock({ sessionId, turnId }: { sessionId: string; turnId: string }) {
  const turn = useAppState(selectTurn(sessionId, turnId));
  if (turn === undefined) return null;
  const committed = turn.state === 'committed';
  return (
    <article
      className={`turn turn--${turn.state}`}
      data-testid="turn"
      data-state={turn.state}
      data-turn-id={turnId}
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
            {turn.state === 'streaming' ? <span className="caret" aria-hidden="true" /> : null}
          </p>
        </div>
      )}
      <footer className="turn__meta">
        <span className={`turn-status turn-status--${turn.state}`} data-testid="turn-status">
          {statusText(turn)}
        </span>
        {committed && turn.commitSeq !== null && turn.provenanceHash !== null ? (
          <span
            className="badge badge--commit"
            data-testid="commit-badge"
            title={`provenance ${turn.provenanceHash}`}
          >
            committed #{turn.commitSeq} · <code>{shortHash(turn.provenanceHash)}</code>
          </span>
        ) : null}
        <span className="turn__facts">
          {turn.state === 'rejected' ? null : <span>{turn.tokenCount} tokens</span>}
          {turn.model === null ? null : <span>{turn.model}</span>}
          <code title={turnId}>{shortId(turnId)}</code>
        </span>
      </footer>
    </article>
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
      return `failed: ${turn.reason ?? 'unknown'} · nothing committed`;
    case 'rejected':
      return `rejected: ${turn.reason ?? '…'}`;
  }
}
