import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, hashCanonical, sha256Hex } from '../core/hash';
import { Ledger, LedgerError, type CommitInput } from './ledger';
import { provenanceHash, type ProvenanceRecord } from './provenance';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-ledger-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function input(turn: string, text: string): CommitInput {
  return {
    run_id: 'r',
    session_id: 's1',
    turn_id: turn,
    npc_id: 'mira',
    model: { backend: 'scripted', model_id: 'm' },
    model_content_hash: sha256Hex('m'),
    sampling: { temperature: 0.7, top_p: 0.95, max_tokens: 16, seed: 1 },
    prompt_hash: sha256Hex('p'),
    player_text_hash: sha256Hex('hi'),
    final_text_hash: sha256Hex(text),
    token_count: 3,
    committed_at: 1000,
    final_text: text,
  };
}

describe('Ledger', () => {
  it('opens in WAL mode with synchronous=FULL and a versioned schema', () => {
    const file = join(dir, 'l.sqlite');
    Ledger.open(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
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
