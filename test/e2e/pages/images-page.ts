import type { Locator, Page } from '@playwright/test';

/** Page object for the Images view: the table, its rows and chips, menus, dialogs, drag targets and toasts. */
export class ImagesPage {
  readonly view: Locator;
  readonly grid: Locator;
  readonly rows: Locator;
  readonly empty: Locator;
  readonly statusBar: Locator;
  readonly connection: Locator;
  readonly search: Locator;
  readonly untagZone: Locator;
  readonly dropHint: Locator;
  readonly menu: Locator;
  readonly addTagDialog: Locator;
  readonly removeDialog: Locator;
  readonly selectionBar: Locator;
  readonly toasts: Locator;
  readonly groupRows: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('images-view');
    this.grid = page.getByTestId('images-grid');
    this.rows = page.getByTestId('image-row');
    this.empty = page.getByTestId('images-empty');
    this.statusBar = page.getByTestId('status-bar');
    this.connection = page.getByTestId('connection-state');
    this.search = page.getByRole('searchbox', { name: 'Search images' });
    this.untagZone = page.getByTestId('untag-zone');
    this.dropHint = page.getByTestId('drop-hint');
    this.menu = page.getByTestId('context-menu');
    this.addTagDialog = page.getByTestId('add-tag-dialog');
    this.removeDialog = page.getByTestId('remove-dialog');
    this.selectionBar = page.getByTestId('selection-bar');
    this.toasts = page.getByTestId('toast');
    this.groupRows = page.getByTestId('group-row');
  }

  /** Opens the view from the left nav. */
  async open(): Promise<void> {
    await this.page.getByTestId('nav-images').click();
  }

  /** A row by the familiar name shown in it. */
  row(name: string): Locator {
    return this.rows.filter({ has: this.page.locator('.cell-name', { hasText: name }) });
  }

  /** A row by image ID (`sha256:…`), whatever its names. */
  rowById(id: string): Locator {
    return this.page.locator(`[data-testid="image-row"][data-image-id="${id}"]`);
  }

  /** The tag chips of a row. */
  chips(row: Locator): Locator {
    return row.getByTestId('tag-chip');
  }

  /** One chip of a row, by the label it shows. */
  chip(row: Locator, label: string): Locator {
    return this.chips(row).filter({
      has: this.page.locator('.chip-label', { hasText: new RegExp(`^${escape(label)}$`) }),
    });
  }

  /** The labels of a row's chips. */
  async chipLabels(row: Locator): Promise<string[]> {
    return row.locator('.chip-label').allTextContents();
  }

  /**
   * Drags a chip over `target` with the mouse and stops before dropping, so the drop target's hint can be
   * read; `drop()` finishes. Holding Alt is pressed before the last move, as a user would.
   */
  async dragOver(chip: Locator, target: Locator, options: { alt?: boolean } = {}): Promise<void> {
    const from = await chip.boundingBox();
    if (!from) throw new Error('the chip to drag is not on screen');
    await this.page.mouse.move(from.x + 8, from.y + from.height / 2);
    await this.page.mouse.down();
    // Small steps: Chromium starts a drag only after the pointer has moved a few pixels while pressed.
    await this.page.mouse.move(from.x + 20, from.y + from.height / 2, { steps: 3 });
    const to = await target.boundingBox();
    if (!to) throw new Error('the drop target is not on screen');
    const x = to.x + Math.min(300, to.width / 2);
    const y = to.y + to.height / 2;
    await this.page.mouse.move(x, y, { steps: 5 });
    if (options.alt) await this.page.keyboard.down('Alt');
    await this.page.mouse.move(x + 10, y + 1, { steps: 2 });
  }

  /** Releases the mouse (and Alt) after `dragOver`. */
  async drop(): Promise<void> {
    await this.page.mouse.up();
    await this.page.keyboard.up('Alt');
  }

  /** The toast with the given text. */
  toast(text: string | RegExp): Locator {
    return this.toasts.filter({ hasText: text });
  }

  /** The Undo button of the newest toast that has one. */
  undo(): Locator {
    return this.toasts.getByRole('button', { name: 'Undo' }).last();
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
