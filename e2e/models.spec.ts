import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';

/**
 * The local-models plane as a designer drives it, against the scripted backend: the default
 * scenario's NPCs (scenarios/wayside-inn) speak with scripted models, which load at once. Predictive
 * prewarm is on, so a new session loads its NPC's model (`session_open`).
 */

const MIRA = 'scripted/wayside-mira';
const WREN = 'scripted/wayside-wren';

test('prewarm a model from the Models tab, see it ready, unload it', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  const { models } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();
  await inspector.showTab('models');
  await expect(models.panel).toBeVisible();

  // The session's NPC model, loaded when the session opened.
  const mira = models.poolModel(MIRA);
  await expect(mira).toHaveAttribute('data-state', 'ready');
  await expect(mira).toHaveAttribute('data-loaded-by', 'session_open');
  await expect(models.npcSetting('mira')).toHaveAttribute('data-model', MIRA);
  await expect(models.npcSetting('wren')).toHaveAttribute('data-source', 'scenario');

  // Wren's model is not in the pool until something loads it: prewarm it from her setting.
  await expect(models.poolModel(WREN)).toHaveCount(0);
  const wren = await models.prewarmNpc('wren', WREN);
  await expect(wren).toHaveAttribute('data-loaded-by', 'manual');
  await expect(wren.getByTestId('model-load')).toBeDisabled();

  await models.unload(WREN);
  await expect(wren.getByTestId('model-unload')).toBeDisabled();
  await expect(wren.getByTestId('model-load')).toHaveText('Prewarm');
  // Prewarm from the pool row this time.
  await models.prewarm(WREN);
  await expect(wren).toHaveAttribute('data-loaded-by', 'manual');
  await page.screenshot({ path: 'test-results/models-pool.png', fullPage: true });
  await models.unload(WREN);

  // A limit the runtime refuses shows in the command error banner.
  await models.setLimit('max_loaded', '0');
  const banner = page.getByTestId('command-error');
  await expect(banner).toHaveAttribute('data-code', 'invalid_command');
  await expect(banner).toContainText('models.config.set');
  await models.setLimit('max_loaded', '3');
  await expect(banner).toHaveCount(0);
  await expect(models.poolConfigApply).toBeDisabled();
  await expect(models.poolField('max_loaded')).toHaveValue('3');
});

test('a turn’s latency waterfall: ACK, first token, tokens and commit; a load when the model was unloaded', async ({
  page,
  parley,
}) => {
  const inspector = new InspectorPage(page);
  const { models } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();

  const turn = await inspector.say("I'd like a room for the night, please.");
  await expect(turn).toHaveAttribute('data-state', 'committed');
  const waterfall = models.waterfall(turn);
  await expect(waterfall).toHaveAttribute('data-end', 'committed');
  await models.openWaterfall(turn);
  for (const phase of ['ack', 'first-token', 'tokens', 'commit'] as const)
    await expect(models.bar(turn, phase)).toBeVisible();
  expect(await models.phases(turn)).toEqual(['ack', 'queue', 'select', 'first-token', 'tokens', 'commit']);
  const firstToken = await models.timing(turn, 'first-token');
  const tokens = await models.timing(turn, 'tokens');
  const commit = await models.timing(turn, 'commit');
  expect(firstToken.start).toBeGreaterThanOrEqual(0);
  expect(tokens.start).toBe(firstToken.start);
  // Paced at 60 ms a token: a reply of more than a few words takes a while.
  expect(tokens.duration).toBeGreaterThan(100);
  expect(commit.start).toBeGreaterThanOrEqual(tokens.start + tokens.duration);
  expect(Number(await waterfall.getAttribute('data-total-ms'))).toBeGreaterThanOrEqual(
    commit.start + commit.duration,
  );
  await expect(waterfall.getByTestId('waterfall-end')).toHaveAttribute('data-kind', 'committed');
  await expect(waterfall).toContainText('tok/s');

  // Without prewarm and with Mira's model unloaded, the next turn waits for a load.
  await inspector.showTab('models');
  await models.setPrewarm(false);
  await models.unload(MIRA);
  const loading = await inspector.say('Good evening to you.');
  await expect(loading).toHaveAttribute('data-state', 'committed');
  await expect(models.waterfall(loading)).toHaveAttribute('data-loaded', 'true');
  await models.openWaterfall(loading);
  expect(await models.phases(loading)).toEqual(['ack', 'queue', 'load', 'first-token', 'tokens', 'commit']);
  await expect(models.poolModel(MIRA)).toHaveAttribute('data-state', 'ready');
  await expect(models.poolModel(MIRA)).toHaveAttribute('data-loaded-by', 'turn');
  await page.screenshot({ path: 'test-results/models-waterfall.png', fullPage: true });
});
