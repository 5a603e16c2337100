import { useId, useState } from 'react';
import type { CommitSummary, PatchOperation } from '../../../shared/world';
import { useAppState, useInspector } from '../app/context';
import { unverifiedCommits, type SessionProvenance } from '../store/provenance-reducer';
import { selectSelectedSessionId, selectSessionProvenance } from '../store/selectors';
import { describePatch, patchLineText, recordFacts } from './authority-format';
import { clockTime, shortHash, shortId } from './format';

/** Rows rendered at first; older ones on request. Rows expand in place, so they are not virtualized. */
const PAGE = 100;

/**
 * The selected session's ledger records, one per commit attempt (committed or failed), newest first.
 * Read on selection and after every commit event; each expands to its patch and its full record.
 */
export function ProvenanceTimeline() {
  const inspector = useInspector();
  const sessionId = useAppState(selectSelectedSessionId);
  const provenance = useAppState(selectSessionProvenance(sessionId));
  const [shown, setShown] = useState(PAGE);
  if (sessionId === null) return <p className="empty">Select a session to see its provenance.</p>;
  const commits = provenance?.commits ?? [];
  const newestFirst = commits.slice(-shown).reverse();
  const running = provenance?.verify.state === 'running';

  return (
    <div
      className="provenance"
      data-testid="provenance"
      data-count={commits.length}
      data-loading={String(provenance?.loading ?? false)}
    >
      <header className="side__header">
        <h2>Provenance</h2>
        <span className="panel__facts">
          <span>
            {commits.length} commit {commits.length === 1 ? 'attempt' : 'attempts'}
          </span>
          <button
            type="button"
            className="button button--small"
            data-testid="verify-button"
            disabled={running}
            title="Check the ledger's hash chain and replay this session from its scenario"
            onClick={() => void inspector.verifySession(sessionId)}
          >
            {running ? 'Verifying…' : 'Verify'}
          </button>
        </span>
      </header>
      {provenance === undefined ? null : <VerifyResult provenance={provenance} />}
      {provenance?.error == null ? null : (
        <p className="inline-error" role="alert" data-testid="provenance-error">
          Could not read the ledger: {provenance.error}
        </p>
      )}
      {commits.length === 0 ? (
        <p className="empty">
          {provenance?.loading === true ? 'Reading the ledger…' : 'No commit attempts yet.'}
        </p>
      ) : (
        <ol className="timeline" aria-label="Commit attempts, newest first">
          {newestFirst.map((commit) => (
            <ProvenanceRow key={commit.commit_seq} commit={commit} />
          ))}
        </ol>
      )}
      {commits.length > shown ? (
        <button
          type="button"
          className="button timeline__more"
          onClick={() => {
            setShown((n) => n + PAGE);
          }}
        >
          Show {Math.min(PAGE, commits.length - shown)} older
        </button>
      ) : null}
    </div>
  );
}

function VerifyResult({ provenance }: { provenance: SessionProvenance }) {
  const { verify } = provenance;
  switch (verify.state) {
    case 'idle':
    case 'running':
      return null;
    case 'error':
      return (
        <p className="verify verify--error" role="alert" data-testid="verify-error">
          Verify could not run: {verify.message}
        </p>
      );
    case 'done': {
      const { report } = verify;
      const newer = unverifiedCommits(provenance);
      const divergence = report.first_divergence;
      return (
        <div
          className={`verify verify--${report.ok ? 'ok' : 'diverged'}`}
          role="status"
          data-testid="verify-result"
          data-ok={String(report.ok)}
        >
          {report.ok || divergence === null ? (
            <span>
              <strong>{report.ok ? '✓ Verified' : '✗ Not verified'}</strong>: hash chain and replay agree ·{' '}
              {report.commits_checked} {report.commits_checked === 1 ? 'record' : 'records'} checked
              {report.head_hash === null ? null : (
                <>
                  {' '}
                  · head <code title={report.head_hash}>{shortHash(report.head_hash)}</code>
                </>
              )}
            </span>
          ) : (
            <span
              data-testid="verify-divergence"
              data-kind={divergence.kind}
              data-commit-seq={divergence.commit_seq}
            >
              <strong>✗ Diverged</strong> at commit #{divergence.commit_seq} (<code>{divergence.kind}</code>):{' '}
              {divergence.message}
            </span>
          )}
          {newer > 0 ? (
            <span className="tag tag--warn">
              {newer} newer {newer === 1 ? 'attempt' : 'attempts'} not covered
            </span>
          ) : null}
        </div>
      );
    }
  }
}

function ProvenanceRow({ commit }: { commit: CommitSummary }) {
  const [open, setOpen] = useState(false);
  const detailId = useId();
  const facts = recordFacts(commit.record);
  return (
    <li
      className={`timeline__row timeline__row--${commit.outcome}`}
      data-testid="provenance-row"
      data-outcome={commit.outcome}
      data-commit-seq={commit.commit_seq}
      data-turn-id={commit.turn_id}
    >
      <button
        type="button"
        className="timeline__summary"
        aria-expanded={open}
        aria-controls={detailId}
        data-testid="provenance-toggle"
        onClick={() => {
          setOpen((o) => !o);
        }}
      >
        <span className="timeline__caret" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        <span className="timeline__seq">#{commit.commit_seq}</span>
        <span className={`tag outcome-tag outcome-tag--${commit.outcome}`}>{commit.outcome}</span>
        <code className="timeline__turn" title={commit.turn_id}>
          {shortId(commit.turn_id)}
        </code>
        <code className="timeline__hash" title={commit.provenance_hash} data-testid="provenance-short-hash">
          {shortHash(commit.provenance_hash)}
        </code>
        <time className="timeline__time">
          {facts.committed_at === null ? '' : clockTime(facts.committed_at)}
        </time>
      </button>
      {open ? (
        <div id={detailId} className="timeline__detail" data-testid="provenance-detail">
          {facts.failure === null ? null : (
            <p className="timeline__failure">
              Failed at <code>{facts.failure.stage}</code>: <code>{facts.failure.code}</code> —{' '}
              {facts.failure.message}
            </p>
          )}
          <dl className="timeline__facts">
            <dt>provenance hash</dt>
            <dd>
              <code data-testid="provenance-hash">{commit.provenance_hash}</code>
            </dd>
            {facts.state_hash_before === null || facts.state_hash_after === null ? null : (
              <>
                <dt>state</dt>
                <dd>
                  <code title={facts.state_hash_before}>{shortHash(facts.state_hash_before)}</code> →{' '}
                  <code title={facts.state_hash_after}>{shortHash(facts.state_hash_after)}</code>
                  {facts.state_hash_before === facts.state_hash_after ? ' (unchanged)' : null}
                </dd>
              </>
            )}
          </dl>
          <h4>{commit.outcome === 'committed' ? 'Patch applied' : 'Patch refused'}</h4>
          <PatchView patch={facts.patch} />
          <h4>Provenance record</h4>
          <pre className="timeline__record" data-testid="provenance-record">
            {JSON.stringify(commit.record, null, 2)}
          </pre>
        </div>
      ) : null}
    </li>
  );
}

export function PatchView({ patch }: { patch: readonly PatchOperation[] }) {
  if (patch.length === 0) return <p className="muted">No changes.</p>;
  return (
    <ol className="patch" aria-label="JSON Patch operations">
      {describePatch(patch).map((line, i) => (
        <li
          // A patch is an immutable, ordered list: position is identity.
          key={i}
          className={`patch__op patch__op--${line.op}${line.guard ? ' patch__op--guard' : ''}`}
          data-testid="patch-op"
          data-op={line.op}
          data-path={line.path}
          title={patchLineText(line)}
        >
          <span className="patch__kind">{line.op}</span> <code className="patch__path">{line.path}</code>{' '}
          <span className="patch__change">{line.change}</span>
        </li>
      ))}
    </ol>
  );
}
