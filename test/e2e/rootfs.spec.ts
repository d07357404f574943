import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ImageDetails } from '../../shared/contract';
import { buildLayerTar } from '../support/fixture';
import { expect, test } from './fixtures';
import { seedStore } from './fixture-images';
import { RootfsDialogsPage } from './pages/rootfs-dialogs-page';

test.use({ storeSeed: { prepare: seedStore } });

test('import a tarball typed as a host path, squash it, export it, and see a bad path refused in place', async ({
  host,
  imagesPage,
}) => {
  const dialogs = new RootfsDialogsPage(host.page);
  const dir = dirname(host.storePath);
  const tarball = join(dir, 'rootfs.tar.gz');
  await writeFile(
    tarball,
    gzipSync(
      buildLayerTar([
        { path: 'bin/', type: 'dir' },
        { path: 'bin/app', size: 2000, mode: 0o755 },
      ]),
    ),
  );
  await expect(imagesPage.rows).toHaveCount(4);

  await dialogs.importTarball({ path: join(dir, 'missing.tar') });
  await expect(dialogs.error).toContainText('does not exist');
  await expect(dialogs.error).toContainText('NOT_FOUND');
  await host.page.screenshot({ path: 'test-results/screenshots/import-dialog.png' });
  await dialogs.importDialog.getByRole('button', { name: 'Cancel' }).click();

  await dialogs.importTarball({
    path: tarball,
    name: 'e2e/imported:1',
    changes: 'CMD ["/bin/app"]\nENV MODE=e2e',
    message: 'from the browser',
  });
  await expect(dialogs.importDialog).toBeHidden();
  const imported = imagesPage.row('e2e/imported');
  await expect(imported).toBeVisible();
  await expect(imagesPage.rows).toHaveCount(5);
  const inspect = await host.cli(['--json', 'inspect', 'e2e/imported:1']);
  const [details] = JSON.parse(inspect.stdout) as ImageDetails[];
  expect(details?.cmd).toEqual(['/bin/app']);
  expect(details?.env).toEqual(['MODE=e2e']);
  expect(details?.history[0]?.comment).toBe('from the browser');

  await dialogs.squash(imagesPage.row('berth-e2e/web'), 'e2e/web:flat');
  await expect(dialogs.squashDialog).toBeHidden();
  await expect(imagesPage.rows).toHaveCount(6);
  const [flat] = JSON.parse((await host.cli(['--json', 'inspect', 'e2e/web:flat'])).stdout) as ImageDetails[];
  expect(flat?.layers).toHaveLength(1);

  const out = join(dir, 'exported.tar');
  await dialogs.exportTo(imported, out);
  await expect(dialogs.exportDialog).toBeHidden();
  await expect(imagesPage.toasts.last()).toContainText(`Exported`);
  expect((await stat(out)).size).toBeGreaterThan(2000);
  expect((await readFile(out)).includes(Buffer.from('bin/app'))).toBe(true);
});
