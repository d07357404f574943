import type { Locator, Page } from '@playwright/test';

/** Page object for the Images view. */
export class ImagesPage {
  readonly view: Locator;
  readonly rows: Locator;
  readonly empty: Locator;
  readonly statusBar: Locator;
  readonly connection: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('images-view');
    this.rows = page.getByTestId('image-row');
    this.empty = page.getByTestId('images-empty');
    this.statusBar = page.getByTestId('status-bar');
    this.connection = page.getByTestId('connection-state');
  }

  /** A row by the familiar name shown in it. */
  row(name: string): Locator {
    return this.rows.filter({ hasText: name });
  }
}
