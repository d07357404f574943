import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { liveGunzipWorkers } from '../../electron/core/layers/gunzip-worker';
import { RegistryClient } from '../../electron/core/registry/client';
import type { Puller } from '../../electron/core/pull/pull';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { failure } from '../support/failure';
import { proxiedPullerHarness } from '../support/proxied-puller';

const mib = 1024 * 1024;

const harness = proxiedPullerHarness('berth-pull-worker');
let image: FixtureImage;

async function setup(): Promise<Puller> {
  return (await harness.setup()).puller;
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
  // Two layers of incompressible content: both are over the 1 MiB of gzip that sends a layer to the worker.
  image = buildImage({
    layers: [0, 1].map((i) => ({
      entries: [{ path: `l${i}/a.bin`, size: 4 * mib + i }],
      gzipLevel: 1,
    })),
  });
  await pushImage(harness.registry, 'berth/warm', '1', image);
});

beforeEach(() => harness.proxy.clear());
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
    const outcome = await puller.pull({ reference: `${harness.proxy.host}/berth/warm:1` });
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
    await puller.pull({ reference: `${harness.proxy.host}/berth/warm:1` });
    const most = watchWorkers();
    const again = await puller.pull({ reference: `${harness.proxy.host}/berth/warm:1` });
    expect(again.status).toBe('present');
    expect(most()).toBe(0);
  });

  it('leaves no worker after a pull that fails before any layer', async () => {
    const puller = await setup();
    const err = await failure(puller.pull({ reference: `${harness.proxy.host}/berth/warm:missing` }));
    expect(err.code).toBe('MANIFEST_UNKNOWN');
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('leaves no worker after a pull cancelled while the worker inflates a layer', async () => {
    // Stalled near their ends: past the 2 MiB the download may run ahead of the indexer, so one of them has
    // claimed the worker and it is inflating when the pull is cancelled.
    const stallAt = (layer: FixtureImage['layers'][number]): number => layer.size - 1000;
    for (const layer of image.layers)
      harness.proxy.add({
        method: 'GET',
        path: `/v2/berth/warm/blobs/${layer.digest}`,
        fault: { kind: 'stall', afterBytes: stallAt(layer) },
      });
    const puller = await setup();
    const controller = new AbortController();
    const most = watchWorkers();
    const err = await failure(
      puller.pull({
        reference: `${harness.proxy.host}/berth/warm:1`,
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
