import { readFileSync } from 'node:fs';
import { expect, type Download, type Locator, type Page } from '@playwright/test';

/** Page object for the Events tab: filters, search, markers, the payload viewer and the export. */
export class EventLogPanel {
  readonly root: Locator;
  readonly rows: Locator;
  readonly search: Locator;
  readonly typeFilter: Locator;
  readonly classFilter: Locator;
  readonly turnFilter: Locator;
  readonly clearButton: Locator;
  readonly exportButton: Locator;
  readonly payload: Locator;
  readonly gaps: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId('event-log');
    this.rows = this.root.getByTestId('event-row');
    this.search = page.getByTestId('log-search');
    this.typeFilter = page.getByTestId('log-type-filter');
    this.classFilter = page.getByTestId('log-class-filter');
    this.turnFilter = page.getByTestId('log-turn-filter');
    this.clearButton = page.getByTestId('log-clear-filters');
    this.exportButton = page.getByTestId('log-export');
    this.payload = page.getByTestId('log-payload');
    this.gaps = this.root.getByTestId('log-gap');
  }

  row(type: string): Locator {
    return this.root.locator(`[data-testid="event-row"][data-type="${type}"]`);
  }

  /** How many rows pass the filters (the list is virtualized: not all of them are in the DOM). */
  async shownCount(): Promise<number> {
    return Number(await this.root.getAttribute('data-count'));
  }

  async totalCount(): Promise<number> {
    return Number(await this.root.getAttribute('data-total'));
  }

  /** Every attribute value the rows in the DOM carry, e.g. each row's `data-class`. */
  async rowValues(attribute: string): Promise<string[]> {
    const rows = await this.rows.all();
    return Promise.all(rows.map(async (row) => (await row.getAttribute(attribute)) ?? ''));
  }

  /** Clicks Export visible and returns the file the browser downloaded, parsed. */
  async exportVisible(): Promise<{ download: Download; json: ExportedLog }> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.exportButton.click()]);
    const path = await download.path();
    return { download, json: JSON.parse(readFileSync(path, 'utf8')) as ExportedLog };
  }

  async expectShown(count: number): Promise<void> {
    await expect(this.root).toHaveAttribute('data-count', String(count));
  }
}

export interface ExportedLog {
  session_id: string;
  count: number;
  filter: Record<string, unknown>;
  events: { seq: number; type: string; class: string; turn_id: string | null; payload: unknown }[];
}
