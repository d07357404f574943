import { expect, test } from './fixtures';

test('opens on an empty image list', async ({ host, imagesPage }, testInfo) => {
  await expect(imagesPage.view).toBeVisible();
  await expect(imagesPage.empty).toBeVisible();
  await expect(imagesPage.rows).toHaveCount(0);
  await expect(imagesPage.statusBar).toContainText('0 images');
  await host.page.screenshot({ path: `test-results/screenshots/empty-images-${host.kind}.png` });
  testInfo.annotations.push({ type: 'screenshot', description: 'test-results/screenshots' });
});
