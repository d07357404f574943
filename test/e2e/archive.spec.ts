import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageSummary } from '../../shared/contract';
import { expect, test } from './fixtures';
import { fixtureImages, seedStore } from './fixture-images';
import { ArchiveDialogsPage } from './pages/archive-dialogs-page';

test.use({ storeSeed: { prepare: seedStore } });

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-e2e-archive-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test.describe('Save and Load in the browser host', () => {
  test.beforeEach(({ hostKind }) => {
    test.skip(hostKind !== 'serve', 'the desktop host uses native dialogs, which Playwright cannot drive');
  });

  test('downloads a saved image, loads it back after it was removed, and refuses a damaged archive', async ({
    host,
    imagesPage,
  }) => {
    const archive = new ArchiveDialogsPage(host.page);
    await expect(imagesPage.rows).toHaveCount(4);
    await archive.openSave(imagesPage.rowById(fixtureImages.alpine.configDigest));
    await archive.choose('OCI archive', true);
    const file = join(dir, 'alpine.tar.gz');
    await archive.download(file);
    await expect(
      imagesPage.toast(/Saved alpine:3\.20, alpine:latest to alpine_3\.20\.tar\.gz/),
    ).toBeVisible();
    await expect(archive.saveDialog).toBeHidden();

    const removed = await host.cli(['rmi', '--force', fixtureImages.alpine.configDigest]);
    expect(removed.code, removed.stderr).toBe(0);
    await expect(imagesPage.rows).toHaveCount(3);

    const junk = join(dir, 'junk.tar');
    await writeFile(junk, 'not an archive'.repeat(100));
    await archive.load(junk);
    await expect(archive.error).toContainText('junk.tar is not a complete archive');
    await expect(archive.error).toContainText('ARCHIVE_INVALID');
    await archive.loadDialog.getByRole('button', { name: 'Cancel' }).click();

    await archive.load(file);
    await expect(imagesPage.toast('Loaded alpine:3.20, alpine:latest')).toBeVisible();
    await expect(imagesPage.rows).toHaveCount(4);
    const listed = await host.cli(['images', '--json']);
    const images = JSON.parse(listed.stdout) as ImageSummary[];
    expect(images.find((i) => i.id === fixtureImages.alpine.configDigest)?.repoTags.sort()).toEqual([
      'docker.io/library/alpine:3.20',
      'docker.io/library/alpine:latest',
    ]);
  });
});
