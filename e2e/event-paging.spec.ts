import { expect, test } from './fixtures';
import { EventLogPanel } from './pages/event-log';
import { InspectorPage } from './pages/inspector';
import { dropEvents } from './support/drop-events';

/**
 * The log holds fewer events than the session published (here: its first events lost on the way, as a
 * late start would; eviction past `LOG_CAPACITY` takes 5,000 events): "Load older events" pages them
 * from the runtime's buffer (`session.events`) and shows them above the live rows.
 */
test('load older events from the runtime into the log, above the live rows', async ({ page, parley }) => {
  await dropEvents(page, (e) => e.seq <= 2);
  const inspector = new InspectorPage(page);
  const log = new EventLogPanel(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  const turn = await inspector.say('Good evening. Any rooms free tonight?');
  await expect(turn).toHaveAttribute('data-state', 'committed');
  await expect(log.row('commit_succeeded')).toHaveCount(1);
  const live = await log.totalCount();

  const loadOlder = page.getByTestId('log-load-older');
  await expect(loadOlder).toBeVisible();
  await expect(loadOlder).toHaveText('Load older events');
  await loadOlder.click();

  // Seqs 1 and 2 arrive as older rows; the runtime has nothing before them, so the button goes.
  await expect(page.getByTestId('log-older-count')).toHaveText(' · 2 older loaded');
  await expect(loadOlder).toHaveCount(0);
  await expect(log.root).toHaveAttribute('data-total', String(live + 2));
  // The list sticks to the bottom; the older rows are at the top (the list is virtualized).
  await log.root.getByRole('table', { name: 'Events' }).evaluate('(el) => { el.scrollTop = 0; }');
  const older = log.root.locator('[data-testid="event-row"][data-older="true"]');
  await expect(older).toHaveCount(2);
  await expect(older.nth(0)).toHaveAttribute('data-seq', '1');
  await expect(older.nth(1)).toHaveAttribute('data-seq', '2');
  await expect(log.rows.first()).toHaveAttribute('data-seq', '1');
  await page.screenshot({ path: 'test-results/event-paging.png' });
});
