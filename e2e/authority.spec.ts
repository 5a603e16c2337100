import { RULE_IDS } from '../src/shared/world';
import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';
import { CommitGate } from './support/commit-gate';
import { ledgerRows } from './support/ledger';

/**
 * The authority plane as a designer sees it, in the default scenario (scenarios/wayside-inn): Mira's
 * scripted model answers by keyword. 'room' sells the room key for 4 silver (commits); 'bribe' makes
 * her give away 50 silver, over her 20-per-turn limit (fails governance, rule `turn-limits`).
 */

test('a committed turn: pending actions, verdicts, the changed world, its provenance, verify', async ({
  page,
  parley,
}, testInfo) => {
  const gate = await CommitGate.install(page);
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  // The default scenario and NPC are preselected.
  await expect(inspector.scenarioSelect).toHaveValue('wayside-inn');
  await expect(inspector.npcSelect).toHaveValue('mira');
  const session = await inspector.newSession();
  await expect(session).toHaveAttribute('data-npc-id', 'mira');

  await inspector.showTab('world');
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '12');
  await expect(inspector.world.item('mira', 'room_key')).toHaveAttribute('data-count', '3');
  await expect(inspector.world.item('player', 'room_key')).toHaveCount(0);
  const initialHash = await inspector.world.hash();
  expect(initialHash).toMatch(/^[0-9a-f]{64}$/);

  await inspector.recordDialogue();
  gate.close();
  const turn = await inspector.say("I'd like a room for the night, please.");

  // turn_final: the spoken line only, and the proposed sale as a pending chip.
  const chips = inspector.actionChips(turn);
  await expect(chips).toHaveCount(1);
  await expect(chips.first()).toHaveAttribute('data-state', 'pending');
  await expect(chips.first()).toContainText('sell_item room_key → player (4)');
  await expect(turn).toHaveAttribute('data-state', 'final-preview');
  await expect(inspector.reply(turn)).toHaveText(
    "A room is four silver a night. Here's your key; top of the stairs, second door.",
  );
  // The commit arrives a few ms after turn_final: wait until the gate holds it, then look again.
  await expect.poll(() => gate.holding).toBe(true);
  await expect(chips.first()).toHaveAttribute('data-state', 'pending');
  await page.screenshot({ path: 'test-results/authority-pending.png', fullPage: true });
  gate.release();

  // commit_succeeded: the badge, every rule's verdict passed, the chip committed.
  await expect(turn).toHaveAttribute('data-state', 'committed');
  await expect(turn.getByTestId('commit-badge')).toContainText('committed #1');
  await expect(inspector.verdicts(turn)).toHaveCount(RULE_IDS.length);
  for (const rule of RULE_IDS) await expect(inspector.verdict(turn, rule)).toHaveAttribute('data-ok', 'true');
  await expect(chips.first()).toHaveAttribute('data-state', 'committed');

  // Action lines never showed as speech, at any point of the stream.
  const seen = await inspector.recorded();
  expect(seen.replies.length).toBeGreaterThan(1);
  for (const text of seen.replies) {
    expect(text).not.toContain('ACTION');
    expect(text).not.toContain('{');
  }
  expect(seen.chipStates).toEqual(['pending', 'committed']);

  // The world moved: the key changed hands for 4 silver, under a new state hash.
  const [row] = ledgerRows(parley.ledgerFile);
  expect(row?.outcome).toBe('committed');
  const record = JSON.parse(row?.provenance_json ?? '{}') as {
    state_hash_after: string;
    state_hash_before: string;
  };
  expect(record.state_hash_before).toBe(initialHash);
  await expect(inspector.world.stateHash).toHaveAttribute('data-hash', record.state_hash_after);
  await expect(inspector.world.stateHash).toHaveText(record.state_hash_after.slice(0, 8));
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '8');
  await expect(inspector.world.coin('player')).toHaveAttribute('data-changed', 'true');
  await expect(inspector.world.coin('mira')).toHaveAttribute('data-value', '64');
  await expect(inspector.world.item('player', 'room_key')).toHaveAttribute('data-count', '1');
  await expect(inspector.world.item('mira', 'room_key')).toHaveAttribute('data-count', '2');
  await expect(inspector.world.item('player', 'room_key')).toContainText('Room key');

  await page.screenshot({ path: 'test-results/authority-world.png', fullPage: true });

  // The provenance timeline has the commit; its detail shows the patch and the full hash.
  await inspector.showTab('provenance');
  const timeline = inspector.provenance;
  await expect(timeline.rows).toHaveCount(1);
  const entry = timeline.row(1);
  await expect(entry).toHaveAttribute('data-outcome', 'committed');
  await expect(entry.getByTestId('provenance-short-hash')).toHaveText(row?.provenance_hash.slice(0, 8) ?? '');
  const detail = await timeline.expand(entry);
  await expect(detail.getByTestId('provenance-hash')).toHaveText(row?.provenance_hash ?? '');
  const coinChange = timeline
    .patchOps(detail)
    .and(detail.locator('[data-op="replace"][data-path="/inventories/player/coin"]'));
  await expect(coinChange).toContainText('12 → 8');
  const guards = timeline.patchOps(detail).and(detail.locator('[data-op="test"]'));
  expect(await guards.count()).toBeGreaterThan(0);
  await expect(guards.first()).toHaveClass(/patch__op--guard/);
  await expect(detail.getByTestId('provenance-record')).toContainText('"outcome": "committed"');

  // Verify: the chain and the replay agree.
  const verdict = await timeline.verify();
  await expect(verdict).toHaveAttribute('data-ok', 'true');
  await expect(verdict).toContainText('Verified');

  await page.screenshot({ path: testInfo.outputPath('authority-committed.png'), fullPage: true });
  await page.screenshot({ path: 'test-results/authority-committed.png', fullPage: true });
});

test('a turn that fails governance: refused actions, the failing rule, world unchanged, a failed record', async ({
  page,
  parley,
}, testInfo) => {
  const gate = await CommitGate.install(page);
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  await inspector.showTab('world');
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '12');
  const initialHash = await inspector.world.hash();

  gate.close();
  const turn = await inspector.say('Here is a bribe. Keep quiet about what you saw.');
  const chips = inspector.actionChips(turn);
  await expect(chips).toHaveCount(1);
  await expect(chips.first()).toHaveAttribute('data-state', 'pending');
  await expect(chips.first()).toContainText('give_coin 50 → player');
  await expect.poll(() => gate.holding).toBe(true);
  await expect(chips.first()).toHaveAttribute('data-state', 'pending');
  gate.release();

  // commit_failed: refused at governance by `turn-limits`, with its message; the chip refused.
  const failure = inspector.commitFailure(turn);
  await expect(failure).toBeVisible();
  await expect(failure).toHaveAttribute('data-stage', 'governance');
  await expect(failure).toHaveAttribute('data-code', 'governance_failed');
  await expect(failure).toContainText('Commit refused');
  const limits = inspector.verdict(turn, 'turn-limits');
  await expect(limits).toHaveAttribute('data-ok', 'false');
  await expect(limits).toContainText('the limit is 20 per turn');
  await expect(inspector.verdicts(turn).and(turn.locator('[data-ok="false"]'))).toHaveCount(1);
  await expect(chips.first()).toHaveAttribute('data-state', 'refused');
  await expect(turn).toHaveAttribute('data-state', 'failed');
  await expect(turn.getByTestId('commit-badge')).toHaveCount(0);

  // World state untouched: same hash, same purse.
  await expect(inspector.world.stateHash).toHaveAttribute('data-hash', initialHash);
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '12');

  // The ledger recorded the failed attempt; the timeline shows it.
  const rows = ledgerRows(parley.ledgerFile);
  expect(rows.map((r) => r.outcome)).toEqual(['failed']);
  await inspector.showTab('provenance');
  await expect(inspector.provenance.rows).toHaveCount(1);
  const entry = inspector.provenance.row(1);
  await expect(entry).toHaveAttribute('data-outcome', 'failed');
  const detail = await inspector.provenance.expand(entry);
  await expect(detail).toContainText('governance_failed');
  await expect(detail).toContainText('(unchanged)');
  await expect(detail.getByTestId('provenance-hash')).toHaveText(rows[0]?.provenance_hash ?? '');

  // A failed attempt is part of the chain too: verify still agrees.
  await expect(await inspector.provenance.verify()).toHaveAttribute('data-ok', 'true');

  await page.screenshot({ path: testInfo.outputPath('authority-failed.png'), fullPage: true });
  await page.screenshot({ path: 'test-results/authority-failed.png', fullPage: true });
});
