import type { Locator, Page } from '@playwright/test';

/** The Push dialog of the Images view and the push cards of the Pulls panel. */
export class PushPage {
  readonly dialog: Locator;
  readonly destination: Locator;
  readonly help: Locator;
  readonly submit: Locator;
  /** Transfer cards that are pushes. */
  readonly pushCards: Locator;

  constructor(readonly page: Page) {
    this.dialog = page.getByTestId('push-dialog');
    this.destination = this.dialog.getByRole('combobox', { name: 'Destination' });
    this.help = page.getByTestId('push-destination-help');
    this.submit = this.dialog.getByRole('button', { name: 'Push', exact: true });
    this.pushCards = page.locator('[data-testid="pull-task"][data-kind="push"]');
  }

  /** Opens the dialog from a row's context menu. */
  async openFor(row: Locator): Promise<void> {
    await row.click({ button: 'right' });
    await this.page.getByRole('menuitem', { name: 'Push…' }).click();
  }

  /** Shows the Pulls panel, where pushes are listed beside pulls. */
  async openTransfers(): Promise<void> {
    await this.page.getByTestId('nav-pulls').click();
  }
}
