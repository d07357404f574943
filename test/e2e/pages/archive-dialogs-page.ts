import type { Locator, Page } from '@playwright/test';

/** Page object for the Save and Load archive dialogs of the Images view. */
export class ArchiveDialogsPage {
  readonly saveDialog: Locator;
  readonly loadDialog: Locator;
  readonly loadButton: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.saveDialog = page.getByTestId('save-archive-dialog');
    this.loadDialog = page.getByTestId('load-archive-dialog');
    this.loadButton = page.getByTestId('load-button');
    this.error = page.getByTestId('archive-error');
  }

  /** Opens Save from a row's context menu. */
  async openSave(row: Locator): Promise<void> {
    await row.click({ button: 'right' });
    await this.page.getByRole('menuitem', { name: 'Save…' }).click();
  }

  /** Picks the format (`Docker archive` / `OCI archive`) and compression in the open Save dialog. */
  async choose(format: 'Docker archive' | 'OCI archive', compress: boolean): Promise<void> {
    await this.saveDialog.getByRole('radio', { name: new RegExp(format) }).check();
    await this.saveDialog.getByRole('checkbox', { name: /Compress/ }).setChecked(compress);
  }

  /** Confirms Save in the browser host and saves the download to `path`. */
  async download(path: string): Promise<void> {
    const downloading = this.page.waitForEvent('download');
    await this.saveDialog.getByRole('button', { name: 'Download' }).click();
    await (await downloading).saveAs(path);
  }

  /** Opens Load from the toolbar, picks `file` and confirms. */
  async load(file: string): Promise<void> {
    await this.loadButton.click();
    await this.loadDialog.getByLabel('Archive file').setInputFiles(file);
    await this.loadDialog.getByRole('button', { name: 'Load' }).click();
  }
}
