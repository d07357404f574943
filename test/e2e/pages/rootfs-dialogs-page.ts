import type { Locator, Page } from '@playwright/test';

/** Page object for the Import, Export filesystem and Squash dialogs of the Images view. */
export class RootfsDialogsPage {
  readonly importButton: Locator;
  readonly importDialog: Locator;
  readonly exportDialog: Locator;
  readonly squashDialog: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.importButton = page.getByTestId('import-button');
    this.importDialog = page.getByTestId('import-dialog');
    this.exportDialog = page.getByTestId('export-dialog');
    this.squashDialog = page.getByTestId('squash-dialog');
    this.error = page.getByTestId('rootfs-error');
  }

  /** Opens Import…, fills its fields and submits. */
  async importTarball(fields: {
    path: string;
    name?: string;
    changes?: string;
    message?: string;
  }): Promise<void> {
    await this.importButton.click();
    await this.importDialog.getByLabel('Tarball path').fill(fields.path);
    if (fields.name !== undefined) await this.importDialog.getByLabel('Image name').fill(fields.name);
    if (fields.changes !== undefined) await this.importDialog.getByLabel('Changes').fill(fields.changes);
    if (fields.message !== undefined) await this.importDialog.getByLabel('Message').fill(fields.message);
    await this.importDialog.getByRole('button', { name: 'Import' }).click();
  }

  /** Runs one entry of a row's context menu. */
  async menu(row: Locator, item: string): Promise<void> {
    await row.click({ button: 'right' });
    await this.page.getByRole('menuitem', { name: item }).click();
  }

  /** Squashes the image of `row` into `name` through its menu. */
  async squash(row: Locator, name: string): Promise<void> {
    await this.menu(row, 'Squash…');
    await this.squashDialog.getByLabel('New image name').fill(name);
    await this.squashDialog.getByRole('button', { name: 'Squash' }).click();
  }

  /** Exports the image of `row` to `path` through its menu. */
  async exportTo(row: Locator, path: string): Promise<void> {
    await this.menu(row, 'Export filesystem…');
    await this.exportDialog.getByLabel('Export path').fill(path);
    await this.exportDialog.getByRole('button', { name: 'Export' }).click();
  }
}
