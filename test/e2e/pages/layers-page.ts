import type { Locator, Page } from '@playwright/test';

/** Page object for the layer explorer in the details panel's Layers tab. */
export class LayersPage {
  readonly explorer: Locator;
  readonly layerRows: Locator;
  readonly tree: Locator;
  readonly fileLines: Locator;
  readonly layerView: Locator;
  readonly mergedView: Locator;
  readonly changesOnly: Locator;
  readonly search: Locator;
  readonly searchHits: Locator;
  readonly preview: Locator;
  readonly destination: Locator;
  readonly extractButton: Locator;
  readonly extractStatus: Locator;
  readonly efficiencyButton: Locator;
  readonly efficiencyScore: Locator;
  readonly summary: Locator;
  readonly platform: Locator;
  readonly missingPlatforms: Locator;

  constructor(readonly page: Page) {
    this.explorer = page.getByTestId('layer-explorer');
    this.layerRows = this.explorer.getByTestId('layer-row');
    this.tree = page.getByTestId('file-tree');
    this.fileLines = page.getByTestId('file-line');
    this.layerView = page.getByRole('button', { name: 'Layer changes' });
    this.mergedView = page.getByRole('button', { name: 'Merged' });
    this.changesOnly = page.getByRole('button', { name: 'Changes only' });
    this.search = page.getByRole('searchbox', { name: 'Search paths in every layer' });
    this.searchHits = page.getByTestId('search-hit');
    this.preview = page.getByTestId('file-preview');
    this.destination = page.getByRole('textbox', { name: 'Destination folder' });
    this.extractButton = page.getByRole('button', { name: /^Extract/ });
    this.extractStatus = page.getByTestId('extract-status');
    this.efficiencyButton = page.getByRole('button', { name: 'Waste & efficiency' });
    this.efficiencyScore = page.getByTestId('efficiency-score');
    this.summary = page.getByTestId('tree-summary');
    this.platform = page.getByRole('combobox', { name: 'Platform' });
    this.missingPlatforms = page.getByTestId('missing-platform');
  }

  /** The tree line for an image path (`etc/motd`). */
  line(path: string): Locator {
    return this.page.locator(`[data-testid="file-line"][data-path="${path}"]`);
  }

  /** Picks layer `index` (0 is the bottom) in the layer list. */
  async selectLayer(index: number): Promise<void> {
    await this.explorer.getByRole('button', { name: `Layer ${index + 1}`, exact: true }).click();
  }

  /** The paths currently shown in the tree, top to bottom. */
  async paths(): Promise<string[]> {
    const paths: string[] = [];
    for (const line of await this.fileLines.all()) paths.push((await line.getAttribute('data-path')) ?? '');
    return paths;
  }

  /** Runs a search across every layer. */
  async searchFor(pattern: string): Promise<void> {
    await this.search.fill(pattern);
    await this.search.press('Enter');
  }
}
