import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { EventLogPanel } from './pages/event-log';
import { InspectorPage, SIDE_TABS, type SideTab } from './pages/inspector';

/** Written every run (Playwright empties `test-results` first), so the views can be looked at after CI. */
const VIEWS_DIR = join('test-results', 'views');

test('each main view after one committed turn, screenshotted', async ({ page, parley }) => {
  mkdirSync(VIEWS_DIR, { recursive: true });
  const shot = async (name: string) => {
    await page.screenshot({ path: join(VIEWS_DIR, `${name}.png`) });
  };
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  const turn = await inspector.say('Good evening. Any rooms free tonight?');
  await expect(turn).toHaveAttribute('data-state', 'committed');

  // Dialogue: the committed reply, its actions and verdicts.
  await expect(inspector.reply(turn)).not.toHaveText('');
  await expect(turn.getByTestId('commit-badge')).toContainText('committed #1');
  await expect(inspector.actionChips(turn).first()).toHaveAttribute('data-state', 'committed');
  await shot('dialogue');

  // Every side tab shows what it is for: checked before its screenshot is written.
  const expectations: Record<SideTab, () => Promise<void>> = {
    events: async () => {
      const log = new EventLogPanel(page);
      await expect(log.row('commit_succeeded')).toHaveCount(1);
      await expect(log.row('turn_accepted')).toHaveCount(1);
    },
    world: async () => {
      await expect(inspector.world.stateHash).not.toHaveAttribute('data-hash', '');
      await expect(inspector.world.inventory('player')).toBeVisible();
    },
    provenance: async () => {
      await expect(inspector.provenance.rows).toHaveCount(1);
    },
    agents: async () => {
      await expect(inspector.agents.modeToggle).toBeVisible();
      await expect(inspector.agents.pressureLevel).toBeVisible();
      // The gates have their own tab now.
      await expect(page.getByTestId('rollout-gate')).toHaveCount(0);
    },
    admissions: async () => {
      // The admission of the turn (in SHADOW mode, as the runtime starts), whatever it planned.
      await expect(inspector.admissions.panel).toHaveAttribute('data-total', /^\d+$/);
      await expect(inspector.admissions.agentFilter).toBeVisible();
    },
    settings: async () => {
      await expect(inspector.settings.subscription).toHaveAttribute('data-policy', 'drop_telemetry');
      await expect(inspector.settings.subscription).toHaveAttribute('data-phase', 'subscribed');
      await expect(inspector.settings.connection).toHaveAttribute('data-state', 'connected');
    },
    gates: async () => {
      await expect(page.getByTestId('rollout-gate').first()).toBeVisible();
    },
    models: async () => {
      await expect(page.getByTestId('pool-model').first()).toBeVisible();
      await expect(inspector.models.npcSetting('mira')).toBeVisible();
    },
    charts: async () => {
      await expect(page.getByTestId('charts')).toHaveAttribute('data-turns', '1');
      await expect(page.getByTestId('chart-ttft').getByTestId('chart-bar')).toHaveCount(1);
      await expect(page.getByTestId('chart-rate').getByTestId('chart-bar')).toHaveCount(1);
      await expect(page.getByTestId('chart-pressure').getByTestId('chart-point')).toHaveCount(1);
    },
  };
  for (const tab of SIDE_TABS) {
    await inspector.showTab(tab);
    await expectations[tab]();
    await shot(tab);
  }
});

test('charts summarise a session’s turns for screen readers', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  for (const line of ['Good evening. Any rooms free tonight?', 'And some bread?']) {
    const turn = await inspector.say(line);
    await expect(turn).toHaveAttribute('data-state', /committed|commit-failed|failed/);
  }
  await inspector.showTab('charts');
  const ttft = page.getByTestId('chart-ttft').getByRole('img');
  await expect(ttft).toHaveAttribute(
    'aria-label',
    /^Time to first token: #1 \d+ ms, #2 \d+ ms\. Min \d+ ms, max \d+ ms\.$/,
  );
  await expect(page.getByTestId('chart-rate').getByRole('img')).toHaveAttribute(
    'aria-label',
    /#2 [\d.]+ tok\/s/,
  );
  await expect(page.getByTestId('chart-drops').getByRole('img')).toHaveAttribute(
    'aria-label',
    'Telemetry dropped (stream_overflow): #1 0, #2 0. Min 0, max 0.',
  );
  await expect(page.getByTestId('chart-pressure').getByRole('img')).toHaveAttribute(
    'aria-label',
    /^Pressure over time: #1 (LOW|MEDIUM|HIGH) at \d+ ms, #2 (LOW|MEDIUM|HIGH) at .+\.$/,
  );
  await expect(page.getByTestId('charts-pressure-now')).toContainText('deepest subscriber queue');
});

test('keyboard: tabs by shortcut, their chords announced, and the shortcut list', async ({
  page,
  parley,
}) => {
  const inspector = new InspectorPage(page);
  await inspector.open(parley.url);
  await inspector.newSession();
  // From the composer, where the focus sits while typing lines.
  await inspector.input.focus();
  for (const tab of [...SIDE_TABS].reverse()) await inspector.showTabByKey(tab);
  await expect(inspector.input).toBeFocused();
  await expect(inspector.tab('charts')).toHaveAttribute('aria-keyshortcuts', 'Alt+Shift+9');
  await expect(inspector.tab('gates')).toHaveAttribute('aria-keyshortcuts', 'Alt+Shift+8');

  // Arrow keys move between focused tabs; the focused tab is outlined.
  await inspector.tab('events').focus();
  await page.keyboard.press('ArrowRight');
  await expect(inspector.tab('agents')).toBeFocused();
  await expect(inspector.tab('agents')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(inspector.tab('charts')).toBeFocused();
  const outline = await inspector
    .tab('charts')
    .evaluate('getComputedStyle(document.activeElement).outlineStyle');
  expect(outline).toBe('solid');

  // Up and Down walk the event list once it has the focus.
  await inspector.showTabByKey('events');
  await inspector.say('Good evening. Any rooms free tonight?');
  await expect(inspector.turns.first()).toHaveAttribute('data-state', 'committed');
  await page.getByRole('table', { name: 'Events' }).focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('log-payload')).toHaveAttribute('data-seq', /^\d+$/);
  const first = await page.getByTestId('log-payload').getAttribute('data-seq');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('log-payload')).not.toHaveAttribute('data-seq', first ?? '');

  const help = page.getByTestId('shortcut-help');
  await help.getByLabel('Keyboard shortcuts').first().click();
  await expect(help).toContainText('Alt+Shift+1');
  await expect(help).toContainText('Alt+Shift+9');
  await expect(help).toContainText('show Rollout gates');
  await expect(help).toContainText('cancel the running turn');
});
