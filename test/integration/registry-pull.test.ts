import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCredentials } from '../../electron/core/reference/credentials';
import {
  emptyRegistriesConf,
  mergeRegistriesConf,
  parseRegistriesConf,
  type RegistriesConf,
} from '../../electron/core/reference/registries-conf';
import { RegistryPool, type RegistryEnvironment } from '../../electron/core/registry/connect';
import { Puller, type PullRequest } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import type { PullProgress } from '../../shared/contract';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { readLayerIndex } from '../../electron/core/layers/index-file';
import {
  buildImage,
  buildIndex,
  pushImage,
  pushIndex,
  smallImage,
  type FixtureImage,
  type FixtureIndex,
} from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { failure } from '../support/failure';

const run = promisify(execFile);
const mib = 1024 * 1024;

let scratch: string;
let registry: TestRegistry;
let proxy: FaultProxy;
let five: FixtureImage;
let big: FixtureImage;
let multi: FixtureIndex;
const pools: RegistryPool[] = [];
let storeCount = 0;

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function environment(
  host: string,
  password = registry.password ?? '',
  conf = emptyRegistriesConf(),
): Promise<RegistryEnvironment> {
  const file = join(scratch, `auth-${storeCount++}.json`);
  await storeCredentials(
    host,
    { username: registry.username ?? '', password },
    { read: [file], write: file },
  );
  return {
    conf,
    certsDirs: [],
    auth: { read: [file], write: file },
    client: { retry: { baseDelayMs: 1, maxDelayMs: 5 }, bodyTimeoutMs: 5_000 },
  };
}

async function setup(
  host = registry.host,
  password?: string,
  conf?: RegistriesConf,
): Promise<{ store: ImageStore; puller: Puller; root: string }> {
  const root = join(scratch, `store-${storeCount++}`);
  const store = await ImageStore.open(root);
  const env = await environment(host, password, conf);
  const pool = new RegistryPool(env);
  pools.push(pool);
  const puller = new Puller({
    store,
    registries: pool,
    conf: env.conf,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  return { store, puller, root };
}

async function pull(
  puller: Puller,
  request: PullRequest,
): Promise<{ outcome: Awaited<ReturnType<Puller['pull']>>; events: PullProgress[] }> {
  const events: PullProgress[] = [];
  const outcome = await puller.pull({ ...request, onProgress: (p) => events.push(p) });
  return { outcome, events };
}

/** index.json and every file under blobs/, so a test can show nothing changed. */
async function storeState(root: string): Promise<{ index: string; blobs: string[] }> {
  const index = await readFile(join(root, 'index.json'), 'utf8');
  const blobs: string[] = [];
  for (const algorithm of await readdir(join(root, 'blobs')).catch(() => [] as string[])) {
    for (const hex of await readdir(join(root, 'blobs', algorithm))) blobs.push(`${algorithm}:${hex}`);
  }
  return { index, blobs: blobs.sort() };
}

function blobGets(digests: string[]): number {
  return registry
    .requests()
    .filter((r) => r.method === 'GET' && digests.some((d) => r.uri.endsWith(`/blobs/${d}`))).length;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-pull-'));
  registry = await startRegistry({ auth: 'token' });
  proxy = await startFaultProxy(registry.url);
  five = buildImage({
    layers: [0, 1, 2, 3, 4].map((i) => ({
      entries: [{ path: `layer-${i}.bin`, size: 64 * 1024 * (i + 1) }],
      gzipLevel: 1,
    })),
    config: { labels: { purpose: 'five' } },
  });
  big = buildImage({ layers: [{ entries: [{ path: 'big.bin', size: 4 * mib }], gzipLevel: 1 }] });
  multi = buildIndex([
    smallImage('pull-amd64'),
    smallImage('pull-arm64', { architecture: 'arm64', variant: 'v8' }),
    smallImage('pull-armv7', { architecture: 'arm', variant: 'v7' }),
  ]);
  await pushImage(registry, 'berth/five', '1', five);
  await pushImage(registry, 'berth/big', '1', big);
  await pushIndex(registry, 'berth/multi', 'latest', multi);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await proxy?.stop();
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('pull from the real registry', () => {
  it('pulls a 5-layer image that skopeo then reads from the store, with ordered progress', async () => {
    const { store, puller, root } = await setup();
    const name = `${registry.host}/berth/five:1`;
    const { outcome, events } = await pull(puller, { reference: name });
    const { stdout: raw } = await run(
      'skopeo',
      [
        'inspect',
        '--raw',
        '--tls-verify=false',
        `--creds=${registry.username}:${registry.password}`,
        `docker://${name}`,
      ],
      {
        encoding: 'buffer',
        env: { PATH: process.env.PATH, HOME: scratch },
      },
    );
    expect(outcome).toMatchObject({
      status: 'pulled',
      reference: name,
      digest: sha256(raw),
      imageId: five.configDigest,
    });
    expect(outcome.layers.map((l) => l.digest)).toEqual(five.layers.map((l) => l.digest));
    expect(outcome.bytesDownloaded).toBe(five.layers.reduce((s, l) => s + l.size, 0));
    for (const layer of five.layers) expect(await store.hasBlob(layer.digest)).toBe(true);
    const { stdout } = await run('skopeo', ['inspect', `oci:${root}:${name}`]);
    const inspected = JSON.parse(stdout) as {
      Digest: string;
      Layers: string[];
      Labels: Record<string, string>;
    };
    expect(inspected.Digest).toBe(five.digest);
    expect(inspected.Layers).toEqual(five.layers.map((l) => l.digest));
    expect(inspected.Labels.purpose).toBe('five');

    const last = events.at(-1) as PullProgress;
    expect(last.state).toBe('complete');
    expect(last.imageId).toBe(five.configDigest);
    expect(last.total).toBe(five.layers.reduce((s, l) => s + l.size, 0));
    expect(last.done).toBe(last.total);
    expect(last.layers.map((l) => [l.digest, l.status, l.total])).toEqual(
      five.layers.map((l) => [l.digest, 'complete', l.size]),
    );
    const order = ['waiting', 'downloading', 'retrying', 'verifying', 'indexing', 'complete'];
    for (const layer of five.layers) {
      const seen = events
        .map((e) => e.layers.find((l) => l.digest === layer.digest))
        .filter((l) => l !== undefined);
      const ranks = seen.map((l) => order.indexOf(l.status));
      expect(
        ranks.every(
          (r, i) => r >= 0 && (i === 0 || r >= (ranks[i - 1] as number) || order[r] === 'downloading'),
        ),
      ).toBe(true);
      const bytes = seen.map((l) => l.done);
      expect(bytes.every((b, i) => i === 0 || b >= (bytes[i - 1] as number))).toBe(true);
    }
    expect(events.length).toBeLessThan(200);

    // The layer explorer's file index was written during the pull, one per layer, from the verified blob.
    for (const [i, layer] of five.layers.entries()) {
      const index = await readLayerIndex(
        join(store.paths.layerIndexes, `${layer.digest.slice('sha256:'.length)}.idx`),
      );
      expect(index.diffId).toBe(layer.diffId);
      expect(index.entries.map((e) => [e.path, e.size])).toEqual([[`layer-${i}.bin`, 64 * 1024 * (i + 1)]]);
    }
  });

  it('skips what the store has: `missing` does no network call, `always` downloads no layer again', async () => {
    const { puller } = await setup();
    const name = `${registry.host}/berth/five:1`;
    await pull(puller, { reference: name });
    const before = registry.requests().length;
    expect((await pull(puller, { reference: name })).outcome.status).toBe('present');
    expect(registry.requests().length).toBe(before);
    const layerGets = blobGets(five.layers.map((l) => l.digest));
    const again = await pull(puller, { reference: name, policy: 'always' });
    expect(again.outcome.status).toBe('pulled');
    expect(again.outcome.layers.every((l) => l.status === 'exists')).toBe(true);
    expect(again.outcome.bytesDownloaded).toBe(0);
    expect(blobGets(five.layers.map((l) => l.digest))).toBe(layerGets);
    expect(again.events.at(-1)?.layers.every((l) => l.status === 'exists')).toBe(true);
  });

  it('with `newer` compares the remote digest and fetches only when it changed', async () => {
    const { puller } = await setup();
    const first = smallImage('newer-1');
    await pushImage(registry, 'berth/newer', 'v', first);
    const name = `${registry.host}/berth/newer:v`;
    expect((await pull(puller, { reference: name })).outcome.imageId).toBe(first.configDigest);
    expect((await pull(puller, { reference: name, policy: 'newer' })).outcome.status).toBe('up-to-date');
    const second = smallImage('newer-2');
    await pushImage(registry, 'berth/newer', 'v', second);
    const updated = await pull(puller, { reference: name, policy: 'newer' });
    expect(updated.outcome).toMatchObject({ status: 'pulled', imageId: second.configDigest });
  });

  it('chooses platforms from a multi-platform index', async () => {
    const { puller } = await setup();
    const name = `${registry.host}/berth/multi:latest`;
    const [amd64, arm64, armv7] = multi.children as [FixtureImage, FixtureImage, FixtureImage];
    const byDefault = await pull(puller, { reference: name });
    expect(byDefault.outcome).toMatchObject({ digest: multi.digest, imageId: amd64.configDigest });
    expect(
      (await pull(puller, { reference: name, platform: 'linux/arm64', policy: 'always' })).outcome.images,
    ).toEqual([{ imageId: arm64.configDigest, manifestDigest: arm64.digest, platform: 'linux/arm64/v8' }]);
    expect(
      (await pull(puller, { reference: name, platform: 'linux/arm/v7', policy: 'always' })).outcome.imageId,
    ).toBe(armv7.configDigest);
    const missing = await failure(
      puller.pull({ reference: name, platform: 'linux/s390x', policy: 'always' }),
    );
    expect(missing.code).toBe('PLATFORM_UNAVAILABLE');
    expect(missing.message).toContain('it has: linux/amd64, linux/arm64/v8, linux/arm/v7');
    const all = await pull(puller, { reference: name, allPlatforms: true, policy: 'always' });
    expect(all.outcome.images.map((i) => i.platform)).toEqual([
      'linux/amd64',
      'linux/arm64/v8',
      'linux/arm/v7',
    ]);
  });

  it('refuses wrong credentials clearly and stores nothing', async () => {
    const { puller, root } = await setup(registry.host, 'not-the-password');
    const before = await storeState(root);
    const err = await failure(puller.pull({ reference: `${registry.host}/berth/five:1` }));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(`check your credentials for ${registry.host}`);
    expect(err.message).not.toContain('not-the-password');
    expect(await storeState(root)).toEqual(before);
  });

  it('downloads each blob once when two pulls of the same image run at once', async () => {
    const { puller } = await setup();
    const image = buildImage({
      layers: [0, 1, 2].map((i) => ({ entries: [{ path: `c${i}`, size: 200_000 }], gzipLevel: 1 })),
    });
    await pushImage(registry, 'berth/concurrent', '1', image);
    const name = `${registry.host}/berth/concurrent:1`;
    const [a, b] = await Promise.all([
      puller.pull({ reference: name }),
      puller.pull({ reference: name, policy: 'always' }),
    ]);
    expect(a.imageId).toBe(image.configDigest);
    expect(b.imageId).toBe(image.configDigest);
    for (const layer of image.layers) expect(blobGets([layer.digest])).toBe(1);
  });
});

describe('pull through the fault proxy', () => {
  it('resumes a layer from the byte offset reached after a connection reset', async () => {
    const { store, puller } = await setup(proxy.host);
    proxy.clear();
    const layer = big.layers[0] as FixtureImage['layers'][number];
    const cut = Math.floor(layer.size / 2);
    proxy.add({
      method: 'GET',
      path: `/v2/berth/big/blobs/${layer.digest}`,
      fault: { kind: 'reset', afterBytes: cut },
    });
    const { outcome, events } = await pull(puller, { reference: `${proxy.host}/berth/big:1` });
    expect(outcome.imageId).toBe(big.configDigest);
    expect(await store.hasBlob(layer.digest)).toBe(true);
    const ranges = proxy
      .requests()
      .filter((r) => r.url.endsWith(layer.digest))
      .map((r) => r.range);
    // Bytes still buffered when the socket broke may be lost, so the resume point is at most the cut.
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(cut);
    expect(events.at(-1)?.layers[0]).toMatchObject({
      status: 'complete',
      done: layer.size,
      total: layer.size,
    });
  });

  it('retries a 503 and refuses a flipped byte, keeping it out of blobs/', async () => {
    const { store, puller, root } = await setup(proxy.host);
    proxy.clear();
    const image = buildImage({ layers: [{ entries: [{ path: 'flip', size: 300_000 }], gzipLevel: 1 }] });
    await pushImage(registry, 'berth/flip', '1', image);
    const layer = image.layers[0] as FixtureImage['layers'][number];
    proxy.add({
      method: 'GET',
      path: `/v2/berth/flip/blobs/${layer.digest}`,
      fault: { kind: 'status', status: 503 },
    });
    proxy.add({
      method: 'GET',
      path: `/v2/berth/flip/blobs/${layer.digest}`,
      fault: { kind: 'flip', offset: 1000 },
    });
    const before = await storeState(root);
    const err = await failure(puller.pull({ reference: `${proxy.host}/berth/flip:1` }));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(await store.hasBlob(layer.digest)).toBe(false);
    expect(await storeState(root)).toEqual(before);
    expect(
      proxy
        .requests()
        .filter((r) => r.url.endsWith(layer.digest))
        .map((r) => r.status),
    ).toEqual([503, 200]);
  });

  it('stops a layer body longer than its descriptor at the size and stores nothing', async () => {
    const { store, puller, root } = await setup(proxy.host);
    proxy.clear();
    const image = buildImage({ layers: [{ entries: [{ path: 'long', size: 100_000 }], gzipLevel: 1 }] });
    await pushImage(registry, 'berth/long', '1', image);
    const layer = image.layers[0] as FixtureImage['layers'][number];
    proxy.add({
      method: 'GET',
      path: `/v2/berth/long/blobs/${layer.digest}`,
      fault: { kind: 'append', bytes: Buffer.alloc(5000, 1) },
    });
    const before = await storeState(root);
    const err = await failure(puller.pull({ reference: `${proxy.host}/berth/long:1` }));
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(await store.hasBlob(layer.digest)).toBe(false);
    expect(await storeState(root)).toEqual(before);
  });

  it('cancels mid-layer leaving index.json and blobs/ as they were, then resumes from the partial file', async () => {
    const { store, puller, root } = await setup(proxy.host);
    proxy.clear();
    const image = buildImage({
      layers: [{ entries: [{ path: 'cancel.bin', size: 2 * mib }], gzipLevel: 1 }],
    });
    await pushImage(registry, 'berth/cancel', '1', image);
    const layer = image.layers[0] as FixtureImage['layers'][number];
    const stallAt = 500_000;
    proxy.add({
      method: 'GET',
      path: `/v2/berth/cancel/blobs/${layer.digest}`,
      fault: { kind: 'stall', afterBytes: stallAt },
    });
    const before = await storeState(root);
    const controller = new AbortController();
    const name = `${proxy.host}/berth/cancel:1`;
    const cancelled = failure(
      puller.pull({
        reference: name,
        signal: controller.signal,
        onProgress: (p) => {
          if ((p.layers[0]?.done ?? 0) >= stallAt) controller.abort();
        },
      }),
    );
    expect((await cancelled).code).toBe('CANCELLED');
    expect(await storeState(root)).toEqual(before);

    const resumed = await pull(puller, { reference: name });
    expect(resumed.outcome.imageId).toBe(image.configDigest);
    expect(await store.hasBlob(layer.digest)).toBe(true);
    const ranges = proxy
      .requests()
      .filter((r) => r.url.endsWith(layer.digest))
      .map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${stallAt}-`]);
  });
});

describe('pull with registries.conf', () => {
  function conf(text: string): RegistriesConf {
    const c = emptyRegistriesConf();
    mergeRegistriesConf(c, parseRegistriesConf(text, 'test.conf'));
    return c;
  }

  it('resolves a short name through the search registries and names the image fully', async () => {
    const { puller } = await setup(
      registry.host,
      undefined,
      conf(`unqualified-search-registries = ["${registry.host}"]`),
    );
    const { outcome } = await pull(puller, { reference: 'berth/five:1' });
    expect(outcome).toMatchObject({
      status: 'pulled',
      reference: `${registry.host}/berth/five:1`,
      imageId: five.configDigest,
    });
  });

  it('pulls through a mirror, and from the registry when the mirror lacks the image', async () => {
    const text = `
[[registry]]
prefix = "registry.example.com"
location = "${registry.host}"
[[registry.mirror]]
location = "${proxy.host}"
`;
    const { puller } = await setup(registry.host, undefined, conf(text));
    proxy.clear();
    const viaMirror = await pull(puller, { reference: 'registry.example.com/berth/five:1' });
    expect(viaMirror.outcome).toMatchObject({
      reference: 'registry.example.com/berth/five:1',
      imageId: five.configDigest,
    });
    expect(proxy.requests().some((r) => r.url.includes('/berth/five/manifests/'))).toBe(true);

    proxy.clear();
    proxy.add({ path: /\/berth\/multi\/manifests\//, times: 10, fault: { kind: 'status', status: 404 } });
    const fallback = await pull(puller, { reference: 'registry.example.com/berth/multi:latest' });
    expect(fallback.outcome.digest).toBe(multi.digest);
  });

  it('refuses a blocked registry before any request', async () => {
    const { puller } = await setup(
      registry.host,
      undefined,
      conf(`[[registry]]\nlocation = "${registry.host}"\nblocked = true`),
    );
    const before = registry.requests().length;
    const err = await failure(puller.pull({ reference: `${registry.host}/berth/five:1` }));
    expect(err.code).toBe('REGISTRY_BLOCKED');
    expect(registry.requests().length).toBe(before);
  });
});
