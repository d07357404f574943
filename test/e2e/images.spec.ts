import type { ImageSummary } from '../../shared/contract';
import type { Host } from './host';
import { expect, test } from './fixtures';
import { fixtureImages, seedStore } from './fixture-images';

test.use({ storeSeed: { prepare: seedStore } });

const ids = {
  alpine: fixtureImages.alpine.configDigest,
  web: fixtureImages.web.configDigest,
  api: fixtureImages.api.configDigest,
  orphan: fixtureImages.orphan.configDigest,
};

/** The store's names per image ID, read through the CLI on the same store. */
async function namesInStore(host: Host): Promise<Record<string, string[]>> {
  const result = await host.cli(['images', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const images = JSON.parse(result.stdout) as ImageSummary[];
  return Object.fromEntries(images.map((image) => [image.id, image.repoTags]));
}

const shot = (host: Host, name: string) =>
  host.page.screenshot({ path: `test-results/screenshots/${name}.png` });

test.describe('Images view on a populated store', () => {
  test.beforeEach(async ({ imagesPage }) => {
    await expect(imagesPage.rows).toHaveCount(4);
  });

  test('lists the fixture images with tag chips, badges and sizes', async ({ host, imagesPage }) => {
    const alpine = imagesPage.rowById(ids.alpine);
    expect(await imagesPage.chipLabels(alpine)).toEqual(['3.20', 'latest']);
    await expect(alpine).toContainText('base');
    await expect(imagesPage.rowById(ids.orphan)).toContainText('<none>');
    await expect(imagesPage.statusBar).toContainText('4 images');
    await shot(host, 'images');
    await host.page.emulateMedia({ colorScheme: 'dark' });
    await shot(host, 'images-dark');
  });

  test('drag a tag chip onto another image: the tag moves, and Undo moves it back', async ({
    host,
    imagesPage,
  }) => {
    const alpine = imagesPage.rowById(ids.alpine);
    const web = imagesPage.rowById(ids.web);
    await imagesPage.dragOver(imagesPage.chip(alpine, 'latest'), web);
    await expect(imagesPage.untagZone).toBeVisible();
    await expect(web.getByTestId('drop-hint')).toHaveText(
      `Move alpine:latest here — moves from ${ids.alpine.slice(7, 19)}…`,
    );
    await shot(host, 'drag-to-tag');
    await imagesPage.drop();

    await expect(imagesPage.chip(web, 'alpine:latest')).toBeVisible();
    expect(await imagesPage.chipLabels(alpine)).toEqual(['3.20']);
    await expect(imagesPage.untagZone).toBeHidden();
    let names = await namesInStore(host);
    expect(names[ids.web]).toContain('docker.io/library/alpine:latest');
    expect(names[ids.alpine]).toEqual(['docker.io/library/alpine:3.20']);

    await imagesPage.undo().click();
    await expect(imagesPage.chip(alpine, 'latest')).toBeVisible();
    await expect(imagesPage.chip(web, 'alpine:latest')).toHaveCount(0);
    names = await namesInStore(host);
    expect(names[ids.alpine]).toContain('docker.io/library/alpine:latest');
    expect(names[ids.web]).toEqual(['docker.io/berth-e2e/web:1.0']);
  });

  test('Alt-drop copies the tag into the target repository and keeps it on the source', async ({
    host,
    imagesPage,
  }) => {
    const alpine = imagesPage.rowById(ids.alpine);
    const api = imagesPage.rowById(ids.api);
    await imagesPage.dragOver(imagesPage.chip(alpine, '3.20'), api, { alt: true });
    await expect(api.getByTestId('drop-hint')).toHaveText('Copy as berth-e2e/api:3.20');
    await imagesPage.drop();

    await expect(imagesPage.chip(api, '3.20')).toBeVisible();
    expect(await imagesPage.chipLabels(alpine)).toEqual(['3.20', 'latest']);
    const names = await namesInStore(host);
    expect(names[ids.api]).toEqual(
      expect.arrayContaining(['docker.io/berth-e2e/api:2.0', 'docker.io/berth-e2e/api:3.20']),
    );
    expect(names[ids.alpine]).toContain('docker.io/library/alpine:3.20');
  });

  test('dropping a tag on the image it came from does nothing', async ({ imagesPage }) => {
    const alpine = imagesPage.rowById(ids.alpine);
    await imagesPage.dragOver(imagesPage.chip(alpine, 'latest'), alpine);
    await expect(alpine.getByTestId('drop-hint')).toHaveText('The tag is already here');
    await imagesPage.drop();
    expect(await imagesPage.chipLabels(alpine)).toEqual(['3.20', 'latest']);
    await expect(imagesPage.toasts).toHaveCount(0);
  });

  test('drag a tag to Untag: it is removed, the image shows <none>, and Undo restores it', async ({
    host,
    imagesPage,
  }) => {
    const api = imagesPage.rowById(ids.api);
    await imagesPage.dragOver(imagesPage.chip(api, '2.0'), imagesPage.untagZone);
    await expect(imagesPage.untagZone).toContainText('its last name');
    await imagesPage.drop();

    await expect(api).toContainText('<none>');
    await expect(imagesPage.chips(api)).toHaveCount(0);
    expect((await namesInStore(host))[ids.api]).toEqual([]);
    await expect(imagesPage.toast(/Removed berth-e2e\/api:2.0/)).toBeVisible();

    await imagesPage.undo().click();
    await expect(imagesPage.chip(api, '2.0')).toBeVisible();
    expect((await namesInStore(host))[ids.api]).toEqual(['docker.io/berth-e2e/api:2.0']);
  });

  test('a tag added with the CLI while the app is open appears without a reload', async ({
    host,
    imagesPage,
  }) => {
    const result = await host.cli(['tag', 'alpine:3.20', 'mirror.example.com/alpine:edge']);
    expect(result.code, result.stderr).toBe(0);
    await expect(
      imagesPage.chip(imagesPage.rowById(ids.alpine), 'mirror.example.com/alpine:edge'),
    ).toBeVisible();
  });

  test('keyboard only: add a tag, then remove it', async ({ host, imagesPage }) => {
    const page = host.page;
    await page.keyboard.press('/');
    await page.keyboard.type('berth-e2e/api');
    await expect(imagesPage.rows).toHaveCount(1);
    await page.keyboard.press('ArrowDown');
    await expect(imagesPage.grid).toBeFocused();
    await page.keyboard.press('t');
    await expect(imagesPage.addTagDialog).toBeVisible();
    await page.keyboard.type('berth-e2e/api:BAD TAG');
    await expect(imagesPage.addTagDialog.getByTestId('tag-name-help')).toHaveAttribute('role', 'alert');
    for (let i = 0; i < 'BAD TAG'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('keyboard');
    await expect(imagesPage.addTagDialog.getByTestId('tag-name-help')).toHaveText(
      'Will be docker.io/berth-e2e/api:keyboard',
    );
    await page.keyboard.press('Enter');
    const api = imagesPage.rowById(ids.api);
    await expect(imagesPage.chip(api, 'keyboard')).toBeVisible();
    await expect(imagesPage.grid).toBeFocused();
    expect((await namesInStore(host))[ids.api]).toContain('docker.io/berth-e2e/api:keyboard');

    await page.keyboard.press('Shift+F10');
    await expect(imagesPage.menu).toBeVisible();
    const active = imagesPage.menu.locator('.menu-item.active');
    for (let i = 0; i < 10 && (await active.textContent()) !== 'berth-e2e/api:keyboard'; i++)
      await page.keyboard.press('ArrowDown');
    await expect(active).toHaveText('berth-e2e/api:keyboard');
    await page.keyboard.press('Enter');
    await expect(imagesPage.chip(api, 'keyboard')).toHaveCount(0);
    expect((await namesInStore(host))[ids.api]).toEqual(['docker.io/berth-e2e/api:2.0']);
  });

  test('details tabs show the fixture summary, history, layers and inspect JSON', async ({
    host,
    imagesPage,
    detailsPage,
  }) => {
    await imagesPage.rowById(ids.web).click();
    await expect(detailsPage.panel).toBeVisible();
    await expect(detailsPage.summary).toContainText('berth-e2e/web:1.0');
    await expect(detailsPage.summary).toContainText('APP_ENV');
    await expect(detailsPage.summary).toContainText('["/usr/local/bin/web"]');
    await expect(detailsPage.summary).toContainText('frontend');
    await shot(host, 'details-summary');

    await detailsPage.tab('History');
    await expect(detailsPage.historyRows).toHaveCount(4);
    await expect(detailsPage.historyRows.first()).toContainText('COPY dist/ /srv/');
    await expect(detailsPage.historyRows.nth(2)).toContainText('apk add --no-cache ca-certificates tzdata');
    await shot(host, 'details-history');

    await detailsPage.tab('Layers');
    await expect(detailsPage.layerRows).toHaveCount(3);
    for (const [i, layer] of fixtureImages.web.layers.entries())
      await expect(detailsPage.layerRows.nth(i)).toContainText(layer.digest);
    await expect(detailsPage.layerRows.nth(1)).toContainText('apk add --no-cache');

    await detailsPage.tab('Inspect');
    await detailsPage.inspectSearch.fill('APP_ENV');
    await expect(host.page.getByTestId('inspect-matches')).toHaveText(/[1-9]\d* match/);
    await expect(detailsPage.inspectJson.locator('mark').first()).toHaveText('APP_ENV');
    await shot(host, 'details-inspect');
  });

  test('multi-select and bulk remove', async ({ host, imagesPage }) => {
    await imagesPage.rowById(ids.api).locator('.row-check').check();
    await imagesPage.rowById(ids.orphan).click({ modifiers: ['ControlOrMeta'] });
    await expect(imagesPage.selectionBar).toContainText('2 selected');
    await imagesPage.selectionBar.getByRole('button', { name: 'Remove' }).click();
    await expect(imagesPage.removeDialog).toContainText('berth-e2e/api:2.0');
    await imagesPage.removeDialog.getByRole('button', { name: 'Remove' }).click();
    await expect(imagesPage.rows).toHaveCount(2);
    const names = await namesInStore(host);
    expect(Object.keys(names).sort()).toEqual([ids.alpine, ids.web].sort());
  });

  test('group by repository and filters', async ({ host, imagesPage }) => {
    await host.page.getByRole('button', { name: 'Group by repository' }).click();
    await expect(imagesPage.groupRows).toHaveCount(4);
    await expect(imagesPage.groupRows.first()).toContainText('alpine');
    await shot(host, 'images-grouped');
    await host.page.getByRole('button', { name: 'Group by repository' }).click();

    await host.page.getByLabel('Dangling images').selectOption('only');
    await expect(imagesPage.rows).toHaveCount(1);
    await expect(imagesPage.rows.first()).toHaveAttribute('data-image-id', ids.orphan);
    await host.page.getByLabel('Dangling images').selectOption('any');
    await host.page.getByRole('button', { name: 'In use' }).click();
    await expect(imagesPage.rows).toHaveCount(1);
    await expect(imagesPage.rows.first()).toHaveAttribute('data-image-id', ids.alpine);
    await host.page.getByRole('button', { name: 'In use' }).click();
    await host.page.getByLabel('Label filter').fill('tier=backend');
    await expect(imagesPage.rows).toHaveCount(1);
    await expect(imagesPage.rows.first()).toHaveAttribute('data-image-id', ids.api);
  });
});

test.describe('Disk usage, prune and activity', () => {
  test('disk usage shows a bar per image and the store total', async ({ host, diskPage }) => {
    await diskPage.open();
    await expect(diskPage.bars).toHaveCount(4);
    await expect(diskPage.total).not.toHaveText('0 B');
    await expect(diskPage.bars.first()).toContainText('berth-e2e/web:1.0');
    await shot(host, 'disk-usage');
  });

  test('prune previews the dangling image and the space, then removes it', async ({
    host,
    prunePage,
    imagesPage,
  }) => {
    await prunePage.open();
    await expect(prunePage.items).toHaveCount(1);
    await expect(prunePage.items.first()).toContainText(ids.orphan.slice(7, 19));
    await expect(prunePage.reclaim).toContainText(/reclaims at least [1-9]/);
    await shot(host, 'prune');
    await prunePage.prune();
    await expect(imagesPage.toast(/Pruned 1 image/)).toBeVisible();
    await expect(prunePage.items).toHaveCount(0);
    const names = await namesInStore(host);
    expect(ids.orphan in names).toBe(false);
  });

  test('activity shows tag changes live', async ({ host, imagesPage }) => {
    await imagesPage.rowById(ids.alpine).click({ button: 'right' });
    await imagesPage.menu.getByRole('menuitem', { name: 'alpine:3.20' }).click();
    await expect(imagesPage.toast(/Removed alpine:3.20/)).toBeVisible();
    await host.page.getByTestId('nav-activity').click();
    await expect(host.page.getByTestId('activity-item').first()).toContainText('untag');
    await expect(host.page.getByTestId('activity-item').first()).toContainText(
      'docker.io/library/alpine:3.20',
    );
    const result = await host.cli(['tag', 'alpine:latest', 'alpine:from-cli']);
    expect(result.code, result.stderr).toBe(0);
    await expect(host.page.getByTestId('activity-item').first()).toContainText('alpine:from-cli');
    await shot(host, 'activity');
  });
});
