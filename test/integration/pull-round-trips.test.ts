import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import type { FaultRule } from '../support/fault-proxy.js';
import { buildImage, buildIndex, pushImage, pushIndex } from '../support/fixture.js';
import { proxiedPullerHarness } from '../support/proxied-puller';

// The fixed cost of a small pull is round trips and connections before the first layer byte: these pin them.
const harness = proxiedPullerHarness('berth-round-trips', { auth: 'none' });

async function pullThroughProxy(
  reference: string,
  rules: FaultRule[] = [],
): Promise<{ imageId: string | undefined }> {
  const conf = emptyRegistriesConf();
  const pool = new RegistryPool({
    conf,
    certsDirs: [],
    auth: { read: [], write: join(harness.scratch, 'auth.json') },
    client: { bodyTimeoutMs: 2_000, retry: { baseDelayMs: 1, maxDelayMs: 5 } },
  });
  harness.track(pool);
  const store = await ImageStore.open(await mkdtemp(join(harness.scratch, 'store-')));
  const puller = new Puller({
    store,
    registries: pool,
    conf,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
  });
  harness.proxy.clear();
  for (const rule of rules) harness.proxy.add(rule);
  const outcome = await puller.pull({ reference });
  await pool.close();
  return { imageId: outcome.imageId };
}

describe('round trips of a small pull', () => {
  it('fetches a tagged manifest with one GET (no HEAD first)', async () => {
    const image = buildImage({ layers: [{ entries: [{ path: 'a.txt', size: 1000 }] }] });
    await pushImage(harness.registry, 'berth/trips', '1', image);
    const { imageId } = await pullThroughProxy(`${harness.proxy.host}/berth/trips:1`);
    expect(imageId).toBe(image.configDigest);
    const requests = harness.proxy.requests().map((r) => `${r.method} ${r.url}`);
    expect(requests.filter((r) => r.startsWith('HEAD '))).toEqual([]);
    expect(requests.filter((r) => r.includes('/manifests/'))).toEqual(['GET /v2/berth/trips/manifests/1']);
    // https is tried first on a loopback registry (refused: the proxy speaks plain http), then one plain
    // connection carries the ping and the manifest; the config and the layer may overlap on a second.
    expect(harness.proxy.connections()).toBeLessThanOrEqual(3);
  });

  it('pulls a platform of an index without a HEAD, index and manifest on one connection', async () => {
    const amd64 = buildImage({
      layers: [{ entries: [{ path: 'amd64.txt', size: 100 }] }],
      config: { os: 'linux', architecture: 'amd64' },
    });
    const arm64 = buildImage({
      layers: [{ entries: [{ path: 'arm64.txt', size: 100 }] }],
      config: { os: 'linux', architecture: 'arm64' },
    });
    const index = buildIndex([amd64, arm64]);
    await pushIndex(harness.registry, 'berth/trips-multi', '1', index);
    const { imageId } = await pullThroughProxy(`${harness.proxy.host}/berth/trips-multi:1`);
    expect(imageId).toBe(amd64.configDigest);
    expect(harness.proxy.requests().filter((r) => r.method === 'HEAD')).toEqual([]);
    expect(harness.proxy.connections()).toBeLessThanOrEqual(3);
  });

  it('starts the layer while the config is still downloading', async () => {
    const image = buildImage({ layers: [{ entries: [{ path: 'b.txt', size: 1000 }] }] });
    await pushImage(harness.registry, 'berth/trips-overlap', '1', image);
    const configPath = `/v2/berth/trips-overlap/blobs/${image.configDigest}`;
    const layerPath = `/v2/berth/trips-overlap/blobs/${(image.layers[0] as { digest: string }).digest}`;
    // The first config response stalls until the body timeout (2 s) and is retried.
    const { imageId } = await pullThroughProxy(`${harness.proxy.host}/berth/trips-overlap:1`, [
      { method: 'GET', path: configPath, fault: { kind: 'stall', afterBytes: 0 } },
    ]);
    expect(imageId).toBe(image.configDigest);
    const order = harness.proxy
      .requests()
      .map((r) => r.url)
      .filter((url) => url === configPath || url === layerPath);
    expect(order).toEqual([configPath, layerPath, configPath]);
  });

  it('frees a download slot once a layer’s bytes are in, before its flush, fsync and digest check', async () => {
    const image = buildImage({
      layers: [
        { entries: [{ path: 'd.txt', size: 300_000 }] },
        { entries: [{ path: 'e.txt', size: 300_000 }] },
      ],
    });
    await pushImage(harness.registry, 'berth/trips-slot', '1', image);
    const conf = emptyRegistriesConf();
    const pool = new RegistryPool({
      conf,
      certsDirs: [],
      auth: { read: [], write: join(harness.scratch, 'auth.json') },
    });
    harness.track(pool);
    const store = await ImageStore.open(await mkdtemp(join(harness.scratch, 'store-')));
    // The first layer to finish its transfer is held before its commit until both layers were requested.
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let gated = false;
    const layers = new Set(image.layers.map((l) => l.digest));
    const ingest = store.ingest.bind(store);
    store.ingest = async (expected) => {
      const writer = await ingest(expected);
      if (!layers.has(expected.digest)) return writer;
      const commit = writer.commit.bind(writer);
      writer.commit = async () => {
        if (!gated) {
          gated = true;
          await gate;
        }
        return commit();
      };
      return writer;
    };
    const puller = new Puller({
      store,
      registries: pool,
      conf,
      hostPlatform: { os: 'linux', architecture: 'amd64' },
      parallel: 1,
    });
    harness.proxy.clear();
    const pulled = puller.pull({ reference: `${harness.proxy.host}/berth/trips-slot:1` });
    const layerRequests = (): string[] =>
      harness.proxy
        .requests()
        .map((r) => r.url)
        .filter((url) => [...layers].some((digest) => url.endsWith(digest)));
    try {
      await vi.waitFor(() => expect(layerRequests()).toHaveLength(2), { timeout: 5_000 });
      expect(gated).toBe(true);
    } finally {
      openGate();
    }
    expect((await pulled).imageId).toBe(image.configDigest);
  });

  it('sends one request after another over one kept-alive connection', async () => {
    const image = buildImage({ layers: [{ entries: [{ path: 'c.txt', size: 100 }] }] });
    await pushImage(harness.registry, 'berth/trips-seq', '1', image);
    const pool = new RegistryPool({
      conf: emptyRegistriesConf(),
      certsDirs: [],
      auth: { read: [], write: join(harness.scratch, 'auth.json') },
    });
    harness.track(pool);
    const client = await pool.get(harness.proxy.host);
    harness.proxy.clear();
    const manifest = await client.fetchManifest('berth/trips-seq', '1');
    await client.fetchManifest('berth/trips-seq', manifest.digest);
    await client.listTags('berth/trips-seq');
    if (manifest.parsed.kind !== 'manifest') throw new Error('expected an image manifest');
    await client.fetchBlobBytes('berth/trips-seq', manifest.parsed.config);
    expect(harness.proxy.requests()).toHaveLength(5);
    // The refused https attempt, then one connection for the ping and the four requests.
    expect(harness.proxy.connections()).toBe(2);
  });
});
