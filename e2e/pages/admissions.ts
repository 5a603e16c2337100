import type { Locator, Page } from '@playwright/test';

/** The Admissions tab: every admission of the selected session, newest turn first, filterable by agent. */
export class AdmissionsPanel {
  readonly panel: Locator;
  readonly entries: Locator;
  readonly agentFilter: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('admissions-panel');
    this.entries = page.getByTestId('admission-entry');
    this.agentFilter = page.getByTestId('admissions-agent-filter');
  }

  entry(agent: string, turnNumber?: number): Locator {
    const turn = turnNumber === undefined ? '' : `[data-turn="${turnNumber}"]`;
    return this.page.locator(`[data-testid="admission-entry"][data-agent="${agent}"]${turn}`);
  }

  /** Only this agent's rows; null shows every agent. */
  async filter(agent: string | null): Promise<void> {
    await this.agentFilter.selectOption(agent ?? '');
  }
}
