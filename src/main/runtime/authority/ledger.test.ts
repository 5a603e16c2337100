import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, hashCanonical, sha256Hex } from '../core/hash';
import { Ledger, LEDGER_SCHEMA_VERSION, LedgerError, type CommitInput } from './ledger';
import { provenanceHash, type ProvenanceRecord } from './provenance';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-ledger-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const STATE = sha256Hex('state');

function input(turn: string, text: string): CommitInput {
  return {
    outcome: 'committed',
    run_id: 'r',
    session_id: 's1',
    turn_id: turn,
    npc_id: 'mira',
    scenario: { id: 'sc', content_hash: sha256Hex('scenario') },
    model: { backend: 'scripted', model_id: 'm' },
    model_content_hash: sha256Hex('m'),
    sampling: { temperature: 0.7, top_p: 0.95, max_tokens: 16, seed: 1 },
    prompt_hash: sha256Hex('p'),
    player_text_hash: sha256Hex('hi'),
    final_text_hash: sha256Hex(text),
    token_count: 3,
    proposals: [],
    proposal_errors: [],
    agent_envelopes: [],
    verdicts: [],
    patch: [],
    state_hash_before: STATE,
    state_hash_after: STATE,
    failure: null,
    committed_at: 1000,
    final_text: text,
  };
}

/** The walking skeleton's schema (migration 1) and one of its records, as a real v1 file holds them. */
function writeV1Ledger(file: string): string {
  const db = new Database(file);
  db.exec(`CREATE TABLE commits (
     commit_seq INTEGER PRIMARY KEY, session_id TEXT NOT NULL, turn_id TEXT NOT NULL UNIQUE,
     final_text TEXT NOT NULL, provenance_json TEXT NOT NULL, provenance_hash TEXT NOT NULL UNIQUE,
     committed_at INTEGER NOT NULL) STRICT;
   CREATE INDEX commits_by_session ON commits (session_id, commit_seq);`);
  db.pragma('user_version = 1');
  const record = {
    v: 1,
    commit_seq: 1,
    prev_provenance_hash: null,
    run_id: 'old',
    session_id: 'old.s1',
    turn_id: 'old.s1.t1',
    npc_id: 'mira',
    model: { backend: 'scripted', model_id: 'scripted-innkeeper' },
    model_content_hash: sha256Hex('m'),
    sampling: { temperature: 0.7, top_p: 0.95, max_tokens: 256, seed: 1 },
    prompt_hash: sha256Hex('p'),
    player_text_hash: sha256Hex('hi'),
    final_text_hash: sha256Hex('Welcome.'),
    token_count: 1,
    committed_at: 5,
  };
  const hash = hashCanonical(record);
  db.prepare('INSERT INTO commits VALUES (1, ?, ?, ?, ?, ?, 5)').run(
    'old.s1',
    'old.s1.t1',
    'Welcome.',
    canonicalJson(record),
    hash,
  );
  db.close();
  return hash;
}

describe('Ledger', () => {
  it('opens in WAL mode with synchronous=FULL and a versioned schema', () => {
    const file = join(dir, 'l.sqlite');
    Ledger.open(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(LEDGER_SCHEMA_VERSION);
    db.close();
  });

  it('chains provenance hashes and numbers commits from 1, durably across reopen', () => {
    const file = join(dir, 'l.sqlite');
    const a = Ledger.open(file);
    const r1 = a.commit(input('t1', 'one'));
    const r2 = a.commit(input('t2', 'two'));
    a.close();
    expect([r1.commit_seq, r2.commit_seq]).toEqual([1, 2]);
    expect(r2.record.prev_provenance_hash).toBe(r1.provenance_hash);
    const b = Ledger.open(file);
    const rows = b.commitsForSession('s1');
    expect(rows.map((r) => r.final_text)).toEqual(['one', 'two']);
    for (const row of rows) {
      const record = JSON.parse(row.provenance_json) as ProvenanceRecord;
      expect(row.provenance_json).toBe(canonicalJson(record));
      expect(provenanceHash(record)).toBe(row.provenance_hash);
    }
    expect(b.commit(input('t3', 'three')).record.prev_provenance_hash).toBe(r2.provenance_hash);
    b.close();
  });

  it('writes nothing when a commit fails inside its transaction', () => {
    const ledger = Ledger.open(join(dir, 'l.sqlite'));
    ledger.commit(input('t1', 'one'));
    expect(() => ledger.commit(input('t1', 'again'))).toThrow(/UNIQUE/);
    expect(ledger.count()).toBe(1);
    ledger.close();
  });

  it('refuses a file that is not a SQLite database with a clear error', () => {
    const file = join(dir, 'broken.sqlite');
    writeFileSync(file, 'this is not a database, just text that is long enough to be a header');
    expect(() => Ledger.open(file)).toThrow(LedgerError);
    expect(() => Ledger.open(file)).toThrow(/broken\.sqlite/);
  });

  it('migrates a walking-skeleton (schema 1) ledger in place and chains new records onto it', () => {
    const file = join(dir, 'v1.sqlite');
    const oldHash = writeV1Ledger(file);
    const readonly = Ledger.open(file, { readonly: true });
    expect(readonly.schemaVersion).toBe(1);
    expect([...readonly.commits()].map((r) => r.outcome)).toEqual(['committed']);
    expect(() => readonly.commit(input('t1', 'x'))).toThrow(/read-only/);
    readonly.close();
    const ledger = Ledger.open(file);
    expect(ledger.schemaVersion).toBe(LEDGER_SCHEMA_VERSION);
    const rows = [...ledger.commits()];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'committed', provenance_hash: oldHash, final_text: 'Welcome.' });
    const next = ledger.commit(input('t1', 'after migration'));
    expect(next.commit_seq).toBe(2);
    expect(next.record.prev_provenance_hash).toBe(oldHash);
    ledger.close();
  });

  it('records sessions with their scenario once per content hash, and reads them back', () => {
    const ledger = Ledger.open(join(dir, 'l.sqlite'));
    const session = {
      session_id: 's1',
      run_id: 'r',
      scenario_id: 'sc',
      scenario_hash: sha256Hex('scenario'),
      npc_id: 'mira',
      created_at: 1,
      initial_state_hash: STATE,
    };
    ledger.registerSession(session, '{"id":"sc"}');
    ledger.registerSession({ ...session, session_id: 's2' }, '{"id":"sc"}');
    expect(ledger.session('s2')).toEqual({
      ...session,
      session_id: 's2',
      parent_session_id: null,
      parent_commit_seq: null,
    });
    ledger.registerSession(
      { ...session, session_id: 's3', parent_session_id: 's1', parent_commit_seq: 4 },
      '{}',
    );
    expect(ledger.session('s3')).toMatchObject({ parent_session_id: 's1', parent_commit_seq: 4 });
    expect(ledger.sessions().map((s) => s.session_id)).toEqual(['s1', 's2', 's3']);
    expect(ledger.scenarioJson(sha256Hex('scenario'))).toBe('{"id":"sc"}');
    expect(() => {
      ledger.registerSession(session, '{}');
    }).toThrow(/UNIQUE/);
    ledger.close();
  });

  it('a read-only open of a ledger whose creation was interrupted says so; a normal open finishes it', () => {
    const file = join(dir, 'half.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.close();
    expect(() => Ledger.open(file, { readonly: true })).toThrow(/never fully created/);
    const ledger = Ledger.open(file);
    expect(ledger.count()).toBe(0);
    ledger.close();
    const reader = Ledger.open(file, { readonly: true });
    expect(reader.schemaVersion).toBe(LEDGER_SCHEMA_VERSION);
    reader.close();
  });

  it('reads a schema 2 ledger (no fork columns) read-only as unforked, and migrates it keeping its rows', () => {
    const file = join(dir, 'v2.sqlite');
    const session = {
      session_id: 's1',
      run_id: 'r',
      scenario_id: 'sc',
      scenario_hash: sha256Hex('scenario'),
      npc_id: 'mira',
      created_at: 1,
      initial_state_hash: STATE,
    };
    const writer = Ledger.open(file);
    writer.registerSession(session, '{"id":"sc"}');
    writer.close();
    // Back to schema 2 as a build before forks wrote it.
    const db = new Database(file);
    db.exec(
      'ALTER TABLE sessions DROP COLUMN parent_session_id; ALTER TABLE sessions DROP COLUMN parent_commit_seq',
    );
    db.pragma('user_version = 2');
    db.close();
    const reader = Ledger.open(file, { readonly: true });
    expect(reader.schemaVersion).toBe(2);
    expect(reader.session('s1')).toEqual({ ...session, parent_session_id: null, parent_commit_seq: null });
    reader.close();
    const migrated = Ledger.open(file);
    expect(migrated.schemaVersion).toBe(LEDGER_SCHEMA_VERSION);
    expect(migrated.sessions()).toEqual([{ ...session, parent_session_id: null, parent_commit_seq: null }]);
    migrated.close();
  });

  it('refuses a ledger from a newer schema version', () => {
    const file = join(dir, 'new.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => Ledger.open(file)).toThrow(/schema version 99 is newer/);
  });
});

describe('canonical hashing', () => {
  it('is independent of key order and matches RFC 8785 form', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(hashCanonical({ b: 1, a: 2 })).toBe(hashCanonical({ a: 2, b: 1 }));
    expect(hashCanonical({ a: 1 })).toBe(sha256Hex('{"a":1}'));
  });
});
