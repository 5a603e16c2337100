import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson } from '../core/hash';
import { provenanceHash, type ProvenanceRecord } from './provenance';

/** What a turn commits: everything in the provenance record except what the ledger assigns. */
export type CommitInput = Omit<ProvenanceRecord, 'v' | 'commit_seq' | 'prev_provenance_hash'> & {
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
  readonly final_text: string;
  readonly provenance_json: string;
  readonly provenance_hash: string;
  readonly committed_at: number;
}

/** Schema migrations, applied in order; `PRAGMA user_version` is the number applied. */
const MIGRATIONS: readonly string[] = [
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
];

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

/**
 * The authoritative record: SQLite in WAL mode with synchronous=FULL, so a commit that returned is on
 * disk. One transaction per commit; nothing else writes.
 */
export class Ledger {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly last: Database.Statement<[], { commit_seq: number; provenance_hash: string }>;
  private readonly bySession: Database.Statement<[string], CommitRow>;
  private readonly commitTx: (input: CommitInput) => CommitReceipt;

  private constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    try {
      this.db = new Database(file);
    } catch (err) {
      throw new LedgerError(`cannot open ledger ${file}: ${(err as Error).message}`);
    }
    try {
      this.configure();
      this.migrate();
    } catch (err) {
      this.db.close();
      throw err instanceof LedgerError ? err : new LedgerError(`ledger ${file}: ${(err as Error).message}`);
    }
    this.insert = this.db.prepare(
      `INSERT INTO commits (commit_seq, session_id, turn_id, final_text, provenance_json, provenance_hash, committed_at)
       VALUES (@commit_seq, @session_id, @turn_id, @final_text, @provenance_json, @provenance_hash, @committed_at)`,
    );
    this.last = this.db.prepare(
      'SELECT commit_seq, provenance_hash FROM commits ORDER BY commit_seq DESC LIMIT 1',
    );
    this.bySession = this.db.prepare('SELECT * FROM commits WHERE session_id = ? ORDER BY commit_seq');
    this.commitTx = this.db.transaction((input: CommitInput): CommitReceipt => {
      const prev = this.last.get();
      const { final_text, ...rest } = input;
      const record: ProvenanceRecord = {
        v: 1,
        ...rest,
        commit_seq: (prev?.commit_seq ?? 0) + 1,
        prev_provenance_hash: prev?.provenance_hash ?? null,
      };
      const hash = provenanceHash(record);
      this.insert.run({
        commit_seq: record.commit_seq,
        session_id: record.session_id,
        turn_id: record.turn_id,
        final_text,
        provenance_json: canonicalJson(record),
        provenance_hash: hash,
        committed_at: record.committed_at,
      });
      return { commit_seq: record.commit_seq, provenance_hash: hash, record };
    });
  }

  static open(file: string): Ledger {
    return new Ledger(file);
  }

  /** Writes one commit in one transaction. Returns only after SQLite has committed it durably. */
  commit(input: CommitInput): CommitReceipt {
    return this.commitTx(input);
  }

  commitsForSession(sessionId: string): CommitRow[] {
    return this.bySession.all(sessionId);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM commits').get() as { n: number }).n;
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
