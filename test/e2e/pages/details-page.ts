import type { Locator, Page } from '@playwright/test';

/** Page object for the image details panel and its tabs. */
export class DetailsPage {
  readonly panel: Locator;
  readonly summary: Locator;
  readonly history: Locator;
  readonly layers: Locator;
  readonly inspect: Locator;
  readonly historyRows: Locator;
  readonly layerRows: Locator;
  readonly inspectSearch: Locator;
  readonly inspectJson: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('image-details');
    this.summary = page.getByTestId('details-summary');
    this.history = page.getByTestId('details-history');
    this.layers = page.getByTestId('details-layers');
    this.inspect = page.getByTestId('details-inspect');
    this.historyRows = page.getByTestId('history-row');
    this.layerRows = page.getByTestId('layer-row');
    this.inspectSearch = page.getByRole('searchbox', { name: 'Search the inspect document' });
    this.inspectJson = page.getByTestId('inspect-json');
  }

  /** Switches to a tab by its name. */
  async tab(name: 'Summary' | 'History' | 'Layers' | 'Inspect'): Promise<void> {
    await this.panel.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
  }
}
