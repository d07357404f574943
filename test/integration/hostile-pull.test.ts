import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractMerged } from '../../electron/core/layers/extract';
import { readLayerIndex } from '../../electron/core/layers/index-file';
import { MergedFilesystem } from '../../electron/core/layers/merged-filesystem';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import { BerthError } from '../../shared/error';
import { buildImage, pushBlob, pushManifest, sha256Digest } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { rawTar, type RawMember } from '../unit/layers/layer-fixtures';

// The unit tests feed hostile tars to the indexer and extractor directly; here the same tars arrive the way
// an attacker would send them, as a layer of an image in a registry, and go through pull, index and extract.
let scratch: string;
let registry: TestRegistry;
const pools: RegistryPool[] = [];

/** Pushes a two-layer image (a plain layer, then `members` as a gzipped tar) as `repo:1`. */
async function pushHostile(
  repo: string,
  members: RawMember[],
): Promise<{ configDigest: string; layers: string[] }> {
  const plain = buildImage({ layers: [{ entries: [{ path: 'plain.txt', content: 'plain\n' }] }] });
  const base = plain.layers[0]!;
  const tar = rawTar(members);
  const blob = gzipSync(tar);
  const layers = [
    { mediaType: base.mediaType, digest: base.digest, size: base.size },
    {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha256Digest(blob),
      size: blob.length,
    },
  ];
  const config = Buffer.from(
    JSON.stringify({
      ...plain.configJson,
      rootfs: { type: 'layers', diff_ids: [base.diffId, sha256Digest(tar)] },
      history: [{ created_by: 'plain' }, { created_by: 'hostile' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers,
    }),
  );
  await pushBlob(registry, repo, base.digest, base.bytes);
  await pushBlob(registry, repo, sha256Digest(blob), blob);
  await pushBlob(registry, repo, sha256Digest(config), config);
  await pushManifest(registry, repo, '1', 'application/vnd.oci.image.manifest.v1+json', manifest);
  return { configDigest: sha256Digest(config), layers: layers.map((l) => l.digest) };
}

async function setup(name: string): Promise<{ store: ImageStore; puller: Puller; root: string }> {
  const root = join(scratch, name, 'store');
  const store = await ImageStore.open(root);
  const conf = emptyRegistriesConf();
  const pool = new RegistryPool({
    conf,
    certsDirs: [],
    auth: { read: [], write: join(scratch, `${name}-auth.json`) },
  });
  pools.push(pool);
  const puller = new Puller({
    store,
    registries: pool,
    conf,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
  });
  return { store, puller, root };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-hostile-pull-'));
  registry = await startRegistry();
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('a pulled image with a hostile layer', () => {
  it('is indexed with every escape flagged, and extracting it writes nothing outside the destination', async () => {
    const outside = join(scratch, 'escape', 'outside');
    await mkdir(outside, { recursive: true });
    const image = await pushHostile('berth/escape', [
      { name: '../x', body: Buffer.from('escape') },
      { name: 'a/../../b', body: Buffer.from('escape') },
      { name: '/etc/x', body: Buffer.from('absolute') },
      { name: 'link', type: 'SymbolicLink', linkpath: outside },
      { name: 'link/passwd', body: Buffer.from('through the link') },
      { name: 'rel', type: 'SymbolicLink', linkpath: '../outside' },
      { name: 'rel/passwd', body: Buffer.from('through the link') },
      { name: 'hard', type: 'Link', linkpath: '../../etc/passwd' },
      { name: 'ok', body: Buffer.from('fine') },
    ]);
    const { store, puller } = await setup('escape');
    const outcome = await puller.pull({ reference: `${registry.host}/berth/escape:1` });
    expect(outcome.imageId).toBe(image.configDigest);

    const indexes = await Promise.all(
      image.layers.map((d) => readLayerIndex(join(store.paths.layerIndexes, `${d.slice(7)}.idx`))),
    );
    expect(indexes[1]?.notices.map((n) => [n.name, n.reason])).toEqual(
      expect.arrayContaining([
        ['../x', 'parent-traversal'],
        ['a/../../b', 'parent-traversal'],
        ['/etc/x', 'absolute-path'],
        ['hard', 'hardlink-escape'],
      ]),
    );
    const fs = new MergedFilesystem();
    for (const index of indexes) fs.applyLayer(index);
    const dest = join(scratch, 'escape', 'dest');
    const result = await extractMerged(
      image.layers.map((d) => () => store.openBlob(d)),
      fs,
      '',
      dest,
    );
    expect(await readdir(outside)).toEqual([]);
    expect(await readFile(join(dest, 'ok'), 'utf8')).toBe('fine');
    expect(await readFile(join(dest, 'plain.txt'), 'utf8')).toBe('plain\n');
    expect(result.linksLeavingDestination).toEqual(expect.arrayContaining(['link', 'rel']));
    expect(await store.fsck()).toMatchObject({ clean: true, problems: [] });
  });

  it('with a NUL byte in a name is refused whole, naming the problem, and the store is unchanged', async () => {
    await pushHostile('berth/nul', [{ name: 'evil\0name', body: Buffer.from('x'), pax: true }]);
    const { store, puller, root } = await setup('nul');
    const before = await readFile(join(root, 'index.json'), 'utf8');
    const err = await puller.pull({ reference: `${registry.host}/berth/nul:1` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('ARCHIVE_INVALID');
    expect((err as BerthError).message).toMatch(/NUL/);
    expect(await readFile(join(root, 'index.json'), 'utf8')).toBe(before);
    expect(await store.list()).toEqual([]);
  });
});
