/**
 * Per-session world state as `world.get` last answered it. The runtime is the authority: this is a
 * cache refetched on selection and after every commit, never updated from events by guesswork.
 */
import type { ResultOf } from '../../../shared/commands';

export type WorldSnapshot = ResultOf<'world.get'>;

export interface SessionWorld {
  /** The newest answer; kept while a refetch runs so the view does not flicker. */
  snapshot: WorldSnapshot | null;
  /** The snapshot before `snapshot`, when their states differ: what the view marks as changed. */
  previous: WorldSnapshot | null;
  loading: boolean;
  /** Why the last fetch failed; cleared by the next answer. */
  error: string | null;
}

export interface WorldViewState {
  sessions: Readonly<Record<string, SessionWorld>>;
}

export const EMPTY_WORLD: WorldViewState = { sessions: {} };

const NOTHING: SessionWorld = { snapshot: null, previous: null, loading: false, error: null };

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
    const held = s.snapshot;
    if (held !== null && (snapshot.last_commit_seq ?? 0) < (held.last_commit_seq ?? 0))
      return { ...s, loading: false, error: null };
    const moved = held !== null && held.state_hash !== snapshot.state_hash;
    return { snapshot, previous: moved ? held : s.previous, loading: false, error: null };
  });
}

export function worldFailed(state: WorldViewState, sessionId: string, error: string): WorldViewState {
  return update(state, sessionId, (s) => ({ ...s, loading: false, error }));
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * JSON Pointers of every leaf that differs between two states (changed, added or removed), and of
 * each object holding one, so a view can mark a whole inventory row as well as the item in it.
 */
export function changedPaths(before: unknown, after: unknown, base = ''): Set<string> {
  const out = new Set<string>();
  const walk = (a: unknown, b: unknown, path: string): boolean => {
    const objects =
      typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a);
    if (!objects) {
      if (JSON.stringify(a) === JSON.stringify(b)) return false;
      out.add(path);
      return true;
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    let changed = false;
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)]))
      if (walk(ra[key], rb[key], `${path}/${escapePointer(key)}`)) changed = true;
    if (changed && path !== '') out.add(path);
    return changed;
  };
  walk(before, after, base);
  return out;
}
