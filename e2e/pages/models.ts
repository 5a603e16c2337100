import { expect, type Locator, type Page } from '@playwright/test';

export type WaterfallPhase = 'ack' | 'queue' | 'select' | 'load' | 'first-token' | 'tokens' | 'commit';

/** The Models tab (pool limits, pool models, discovery, NPC models) and a turn's latency waterfall. */
export class ModelsPanel {
  readonly panel: Locator;
  readonly refreshButton: Locator;
  readonly poolConfigApply: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('models-panel');
    this.refreshButton = page.getByTestId('models-refresh');
    this.poolConfigApply = page.getByTestId('pool-config-apply');
  }

  /** A pool row, by `backend/model_id`. */
  poolModel(model: string): Locator {
    return this.page.locator(`[data-testid="pool-model"][data-model="${model}"]`);
  }

  npcSetting(npcId: string): Locator {
    return this.page.locator(`[data-testid="npc-setting"][data-npc="${npcId}"]`);
  }

  poolField(key: 'max_loaded' | 'memory_budget_mib' | 'idle_ttl_s' | 'prewarm'): Locator {
    return this.page.locator(`[data-testid="pool-field"][data-key="${key}"]`);
  }

  /** Loads the NPC's model from its setting (a manual prewarm) and waits until the pool has it ready. */
  async prewarmNpc(npcId: string, model: string): Promise<Locator> {
    await this.npcSetting(npcId).getByTestId('npc-prewarm').click();
    const row = this.poolModel(model);
    await expect(row).toHaveAttribute('data-state', 'ready');
    return row;
  }

  /** Prewarm (or Load) from the model's pool row, then ready. */
  async prewarm(model: string): Promise<void> {
    const row = this.poolModel(model);
    await row.getByTestId('model-load').click();
    await expect(row).toHaveAttribute('data-state', 'ready');
  }

  async unload(model: string): Promise<void> {
    const row = this.poolModel(model);
    await row.getByTestId('model-unload').click();
    await expect(row).toHaveAttribute('data-state', 'unloaded');
  }

  /** Sets one pool limit and applies it (the runtime may refuse: see the command error banner). */
  async setLimit(key: 'max_loaded' | 'memory_budget_mib' | 'idle_ttl_s', value: string): Promise<void> {
    await this.poolField(key).fill(value);
    await this.poolConfigApply.click();
  }

  async setPrewarm(on: boolean): Promise<void> {
    const field = this.poolField('prewarm');
    if (on) await field.check();
    else await field.uncheck();
    await this.poolConfigApply.click();
    // The form shows the runtime's config again once the change is taken.
    await expect(this.poolConfigApply).toBeDisabled();
    await expect(field).toBeChecked({ checked: on });
  }

  // A turn's latency waterfall -------------------------------------------------------------------

  waterfall(turn: Locator): Locator {
    return turn.getByTestId('turn-waterfall');
  }

  /** Unfolds the waterfall (it starts folded). */
  async openWaterfall(turn: Locator): Promise<Locator> {
    const waterfall = this.waterfall(turn);
    if ((await waterfall.getAttribute('open')) === null) await waterfall.locator('summary').click();
    await expect(waterfall).toHaveAttribute('open', '');
    return waterfall;
  }

  bar(turn: Locator, phase: WaterfallPhase): Locator {
    return turn.locator(`[data-testid="waterfall-bar"][data-phase="${phase}"]`);
  }

  /** The phases drawn, in order. */
  async phases(turn: Locator): Promise<string[]> {
    const bars = await turn.getByTestId('waterfall-bar').all();
    return Promise.all(bars.map(async (b) => (await b.getAttribute('data-phase')) ?? ''));
  }

  /** A bar's start and duration, ms after the ACK. */
  async timing(turn: Locator, phase: WaterfallPhase): Promise<{ start: number; duration: number }> {
    const bar = this.bar(turn, phase);
    return {
      start: Number(await bar.getAttribute('data-start-ms')),
      duration: Number(await bar.getAttribute('data-duration-ms')),
    };
  }
}
