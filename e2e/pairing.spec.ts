import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';

/** The connection file serve writes next to the ledger (owner-only; the token's only home). */
function launchToken(dataDir: string): string {
  return (JSON.parse(readFileSync(join(dataDir, 'connection.json'), 'utf8')) as { token: string }).token;
}

test('the printed link pairs one browser tab; the token never shows in an address; a used link says what to do', async ({
  page,
  parley,
  chromiumBrowser,
}) => {
  const token = launchToken(parley.dataDir);
  expect(parley.url).not.toContain(token);
  const upgrades: string[] = [];
  page.on('websocket', (ws) => upgrades.push(ws.url()));

  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  expect(page.url()).not.toContain('pair=');
  expect(page.url()).not.toContain(token);

  // A reload reconnects with the token the pairing returned (kept in this tab's sessionStorage).
  await page.reload();
  await expect(inspector.connection).toHaveAttribute('data-state', 'connected');
  await inspector.newSession();
  expect(upgrades.length).toBeGreaterThanOrEqual(2);
  for (const url of upgrades) expect(url).not.toContain(token);

  // Someone else opening the same link later (from a log, a screenshot) is refused, with the way out.
  const other = await chromiumBrowser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto(parley.url);
  const status = otherPage.getByTestId('connection-status');
  await expect(status).toHaveAttribute('data-state', 'closed');
  await expect(status).toContainText('already used or expired');
  await expect(status).toContainText('npm run pair');
  await other.close();
});
