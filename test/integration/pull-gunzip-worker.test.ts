import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { liveGunzipWorkers } from '../../electron/core/layers/gunzip-worker';
import type { RegistryPool } from '../../electron/core/registry/connect';
import { RegistryClient } from '../../electron/core/registry/client';
import type { Puller } from '../../electron/core/pull/pull';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { failure } from '../support/failure';
import { proxiedPuller } from '../support/proxied-puller';

const mib = 1024 * 1024;

let scratch: string;
let registry: TestRegistry;
let proxy: FaultProxy;
const pools: RegistryPool[] = [];
let count = 0;
let image: FixtureImage;

async function setup(): Promise<Puller> {
  const { puller, pool } = await proxiedPuller({
    root: join(scratch, `store-${count++}`),
    authFile: join(scratch, `auth-${count++}.json`),
    proxyHost: proxy.host,
    registry,
  });
  pools.push(pool);
  return puller;
}

/** Samples the live gzip workers until stopped; returns the most seen. */
function watchWorkers(): () => number {
  let most = liveGunzipWorkers();
  const timer = setInterval(() => {
    most = Math.max(most, liveGunzipWorkers());
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(most, liveGunzipWorkers());
  };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-pull-worker-'));
  registry = await startRegistry({ auth: 'htpasswd' });
  proxy = await startFaultProxy(registry.url);
  // Two layers of incompressible content: both are over the 1 MiB of gzip that sends a layer to the worker.
  image = buildImage({
    layers: [0, 1].map((i) => ({
      entries: [{ path: `l${i}/a.bin`, size: 4 * mib + i }],
      gzipLevel: 1,
    })),
  });
  await pushImage(registry, 'berth/warm', '1', image);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await proxy?.stop();
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

beforeEach(() => proxy.clear());
afterEach(() => vi.restoreAllMocks());

describe('a pull starts the gzip worker ahead and leaves none behind', () => {
  it('has the worker booting when the manifest is asked for, one worker at most, none after', async () => {
    const atManifest: number[] = [];
    // Called through with its own `this`: the spy only notes how many workers run as the manifest is asked for.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const fetchManifest = RegistryClient.prototype.fetchManifest;
    vi.spyOn(RegistryClient.prototype, 'fetchManifest').mockImplementation(function (
      this: RegistryClient,
      ...args: Parameters<RegistryClient['fetchManifest']>
    ) {
      atManifest.push(liveGunzipWorkers());
      return fetchManifest.apply(this, args);
    });
    const puller = await setup();
    const most = watchWorkers();
    const outcome = await puller.pull({ reference: `${proxy.host}/berth/warm:1` });
    expect(most()).toBe(1);
    expect(outcome.imageId).toBe(image.configDigest);
    expect(outcome.layers.map((l) => [l.digest, l.status])).toEqual(
      image.layers.map((l) => [l.digest, 'downloaded']),
    );
    expect(atManifest[0]).toBe(1);
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('starts no worker for an image already present', async () => {
    const puller = await setup();
    await puller.pull({ reference: `${proxy.host}/berth/warm:1` });
    const most = watchWorkers();
    const again = await puller.pull({ reference: `${proxy.host}/berth/warm:1` });
    expect(again.status).toBe('present');
    expect(most()).toBe(0);
  });

  it('leaves no worker after a pull that fails before any layer', async () => {
    const puller = await setup();
    const err = await failure(puller.pull({ reference: `${proxy.host}/berth/warm:missing` }));
    expect(err.code).toBe('MANIFEST_UNKNOWN');
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('leaves no worker after a pull cancelled while the worker inflates a layer', async () => {
    // Stalled near their ends: past the 2 MiB the download may run ahead of the indexer, so one of them has
    // claimed the worker and it is inflating when the pull is cancelled.
    const stallAt = (layer: FixtureImage['layers'][number]): number => layer.size - 1000;
    for (const layer of image.layers)
      proxy.add({
        method: 'GET',
        path: `/v2/berth/warm/blobs/${layer.digest}`,
        fault: { kind: 'stall', afterBytes: stallAt(layer) },
      });
    const puller = await setup();
    const controller = new AbortController();
    const most = watchWorkers();
    const err = await failure(
      puller.pull({
        reference: `${proxy.host}/berth/warm:1`,
        signal: controller.signal,
        onProgress: (p) => {
          const stalled = (l: FixtureImage['layers'][number]): boolean =>
            (p.layers.find((d) => d.digest === l.digest)?.done ?? 0) >= stallAt(l);
          if (image.layers.every(stalled)) controller.abort();
        },
      }),
    );
    expect(err.code).toBe('CANCELLED');
    expect(most()).toBe(1);
    expect(liveGunzipWorkers()).toBe(0);
  });
});
