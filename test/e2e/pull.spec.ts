import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageSummary, Platform } from '../../shared/contract';
import { formatPlatform } from '../../shared/format';
import { hostPlatform } from '../../electron/core/registry/platform';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { buildImage, buildIndex, pushImage, pushIndex, type FixtureImage } from '../support/fixture';
import { startRegistry, type TestRegistry } from '../support/registry';
import type { Host } from './host';
import { expect, test } from './fixtures';
import { ImagesPage } from './pages/images-page';
import { PullsPage } from './pages/pulls-page';

const mib = 1024 * 1024;
const scratch = mkdtempSync(join(tmpdir(), 'berth-e2e-pull-'));
const authFile = join(scratch, 'auth.json');
const confFile = join(scratch, 'registries.conf');

// The host reads only these files: the user's own logins and registries.conf stay out of the test.
test.use({ hostEnv: { REGISTRY_AUTH_FILE: authFile, CONTAINERS_REGISTRIES_CONF: confFile } });

const here = hostPlatform();
const other: Platform =
  here.architecture === 'arm64'
    ? { os: 'linux', architecture: 'amd64' }
    : { os: 'linux', architecture: 'arm64', variant: 'v8' };

const platformConfig = (p: Platform) => ({
  os: p.os,
  architecture: p.architecture,
  ...(p.variant === undefined ? {} : { variant: p.variant }),
});

/** The image the dialog pulls: a big incompressible layer (throttled by the proxy) and a small one. */
const tool = buildImage({
  config: {
    ...platformConfig(here),
    cmd: ['/bin/tool'],
    created: '2026-11-20T10:00:00Z',
  },
  history: [
    { created: '2026-11-20T09:00:00Z', created_by: 'COPY tool /bin/tool # e2e big layer' },
    { created: '2026-11-20T10:00:00Z', created_by: 'RUN echo configured > /etc/tool.conf # e2e small layer' },
  ],
  layers: [
    { entries: [{ path: 'bin/tool', size: 3 * mib, seed: 'tool-binary', mode: 0o755 }], gzipLevel: 1 },
    { entries: [{ path: 'etc/tool.conf', content: 'configured\n' }] },
  ],
});
const toolOther = buildImage({
  config: { ...platformConfig(other), cmd: ['/bin/tool'] },
  layers: [{ entries: [{ path: 'bin/tool', size: 4096, seed: 'tool-other' }] }],
});
const toolIndex = buildIndex([tool, toolOther]);
const bigLayer = tool.layers[0]?.digest ?? '';

const large = buildImage({
  layers: [{ entries: [{ path: 'large.bin', size: 24 * mib, seed: 'large' }], gzipLevel: 1 }],
});
const flaky = buildImage({
  config: { ...platformConfig(here), cmd: ['/flaky'] },
  layers: [{ entries: [{ path: 'flaky', size: 20_000, seed: 'flaky' }] }],
});
const updateV1 = buildImage({
  config: { ...platformConfig(here), cmd: ['/v1'] },
  layers: [{ entries: [{ path: 'v', content: 'one\n' }] }],
});
const updateV2 = buildImage({
  config: { ...platformConfig(here), cmd: ['/v2'] },
  layers: [{ entries: [{ path: 'v', content: 'two\n' }] }],
});

let registry: TestRegistry;
let proxy: FaultProxy;
let secured: TestRegistry;

test.beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  secured = await startRegistry({ auth: 'htpasswd' });
  await pushIndex(registry, 'berth-e2e/tool', '1.0', toolIndex);
  await pushImage(registry, 'berth-e2e/tool', '0.9', toolOther);
  await pushImage(registry, 'berth-e2e/large', '1', large);
  await pushImage(registry, 'berth-e2e/flaky', '1', flaky);
  await pushImage(registry, 'berth-e2e/update', '1', updateV1 satisfies FixtureImage);
  await writeFile(
    confFile,
    [
      'unqualified-search-registries = ["docker.io"]',
      'short-name-mode = "permissive"',
      '',
      '[aliases]',
      `"e2e-tool" = "${proxy.host}/berth-e2e/tool"`,
      '',
      '[[registry]]',
      'prefix = "blocked.example.com"',
      'location = "blocked.example.com"',
      'blocked = true',
      '',
      '[[registry]]',
      'prefix = "docker.io"',
      'location = "docker.io"',
      '[[registry.mirror]]',
      'location = "mirror.example.com:5000"',
      'insecure = true',
      '',
    ].join('\n'),
  );
});

test.afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
  await secured?.stop();
  await rm(scratch, { recursive: true, force: true });
});

test.beforeEach(() => proxy.clear());

const shot = (host: Host, name: string) =>
  host.page.screenshot({ path: `test-results/screenshots/${name}.png` });

/** The store's images, read through the CLI on the same store. */
async function imagesInStore(host: Host): Promise<ImageSummary[]> {
  const result = await host.cli(['images', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ImageSummary[];
}

test('pull through the dialog: tags offered, platforms listed, layers move, the row appears with its history and layers', async ({
  host,
}) => {
  const pulls = new PullsPage(host.page);
  const images = new ImagesPage(host.page);
  await expect(images.empty).toBeVisible();
  proxy.add({
    path: `/v2/berth-e2e/tool/blobs/${bigLayer}`,
    times: 20,
    fault: { kind: 'throttle', bytesPerSecond: mib },
  });

  await pulls.openDialog();
  await pulls.reference.fill('e2e-tool');
  await expect(pulls.resolution).toHaveText(`e2e-tool → ${proxy.host}/berth-e2e/tool:latest (alias)`);
  await pulls.reference.fill(`${proxy.host}/berth-e2e/tool:`);
  await expect(pulls.suggestions).toHaveText(['0.9', '1.0']);
  await pulls.reference.press('ArrowDown');
  await pulls.reference.press('ArrowDown');
  await pulls.reference.press('Enter');
  await expect(pulls.reference).toHaveValue(`${proxy.host}/berth-e2e/tool:1.0`);
  await expect(pulls.platform.locator('option')).toHaveText([
    "This machine's platform",
    ...[here, other].map(formatPlatform),
  ]);
  await pulls.platform.selectOption(formatPlatform(here));
  await shot(host, 'pull-dialog');

  await pulls.recordLayerProgress();
  await pulls.dialog.getByRole('button', { name: 'Pull' }).click();
  await expect(pulls.dialog).toBeHidden();
  const task = pulls.task('berth-e2e/tool:1.0');
  await expect(task).toBeVisible();
  const big = task.locator(`[data-testid="pull-layer"][data-digest="${bigLayer}"]`);
  await expect(big.getByTestId('pull-layer-status')).toHaveText('Downloading');
  await expect(pulls.panelButton.getByTestId('pulls-active-count')).toHaveText('1');
  await expect
    .poll(async () => Number(await big.getByRole('progressbar').getAttribute('aria-valuenow')))
    .toBeGreaterThan(0);
  await shot(host, 'pulls-panel');

  // On completion the new row is revealed: selected, details open, and the panel steps aside for it.
  const row = images.rowById(tool.configDigest);
  await expect(row).toHaveAttribute('aria-selected', 'true', { timeout: 45_000 });
  await expect(pulls.panel).toBeHidden();
  await pulls.panelButton.click();
  await expect(task).toHaveAttribute('data-state', 'complete');
  await pulls.panelButton.click();
  const total = tool.layers[0]?.size ?? 0;
  const seen = (await pulls.recordedLayerProgress())[bigLayer] ?? [];
  const between = [...new Set(seen.filter((v) => v > 0 && v < total))];
  expect(between.length, `progress values seen for the big layer: ${seen.join(', ')}`).toBeGreaterThanOrEqual(
    2,
  );
  expect(seen.at(-1)).toBe(total);

  await expect(row).toBeVisible();
  const details = host.page.getByTestId('image-details');
  await expect(details).toBeVisible();
  await details.getByRole('tab', { name: /^History/ }).click();
  await expect(host.page.getByTestId('history-row')).toHaveCount(2);
  await expect(host.page.getByTestId('details-history')).toContainText('e2e big layer');
  await expect(host.page.getByTestId('details-history')).toContainText('e2e small layer');
  await details.getByRole('tab', { name: /^Layers/ }).click();
  await expect(host.page.getByTestId('layer-row')).toHaveCount(2);
  await expect(host.page.getByTestId('details-layers')).toContainText(bigLayer.slice(7, 19));
  await shot(host, 'pulled-image');
  expect((await imagesInStore(host)).map((i) => i.id)).toEqual([tool.configDigest]);
});

test('cancel a pull of a large image: the task shows cancelled and no image is stored', async ({ host }) => {
  const pulls = new PullsPage(host.page);
  const images = new ImagesPage(host.page);
  await expect(images.empty).toBeVisible();
  const layer = large.layers[0]?.digest ?? '';
  // The blob stops after 1 MiB and the connection stays open: the pull is mid-download until cancelled.
  proxy.add({
    path: `/v2/berth-e2e/large/blobs/${layer}`,
    times: 5,
    fault: { kind: 'stall', afterBytes: mib },
  });

  await pulls.openDialog();
  await pulls.reference.fill(`${proxy.host}/berth-e2e/large:1`);
  await pulls.reference.press('Enter');
  const task = pulls.task('berth-e2e/large:1');
  const bar = pulls.layers(task).getByRole('progressbar');
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  await task.getByRole('button', { name: 'Cancel' }).click();
  await expect(task).toHaveAttribute('data-state', 'cancelled');
  await expect(task.getByTestId('pull-state')).toHaveText('Cancelled');
  await shot(host, 'pull-cancelled');

  await host.page.getByRole('button', { name: 'Close the Pulls panel' }).click();
  await expect(images.empty).toBeVisible();
  await expect(images.rows).toHaveCount(0);
  expect(await imagesInStore(host)).toEqual([]);
});

test('a failed pull shows its error text, and Retry pulls it', async ({ host }) => {
  const pulls = new PullsPage(host.page);
  const images = new ImagesPage(host.page);
  proxy.add({
    path: '/v2/berth-e2e/flaky/manifests/1',
    times: 1,
    fault: {
      kind: 'status',
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'e2e: access to flaky denied once' }] }),
    },
  });

  await pulls.openDialog();
  await pulls.reference.fill(`${proxy.host}/berth-e2e/flaky:1`);
  await pulls.reference.press('Enter');
  const task = pulls.task('berth-e2e/flaky:1');
  await expect(task).toHaveAttribute('data-state', 'failed');
  await expect(task.getByTestId('pull-error')).toContainText('DENIED');
  await shot(host, 'pull-failed');

  await task.getByRole('button', { name: 'Retry' }).click();
  await expect(images.rowById(flaky.configDigest)).toHaveAttribute('aria-selected', 'true');
  await pulls.openPanel();
  await expect(task).toHaveAttribute('data-state', 'complete');
  await expect(task.getByTestId('pull-error')).toBeHidden();
  await expect(pulls.tasks).toHaveCount(1);
  expect((await imagesInStore(host)).map((i) => i.id)).toEqual([flaky.configDigest]);
});

test('check for update says up to date, then offers the newer image after the tag moved', async ({
  host,
}) => {
  const images = new ImagesPage(host.page);
  const reference = `${registry.host}/berth-e2e/update:1`;
  const pulled = await host.cli(['pull', reference]);
  expect(pulled.code, pulled.stderr).toBe(0);
  const row = images.rowById(updateV1.configDigest);
  await row.click();
  const check = host.page.getByTestId('update-check');
  await check.getByRole('button', { name: 'Check for update' }).click();
  await expect(check.getByTestId('update-result')).toHaveText(`${reference} is up to date`);

  await pushImage(registry, 'berth-e2e/update', '1', updateV2);
  await check.getByRole('button', { name: 'Check for update' }).click();
  await expect(check.getByTestId('update-result')).toContainText('Newer image available');
  await shot(host, 'update-available');
  await check.getByRole('button', { name: 'Pull' }).click();
  await expect(images.rowById(updateV2.configDigest)).toHaveAttribute('aria-selected', 'true');
  const pulls = new PullsPage(host.page);
  await pulls.openPanel();
  await expect(pulls.task('berth-e2e/update:1')).toHaveAttribute('data-state', 'complete');
});

test('registries view shows registries.conf and logs in (verified) and out without showing secrets', async ({
  host,
}) => {
  await host.page.getByTestId('nav-registries').click();
  const view = host.page.getByTestId('registries-view');
  await expect(view.getByTestId('search-registries')).toHaveText('1. docker.io');
  await expect(view.getByTestId('aliases')).toHaveText(`e2e-tool → ${proxy.host}/berth-e2e/tool`);
  await expect(view.locator('[data-prefix="blocked.example.com"]')).toContainText('blocked');
  await expect(view.locator('[data-prefix="docker.io"]')).toContainText('mirror.example.com:5000 (insecure)');
  await expect(view.getByTestId('conf-sources')).toContainText(confFile);
  await expect(view.getByTestId('credentials-empty')).toBeVisible();

  const form = view.getByTestId('login-form');
  await form.getByRole('textbox', { name: 'Registry' }).fill(secured.host);
  await form.getByRole('textbox', { name: 'User name' }).fill(secured.username ?? '');
  await form.getByLabel('Password').fill('wrong-password');
  await form.getByRole('button', { name: 'Log in' }).click();
  await expect(view.getByTestId('login-error')).toContainText('UNAUTHORIZED');
  await expect(view.getByTestId('credentials-empty')).toBeVisible();

  await form.getByLabel('Password').fill(secured.password ?? '');
  await form.getByRole('button', { name: 'Log in' }).click();
  const entry = view.locator(`[data-testid="credential"][data-registry="${secured.host}"]`);
  await expect(entry).toContainText(`as ${secured.username ?? ''}`);
  await expect(view).not.toContainText(secured.password ?? '');
  await shot(host, 'registries');

  await entry.getByRole('button', { name: 'Log out' }).click();
  await expect(entry).toBeHidden();
  await expect(view.getByTestId('credentials-empty')).toBeVisible();
});
