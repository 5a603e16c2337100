import type { StateCreator } from 'zustand';
import type { SessionSummary } from '../../../shared/commands';
import type { AppState } from './app-store';
import { markRead, NO_UNREAD, type UnreadState } from './unread-reducer';

export interface SessionsSlice {
  sessions: {
    /** In creation order. */
    list: readonly SessionSummary[];
    selectedId: string | null;
  };
  /** Replaces the list with the server's; the selection is kept. */
  setSessions: (list: readonly SessionSummary[]) => void;
  /** Adds a session, or replaces the one with the same id. */
  upsertSession: (session: SessionSummary) => void;
  /** Selects a session and clears its unread count. */
  selectSession: (sessionId: string | null) => void;
  /** Events per session received while it was not selected (counted by `ingestEvents`). */
  unread: UnreadState;
}

/**
 * How the session list names a fork's origin: `forked from <session> #<commit_seq>`, the session id
 * shortened by `shorten`; null for a session that is not a fork.
 */
export function forkOriginLabel(
  session: SessionSummary,
  shorten: (sessionId: string) => string = (id) => id,
): string | null {
  const origin = session.forked_from;
  return origin === undefined ? null : `forked from ${shorten(origin.session_id)} #${origin.commit_seq}`;
}

export const createSessionsSlice: StateCreator<AppState, [], [], SessionsSlice> = (set) => ({
  sessions: { list: [], selectedId: null },
  setSessions: (list) => {
    set((state) => ({
      sessions: { ...state.sessions, list: [...list].sort((a, b) => a.created_at - b.created_at) },
    }));
  },
  upsertSession: (session) => {
    set((state) => {
      const list = state.sessions.list;
      const index = list.findIndex((s) => s.session_id === session.session_id);
      const next = index === -1 ? [...list, session] : list.map((s, i) => (i === index ? session : s));
      return { sessions: { ...state.sessions, list: next } };
    });
  },
  selectSession: (selectedId) => {
    set((state) => ({
      sessions: { ...state.sessions, selectedId },
      unread: markRead(state.unread, selectedId),
    }));
  },
  unread: NO_UNREAD,
});
