import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, buildIndex, type FixtureImage } from '../support/fixture';
import type { Host } from './host';
import { expect, test } from './fixtures';
import { seedStore } from './fixture-images';
import { LayersPage } from './pages/layers-page';

/** An image whose layers overwrite and delete: layer 2 rewrites etc/motd and adds tmp/, layer 3 deletes tmp/. */
const layered = buildImage({
  config: { cmd: ['/bin/sh'], created: '2026-11-20T10:00:00Z' },
  layers: [
    {
      entries: [
        { path: 'etc/', type: 'dir' },
        { path: 'etc/os-release', content: 'NAME=Berth\n' },
        { path: 'etc/motd', content: 'hello\n' },
        { path: 'bin/', type: 'dir' },
        { path: 'bin/busybox', size: 50_000, seed: 'layered-busybox' },
      ],
      createdBy: '/bin/sh -c #(nop) ADD file:base in / ',
    },
    {
      entries: [
        { path: 'etc/motd', content: 'welcome\n' },
        { path: 'tmp/', type: 'dir' },
        { path: 'tmp/cache.bin', size: 120_000, seed: 'layered-cache' },
      ],
      createdBy: '/bin/sh -c echo welcome > /etc/motd && build-cache',
    },
    {
      entries: [
        { path: 'tmp', type: 'whiteout' },
        { path: 'srv/app.conf', content: 'port=8080\n' },
      ],
      createdBy: 'COPY app.conf /srv/ # buildkit',
    },
  ],
});

/** One platform of a multi-platform image: its binary differs, its base layer is shared. */
const platformImage = (architecture: string, variant?: string): FixtureImage =>
  buildImage({
    config: variant === undefined ? { architecture } : { architecture, variant },
    layers: [
      { entries: [{ path: 'etc/os-release', content: 'NAME=Berth\n' }], createdBy: 'ADD rootfs /' },
      {
        entries: [{ path: `usr/bin/app-${architecture}`, size: 4000, seed: `multi-${architecture}` }],
        createdBy: `COPY app-${architecture} /usr/bin/`,
      },
    ],
  });
const multi = buildIndex([platformImage('amd64'), platformImage('arm64', 'v8'), platformImage('arm', 'v7')]);
const [multiAmd64, multiArm64] = multi.children as [FixtureImage, FixtureImage];

/**
 * The usual fixture store plus the layered image, stored without layer indexes (as `load` leaves them), and
 * a 3-platform index stored as pulls store it: linux/amd64 named, linux/arm64 an unnamed sibling, arm/v7 not.
 */
async function seedLayered(storePath: string): Promise<void> {
  await seedStore(storePath);
  const store = await ImageStore.open(storePath);
  for (const blob of layered.blobs().values()) await store.putBlob(blob);
  await store.putBlob(layered.manifest);
  await store.commitImage({
    manifestDigest: layered.digest,
    names: ['berth-e2e/layered:1'],
    source: 'e2e fixture layered',
    action: 'load',
  });
  for (const blob of multi.blobs().values()) await store.putBlob(blob);
  for (const child of multi.children) await store.putBlob(child.manifest);
  await store.putBlob(multi.manifest);
  const fromIndex = {
    indexDigest: multi.digest,
    repoDigests: [`localhost:5999/berth-e2e/multi@${multi.digest}`],
    action: 'pull' as const,
  };
  await store.commitImage({
    manifestDigest: multiAmd64.digest,
    names: ['localhost:5999/berth-e2e/multi:1'],
    ...fromIndex,
  });
  await store.commitImage({ manifestDigest: multiArm64.digest, names: [], ...fromIndex });
}

test.use({ storeSeed: { prepare: seedLayered } });

const shot = (host: Host, name: string) =>
  host.page.screenshot({ path: `test-results/screenshots/${name}.png` });

test('layer explorer: views, change filter, search, waste and extract', async ({
  host,
  hostKind,
  imagesPage,
  detailsPage,
}) => {
  const layers = new LayersPage(host.page);
  await imagesPage.rowById(layered.configDigest).click();
  await expect(detailsPage.panel).toBeVisible();
  await detailsPage.tab('Layers');

  await expect(layers.layerRows).toHaveCount(3);
  await expect(layers.layerRows.nth(2)).toHaveAttribute('aria-current', 'true');
  await expect(layers.layerRows.nth(1)).toContainText('RUN echo welcome > /etc/motd');
  await expect(layers.line('tmp')).toHaveAttribute('data-change', 'removed');
  expect(await layers.paths()).toEqual(['bin', 'etc', 'srv', 'tmp']);
  await shot(host, 'layers-merged');

  // One key switches to what the top layer changed: it added srv/ and removed tmp/ (with the bytes it hid).
  await layers.tree.focus();
  await host.page.keyboard.press('m');
  await expect(layers.layerView).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => layers.paths()).toEqual(['srv', 'tmp']);
  await expect(layers.line('tmp')).toContainText('120 kB');
  await shot(host, 'layers-changes');

  // The filesystem after layer 2, only what changed: etc (motd rewritten) and tmp; bin and os-release hidden.
  await layers.selectLayer(1);
  await layers.mergedView.click();
  await layers.changesOnly.click();
  await expect.poll(() => layers.paths()).toEqual(['etc', 'tmp']);
  await layers.line('etc').click();
  await expect.poll(() => layers.paths()).toEqual(['etc', 'etc/motd', 'tmp']);
  await expect(layers.line('etc/motd')).toHaveAttribute('data-change', 'modified');
  await shot(host, 'layers-filter');
  await layers.line('tmp').click();
  await expect.poll(() => layers.paths()).toEqual(['etc', 'etc/motd', 'tmp', 'tmp/cache.bin']);
  await expect(layers.line('tmp/cache.bin')).toHaveAttribute('data-change', 'added');
  // The README's picture of the explorer (docs/screenshots/details-layers.png is copied from this one).
  await shot(host, 'details-layers');

  await layers.searchFor('motd');
  await expect(layers.searchHits).toHaveCount(2);
  await expect(layers.searchHits.nth(0)).toContainText('added');
  await expect(layers.searchHits.nth(1)).toContainText('modified');
  await shot(host, 'layers-search');

  await layers.line('etc/motd').click();
  await expect(layers.preview).toHaveText('welcome');

  await layers.efficiencyButton.click();
  // 120,006 wasted bytes (tmp/cache.bin and the first motd) of 170,035: 50,029 reach the final filesystem.
  await expect(layers.efficiencyScore).toHaveText('29.4%');

  if (hostKind === 'serve') {
    const dest = await mkdtemp(join(tmpdir(), 'berth-e2e-extract-'));
    try {
      await layers.destination.fill(dest);
      await layers.extractButton.click();
      await expect(layers.extractStatus).toContainText(`Extracted 1 paths`);
      expect(await readFile(join(dest, 'motd'), 'utf8')).toBe('welcome\n');
      await shot(host, 'layers-extract');
    } finally {
      await rm(dest, { recursive: true, force: true });
    }
  }
});

test('layer explorer: another platform of a multi-platform image', async ({
  host,
  imagesPage,
  detailsPage,
}) => {
  const layers = new LayersPage(host.page);
  await imagesPage.rowById(multiAmd64.configDigest).click();
  await expect(detailsPage.panel).toBeVisible();
  await detailsPage.tab('Layers');
  await expect(layers.layerRows).toHaveCount(2);
  await layers.line('usr').click();
  await layers.line('usr/bin').click();
  await expect.poll(() => layers.paths()).toEqual(['etc', 'usr', 'usr/bin', 'usr/bin/app-amd64']);

  // The stored sibling is offered; the platform not pulled is named, with a Pull button.
  await expect(layers.platform.locator('option')).toHaveText(['linux/amd64', 'linux/arm64/v8']);
  await expect(layers.missingPlatforms).toHaveCount(1);
  await expect(layers.missingPlatforms).toContainText('linux/arm/v7');
  await expect(layers.missingPlatforms.getByRole('button', { name: 'Pull linux/arm/v7' })).toBeVisible();

  await layers.platform.selectOption('linux/arm64/v8');
  await expect.poll(() => layers.paths()).toEqual(['etc', 'usr', 'usr/bin', 'usr/bin/app-arm64']);
  await expect(layers.layerRows.nth(1)).toContainText('COPY app-arm64 /usr/bin/');
  await shot(host, 'layers-platforms');

  await layers.platform.selectOption('linux/amd64');
  await expect.poll(() => layers.paths()).toEqual(['etc', 'usr', 'usr/bin', 'usr/bin/app-amd64']);
});
