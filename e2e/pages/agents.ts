import { expect, type Locator, type Page } from '@playwright/test';

/** The Agents tab (mode, pilot agents, flags, pressure, rollout gates) and a turn's agent views. */
export class AgentsPanel {
  readonly panel: Locator;
  readonly modeToggle: Locator;
  readonly pressureLevel: Locator;
  readonly configChanged: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('agents-panel');
    this.modeToggle = page.getByTestId('agent-mode-toggle');
    this.pressureLevel = page.getByTestId('pressure-level');
    this.configChanged = page.getByTestId('config-changed');
  }

  pilotToggle(agent: string): Locator {
    return this.page.locator(`[data-testid="pilot-toggle"][data-agent="${agent}"]`);
  }

  gate(id: string): Locator {
    return this.page.locator(`[data-testid="rollout-gate"][data-gate="${id}"]`);
  }

  /** Switches to PILOT (or SHADOW) mode and waits until the runtime confirms it. */
  async setMode(mode: 'shadow' | 'pilot'): Promise<void> {
    if ((await this.modeToggle.getAttribute('data-mode')) !== mode) await this.modeToggle.click();
    await expect(this.modeToggle).toHaveAttribute('data-mode', mode);
  }

  async setPilot(agent: string, on: boolean): Promise<void> {
    const toggle = this.pilotToggle(agent);
    if (on) await toggle.check();
    else await toggle.uncheck();
    await expect(toggle).toBeChecked({ checked: on });
  }

  /**
   * PILOT mode with these agents ticked, from a fresh runtime (config version 0): waits until the
   * runtime confirmed every change (one `config_changed` each).
   */
  async pilot(...agents: string[]): Promise<void> {
    await this.setMode('pilot');
    for (const agent of agents) await this.setPilot(agent, true);
    await expect(this.configChanged).toHaveAttribute('data-version', String(1 + agents.length));
  }

  async forcePressure(level: 'auto' | 'LOW' | 'MEDIUM' | 'HIGH'): Promise<void> {
    await this.page.locator(`[data-testid="pressure-option"][data-level="${level}"]`).click();
    if (level !== 'auto') await expect(this.pressureLevel).toHaveAttribute('data-level', level);
  }

  lanes(turn: Locator): Locator {
    return turn.getByTestId('agent-lane');
  }

  lane(turn: Locator, agent: string): Locator {
    return turn.locator(`[data-testid="agent-lane"][data-agent="${agent}"]`);
  }

  admission(turn: Locator, agent: string): Locator {
    return turn.locator(`[data-testid="admission-row"][data-agent="${agent}"]`);
  }

  arbiter(turn: Locator): Locator {
    return turn.getByTestId('arbiter-decision');
  }
}
