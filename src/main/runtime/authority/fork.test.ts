import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionBundle } from '../../../shared/commands';
import { ACTION_PREFIX } from '../../../shared/proposals';
import { systemClock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { ScriptedBackend } from '../models/scripted-backend';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { BUILTIN_EXTENSIONS } from './builtin-extensions';
import { ExtensionManager } from './extensions';
import { Ledger } from './ledger';
import { exportSession, replayBundle, verifyLedger } from './replay';

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const extensions = () => new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock, budgetMs: 10_000 });

function reply(say: string, actions: readonly unknown[] = []): string {
  return [say, ...actions.map((a) => `${ACTION_PREFIX} ${JSON.stringify(a)}`)].join('\n');
}

const QUEST = reply('Rats, yes.', [{ kind: 'start_quest', quest: 'rat_trouble' }]);
const ROOM = reply('A room is four silver.', [
  { kind: 'sell_item', item: 'room_key', to: 'player', price: 4 },
]);
/** Refused by governance (Mira does not hold that much): a failed attempt. */
const GENEROUS = reply('Take it all.', [{ kind: 'give_coin', to: 'player', amount: 500 }]);
const STEW = reply('Stew, then.', [{ kind: 'sell_item', item: 'stew', to: 'player', count: 2, price: 2 }]);

/** A runtime whose NPC replies with `planned`, in order, one reply per turn. */
function setup() {
  const planned: string[] = [];
  t = createTestRuntime({
    backends: [
      new ScriptedBackend({ clock: systemClock, tokenIntervalMs: 0, script: () => planned.shift() ?? 'Hm.' }),
    ],
  });
  const runtime = t.runtime;
  const play = async (sessionId: string, ...replies: string[]) => {
    for (const r of replies) {
      planned.push(r);
      runtime.manager.startTurn(sessionId, 'a line');
      await runtime.manager.get(sessionId).whenIdle();
    }
  };
  return { t, runtime, play };
}

const refusal = (fn: () => unknown): RuntimeError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuntimeError) return err;
    throw err;
  }
  throw new Error('did not throw');
};

describe('session.fork', () => {
  it('starts a session from a committed turn, with its world; the original is untouched', async () => {
    const { t, runtime, play } = setup();
    const parent = t.openSession().session;
    await play(parent.id, QUEST, ROOM, GENEROUS, STEW);
    const rows = runtime.ledger.commitsForSession(parent.id);
    expect(rows.map((r) => r.outcome)).toEqual(['committed', 'committed', 'failed', 'committed']);
    const before = parent.worldState;
    const roomRecord = JSON.parse(rows[1]?.provenance_json ?? '{}') as { state_hash_after: string };

    const summary = runtime.forkSession(parent.id, 2);
    expect(summary).toMatchObject({
      scenario_id: parent.scenario.scenario.id,
      npc_id: parent.npc.id,
      forked_from: { session_id: parent.id, commit_seq: 2 },
    });
    expect(summary.session_id).not.toBe(parent.id);
    const fork = runtime.manager.get(summary.session_id);
    expect(fork.worldState.hash).toBe(roomRecord.state_hash_after);
    expect(fork.worldState.lastCommitSeq).toBeNull();
    expect(fork.worldState.state.inventories.player?.coin).toBe(8);
    expect(fork.worldState.state.inventories.player?.items.room_key).toBe(1);
    // Stew was bought after commit 2, so not in the fork.
    expect(fork.worldState.state.inventories.player?.items.stew).toBeUndefined();
    expect(runtime.ledger.session(fork.id)).toMatchObject({
      parent_session_id: parent.id,
      parent_commit_seq: 2,
      initial_state_hash: roomRecord.state_hash_after,
    });
    expect(runtime.manager.list().find((s) => s.session_id === fork.id)?.forked_from).toEqual({
      session_id: parent.id,
      commit_seq: 2,
    });

    await play(fork.id, ROOM);
    expect(fork.worldState.state.inventories.player?.coin).toBe(4);
    expect(parent.worldState).toBe(before);
  });

  it('refuses an unknown session, and a commit that is not a committed record of the session', async () => {
    const { t, runtime, play } = setup();
    const a = t.openSession().session;
    const b = t.openSession().session;
    await play(a.id, QUEST, GENEROUS);
    await play(b.id, ROOM);
    expect(refusal(() => runtime.forkSession('nobody', 1)).code).toBe('unknown_session');
    const failed = refusal(() => runtime.forkSession(a.id, 2));
    expect(failed.code).toBe('unknown_commit');
    expect(failed.message).toMatch(/failed attempt/);
    expect(refusal(() => runtime.forkSession(a.id, 3)).message).toMatch(/record of session .*s2/);
    expect(refusal(() => runtime.forkSession(a.id, 99)).message).toMatch(/no such commit/);
    expect(runtime.manager.list()).toHaveLength(2);
  });

  it('verify replays a fork from its parent up to the fork point, hash for hash (forks of forks too)', async () => {
    const { t, runtime, play } = setup();
    const parent = t.openSession().session;
    await play(parent.id, QUEST, ROOM, STEW);
    const fork = runtime.manager.get(runtime.forkSession(parent.id, 2).session_id);
    await play(fork.id, GENEROUS, STEW);
    // The parent plays on after the fork: its later records are not the fork's.
    await play(parent.id, ROOM);
    const grandchild = runtime.manager.get(runtime.forkSession(fork.id, 5).session_id);
    await play(grandchild.id, ROOM);

    const whole = await verifyLedger(runtime.ledger, { extensions: extensions() });
    expect(whole.first_divergence).toBeNull();
    for (const s of [parent, fork, grandchild]) expect(whole.state_hashes[s.id]).toBe(s.worldState.hash);

    const one = await runtime.verify(grandchild.id);
    expect(one.first_divergence).toBeNull();
    expect(one.ok).toBe(true);
    expect(one.sessions_checked).toBe(3);
    expect(one.state_hashes[grandchild.id]).toBe(grandchild.worldState.hash);
  });

  it("a tampered parent makes the fork's verify diverge", async () => {
    const { t, runtime, play } = setup();
    const parent = t.openSession().session;
    await play(parent.id, QUEST, ROOM);
    const fork = runtime.manager.get(runtime.forkSession(parent.id, 2).session_id);
    await play(fork.id, STEW);
    expect((await runtime.verify(fork.id)).ok).toBe(true);
    // Only replaying the parent notices: the records themselves (hashes, chain) are intact.
    const db = new Database(runtime.ledger.file);
    db.prepare('UPDATE sessions SET initial_state_hash = ? WHERE session_id = ?').run(
      fork.worldState.hash,
      parent.id,
    );
    db.close();
    const report = await runtime.verify(fork.id);
    expect(report.ok).toBe(false);
    expect(report.first_divergence).toMatchObject({ commit_seq: 1, session_id: parent.id, kind: 'session' });
  });

  it('a bundle of a fork carries its ancestors up to the fork point and replays on its own', async () => {
    const { t, runtime, play } = setup();
    const parent = t.openSession().session;
    await play(parent.id, QUEST, ROOM, STEW);
    const fork = runtime.manager.get(runtime.forkSession(parent.id, 2).session_id);
    await play(fork.id, STEW);
    const reader = Ledger.open(runtime.ledger.file, { readonly: true });
    const bundle = SessionBundle.parse(JSON.parse(JSON.stringify(exportSession(reader, fork.id))));
    reader.close();
    expect(bundle.version).toBe(2);
    expect(bundle.session).toMatchObject({ parent_session_id: parent.id, parent_commit_seq: 2 });
    expect(bundle.commits.map((c) => c.commit_seq)).toEqual([4]);
    expect(bundle.ancestors?.map((a) => a.session.session_id)).toEqual([parent.id]);
    expect(bundle.ancestors?.[0]?.commits.map((c) => c.commit_seq)).toEqual([1, 2]);

    const replayed = await replayBundle(bundle, { extensions: extensions() });
    expect(replayed.first_divergence).toBeNull();
    expect(replayed.state_hashes[fork.id]).toBe(fork.worldState.hash);
    expect(replayed.states.get(fork.id)).toEqual(fork.worldState.state);

    // Without its ancestors the fork cannot start: named, not silently replayed from the scenario.
    const orphan = structuredClone(bundle);
    delete orphan.ancestors;
    expect((await replayBundle(orphan, { extensions: extensions() })).first_divergence).toMatchObject({
      commit_seq: 4,
      kind: 'session',
    });
    // A doctored ancestor record is caught at that record.
    const doctored = structuredClone(bundle);
    const second = doctored.ancestors?.[0]?.commits[1];
    if (second === undefined) throw new Error('no ancestor record');
    second.final_text = 'I never sold a room.';
    expect((await replayBundle(doctored, { extensions: extensions() })).first_divergence).toMatchObject({
      commit_seq: 2,
      kind: 'text_hash',
    });
    // An unforked session's bundle stays version 1, without ancestors.
    expect(exportSession(runtime.ledger, parent.id)).toMatchObject({ version: 1 });
    expect(exportSession(runtime.ledger, parent.id).ancestors).toBeUndefined();
  });
});
