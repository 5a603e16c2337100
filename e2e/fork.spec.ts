import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';

/**
 * Forking a session from a committed turn, in the default scenario (scenarios/wayside-inn): Mira's
 * scripted model sells the room key for 4 silver whenever the player mentions a room.
 */

test('fork from a committed turn: same world, plays on, the original untouched, verify ok', async ({
  page,
  parley,
}) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  const original = await inspector.newSession();
  const originalId = await original.getAttribute('data-session-id');
  if (originalId === null) throw new Error('the session item names no session');

  const turn = await inspector.say('I need a room for the night.');
  await expect(turn).toHaveAttribute('data-state', 'committed');
  await expect(turn.getByTestId('commit-badge')).toContainText('committed #1');
  await inspector.showTab('world');
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '8');
  const afterCommit = await inspector.world.hash();

  const fork = turn.getByRole('button', { name: 'Fork from here' });
  await expect(fork).toHaveAttribute('data-testid', 'fork');
  await fork.click();

  // The new session is listed after the original, selected, and says where it comes from.
  const sessions = page.getByTestId('session-item');
  await expect(sessions).toHaveCount(2);
  const forked = sessions.nth(1);
  await expect(forked).toHaveAttribute('aria-current', 'true');
  await expect(original).toHaveAttribute('aria-current', 'false');
  await expect(forked).toHaveAttribute('data-forked-from', originalId);
  await expect(forked).toHaveAttribute('data-npc-id', 'mira');
  await expect(forked).toHaveAttribute('data-scenario-id', 'wayside-inn');
  const origin = forked.getByTestId('forked-from');
  await expect(origin).toContainText('forked from');
  await expect(origin).toContainText(originalId.slice(-8));
  await expect(origin).toContainText('#1');

  // Its world is exactly the world after commit #1; no turns of its own yet.
  await expect(inspector.turns).toHaveCount(0);
  await expect(inspector.world.stateHash).toHaveAttribute('data-hash', afterCommit);
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '8');
  await expect(inspector.world.coin('mira')).toHaveAttribute('data-value', '64');
  await expect(inspector.world.item('player', 'room_key')).toHaveAttribute('data-count', '1');

  // It plays on from there.
  const next = await inspector.say('I need a room for the night.');
  await expect(next).toHaveAttribute('data-state', 'committed');
  await expect(next.getByTestId('commit-badge')).toContainText('committed #2');
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '4');
  await expect(inspector.world.item('player', 'room_key')).toHaveAttribute('data-count', '2');

  // Verify replays the fork from its parent's records: ok.
  await inspector.showTab('provenance');
  await expect(inspector.provenance.row(2)).toBeVisible();
  await expect(await inspector.provenance.verify()).toHaveAttribute('data-ok', 'true');

  // The original session is untouched.
  await original.click();
  await expect(original).toHaveAttribute('aria-current', 'true');
  await expect(inspector.turns).toHaveCount(1);
  await inspector.showTab('world');
  await expect(inspector.world.stateHash).toHaveAttribute('data-hash', afterCommit);
  await expect(inspector.world.coin('player')).toHaveAttribute('data-value', '8');
  await expect(inspector.world.item('player', 'room_key')).toHaveAttribute('data-count', '1');
});
