import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ImageDetails } from '../../shared/contract';
import { startRegistry, type TestRegistry } from '../support/registry';
import { expect, test } from './fixtures';
import { fixtureImages, seedStore } from './fixture-images';
import { PushPage } from './pages/push-page';

const run = promisify(execFile);

test.use({ storeSeed: { prepare: seedStore } });

let registry: TestRegistry;
test.beforeAll(async () => {
  registry = await startRegistry();
});
test.afterAll(async () => {
  await registry?.stop();
});

test('pushes an image from its context menu; the push shows in the Pulls panel and lands in the registry', async ({
  host,
  imagesPage,
}) => {
  await expect(imagesPage.rows).toHaveCount(4);
  const alpine = fixtureImages.alpine;
  const push = new PushPage(host.page);
  await push.openFor(imagesPage.rowById(alpine.configDigest));
  await expect(push.destination).toHaveValue(/alpine:/);
  await push.destination.fill('Not A Name');
  await expect(push.help).toHaveAttribute('role', 'alert');
  const destination = `${registry.host}/e2e/alpine:1`;
  await push.destination.fill(destination);
  await expect(push.help).toHaveText(`Pushes to ${destination}`);
  await push.submit.click();
  await expect(push.dialog).toBeHidden();

  await push.openTransfers();
  await expect(push.pushCards).toHaveCount(1);
  await expect(push.pushCards).toContainText(destination);
  await expect(push.pushCards).toContainText('Complete');
  await host.page.screenshot({ path: 'test-results/screenshots/push.png' });

  const { stdout } = await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${destination}`,
  ]);
  expect((JSON.parse(stdout) as { config: { digest: string } }).config.digest).toBe(alpine.configDigest);
  const inspected = await host.cli(['inspect', alpine.configDigest]);
  const [details] = JSON.parse(inspected.stdout) as ImageDetails[];
  expect(details?.repoDigests).toContain(`${registry.host}/e2e/alpine@${alpine.digest}`);
});
