import { expect, type Locator, type Page } from '@playwright/test';

/** Page object for the inspector: tests speak in designer actions, not selectors. */
export class InspectorPage {
  readonly connection: Locator;
  readonly input: Locator;
  readonly sendButton: Locator;
  readonly cancelButton: Locator;
  readonly turns: Locator;
  readonly eventLog: Locator;

  constructor(readonly page: Page) {
    this.connection = page.getByTestId('connection-status');
    this.input = page.getByTestId('player-input');
    this.sendButton = page.getByTestId('send');
    this.cancelButton = page.getByTestId('cancel');
    this.turns = page.getByTestId('turn');
    this.eventLog = page.getByTestId('event-log');
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await expect(this.connection).toHaveAttribute('data-state', 'connected');
  }

  async newSession(): Promise<void> {
    const before = await this.page.getByTestId('session-item').count();
    await this.page.getByTestId('new-session').click();
    await expect(this.page.getByTestId('session-item')).toHaveCount(before + 1);
  }

  async say(line: string): Promise<Locator> {
    const before = await this.turns.count();
    await this.input.fill(line);
    await this.input.press('Enter');
    await expect(this.turns).toHaveCount(before + 1);
    return this.turns.nth(before);
  }

  reply(turn: Locator): Locator {
    return turn.getByTestId('npc-reply');
  }
}
