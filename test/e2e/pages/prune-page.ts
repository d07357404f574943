import type { Locator, Page } from '@playwright/test';

/** Page object for the Prune view. */
export class PrunePage {
  readonly view: Locator;
  readonly preview: Locator;
  readonly items: Locator;
  readonly reclaim: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('prune-view');
    this.preview = page.getByTestId('prune-preview');
    this.items = page.getByTestId('prune-item');
    this.reclaim = page.getByTestId('prune-reclaim');
  }

  /** Opens the view from the left nav. */
  async open(): Promise<void> {
    await this.page.getByTestId('nav-prune').click();
  }

  /** The Prune button, then the confirmation. */
  async prune(): Promise<void> {
    await this.preview.getByRole('button', { name: /^Prune \d/ }).click();
    await this.preview.getByRole('button', { name: 'Prune now' }).click();
  }
}
