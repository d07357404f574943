import type { Locator, Page } from '@playwright/test';

/** Page object for the Disk usage view. */
export class DiskPage {
  readonly view: Locator;
  readonly bars: Locator;
  readonly total: Locator;
  readonly reclaimable: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('disk-view');
    this.bars = page.getByTestId('disk-bar');
    this.total = page.getByTestId('disk-total');
    this.reclaimable = page.getByTestId('disk-reclaimable');
  }

  /** Opens the view from the left nav. */
  async open(): Promise<void> {
    await this.page.getByTestId('nav-disk').click();
  }
}
