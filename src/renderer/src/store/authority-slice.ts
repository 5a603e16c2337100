import type { StateCreator } from 'zustand';
import type { CommitSummary, VerifyReport } from '../../../shared/world';
import type { AppState } from './app-store';
import {
  commitsFailed,
  commitsLoaded,
  commitsRequested,
  EMPTY_PROVENANCE,
  verifyDone,
  verifyFailed,
  verifyStarted,
  type ProvenanceState,
} from './provenance-reducer';
import {
  EMPTY_WORLD,
  worldFailed,
  worldLoaded,
  worldRequested,
  type WorldSnapshot,
  type WorldViewState,
} from './world-reducer';

/** What the runtime's authority plane answers on request: world state and the provenance ledger. */
export interface AuthoritySlice {
  world: WorldViewState;
  provenance: ProvenanceState;
  worldRequested: (sessionId: string) => void;
  worldLoaded: (snapshot: WorldSnapshot) => void;
  worldFailed: (sessionId: string, error: string) => void;
  commitsRequested: (sessionId: string) => void;
  commitsLoaded: (sessionId: string, page: readonly CommitSummary[], done: boolean) => void;
  commitsFailed: (sessionId: string, error: string) => void;
  verifyStarted: (sessionId: string) => void;
  verifyDone: (sessionId: string, report: VerifyReport, throughSeq: number) => void;
  verifyFailed: (sessionId: string, error: string) => void;
}

export const createAuthoritySlice: StateCreator<AppState, [], [], AuthoritySlice> = (set) => ({
  world: EMPTY_WORLD,
  provenance: EMPTY_PROVENANCE,
  worldRequested: (sessionId) => {
    set((s) => ({ world: worldRequested(s.world, sessionId) }));
  },
  worldLoaded: (snapshot) => {
    set((s) => ({ world: worldLoaded(s.world, snapshot) }));
  },
  worldFailed: (sessionId, error) => {
    set((s) => ({ world: worldFailed(s.world, sessionId, error) }));
  },
  commitsRequested: (sessionId) => {
    set((s) => ({ provenance: commitsRequested(s.provenance, sessionId) }));
  },
  commitsLoaded: (sessionId, page, done) => {
    set((s) => ({ provenance: commitsLoaded(s.provenance, sessionId, page, done) }));
  },
  commitsFailed: (sessionId, error) => {
    set((s) => ({ provenance: commitsFailed(s.provenance, sessionId, error) }));
  },
  verifyStarted: (sessionId) => {
    set((s) => ({ provenance: verifyStarted(s.provenance, sessionId) }));
  },
  verifyDone: (sessionId, report, throughSeq) => {
    set((s) => ({ provenance: verifyDone(s.provenance, sessionId, report, throughSeq) }));
  },
  verifyFailed: (sessionId, error) => {
    set((s) => ({ provenance: verifyFailed(s.provenance, sessionId, error) }));
  },
});
