import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';
import { ledgerRows } from './support/ledger';

/**
 * A fresh install's default: `npm run serve` with no model flag, so the NPC speaks through the
 * embedded llama.cpp model (resources/models/parley-npc.gguf) in a worker process. Its text is the
 * model's own, so this checks the flow, not the words.
 */
const EMBEDDED = 'llama/parley-npc';

test('the embedded model: prewarmed on session open, streams real tokens, and the commit names it', async ({
  page,
  parleyEmbedded,
}) => {
  const inspector = new InspectorPage(page);
  const { models } = inspector;
  await inspector.open(parleyEmbedded.url);
  await inspector.newSession();
  await inspector.showTab('models');
  const pooled = models.poolModel(EMBEDDED);
  await expect(pooled).toHaveAttribute('data-state', 'ready');
  await expect(pooled).toHaveAttribute('data-loaded-by', 'session_open');
  await expect(models.npcSetting('mira')).toHaveAttribute('data-source', 'default');

  const turn = await inspector.say('Good evening! Do you have a room for the night?');
  const reply = inspector.reply(turn);
  await expect(reply).not.toHaveText('');
  await expect(turn).toHaveAttribute('data-state', /^(committed|failed)$/);
  const text = (await reply.textContent()) ?? '';
  expect(text.trim().length).toBeGreaterThan(10);

  // The waterfall credits the prewarm: the turn found the model ready.
  const waterfall = await models.openWaterfall(turn);
  await expect(waterfall.getByTestId('waterfall-prewarm')).toHaveAttribute('data-trigger', 'session_open');
  await page.screenshot({ path: 'test-results/embedded-model-turn.png', fullPage: true });

  const [row] = ledgerRows(parleyEmbedded.ledgerFile);
  expect(row?.final_text.length).toBeGreaterThan(10);
  expect(JSON.parse(row?.provenance_json ?? '{}')).toMatchObject({
    model: { backend: 'llama', model_id: 'parley-npc' },
  });
});
