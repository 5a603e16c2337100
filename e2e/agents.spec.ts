import { ProvenanceRecordV2 } from '../src/shared/world';
import { expect, test } from './fixtures';
import { InspectorPage } from './pages/inspector';
import { ledgerRows } from './support/ledger';

/**
 * The agent-stream control plane as a designer drives it, in the default scenario
 * (scenarios/wayside-inn): 'coach' makes Mira contradict the lore (the bridge is out), 'poison' makes
 * her sell a restricted item with a blocked phrase. Agents start in SHADOW mode with no pilot agents.
 */

function agentEnvelopes(file: string, turnId: string): ProvenanceRecordV2['agent_envelopes'] {
  const row = ledgerRows(file).find((r) => r.turn_id === turnId);
  if (row === undefined) throw new Error(`no ledger row for ${turnId}`);
  return ProvenanceRecordV2.parse(JSON.parse(row.provenance_json)).agent_envelopes;
}

test('toggling a pilot agent from the UI runs its stream on the next turn', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  const { agents } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();

  // SHADOW: the lore scan is admitted by policy but only previewed; the row shows the divergence.
  const shadowTurn = await inspector.say('Is the coach running today?');
  await expect(shadowTurn).toHaveAttribute('data-state', 'committed');
  await expect(shadowTurn.getByTestId('admissions')).toHaveAttribute('data-mode', 'shadow');
  const shadowRow = agents.admission(shadowTurn, 'lore');
  await expect(shadowRow).toHaveAttribute('data-policy-accepted', 'true');
  await expect(shadowRow).toHaveAttribute('data-execution-accepted', 'false');
  await expect(shadowRow).toHaveAttribute('data-divergent', 'true');
  await expect(agents.lane(shadowTurn, 'lore')).toHaveAttribute('data-state', 'shadow');
  await expect(agents.arbiter(shadowTurn)).toHaveAttribute('data-mode', 'shadow');

  // PILOT with the lore agent toggled on.
  await inspector.showTab('agents');
  await agents.setMode('pilot');
  await agents.setPilot('lore', true);
  await expect(agents.configChanged).toHaveAttribute('data-version', '2');
  await expect(agents.configChanged).toContainText('agentStreamPilotAgents');

  const pilotTurn = await inspector.say('Is the coach running today?');
  await expect(pilotTurn).toHaveAttribute('data-state', 'committed');
  await expect(pilotTurn.getByTestId('admissions')).toHaveAttribute('data-mode', 'pilot');
  const pilotRow = agents.admission(pilotTurn, 'lore');
  await expect(pilotRow).toHaveAttribute('data-execution-accepted', 'true');
  await expect(pilotRow).toHaveAttribute('data-divergent', 'false');
  const lane = agents.lane(pilotTurn, 'lore');
  await expect(lane).toHaveAttribute('data-state', 'ended');
  await expect(lane).toHaveAttribute('data-terminal-reason', 'completed');
  await expect(lane.getByTestId('agent-lane-text')).toContainText('2 contradiction(s)');
  await expect(lane.getByTestId('agent-lane-envelope')).toHaveAttribute('data-decision', 'flag');
  // Safety stays a shadow preview: it is not a pilot agent.
  await expect(agents.lane(pilotTurn, 'safety')).toHaveAttribute('data-state', 'shadow');
  await page.screenshot({ path: 'test-results/agents-pilot-lane.png', fullPage: true });

  // The lore stream's id reaches the commit's provenance; the shadow run planned lore's first id.
  const streamId = await lane.getAttribute('data-stream-id');
  expect(streamId).toMatch(/^agent_.+_lore_2$/);
  const turnId = await pilotTurn.getAttribute('data-turn-id');
  expect(agentEnvelopes(parley.ledgerFile, turnId ?? '').map((e) => [e.stream_id, e.decision])).toEqual([
    [streamId, 'flag'],
  ]);
  await inspector.showTab('gates');
  await expect(agents.gate('shadow-divergence')).toHaveAttribute('data-status', 'pass');
  await expect(agents.gate('pilot-terminal-reasons')).toHaveAttribute('data-status', 'pass');
});

test('a blocking envelope from the safety agent fails the commit', async ({ page, parley }) => {
  const inspector = new InspectorPage(page);
  const { agents } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();
  await inspector.showTab('agents');
  await agents.pilot('safety');

  const turn = await inspector.say('Do you sell poison?');
  await expect(turn).toHaveAttribute('data-state', 'failed');
  const failure = inspector.commitFailure(turn);
  await expect(failure).toHaveAttribute('data-code', 'governance_failed');
  await expect(inspector.verdict(turn, 'agent-blocks')).toHaveAttribute('data-ok', 'false');
  await expect(inspector.verdict(turn, 'ownership')).toHaveAttribute('data-ok', 'true');
  const lane = agents.lane(turn, 'safety');
  await expect(lane).toHaveAttribute('data-terminal-reason', 'completed');
  await expect(lane.getByTestId('agent-lane-envelope')).toHaveAttribute('data-blocking', 'true');
  await expect(agents.arbiter(turn)).toHaveAttribute('data-blocking', '1');
  await expect(inspector.actionChips(turn).first()).toHaveAttribute('data-state', 'refused');
  await page.screenshot({ path: 'test-results/agents-blocked.png', fullPage: true });

  // The failed attempt is recorded with the blocking envelope; the world kept its nightshade.
  const turnId = (await turn.getAttribute('data-turn-id')) ?? '';
  const [envelope] = agentEnvelopes(parley.ledgerFile, turnId);
  expect(envelope?.agent).toBe('safety');
  expect(envelope?.block).toContain('restricted_item');
  const row = ledgerRows(parley.ledgerFile).find((r) => r.turn_id === turnId);
  expect(row?.outcome).toBe('failed');
  await inspector.showTab('world');
  await expect(inspector.world.item('mira', 'nightshade')).toHaveAttribute('data-count', '2');
});

test('forced HIGH pressure plans only critical intents; rolling back returns to SHADOW', async ({
  page,
  parley,
}) => {
  const inspector = new InspectorPage(page);
  const { agents } = inspector;
  await inspector.open(parley.url);
  await inspector.newSession();
  await inspector.showTab('agents');
  await agents.pilot('safety', 'lore');
  await agents.forcePressure('HIGH');
  await expect(agents.pressureLevel).toHaveAttribute('data-forced', 'true');

  const high = await inspector.say('Is the coach running today?');
  await expect(high).toHaveAttribute('data-state', 'committed');
  await expect(high.getByTestId('admissions')).toHaveAttribute('data-pressure', 'HIGH');
  const lore = agents.admission(high, 'lore');
  await expect(lore).toHaveAttribute('data-policy-accepted', 'true');
  await expect(lore).toHaveAttribute('data-execution-accepted', 'false');
  await expect(lore).toContainText('HIGH pressure');
  await expect(agents.lane(high, 'safety')).toHaveAttribute('data-terminal-reason', 'completed');
  await expect(agents.lane(high, 'lore')).toHaveCount(0);
  await inspector.showTab('gates');
  await expect(agents.gate('pressure-shedding')).toHaveAttribute('data-status', 'pass');

  await inspector.showTab('agents');
  await agents.forcePressure('auto');
  await expect(agents.pressureLevel).toHaveAttribute('data-forced', 'false');
  await agents.setMode('shadow');
  await expect(agents.configChanged).toHaveAttribute('data-version', '4');
  // The gates tab reads the status when it opens, and again after each commit while it is shown.
  await inspector.showTab('gates');
  await expect(agents.gate('rollback')).toHaveAttribute('data-status', 'pending');
  const after = await inspector.say('Is the coach running today?');
  await expect(after).toHaveAttribute('data-state', 'committed');
  await expect(after.getByTestId('admissions')).toHaveAttribute('data-mode', 'shadow');
  await expect(agents.lanes(after).and(page.locator('[data-state="ended"]'))).toHaveCount(0);
  await expect(agents.gate('rollback')).toHaveAttribute('data-status', 'pass');
  await expect(agents.gate('deterministic-planning')).toHaveAttribute('data-status', 'pass');
});
