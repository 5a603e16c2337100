import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson } from '../core/hash';
import { provenanceHash, type ProvenanceRecord } from './provenance';

/** What a commit attempt records: the provenance record minus what the ledger assigns, plus the model's text. */
export type CommitInput = Omit<ProvenanceRecord, 'v' | 'commit_seq' | 'prev_provenance_hash'> & {
  /** The model's whole output (spoken line and action lines); its SHA-256 is `final_text_hash`. */
  readonly final_text: string;
};

export interface CommitReceipt {
  readonly commit_seq: number;
  readonly provenance_hash: string;
  readonly record: ProvenanceRecord;
}

export interface CommitRow {
  readonly commit_seq: number;
  readonly session_id: string;
  readonly turn_id: string;
  readonly outcome: 'committed' | 'failed';
  readonly final_text: string;
  readonly provenance_json: string;
  readonly provenance_hash: string;
  readonly committed_at: number;
}

/** A session as the ledger knows it: enough to rebuild its world from the stored scenario. */
export interface SessionRow {
  readonly session_id: string;
  readonly run_id: string;
  readonly scenario_id: string;
  readonly scenario_hash: string;
  readonly npc_id: string;
  readonly created_at: number;
  readonly initial_state_hash: string;
  /**
   * A fork's origin (schema 3): the session it was forked from and the commit it starts after; its
   * initial state is that session's state after that commit. Null (or absent) for a session that
   * starts from its scenario's initial world.
   */
  readonly parent_session_id?: string | null | undefined;
  readonly parent_commit_seq?: number | null | undefined;
}

/**
 * Schema migrations, applied in order, each in its own transaction; `PRAGMA user_version` is the
 * number applied. Never edit a shipped migration: add one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: walking skeleton
  `CREATE TABLE commits (
     commit_seq      INTEGER PRIMARY KEY,
     session_id      TEXT NOT NULL,
     turn_id         TEXT NOT NULL UNIQUE,
     final_text      TEXT NOT NULL,
     provenance_json TEXT NOT NULL,
     provenance_hash TEXT NOT NULL UNIQUE,
     committed_at    INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX commits_by_session ON commits (session_id, commit_seq);`,
  // 2: authority plane — scenarios stored by content hash, sessions, failed attempts recorded too
  `CREATE TABLE scenarios (
     content_hash TEXT PRIMARY KEY,
     scenario_id  TEXT NOT NULL,
     content_json TEXT NOT NULL
   ) STRICT;
   CREATE TABLE sessions (
     session_id         TEXT PRIMARY KEY,
     run_id             TEXT NOT NULL,
     scenario_id        TEXT NOT NULL,
     scenario_hash      TEXT NOT NULL REFERENCES scenarios (content_hash),
     npc_id             TEXT NOT NULL,
     created_at         INTEGER NOT NULL,
     initial_state_hash TEXT NOT NULL
   ) STRICT;
   ALTER TABLE commits ADD COLUMN outcome TEXT NOT NULL DEFAULT 'committed'
     CHECK (outcome IN ('committed', 'failed'));`,
  // 3: forked sessions — where a session's world starts when it is not its scenario's initial world
  `ALTER TABLE sessions ADD COLUMN parent_session_id TEXT;
   ALTER TABLE sessions ADD COLUMN parent_commit_seq INTEGER;`,
];

export const LEDGER_SCHEMA_VERSION = MIGRATIONS.length;

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

export interface LedgerOpenOptions {
  /** Open an existing ledger without writing: no migration, no pragma changes. For verify and export. */
  readonly readonly?: boolean;
}

/**
 * The authoritative record: SQLite in WAL mode with synchronous=FULL, so a commit that returned is on
 * disk. One transaction per commit attempt; sessions and scenarios are registered when a session
 * starts. Nothing else writes.
 */
export class Ledger {
  private readonly db: Database.Database;
  /** Schema version of the open file (older files can be read, not written, in read-only mode). */
  readonly schemaVersion: number;
  private readonly stmts: ReturnType<Ledger['prepare']>;
  private readonly commitTx: (input: CommitInput) => CommitReceipt;
  private readonly registerTx: (session: SessionRow, scenarioJson: string) => void;

  private constructor(
    readonly file: string,
    options: LedgerOpenOptions,
  ) {
    const readonly = options.readonly === true;
    if (readonly && !existsSync(file)) throw new LedgerError(`no ledger at ${file}`);
    if (!readonly) mkdirSync(dirname(file), { recursive: true });
    try {
      this.db = new Database(file, { readonly, fileMustExist: readonly });
    } catch (err) {
      throw new LedgerError(`cannot open ledger ${file}: ${(err as Error).message}`);
    }
    try {
      if (!readonly) {
        this.configure();
        this.migrate();
      }
      this.schemaVersion = this.db.pragma('user_version', { simple: true }) as number;
      if (readonly && this.schemaVersion === 0)
        throw new LedgerError(
          `ledger ${file} was never fully created (its creation was interrupted); it holds no commits. ` +
            'Opening it once with the runtime (npm run serve -- --data-dir ...) finishes it.',
        );
      if (this.schemaVersion > MIGRATIONS.length)
        throw new LedgerError(
          `ledger schema version ${this.schemaVersion} is newer than this build understands (${MIGRATIONS.length})`,
        );
      this.stmts = this.prepare();
    } catch (err) {
      this.db.close();
      if (err instanceof LedgerError) throw err;
      const code = (err as { code?: unknown }).code;
      // A hot rollback journal (killed mid-creation or mid-migration) needs a writer to roll back.
      if (readonly && code === 'SQLITE_READONLY_ROLLBACK')
        throw new LedgerError(
          `ledger ${file} has an interrupted write to roll back, which a read-only open cannot do. ` +
            'Opening it once with the runtime (npm run serve -- --data-dir ...) recovers it.',
        );
      throw new LedgerError(`ledger ${file}: ${(err as Error).message}`);
    }
    this.commitTx = this.db.transaction((input: CommitInput): CommitReceipt => {
      const prev = this.stmts.last.get() as { commit_seq: number; provenance_hash: string } | undefined;
      const { final_text, ...rest } = input;
      const record: ProvenanceRecord = {
        v: 2,
        ...rest,
        commit_seq: (prev?.commit_seq ?? 0) + 1,
        prev_provenance_hash: prev?.provenance_hash ?? null,
      };
      const hash = provenanceHash(record);
      this.stmts.insert.run({
        commit_seq: record.commit_seq,
        session_id: record.session_id,
        turn_id: record.turn_id,
        outcome: record.outcome,
        final_text,
        provenance_json: canonicalJson(record),
        provenance_hash: hash,
        committed_at: record.committed_at,
      });
      return { commit_seq: record.commit_seq, provenance_hash: hash, record };
    });
    this.registerTx = this.db.transaction((session: SessionRow, scenarioJson: string) => {
      this.stmts.insertScenario.run(session.scenario_hash, session.scenario_id, scenarioJson);
      this.stmts.insertSession.run({
        ...session,
        parent_session_id: session.parent_session_id ?? null,
        parent_commit_seq: session.parent_commit_seq ?? null,
      });
    });
  }

  static open(file: string, options: LedgerOpenOptions = {}): Ledger {
    return new Ledger(file, options);
  }

  private prepare() {
    const v2 = this.schemaVersion >= 2;
    const v3 = this.schemaVersion >= 3;
    // Older files (read-only opens) have no fork columns: their sessions are not forks.
    const sessionCols = `session_id, run_id, scenario_id, scenario_hash, npc_id, created_at, initial_state_hash, ${
      v3 ? 'parent_session_id, parent_commit_seq' : 'NULL AS parent_session_id, NULL AS parent_commit_seq'
    }`;
    const outcome = v2 ? 'outcome' : `'committed' AS outcome`;
    const cols = `commit_seq, session_id, turn_id, ${outcome}, final_text, provenance_json, provenance_hash, committed_at`;
    const none = this.db.prepare('SELECT NULL WHERE 0');
    return {
      insert: v2
        ? this.db.prepare(
            `INSERT INTO commits (commit_seq, session_id, turn_id, outcome, final_text, provenance_json, provenance_hash, committed_at)
             VALUES (@commit_seq, @session_id, @turn_id, @outcome, @final_text, @provenance_json, @provenance_hash, @committed_at)`,
          )
        : none,
      last: this.db.prepare(
        'SELECT commit_seq, provenance_hash FROM commits ORDER BY commit_seq DESC LIMIT 1',
      ),
      all: this.db.prepare(`SELECT ${cols} FROM commits ORDER BY commit_seq`),
      bySession: this.db.prepare(
        `SELECT ${cols} FROM commits WHERE session_id = ? AND commit_seq > ? ORDER BY commit_seq LIMIT ?`,
      ),
      byseq: this.db.prepare(`SELECT ${cols} FROM commits WHERE commit_seq = ?`),
      lastForSession: this.db.prepare('SELECT max(commit_seq) AS seq FROM commits WHERE session_id = ?'),
      count: this.db.prepare('SELECT count(*) AS n FROM commits'),
      insertScenario: v2
        ? this.db.prepare(
            'INSERT OR IGNORE INTO scenarios (content_hash, scenario_id, content_json) VALUES (?, ?, ?)',
          )
        : none,
      insertSession: v3
        ? this.db.prepare(
            `INSERT INTO sessions (session_id, run_id, scenario_id, scenario_hash, npc_id, created_at, initial_state_hash, parent_session_id, parent_commit_seq)
             VALUES (@session_id, @run_id, @scenario_id, @scenario_hash, @npc_id, @created_at, @initial_state_hash, @parent_session_id, @parent_commit_seq)`,
          )
        : none,
      session: v2 ? this.db.prepare(`SELECT ${sessionCols} FROM sessions WHERE session_id = ?`) : none,
      sessions: v2
        ? this.db.prepare(`SELECT ${sessionCols} FROM sessions ORDER BY created_at, session_id`)
        : none,
      scenario: v2 ? this.db.prepare('SELECT content_json FROM scenarios WHERE content_hash = ?') : none,
    };
  }

  /** Records a new session and (once per content hash) its scenario, in one transaction. */
  registerSession(session: SessionRow, scenarioJson: string): void {
    this.assertWritable();
    this.registerTx(session, scenarioJson);
  }

  /** Writes one commit attempt in one transaction. Returns only after SQLite has committed it durably. */
  commit(input: CommitInput): CommitReceipt {
    this.assertWritable();
    return this.commitTx(input);
  }

  private assertWritable(): void {
    if (this.db.readonly) throw new LedgerError(`ledger ${this.file} is open read-only`);
  }

  /** A session's records in commit order, after `afterSeq`, at most `limit`. */
  commitsForSession(sessionId: string, afterSeq = 0, limit = -1): CommitRow[] {
    return this.stmts.bySession.all(sessionId, afterSeq, limit) as CommitRow[];
  }

  /**
   * Every record in commit order, read lazily. The connection is busy until the iteration ends: to
   * read while the runtime writes, iterate on a separate read-only Ledger (a consistent snapshot).
   */
  *commits(): Generator<CommitRow> {
    for (const row of this.stmts.all.iterate()) yield row as CommitRow;
  }

  /** The record with this commit_seq, whatever its session. */
  commitAt(commitSeq: number): CommitRow | undefined {
    return this.stmts.byseq.get(commitSeq) as CommitRow | undefined;
  }

  lastCommitSeq(sessionId: string): number | null {
    return (this.stmts.lastForSession.get(sessionId) as { seq: number | null }).seq;
  }

  session(sessionId: string): SessionRow | undefined {
    return this.stmts.session.get(sessionId) as SessionRow | undefined;
  }

  sessions(): SessionRow[] {
    return this.stmts.sessions.all() as SessionRow[];
  }

  /** The stored canonical JSON of a scenario, by content hash. */
  scenarioJson(contentHash: string): string | undefined {
    return (this.stmts.scenario.get(contentHash) as { content_json: string } | undefined)?.content_json;
  }

  count(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }

  /** Runs SQLite's own consistency check; 'ok' when the file is sound. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private configure(): void {
    const mode = this.db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode.toLowerCase() !== 'wal') throw new LedgerError(`journal_mode is ${mode}, expected wal`);
    this.db.pragma('synchronous = FULL');
    const sync = this.db.pragma('synchronous', { simple: true }) as number;
    // 2 = FULL
    if (sync !== 2) throw new LedgerError(`synchronous is ${sync}, expected 2 (FULL)`);
    this.db.pragma('foreign_keys = ON');
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length)
      throw new LedgerError(
        `ledger schema version ${version} is newer than this build understands (${MIGRATIONS.length})`,
      );
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }
}
