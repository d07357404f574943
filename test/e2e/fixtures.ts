import { test as base } from '@playwright/test';
import { launchHost, type Host, type HostKind } from './host';
import { DetailsPage } from './pages/details-page';
import { DiskPage } from './pages/disk-page';
import { ImagesPage } from './pages/images-page';
import { PrunePage } from './pages/prune-page';

/** The e2e test object: a `host` per test, on the project's host kind, and page objects over it. */
export const test = base.extend<{
  hostKind: HostKind;
  /**
   * Fills the store before the host starts; set with `test.use({ storeSeed: { prepare } })` (an object,
   * since Playwright reads a bare function as a fixture).
   */
  storeSeed: { prepare: (storePath: string) => Promise<void> } | undefined;
  /** Extra environment for the host process; set with `test.use({ hostEnv: { … } })`. */
  hostEnv: Record<string, string> | undefined;
  host: Host;
  imagesPage: ImagesPage;
  detailsPage: DetailsPage;
  diskPage: DiskPage;
  prunePage: PrunePage;
}>({
  hostKind: ['serve', { option: true }],
  storeSeed: [undefined, { option: true }],
  hostEnv: [undefined, { option: true }],
  host: async ({ hostKind, storeSeed, hostEnv }, use) => {
    const host = await launchHost(hostKind, {
      ...(storeSeed ? { prepareStore: storeSeed.prepare } : {}),
      ...(hostEnv ? { env: hostEnv } : {}),
    });
    try {
      await use(host);
    } finally {
      await host.close();
    }
  },
  imagesPage: async ({ host }, use) => {
    await use(new ImagesPage(host.page));
  },
  detailsPage: async ({ host }, use) => {
    await use(new DetailsPage(host.page));
  },
  diskPage: async ({ host }, use) => {
    await use(new DiskPage(host.page));
  },
  prunePage: async ({ host }, use) => {
    await use(new PrunePage(host.page));
  },
});

export { expect } from '@playwright/test';
