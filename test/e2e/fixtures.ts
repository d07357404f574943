import { test as base } from '@playwright/test';
import { launchHost, type Host, type HostKind } from './host';
import { ImagesPage } from './pages/images-page';

/** The e2e test object: a `host` per test, on the project's host kind, and page objects over it. */
export const test = base.extend<{ hostKind: HostKind; host: Host; imagesPage: ImagesPage }>({
  hostKind: ['serve', { option: true }],
  host: async ({ hostKind }, use) => {
    const host = await launchHost(hostKind);
    try {
      await use(host);
    } finally {
      await host.close();
    }
  },
  imagesPage: async ({ host }, use) => {
    await use(new ImagesPage(host.page));
  },
});

export { expect } from '@playwright/test';
