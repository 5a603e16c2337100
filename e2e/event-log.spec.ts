import { expect, test } from './fixtures';
import { EventLogPanel } from './pages/event-log';
import { InspectorPage } from './pages/inspector';
import { dropEvents } from './support/drop-events';

test('filter the event log, read a payload and export the rows shown', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  const log = new EventLogPanel(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  const turn = await inspector.say('Good evening. Any rooms free tonight?');
  await expect(turn).toHaveAttribute('data-state', 'committed');
  await expect(log.row('commit_succeeded')).toHaveCount(1);
  const total = await log.totalCount();
  await log.expectShown(total);

  // Class: only authoritative rows remain, and fewer of them than all.
  await log.classFilter.selectOption('authoritative');
  await expect.poll(() => log.shownCount()).toBeLessThan(total);
  expect(new Set(await log.rowValues('data-class'))).toEqual(new Set(['authoritative']));

  // Type on top of class: the one commit; its payload opens below the list, pretty-printed.
  await log.typeFilter.selectOption('commit_succeeded');
  await log.expectShown(1);
  await log.row('commit_succeeded').click();
  await expect(log.row('commit_succeeded')).toHaveAttribute('aria-selected', 'true');
  await expect(log.payload).toBeVisible();
  await expect(log.payload).toContainText('"commit_seq": 1');
  await expect(log.payload).toContainText('"provenance_hash": ');
  await page.screenshot({ path: 'test-results/event-log-payload.png' });

  // Clear: everything again.
  await log.clearButton.click();
  await log.expectShown(total);

  // Turn: the turn's rows, not the session-level ones.
  const turnId = (await log.row('turn_accepted').getAttribute('data-turn')) ?? '';
  await log.turnFilter.selectOption(turnId);
  expect(await log.shownCount()).toBeLessThan(total);
  expect(new Set(await log.rowValues('data-turn'))).toEqual(new Set([turnId]));
  await log.clearButton.click();

  // Text search reads the payloads, not just the types: the player's line finds its ACK.
  await log.search.fill('rooms free');
  await expect(log.rows).toHaveCount(1);
  await expect(log.row('turn_accepted')).toHaveCount(1);
  await log.search.fill('');
  await log.expectShown(total);

  // Export visible: the telemetry rows shown, as a JSON file.
  await log.classFilter.selectOption('telemetry');
  const shown = await log.shownCount();
  const { download, json } = await log.exportVisible();
  expect(download.suggestedFilename()).toMatch(/^parley-.+-events\.json$/);
  expect(json.count).toBe(shown);
  expect(json.events).toHaveLength(shown);
  expect(new Set(json.events.map((e) => e.class))).toEqual(new Set(['telemetry']));
  expect(json.filter).toMatchObject({ eventClass: 'telemetry' });
  expect(json.events.some((e) => e.type === 'token_delta')).toBe(true);
});

test('a seq gap in the stream is marked on the row after it', async ({ page, parley }) => {
  // Lose two tokens on the way to the page, as a dropped frame would.
  await dropEvents(page, (e) => {
    const index = (e.payload as { index?: unknown } | null)?.index;
    return e.type === 'token_delta' && (index === 2 || index === 3);
  });
  const inspector = new InspectorPage(page);
  const log = new EventLogPanel(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  const turn = await inspector.say('Good evening. Any rooms free tonight?');
  await expect(turn).toHaveAttribute('data-state', 'committed');

  await expect(log.root).toHaveAttribute('data-gaps', '1');
  await expect(page.getByTestId('log-gap-count')).toContainText('1 seq gap (2 missing)');
  await log.typeFilter.selectOption('token_delta');
  await expect(log.gaps).toHaveCount(1);
  const marked = log.root.locator('[data-testid="event-row"][data-gap="2"]');
  await expect(marked).toHaveCount(1);
  await marked.click();
  await expect(log.payload).toContainText('"index": 4');
});
