import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readLayerIndex } from '../../electron/core/layers/index-file';
import { indexLayer } from '../../electron/core/layers/index-layer';
import type { LayerIndex } from '../../electron/core/layers/layer-entry';
import type { ImageStore } from '../../electron/core/store/image-store';
import {
  buildImage,
  deterministicBytes,
  pushBlob,
  pushImage,
  pushManifest,
  sha256Digest,
  type FixtureImage,
} from '../support/fixture.js';
import { failure } from '../support/failure';
import { proxiedPullerHarness } from '../support/proxied-puller';

const mib = 1024 * 1024;
type Layer = FixtureImage['layers'][number];

const harness = proxiedPullerHarness('berth-pull-stream');
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

/** A fresh store with a Puller that reaches the registry through the fault harness.proxy. */
const setup = () => harness.setup();

/** index.json, every blob name and every layer index file, so a test can show a failed pull changed nothing. */
async function storeState(root: string): Promise<{ index: string; blobs: string[]; layerIndexes: string[] }> {
  const blobs: string[] = [];
  for (const algorithm of await readdir(join(root, 'blobs')).catch(() => [] as string[]))
    for (const hex of await readdir(join(root, 'blobs', algorithm))) blobs.push(`${algorithm}:${hex}`);
  const layerIndexes = await readdir(join(root, '.berth', 'layer-indexes')).catch(() => [] as string[]);
  return { index: await readFile(join(root, 'index.json'), 'utf8'), blobs: blobs.sort(), layerIndexes };
}

async function storedIndex(store: ImageStore, layer: Layer): Promise<LayerIndex> {
  return readLayerIndex(join(store.paths.layerIndexes, `${layer.digest.slice('sha256:'.length)}.idx`));
}

/** The layer's index as `indexLayer` builds it from the fixture's own blob bytes: what a pull must store. */
async function expectedIndex(layer: Layer): Promise<LayerIndex> {
  return indexLayer(Readable.from([layer.bytes]), { expectedDiffId: layer.diffId });
}

/** Calls of `store.openBlob` for these layers (the re-read after commit that the streamed index avoids). */
function countOpens(store: ImageStore, layers: Layer[]): () => number {
  const spy = vi.spyOn(store, 'openBlob');
  const digests = new Set(layers.map((l) => l.digest));
  return () => spy.mock.calls.filter(([digest]) => digests.has(digest)).length;
}

/** A multi-file layer (so the index has content hashes to get wrong), pushed as `berth/<repo>:1`. */
async function pushed(repo: string, bytes: number): Promise<FixtureImage> {
  const files = 8;
  const image = buildImage({
    layers: [
      {
        entries: [
          { path: 'etc/', type: 'dir' },
          ...Array.from({ length: files }, (_, i) => ({ path: `etc/${repo}-${i}.bin`, size: bytes / files })),
          { path: 'etc/link', type: 'symlink', linkname: `${repo}-0.bin` },
        ],
        gzipLevel: 1,
      },
    ],
  });
  await pushImage(harness.registry, `berth/${repo}`, '1', image);
  return image;
}

const only = (image: FixtureImage): Layer => image.layers[0] as Layer;
const blobPath = (repo: string, digest: string): string => `/v2/berth/${repo}/blobs/${digest}`;

/** Pushes `repo:tag` whose config lists another layer's DiffID for its one (real, valid) layer. */
async function pushWrongDiffId(
  repo: string,
  tag: string,
): Promise<{ real: FixtureImage; other: FixtureImage }> {
  const real = buildImage({
    layers: [{ entries: [{ path: 'real.bin', size: 600_000 }], gzipLevel: 1 }],
  });
  const other = buildImage({ layers: [{ entries: [{ path: 'other', content: 'not this one\n' }] }] });
  const config = Buffer.from(
    JSON.stringify({ ...real.configJson, rootfs: { type: 'layers', diff_ids: [only(other).diffId] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: real.mediaType,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers: [{ mediaType: only(real).mediaType, digest: only(real).digest, size: only(real).size }],
    }),
  );
  await pushBlob(harness.registry, repo, sha256Digest(config), config);
  await pushBlob(harness.registry, repo, only(real).digest, only(real).bytes);
  await pushManifest(harness.registry, repo, tag, real.mediaType, manifest);
  return { real, other };
}

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
  harness.proxy.clear();
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  vi.restoreAllMocks();
});

describe('the layer index is built while a layer downloads', () => {
  it('indexes an unbroken download as it streams, without reading the committed blob back', async () => {
    const image = buildImage({
      layers: [0, 1, 2].map((i) => ({
        entries: [
          { path: `l${i}/`, type: 'dir' as const },
          { path: `l${i}/a.bin`, size: 300_000 + i },
          { path: `l${i}/b.txt`, content: `layer ${i}\n` },
        ],
        gzipLevel: 1,
      })),
    });
    await pushImage(harness.registry, 'berth/streamed', '1', image);
    const { store, puller } = await setup();
    const opens = countOpens(store, image.layers);
    const outcome = await puller.pull({ reference: `${harness.proxy.host}/berth/streamed:1` });
    expect(outcome.imageId).toBe(image.configDigest);
    expect(opens()).toBe(0);
    for (const layer of image.layers) {
      expect(await store.hasBlob(layer.digest)).toBe(true);
      expect(await storedIndex(store, layer)).toEqual(await expectedIndex(layer));
    }
    expect(unhandled).toEqual([]);
  });

  it('gives a layer resumed mid-stream with Range a correct index, following the partial file through the break', async () => {
    const image = await pushed('resumed', 2 * mib);
    const layer = only(image);
    harness.proxy.add({
      method: 'GET',
      path: blobPath('resumed', layer.digest),
      fault: { kind: 'reset', afterBytes: Math.floor(layer.size / 2) },
    });
    const { store, puller } = await setup();
    const opens = countOpens(store, [layer]);
    await puller.pull({ reference: `${harness.proxy.host}/berth/resumed:1` });
    const ranges = harness.proxy
      .requests()
      .filter((r) => r.url.endsWith(layer.digest))
      .map((r) => r.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[1]).toMatch(/^bytes=[1-9]\d*-$/);
    expect(opens()).toBe(0);
    expect(await storedIndex(store, layer)).toEqual(await expectedIndex(layer));
    expect(unhandled).toEqual([]);
  });

  it('cancels mid-stream leaving nothing, then a pull that resumes from the partial file indexes it correctly', async () => {
    const image = await pushed('cancelled', 2 * mib);
    const layer = only(image);
    const stallAt = 400_000;
    harness.proxy.add({
      method: 'GET',
      path: blobPath('cancelled', layer.digest),
      fault: { kind: 'stall', afterBytes: stallAt },
    });
    const { store, puller, root } = await setup();
    const before = await storeState(root);
    const controller = new AbortController();
    const err = await failure(
      puller.pull({
        reference: `${harness.proxy.host}/berth/cancelled:1`,
        signal: controller.signal,
        onProgress: (p) => {
          if ((p.layers[0]?.done ?? 0) >= stallAt) controller.abort();
        },
      }),
    );
    expect(err.code).toBe('CANCELLED');
    expect(await storeState(root)).toEqual(before);

    await puller.pull({ reference: `${harness.proxy.host}/berth/cancelled:1` });
    const ranges = harness.proxy
      .requests()
      .filter((r) => r.url.endsWith(layer.digest))
      .map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${stallAt}-`]);
    expect(await storedIndex(store, layer)).toEqual(await expectedIndex(layer));
    expect(unhandled).toEqual([]);
  });

  it('refuses a layer whose DiffID differs from the config: the image is taken out again, blobs/ and index.json as before', async () => {
    const { real, other } = await pushWrongDiffId('berth/wrong-diffid', '1');
    const { store, puller, root } = await setup();
    const before = await storeState(root);
    const states: string[] = [];
    const err = await failure(
      puller.pull({
        reference: `${harness.proxy.host}/berth/wrong-diffid:1`,
        onProgress: (p) => states.push(p.state),
      }),
    );
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toBe(
      `layer ${only(real).digest} unpacks to ${only(real).diffId}, but the image config lists ${only(other).diffId}; the image is refused`,
    );
    expect(states).toContain('stored');
    expect(states.at(-1)).toBe('failed');
    expect(await store.hasBlob(only(real).digest)).toBe(false);
    expect(await storeState(root)).toEqual(before);
    expect(await readdir(store.paths.ingest).catch(() => [] as string[])).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('checks a layer another pull is downloading against this pull’s own config, and refuses a wrong DiffID', async () => {
    const { real } = await pushWrongDiffId('berth/shared-bad', '1');
    await pushImage(harness.registry, 'berth/shared-good', '1', real);
    harness.proxy.add({
      method: 'GET',
      path: blobPath('shared-good', only(real).digest),
      fault: { kind: 'throttle', bytesPerSecond: 1_000_000 },
    });
    const { store, puller } = await setup();
    let bad: Promise<unknown> | undefined;
    const good = puller.pull({
      reference: `${harness.proxy.host}/berth/shared-good:1`,
      onProgress: (p) => {
        if (p.layers[0]?.status === 'downloading' && bad === undefined)
          bad = puller
            .pull({ reference: `${harness.proxy.host}/berth/shared-bad:1` })
            .catch((e: unknown) => e);
      },
    });
    expect((await good).imageId).toBe(real.configDigest);
    expect(await bad).toMatchObject({ code: 'DIGEST_MISMATCH' });
    const blobRequests = harness.proxy.requests().filter((r) => r.url.endsWith(only(real).digest));
    expect(blobRequests.map((r) => r.url)).toEqual([blobPath('shared-good', only(real).digest)]);
    expect((await store.list()).map((i) => i.id)).toEqual([real.configDigest]);
    expect(unhandled).toEqual([]);
  });

  it('checks a layer the store already holds against the new config, from its index or, without one, its blob', async () => {
    const { real } = await pushWrongDiffId('berth/held-bad', '1');
    await pushImage(harness.registry, 'berth/held-good', '1', real);
    const { store, puller } = await setup();
    await puller.pull({ reference: `${harness.proxy.host}/berth/held-good:1` });
    const layerRequests = () => harness.proxy.requests().filter((r) => r.url.endsWith(only(real).digest));
    const fetched = layerRequests().length;
    const bad = `${harness.proxy.host}/berth/held-bad:1`;
    expect(await failure(puller.pull({ reference: bad }))).toMatchObject({ code: 'DIGEST_MISMATCH' });
    // Without the index file the stored blob is indexed again, and the DiffID still decides.
    await rm(join(store.paths.layerIndexes, `${only(real).digest.slice('sha256:'.length)}.idx`));
    expect(await failure(puller.pull({ reference: bad }))).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(layerRequests()).toHaveLength(fetched);
    expect((await store.list()).map((i) => i.id)).toEqual([real.configDigest]);
    expect(await store.hasBlob(only(real).digest)).toBe(true);
    expect((await store.resolve(`${harness.proxy.host}/berth/held-good:1`)).facts.configDigest).toBe(
      real.configDigest,
    );
    expect(unhandled).toEqual([]);
  });

  it('gives a tag back to the image it was on when the image pulled under it is refused', async () => {
    const good = await pushed('retagged', 64 * 1024);
    const { store, puller } = await setup();
    const reference = `${harness.proxy.host}/berth/retagged:1`;
    await puller.pull({ reference });
    await pushWrongDiffId('berth/retagged', '1');
    const err = await failure(puller.pull({ reference, policy: 'always' }));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect((await store.resolve(reference)).facts.configDigest).toBe(good.configDigest);
    expect((await store.list()).map((i) => i.id)).toEqual([good.configDigest]);
    expect(unhandled).toEqual([]);
  });

  it('reports the image stored (usable under its name) before the pull completes with every layer indexed', async () => {
    const image = await pushed('usable', 2 * mib);
    const { store, puller } = await setup();
    const reference = `${harness.proxy.host}/berth/usable:1`;
    const seen: { state: string; resolved?: Promise<string> }[] = [];
    const outcome = await puller.pull({
      reference,
      onProgress: (p) =>
        seen.push(
          p.state === 'stored'
            ? { state: p.state, resolved: store.resolve(reference).then((r) => r.facts.configDigest) }
            : { state: p.state },
        ),
    });
    const stored = seen.findIndex((s) => s.state === 'stored');
    expect(stored).toBeGreaterThan(-1);
    // After it, only more `stored` snapshots (layers finishing their indexes) and the final `complete`.
    const after = seen.slice(stored + 1).map((s) => s.state);
    expect(after.at(-1)).toBe('complete');
    expect(after.slice(0, -1).every((state) => state === 'stored')).toBe(true);
    expect(await seen[stored]?.resolved).toBe(image.configDigest);
    expect(outcome.imageId).toBe(image.configDigest);
    expect(await storedIndex(store, only(image))).toEqual(await expectedIndex(only(image)));
    const details = await store.inspect(reference);
    expect(details.layers.map((l) => l.uncompressedSize)).toEqual([
      (await expectedIndex(only(image))).uncompressedSize,
    ]);
    expect(unhandled).toEqual([]);
  });

  it('refuses a large layer that is not valid gzip, though its digest matches, without hanging or storing it', async () => {
    const bytes = Buffer.concat([
      gzipSync(Buffer.alloc(0)).subarray(0, 10),
      deterministicBytes(6 * mib, 'not-deflate'),
    ]);
    const digest = sha256Digest(bytes);
    const base = buildImage({ layers: [{ entries: [{ path: 'x', content: 'x' }] }] });
    const config = Buffer.from(JSON.stringify(base.configJson));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: base.mediaType,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256Digest(config),
          size: config.length,
        },
        layers: [{ mediaType: only(base).mediaType, digest, size: bytes.length }],
      }),
    );
    await pushBlob(harness.registry, 'berth/not-gzip', sha256Digest(config), config);
    await pushBlob(harness.registry, 'berth/not-gzip', digest, bytes);
    await pushManifest(harness.registry, 'berth/not-gzip', '1', base.mediaType, manifest);
    const { store, puller, root } = await setup();
    const before = await storeState(root);
    const err = await failure(puller.pull({ reference: `${harness.proxy.host}/berth/not-gzip:1` }));
    expect(err.code).toBe('ARCHIVE_INVALID');
    expect(await store.hasBlob(digest)).toBe(false);
    expect(await storeState(root)).toEqual(before);
    expect(unhandled).toEqual([]);
  });

  it('reports a corrupted download as a blob digest mismatch even though the indexer fails on it first', async () => {
    const image = await pushed('flipped', 6 * mib);
    const layer = only(image);
    harness.proxy.add({
      method: 'GET',
      path: blobPath('flipped', layer.digest),
      fault: { kind: 'flip', offset: 20 },
    });
    const { store, puller, root } = await setup();
    const before = await storeState(root);
    const err = await failure(puller.pull({ reference: `${harness.proxy.host}/berth/flipped:1` }));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(`expected ${layer.digest}`);
    expect(await storeState(root)).toEqual(before);
    expect(await store.hasBlob(layer.digest)).toBe(false);
    expect(unhandled).toEqual([]);
  });
});
