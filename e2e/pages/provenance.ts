import { expect, type Locator, type Page } from '@playwright/test';

/** The Provenance tab: one row per commit attempt, newest first, and the Verify button. */
export class ProvenancePanel {
  readonly root: Locator;
  readonly rows: Locator;
  readonly verifyButton: Locator;
  readonly verifyResult: Locator;

  constructor(page: Page) {
    this.root = page.getByTestId('provenance');
    this.rows = this.root.getByTestId('provenance-row');
    this.verifyButton = this.root.getByTestId('verify-button');
    this.verifyResult = this.root.getByTestId('verify-result');
  }

  row(commitSeq: number): Locator {
    return this.root.locator(`[data-testid="provenance-row"][data-commit-seq="${commitSeq}"]`);
  }

  /** Expands a row; returns its detail (patch, hashes, record). */
  async expand(row: Locator): Promise<Locator> {
    const toggle = row.getByTestId('provenance-toggle');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    return row.getByTestId('provenance-detail');
  }

  patchOps(detail: Locator): Locator {
    return detail.getByTestId('patch-op');
  }

  async verify(): Promise<Locator> {
    await this.verifyButton.click();
    await expect(this.verifyResult).toBeVisible();
    return this.verifyResult;
  }
}
