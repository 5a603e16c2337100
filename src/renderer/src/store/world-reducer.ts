/**
 * Per-session world state as `world.get` last answered it. The runtime is the authority: this is a
 * cache refetched on selection and after every commit, never updated from events by guesswork.
 */
import type { ResultOf } from '../../../shared/commands';

export type WorldSnapshot = ResultOf<'world.get'>;

export interface SessionWorld {
  /** The newest answer; kept while a refetch runs so the view does not flicker. */
  snapshot: WorldSnapshot | null;
  loading: boolean;
  /** Why the last fetch failed; cleared by the next answer. */
  error: string | null;
}

export interface WorldViewState {
  sessions: Readonly<Record<string, SessionWorld>>;
}

export const EMPTY_WORLD: WorldViewState = { sessions: {} };

const NOTHING: SessionWorld = { snapshot: null, loading: false, error: null };

function update(
  state: WorldViewState,
  sessionId: string,
  change: (session: SessionWorld) => SessionWorld,
): WorldViewState {
  return { sessions: { ...state.sessions, [sessionId]: change(state.sessions[sessionId] ?? NOTHING) } };
}

export function worldRequested(state: WorldViewState, sessionId: string): WorldViewState {
  return update(state, sessionId, (s) => ({ ...s, loading: true }));
}

/**
 * Takes a `world.get` answer. One older than the snapshot held (an earlier commit) is dropped:
 * answers to overlapping requests may arrive out of order, and world state only moves forward.
 */
export function worldLoaded(state: WorldViewState, snapshot: WorldSnapshot): WorldViewState {
  return update(state, snapshot.session_id, (s) => {
    const held = s.snapshot?.last_commit_seq ?? 0;
    const older = s.snapshot !== null && (snapshot.last_commit_seq ?? 0) < held;
    return { snapshot: older ? s.snapshot : snapshot, loading: false, error: null };
  });
}

export function worldFailed(state: WorldViewState, sessionId: string, error: string): WorldViewState {
  return update(state, sessionId, (s) => ({ ...s, loading: false, error }));
}
