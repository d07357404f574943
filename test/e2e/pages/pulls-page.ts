import type { Locator, Page } from '@playwright/test';

// Runs in the page (the e2e tsconfig has no DOM types, so it travels as source text).
const recorder = `(() => {
  const seen = {};
  window.berthSeen = seen;
  const record = () => {
    for (const row of document.querySelectorAll('[data-testid="pull-layer"]')) {
      const digest = row.dataset.digest || '';
      const value = Number(row.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'));
      const list = (seen[digest] ??= []);
      if (list.at(-1) !== value) list.push(value);
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['aria-valuenow'],
  });
})()`;

/** Page object for the Pull dialog, the Pulls panel and its tasks. */
export class PullsPage {
  readonly dialog: Locator;
  readonly reference: Locator;
  readonly suggestions: Locator;
  readonly platform: Locator;
  readonly policy: Locator;
  readonly resolution: Locator;
  readonly panel: Locator;
  readonly panelButton: Locator;
  readonly tasks: Locator;

  constructor(readonly page: Page) {
    this.dialog = page.getByTestId('pull-dialog');
    this.reference = this.dialog.getByRole('combobox', { name: 'Image reference' });
    this.suggestions = page.getByTestId('tag-suggestions').getByRole('option');
    this.platform = this.dialog.getByRole('combobox', { name: 'Platform' });
    this.policy = this.dialog.getByRole('combobox', { name: 'Pull policy' });
    this.resolution = page.getByTestId('pull-resolution');
    this.panel = page.getByTestId('pulls-panel');
    this.panelButton = page.getByTestId('pulls-panel-button');
    this.tasks = this.panel.getByTestId('pull-task');
  }

  /** Opens the Pull dialog from the header, as from any view. */
  async openDialog(): Promise<void> {
    await this.page.getByTestId('header-pull-button').click();
  }

  /** Opens the Pulls panel unless it is open (a pull that completes and reveals its image closes it). */
  async openPanel(): Promise<void> {
    if (!(await this.panel.isVisible())) await this.panelButton.click();
  }

  /** The task whose reference contains `text`. */
  task(text: string): Locator {
    return this.tasks.filter({ hasText: text });
  }

  /** A task's layer rows. */
  layers(task: Locator): Locator {
    return task.getByTestId('pull-layer');
  }

  /**
   * Records every `aria-valuenow` each layer bar shows from now on (digest → values), with a
   * MutationObserver, so progress that moves between two looks is not missed.
   */
  async recordLayerProgress(): Promise<void> {
    await this.page.evaluate(recorder);
  }

  /** What `recordLayerProgress` saw, per layer digest. */
  async recordedLayerProgress(): Promise<Record<string, number[]>> {
    return this.page.evaluate<Record<string, number[]>>('window.berthSeen');
  }
}
