import type { Locator, Page } from '@playwright/test';

/** The World tab: the selected session's world state as the runtime last reported it. */
export class WorldPanel {
  readonly root: Locator;
  readonly stateHash: Locator;

  constructor(page: Page) {
    this.root = page.getByTestId('world-view');
    this.stateHash = this.root.getByTestId('world-state-hash');
  }

  /** The full state hash shown (the text is its short form). */
  async hash(): Promise<string> {
    return (await this.stateHash.getAttribute('data-hash')) ?? '';
  }

  inventory(character: string): Locator {
    return this.root.locator(`[data-testid="inventory"][data-character="${character}"]`);
  }

  coin(character: string): Locator {
    return this.inventory(character).getByTestId('coin');
  }

  item(character: string, item: string): Locator {
    return this.inventory(character).locator(`[data-testid="item"][data-item="${item}"]`);
  }

  quest(quest: string): Locator {
    return this.root.locator(`[data-testid="quest"][data-quest="${quest}"]`);
  }
}
