/**
 * Per-session provenance timeline: the session's ledger records (one per commit attempt, committed or
 * failed) as `ledger.commits` returned them, and the last `ledger.verify` report.
 */
import type { CommitSummary, VerifyReport } from '../../../shared/world';

export type VerifyStatus =
  | { readonly state: 'idle' }
  | { readonly state: 'running' }
  | {
      readonly state: 'done';
      readonly report: VerifyReport;
      /** The session's newest commit_seq this window knew of when verify was asked for. */
      readonly throughSeq: number;
    }
  | { readonly state: 'error'; readonly message: string };

export interface SessionProvenance {
  /** In commit_seq order, each record once. */
  commits: readonly CommitSummary[];
  loading: boolean;
  error: string | null;
  verify: VerifyStatus;
}

export interface ProvenanceState {
  sessions: Readonly<Record<string, SessionProvenance>>;
}

export const EMPTY_PROVENANCE: ProvenanceState = { sessions: {} };

const NOTHING: SessionProvenance = { commits: [], loading: false, error: null, verify: { state: 'idle' } };

function update(
  state: ProvenanceState,
  sessionId: string,
  change: (session: SessionProvenance) => SessionProvenance,
): ProvenanceState {
  return { sessions: { ...state.sessions, [sessionId]: change(state.sessions[sessionId] ?? NOTHING) } };
}

/** The highest commit_seq held for the session (0 before any): where the next page starts. */
export function lastCommitSeq(state: ProvenanceState, sessionId: string): number {
  return state.sessions[sessionId]?.commits.at(-1)?.commit_seq ?? 0;
}

export function commitsRequested(state: ProvenanceState, sessionId: string): ProvenanceState {
  return update(state, sessionId, (s) => ({ ...s, loading: true }));
}

/**
 * Merges a page of records. Ledger records are immutable, so a record already held is kept as is;
 * pages may overlap or arrive out of order without duplicating a row.
 */
export function commitsLoaded(
  state: ProvenanceState,
  sessionId: string,
  page: readonly CommitSummary[],
  done: boolean,
): ProvenanceState {
  return update(state, sessionId, (s) => {
    const held = new Set(s.commits.map((c) => c.commit_seq));
    const fresh = page.filter((c) => c.session_id === sessionId && !held.has(c.commit_seq));
    const commits =
      fresh.length === 0 ? s.commits : [...s.commits, ...fresh].sort((a, b) => a.commit_seq - b.commit_seq);
    return { ...s, commits, loading: !done, error: null };
  });
}

export function commitsFailed(state: ProvenanceState, sessionId: string, error: string): ProvenanceState {
  return update(state, sessionId, (s) => ({ ...s, loading: false, error }));
}

export function verifyStarted(state: ProvenanceState, sessionId: string): ProvenanceState {
  return update(state, sessionId, (s) => ({ ...s, verify: { state: 'running' } }));
}

export function verifyDone(
  state: ProvenanceState,
  sessionId: string,
  report: VerifyReport,
  throughSeq: number,
): ProvenanceState {
  return update(state, sessionId, (s) => ({ ...s, verify: { state: 'done', report, throughSeq } }));
}

export function verifyFailed(state: ProvenanceState, sessionId: string, message: string): ProvenanceState {
  return update(state, sessionId, (s) => ({ ...s, verify: { state: 'error', message } }));
}

/** Records newer than the last verify report: it no longer covers the whole session. */
export function unverifiedCommits(session: SessionProvenance): number {
  const { verify } = session;
  if (verify.state !== 'done') return 0;
  return session.commits.filter((c) => c.commit_seq > verify.throughSeq).length;
}
