import { expect, test } from './fixtures';

test('opens on an empty image list', async ({ host, imagesPage }, testInfo) => {
  await expect(imagesPage.view).toBeVisible();
  await expect(imagesPage.empty).toBeVisible();
  await expect(imagesPage.rows).toHaveCount(0);
  await expect(imagesPage.statusBar).toContainText('0 images');
  await host.page.screenshot({ path: `test-results/screenshots/empty-images-${host.kind}.png` });
  testInfo.annotations.push({ type: 'screenshot', description: 'test-results/screenshots' });
});

test('the chunks of the first screen are preloaded and marked for V8 to compile while they stream in', async ({
  host,
}) => {
  test.skip(host.kind !== 'serve', 'the Electron window reads the same files from disk');
  for (const name of ['render-app', 'react-dom']) {
    const href = await host.page.locator(`link[rel="modulepreload"][href*="/${name}-"]`).getAttribute('href');
    expect(href).toMatch(new RegExp(`/${name}-[^/]*\\.js$`));
    const chunk = await host.page.request.get(new URL(href ?? '', host.page.url()).href);
    expect(chunk.status()).toBe(200);
    expect(await chunk.text()).toMatch(/^\/\/# allFunctionsCalledOnLoad\n/);
  }
});
