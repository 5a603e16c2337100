import { expect, type Locator, type Page } from '@playwright/test';

/** The Settings tab: the selected session's overflow policy, and the connection. */
export class SettingsPanel {
  readonly panel: Locator;
  readonly policy: Locator;
  readonly subscription: Locator;
  readonly connection: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('settings-panel');
    this.policy = page.getByLabel('Overflow policy');
    this.subscription = page.getByTestId('subscription');
    this.connection = page.getByTestId('connection-facts');
  }

  /** Picks a policy and waits until the runtime confirms the new subscription. */
  async setPolicy(policy: 'drop_telemetry' | 'fail'): Promise<void> {
    await this.policy.selectOption(policy);
    await expect(this.subscription).toHaveAttribute('data-policy', policy);
    await expect(this.subscription).toHaveAttribute('data-phase', 'subscribed');
  }
}
