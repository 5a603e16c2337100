import { expect, test } from './fixtures';
import { EventLogPanel } from './pages/event-log';
import { InspectorPage } from './pages/inspector';
import { ledgerRows } from './support/ledger';

/**
 * The layout of issue 7: Retry on a turn that did not commit, unread activity in the sessions
 * sidebar, and the Admissions, Settings and Rollout gates tabs. Default scenario (wayside-inn, Mira).
 */

const ROOM = 'Good evening. Any rooms free tonight?';

test('Retry after a cancel sends the same line again, and it commits', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  await inspector.newSession();

  const cancelled = await inspector.say(ROOM);
  await expect(inspector.reply(cancelled)).not.toHaveText('');
  // While the turn runs there is nothing to retry.
  await expect(inspector.retryButton(cancelled)).toHaveCount(0);
  await inspector.cancelButton.click();
  await expect(cancelled).toHaveAttribute('data-state', 'cancelled');

  const retry = inspector.retryButton(cancelled);
  await expect(retry).toHaveAttribute('data-testid', 'retry');
  await expect(retry).toBeEnabled();
  await retry.click();
  await expect(inspector.turns).toHaveCount(2);
  const again = inspector.turns.nth(1);
  await expect(again.getByTestId('player-line')).toHaveText(ROOM);
  // Disabled while the new turn runs.
  await expect(retry).toBeDisabled();
  await expect(again).toHaveAttribute('data-state', 'committed');
  await expect(again.getByTestId('commit-badge')).toContainText('committed #1');
  await expect(retry).toBeEnabled();
  await expect(inspector.retryButton(again)).toHaveCount(0);
});

test('a session’s turn committing in the background shows an unread badge until selected', async ({
  page,
  parley,
}) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  const first = await inspector.newSession();
  const turn = await inspector.say(ROOM);
  const turnId = await turn.getAttribute('data-turn-id');

  const second = await inspector.newSession();
  await expect(second).toHaveAttribute('aria-current', 'true');
  await expect(inspector.unreadBadge(second)).toHaveCount(0);
  // The first session's turn goes on and commits while the second is selected.
  await expect.poll(() => ledgerRows(parley.ledgerFile).map((r) => r.turn_id)).toEqual([turnId]);
  const badge = inspector.unreadBadge(first);
  await expect(badge).toBeVisible();
  // At least the turn's `turn_final` and its commit arrived unseen.
  await expect.poll(async () => Number(await badge.getAttribute('data-count'))).toBeGreaterThanOrEqual(2);
  await expect(first).toHaveAccessibleName(/\d+ new events/);
  await page.screenshot({ path: 'test-results/unread-badge.png' });

  await first.click();
  await expect(first).toHaveAttribute('aria-current', 'true');
  await expect(badge).toHaveCount(0);
  await expect(first).not.toHaveAccessibleName(/new event/);
  await expect(inspector.turns.first()).toHaveAttribute('data-state', 'committed');
});

test('the Admissions tab lists a session’s admissions across turns, newest first, by agent', async ({
  page,
  parley,
}) => {
  const inspector = new InspectorPage(page);
  const { admissions, agents } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();

  // SHADOW first: lore is admitted by policy but not run.
  const shadow = await inspector.say('Is the coach running today?');
  await expect(shadow).toHaveAttribute('data-state', 'committed');
  await inspector.showTab('agents');
  await agents.pilot('lore');
  const pilot = await inspector.say('Is the coach running today?');
  await expect(pilot).toHaveAttribute('data-state', 'committed');

  await inspector.showTab('admissions');
  await expect(admissions.entry('lore', 2)).toHaveAttribute('data-mode', 'pilot');
  await expect(admissions.entry('lore', 2)).toHaveAttribute('data-execution-accepted', 'true');
  await expect(admissions.entry('lore', 1)).toHaveAttribute('data-mode', 'shadow');
  await expect(admissions.entry('lore', 1)).toHaveAttribute('data-execution-accepted', 'false');
  await expect(admissions.entry('lore', 1)).toHaveAttribute('data-divergent', 'true');
  // Newest turn first.
  await expect(admissions.entries.first()).toHaveAttribute('data-turn', '2');
  await expect(admissions.entries.last()).toHaveAttribute('data-turn', '1');
  const total = await admissions.entries.count();
  expect(total).toBeGreaterThan(2);

  await admissions.filter('lore');
  await expect(admissions.entries).toHaveCount(2);
  await expect(admissions.panel).toHaveAttribute('data-total', String(total));
  await page.screenshot({ path: 'test-results/admissions-filtered.png' });
  await admissions.filter(null);
  await expect(admissions.entries).toHaveCount(total);
});

test('Settings changes the overflow policy; the session keeps streaming', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  const { settings } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();
  await inspector.showTab('settings');
  await expect(settings.subscription).toHaveAttribute('data-policy', 'drop_telemetry');
  await expect(settings.policy).toHaveValue('drop_telemetry');

  await settings.setPolicy('fail');
  await expect(settings.policy).toHaveValue('fail');
  const turn = await inspector.say(ROOM);
  await expect(turn).toHaveAttribute('data-state', 'committed');
  await expect(inspector.reply(turn)).not.toHaveText('');
  // Every event of the turn reached the log exactly once across the resubscription.
  await inspector.showTab('events');
  const log = new EventLogPanel(page);
  await expect(log.row('commit_succeeded')).toHaveCount(1);
  await expect(log.root).toHaveAttribute('data-gaps', '0');

  // The policy outlives switching tabs, and back to the default works too.
  await inspector.showTab('settings');
  await expect(settings.subscription).toHaveAttribute('data-policy', 'fail');
  await settings.setPolicy('drop_telemetry');
  const next = await inspector.say('And some bread?');
  await expect(next).toHaveAttribute('data-state', /committed|failed/);
});
