import { spokenPart } from '../src/shared/proposals';
import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';
import { ledgerRows } from './support/ledger';

test('type a line, watch the reply stream as a preview, see it committed to the ledger', async ({
  page,
  parley,
}, testInfo) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  // The pairing code left the address bar.
  expect(page.url()).not.toContain('pair=');
  await inspector.newSession();
  const turn = await inspector.say('Good evening. Any rooms free tonight?');
  const reply = inspector.reply(turn);

  // Streaming: partial text shown as a preview before anything is committed.
  await expect(turn).toHaveAttribute('data-state', 'streaming');
  await expect(reply).toHaveAttribute('data-preview', 'true');
  await expect(reply).not.toHaveText('');
  const partial = (await reply.textContent()) ?? '';

  await expect(turn).toHaveAttribute('data-state', 'committed');
  await expect(turn.getByTestId('commit-badge')).toContainText('committed #1');
  const committed = (await reply.textContent()) ?? '';
  expect(committed.length).toBeGreaterThan(partial.length);
  expect(committed.startsWith(partial.trim().slice(0, 10))).toBe(true);

  // The ledger on disk holds the whole model output; what the inspector shows is its spoken part.
  const rows = ledgerRows(parley.ledgerFile);
  expect(rows).toHaveLength(1);
  expect(spokenPart(rows[0]?.final_text ?? '')).toBe(committed.trim());
  expect(committed).not.toContain('ACTION');
  await expect(turn.getByTestId('commit-badge')).toContainText(
    rows[0]?.provenance_hash.slice(0, 8) ?? 'missing',
  );

  // The event log saw the whole turn.
  await expect(inspector.eventLog).toHaveAttribute('data-count', /^[1-9]\d+$/);
  await page.screenshot({ path: testInfo.outputPath('committed.png'), fullPage: true });
  await page.screenshot({ path: 'test-results/inspector-committed.png', fullPage: true });
});

test('cancel mid-stream: the turn shows cancelled and nothing is committed', async ({
  page,
  parley,
}, testInfo) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  await inspector.newSession();

  // Cancel with the button.
  const first = await inspector.say('Tell me everything about the north road.');
  await expect(inspector.reply(first)).not.toHaveText('');
  await expect(inspector.cancelButton).toBeEnabled();
  await inspector.cancelButton.click();
  await expect(first).toHaveAttribute('data-state', 'cancelled');
  await expect(first.getByTestId('turn-status')).toContainText(/cancel/i);
  await expect(first.getByTestId('commit-badge')).toHaveCount(0);

  // Cancel with Esc.
  const second = await inspector.say('And the bandits?');
  await expect(inspector.reply(second)).not.toHaveText('');
  await page.keyboard.press('Escape');
  await expect(second).toHaveAttribute('data-state', 'cancelled');

  // Give a stray late token or commit every chance to show up, then check nothing did.
  const cancelledText = (await inspector.reply(second).textContent()) ?? '';
  await page.waitForTimeout(500);
  expect((await inspector.reply(second).textContent()) ?? '').toBe(cancelledText);
  expect(ledgerRows(parley.ledgerFile)).toHaveLength(0);
  await page.screenshot({ path: testInfo.outputPath('cancelled.png'), fullPage: true });
  await page.screenshot({ path: 'test-results/inspector-cancelled.png', fullPage: true });
});
