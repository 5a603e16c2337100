import { SessionBundle } from '../../../shared/commands';
import { initialWorldState } from '../../../shared/scenario';
import {
  ProvenanceRecordV2,
  type Divergence,
  type VerifyReport,
  type WorldState,
} from '../../../shared/world';
import type { EventEnvelope } from '../../../shared/protocol';
import { canonicalJson, hashCanonical, sha256Hex } from '../core/hash';
import { prepareCommit } from './commit';
import type { ExtensionManager } from './extensions';
import { LedgerError, type CommitRow, type Ledger, type SessionRow } from './ledger';
import { parseScenarioValue, type LoadedScenario } from './scenario-loader';
import { applyPatch, PatchApplyError, stateHash } from './world-state';

/** Where replay reads from: a ledger file or an exported bundle. */
export interface ReplaySource {
  readonly commits: Iterable<
    Pick<CommitRow, 'commit_seq' | 'provenance_json' | 'provenance_hash' | 'final_text'>
  >;
  session(sessionId: string): SessionRow | undefined;
  /** Every registered session (for their fork origins). */
  sessions(): Iterable<SessionRow>;
  scenarioJson(contentHash: string): string | undefined;
  /**
   * `full`: records are the whole ledger, numbered 1, 2, ... and chained without a gap. `links`: a
   * subset (one session's records); prev hashes are checked between consecutive commit_seqs only.
   */
  readonly chain: 'full' | 'links';
}

export interface ReplayOptions {
  /** Re-runs extension workloads and governance for each record and compares: catches non-determinism. */
  readonly extensions: ExtensionManager;
  /**
   * Replay only this session, and, for a fork, the sessions it was forked from up to its fork point (the
   * chain is still checked end to end).
   */
  readonly sessionId?: string;
}

export interface ReplayResult extends VerifyReport {
  /** World state of each replayed session, up to the first divergence. */
  readonly states: ReadonlyMap<string, WorldState>;
}

interface SessionReplay {
  readonly scenario: LoadedScenario;
  readonly npcId: string;
  state: WorldState;
  hash: string;
}

/** A session's replayed world right after one of its committed records: where a fork starts. */
interface ForkPoint {
  readonly scenarioHash: string;
  readonly npcId: string;
  readonly state: WorldState;
  readonly hash: string;
}

const forkKey = (sessionId: string, commitSeq: number): string => `${sessionId}#${commitSeq}`;

/**
 * Which records of which sessions to replay when one session is named: all of its own, and those of
 * each session it was forked from up to the fork point. Null when every session is replayed.
 */
function replayScope(source: ReplaySource, sessionId: string | undefined): Map<string, number> | null {
  if (sessionId === undefined) return null;
  const scope = new Map<string, number>([[sessionId, Infinity]]);
  let row = source.session(sessionId);
  while (row?.parent_session_id != null && row.parent_commit_seq != null) {
    const parent = row.parent_session_id;
    // A cycle cannot be written by the runtime; a forged one must not loop here.
    if (scope.has(parent)) break;
    scope.set(parent, row.parent_commit_seq);
    row = source.session(parent);
  }
  return scope;
}

class Diverged extends Error {
  constructor(readonly divergence: Divergence) {
    super(divergence.message);
  }
}

/**
 * Rebuilds world state from each session's scenario plus its committed patches, checking on the way
 * every record's hash, the hash chain, the stored text, every state hash, and (by re-running
 * extensions and governance) that each patch and verdict is what the code derives. Stops at the
 * first divergence by commit sequence and reports it.
 */
export async function replay(source: ReplaySource, options: ReplayOptions): Promise<ReplayResult> {
  const sessions = new Map<string, SessionReplay>();
  const scope = replayScope(source, options.sessionId);
  const forkPoints = new Set<string>();
  for (const row of source.sessions())
    if (row.parent_session_id != null && row.parent_commit_seq != null)
      forkPoints.add(forkKey(row.parent_session_id, row.parent_commit_seq));
  const snapshots = new Map<string, ForkPoint>();
  let checked = 0;
  let prev = null as { seq: number; hash: string } | null;
  let divergence: Divergence | null = null;
  try {
    for (const row of source.commits) {
      const at = (kind: Divergence['kind'], message: string, sessionId: string | null = null): never => {
        throw new Diverged({ commit_seq: row.commit_seq, session_id: sessionId, kind, message });
      };
      const expected: number = (prev?.seq ?? 0) + 1;
      if (source.chain === 'full' && row.commit_seq !== expected)
        // A gap is reported at the first missing sequence number.
        throw new Diverged({
          commit_seq: Math.min(expected, row.commit_seq),
          session_id: null,
          kind: 'sequence',
          message:
            row.commit_seq > expected
              ? `commit ${expected} is missing (the next record is commit ${row.commit_seq})`
              : `commit ${row.commit_seq} appears after commit ${expected - 1}: records are out of order`,
        });
      if (prev !== null && row.commit_seq <= prev.seq)
        at('sequence', `commit ${row.commit_seq} follows ${prev.seq}: out of order`);
      let raw: unknown;
      try {
        raw = JSON.parse(row.provenance_json);
      } catch {
        at('record', `commit ${row.commit_seq}: the provenance record is not JSON`);
      }
      if (hashCanonical(raw) !== row.provenance_hash)
        at(
          'row_hash',
          `commit ${row.commit_seq}: the provenance record does not hash to its stored hash (edited)`,
        );
      const base = raw as {
        v?: unknown;
        commit_seq?: unknown;
        prev_provenance_hash?: unknown;
        final_text_hash?: unknown;
        session_id?: unknown;
      };
      const sessionId = typeof base.session_id === 'string' ? base.session_id : null;
      if (base.commit_seq !== row.commit_seq)
        at(
          'record',
          `commit ${row.commit_seq}: its record says commit ${String(base.commit_seq)}`,
          sessionId,
        );
      const linked = source.chain === 'full' || (prev !== null && prev.seq === row.commit_seq - 1);
      if (linked && base.prev_provenance_hash !== (prev?.hash ?? null))
        at(
          'chain',
          `commit ${row.commit_seq}: the previous-record hash does not match commit ${prev?.seq ?? '(none)'}`,
          sessionId,
        );
      if (base.final_text_hash !== sha256Hex(row.final_text))
        at(
          'text_hash',
          `commit ${row.commit_seq}: the stored model text does not match final_text_hash`,
          sessionId,
        );
      const inScope = scope === null || (sessionId !== null && row.commit_seq <= (scope.get(sessionId) ?? 0));
      if (base.v === 2 && inScope) {
        const parsed = ProvenanceRecordV2.safeParse(raw);
        if (!parsed.success)
          at('record', `commit ${row.commit_seq}: not a valid v2 record: ${parsed.error.message}`, sessionId);
        else {
          const s = await replayRecord(parsed.data, source, sessions, snapshots, options, at);
          const key = forkKey(parsed.data.session_id, row.commit_seq);
          if (forkPoints.has(key) && parsed.data.outcome === 'committed')
            snapshots.set(key, {
              scenarioHash: s.scenario.contentHash,
              npcId: s.npcId,
              state: s.state,
              hash: s.hash,
            });
        }
      } else if (base.v !== 1 && base.v !== 2)
        at('record', `commit ${row.commit_seq}: unknown record version ${String(base.v)}`, sessionId);
      prev = { seq: row.commit_seq, hash: row.provenance_hash };
      checked++;
    }
  } catch (err) {
    if (!(err instanceof Diverged)) throw err;
    divergence = err.divergence;
  }
  const states = new Map([...sessions].map(([id, s]) => [id, s.state]));
  return {
    ok: divergence === null,
    commits_checked: checked,
    sessions_checked: sessions.size,
    head_hash: prev?.hash ?? null,
    first_divergence: divergence,
    state_hashes: Object.fromEntries([...sessions].map(([id, s]) => [id, s.hash])),
    states,
  };
}

async function replayRecord(
  record: ProvenanceRecordV2,
  source: ReplaySource,
  sessions: Map<string, SessionReplay>,
  snapshots: ReadonlyMap<string, ForkPoint>,
  options: ReplayOptions,
  at: (kind: Divergence['kind'], message: string, sessionId?: string | null) => never,
): Promise<SessionReplay> {
  const seq = record.commit_seq;
  const sid = record.session_id;
  let s = sessions.get(sid);
  if (s === undefined) {
    const row = source.session(sid);
    if (row === undefined)
      return at('session', `commit ${seq}: session ${sid} is not registered in the ledger`, sid);
    const json = source.scenarioJson(row.scenario_hash);
    if (json === undefined)
      return at('session', `commit ${seq}: scenario ${row.scenario_hash} of session ${sid} is missing`, sid);
    let scenario: LoadedScenario;
    try {
      scenario = parseScenarioValue(JSON.parse(json), `ledger:${row.scenario_id}`);
    } catch (err) {
      return at(
        'session',
        `commit ${seq}: the stored scenario of session ${sid} does not load: ${(err as Error).message}`,
        sid,
      );
    }
    if (scenario.contentHash !== row.scenario_hash)
      return at(
        'session',
        `commit ${seq}: the stored scenario of session ${sid} does not hash to ${row.scenario_hash} (edited)`,
        sid,
      );
    let state: WorldState;
    if (row.parent_session_id != null && row.parent_commit_seq != null) {
      // A fork starts where its parent's replay stood right after the fork point.
      const parent = row.parent_session_id;
      const point = snapshots.get(forkKey(parent, row.parent_commit_seq));
      if (point === undefined)
        return at(
          'session',
          `commit ${seq}: session ${sid} is forked from ${parent} at commit ${row.parent_commit_seq}, which the replay did not reach as a committed record of ${parent}`,
          sid,
        );
      if (point.scenarioHash !== row.scenario_hash || point.npcId !== row.npc_id)
        return at(
          'session',
          `commit ${seq}: session ${sid} plays another scenario or NPC than ${parent}, which it is forked from`,
          sid,
        );
      state = point.state;
    } else state = initialWorldState(scenario.scenario);
    const hash = stateHash(state);
    if (hash !== row.initial_state_hash)
      return at(
        'session',
        `commit ${seq}: session ${sid} starts from state ${hash}, the ledger says ${row.initial_state_hash}`,
        sid,
      );
    s = { scenario, npcId: row.npc_id, state, hash };
    sessions.set(sid, s);
  }
  if (record.scenario.content_hash !== s.scenario.contentHash)
    at(
      'record',
      `commit ${seq}: the record names scenario ${record.scenario.content_hash}, the session plays ${s.scenario.contentHash}`,
      sid,
    );
  if (record.state_hash_before !== s.hash)
    at(
      'state_before',
      `commit ${seq}: the record starts from state ${record.state_hash_before}; replay is at ${s.hash}`,
      sid,
    );

  let after = s.state;
  if (record.outcome === 'committed') {
    try {
      after = applyPatch(s.state, record.patch);
    } catch (err) {
      if (err instanceof PatchApplyError) at('patch', `commit ${seq}: ${err.message}`, sid);
      throw err;
    }
  }
  const afterHash = stateHash(after);
  if (afterHash !== record.state_hash_after)
    at(
      'state_after',
      `commit ${seq}: replay reaches state ${afterHash}; the record says ${record.state_hash_after}`,
      sid,
    );

  // Failures inside an extension (a throw, a timeout) are facts of that run, not re-derivable.
  if (record.failure?.stage !== 'extensions') {
    const npc = s.scenario.scenario.npcs[record.npc_id];
    if (npc === undefined) return at('record', `commit ${seq}: scenario has no NPC '${record.npc_id}'`, sid);
    const derived = await prepareCommit(options.extensions, {
      scenario: s.scenario.scenario,
      npcId: record.npc_id,
      npc,
      before: s.state,
      output: { proposals: record.proposals, errors: record.proposal_errors },
      envelopes: record.agent_envelopes,
    });
    const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
    if (!same(derived.patch, record.patch))
      at(
        'rederive',
        `commit ${seq}: re-running the extensions gives a different patch than the one recorded (non-deterministic apply path?)`,
        sid,
      );
    if (!same(derived.verdicts, record.verdicts))
      at(
        'rederive',
        `commit ${seq}: re-running governance gives different verdicts than the ones recorded`,
        sid,
      );
    if ((derived.failure === null) !== (record.outcome === 'committed'))
      at(
        'rederive',
        `commit ${seq}: re-deriving the commit gives outcome ${derived.failure === null ? 'committed' : 'failed'}, the record says ${record.outcome}`,
        sid,
      );
  }
  s.state = after;
  s.hash = afterHash;
  return s;
}

/** Verifies a ledger file's records (all, or one session's world). */
export function verifyLedger(ledger: Ledger, options: ReplayOptions): Promise<ReplayResult> {
  return replay(
    {
      commits: ledger.commits(),
      session: (id) => ledger.session(id),
      sessions: () => ledger.sessions(),
      scenarioJson: (hash) => ledger.scenarioJson(hash),
      chain: 'full',
    },
    options,
  );
}

/**
 * One session as a portable bundle: its scenario, its ledger rows, optionally its events. A forked
 * session's bundle (version 2) also carries the sessions it was forked from, each with its records up to
 * its fork point, so that it replays on its own.
 */
export function exportSession(
  ledger: Ledger,
  sessionId: string,
  telemetry?: readonly EventEnvelope[],
): SessionBundle {
  const session = ledger.session(sessionId);
  if (session === undefined) throw new LedgerError(`${ledger.file} has no session '${sessionId}'`);
  const scenarioJson = ledger.scenarioJson(session.scenario_hash);
  if (scenarioJson === undefined)
    throw new LedgerError(`${ledger.file} lacks scenario ${session.scenario_hash}`);
  const rows = (id: string, throughSeq: number) =>
    ledger
      .commitsForSession(id)
      .filter((r) => r.commit_seq <= throughSeq)
      .map((r) => ({
        commit_seq: r.commit_seq,
        provenance_hash: r.provenance_hash,
        provenance_json: r.provenance_json,
        final_text: r.final_text,
      }));
  const ancestors: NonNullable<SessionBundle['ancestors']> = [];
  const seen = new Set([sessionId]);
  for (let child = session; child.parent_session_id != null && child.parent_commit_seq != null;) {
    const parentId = child.parent_session_id;
    const parent = ledger.session(parentId);
    if (parent === undefined || seen.has(parentId))
      throw new LedgerError(
        `${ledger.file}: session ${child.session_id} is forked from unknown session '${parentId}'`,
      );
    seen.add(parentId);
    ancestors.push({ session: { ...parent }, commits: rows(parentId, child.parent_commit_seq) });
    child = parent;
  }
  return {
    format: 'parley-session-bundle',
    version: ancestors.length === 0 ? 1 : 2,
    session: { ...session },
    scenario_json: scenarioJson,
    commits: rows(sessionId, Infinity),
    ...(ancestors.length === 0 ? {} : { ancestors }),
    ...(telemetry === undefined ? {} : { telemetry: [...telemetry] }),
  };
}

/**
 * The world of a session right after one of its records, rebuilt from the ledger's stored patches
 * (through the sessions it was forked from, if any) without re-running extensions: what a fork starts
 * from. Every state hash on the way is checked; a ledger that does not reproduce them is refused.
 */
export function stateAfterCommit(
  ledger: Ledger,
  sessionId: string,
  commitSeq: number,
  scenario: LoadedScenario,
  visiting: ReadonlySet<string> = new Set(),
): { state: WorldState; hash: string } {
  const fail = (message: string): never => {
    throw new LedgerError(
      `${ledger.file}: cannot rebuild session ${sessionId} at commit ${commitSeq}: ${message}`,
    );
  };
  const row = ledger.session(sessionId);
  if (row === undefined) return fail('the session is not registered');
  if (row.scenario_hash !== scenario.contentHash) return fail('it plays another scenario');
  let state: WorldState;
  if (row.parent_session_id != null && row.parent_commit_seq != null) {
    if (visiting.has(row.parent_session_id)) return fail('its fork origins form a cycle');
    state = stateAfterCommit(
      ledger,
      row.parent_session_id,
      row.parent_commit_seq,
      scenario,
      new Set([...visiting, sessionId]),
    ).state;
  } else state = initialWorldState(scenario.scenario);
  let hash = stateHash(state);
  if (hash !== row.initial_state_hash)
    return fail(`it starts from ${row.initial_state_hash}, rebuilt ${hash}`);
  for (const commit of ledger.commitsForSession(sessionId)) {
    if (commit.commit_seq > commitSeq) break;
    const parsed = ProvenanceRecordV2.safeParse(JSON.parse(commit.provenance_json));
    if (!parsed.success) return fail(`commit ${commit.commit_seq} is not a version 2 record`);
    const record = parsed.data;
    if (record.state_hash_before !== hash)
      return fail(`commit ${commit.commit_seq} starts from another state`);
    if (record.outcome === 'committed') {
      try {
        state = applyPatch(state, record.patch);
      } catch (err) {
        return fail(`commit ${commit.commit_seq}: ${(err as Error).message}`);
      }
      hash = stateHash(state);
    }
    if (hash !== record.state_hash_after) return fail(`commit ${commit.commit_seq} ends in another state`);
  }
  return { state, hash };
}

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** Reads a bundle from JSON text, naming what is wrong with it. */
export function parseBundle(text: string, source: string): SessionBundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`${source}: not JSON: ${(err as Error).message}`);
  }
  const parsed = SessionBundle.safeParse(json);
  if (!parsed.success)
    throw new BundleError(
      `${source}: not a Parley session bundle: ${parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}

/**
 * Replays an exported session from the bundle alone; a fork's ancestors are replayed first, up to their
 * fork points (their records are interleaved by commit_seq, as in the ledger).
 */
export function replayBundle(
  bundle: SessionBundle,
  options: Omit<ReplayOptions, 'sessionId'>,
): Promise<ReplayResult> {
  const { session } = bundle;
  const ancestors = bundle.ancestors ?? [];
  const rows = new Map<string, SessionRow>(
    [session, ...ancestors.map((a) => a.session)].map((r) => [r.session_id, r]),
  );
  const commits = [...bundle.commits, ...ancestors.flatMap((a) => a.commits)].sort(
    (a, b) => a.commit_seq - b.commit_seq,
  );
  return replay(
    {
      commits,
      session: (id) => rows.get(id),
      sessions: () => rows.values(),
      scenarioJson: (hash) => (hash === session.scenario_hash ? bundle.scenario_json : undefined),
      chain: 'links',
    },
    { ...options, sessionId: session.session_id },
  );
}
