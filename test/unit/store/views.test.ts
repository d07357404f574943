import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainIds } from '../../../electron/core/store/history';
import { ImageStore } from '../../../electron/core/store/image-store';
import { buildImage, type FixtureImage, type FixtureLayerSpec } from '../../support/fixture';
import { addImage, tempStore } from './add-image';

let store: ImageStore;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

const layer = (name: string): FixtureLayerSpec => ({
  entries: [{ path: name, content: `content of ${name}\n` }],
});

/** A fixture image whose config history is replaced after building (the builder insists on a full one). */
function withHistory(image: FixtureImage, history: unknown[]): FixtureImage {
  const configJson = { ...image.configJson, history };
  const config = Buffer.from(JSON.stringify(configJson));
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const manifestJson = JSON.parse(image.manifest.toString()) as { config: { digest: string; size: number } };
  manifestJson.config = { ...manifestJson.config, digest: configDigest, size: config.length };
  const manifest = Buffer.from(JSON.stringify(manifestJson));
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  return {
    ...image,
    config,
    configDigest,
    configJson,
    manifest,
    digest,
    size: manifest.length,
    blobs: () => new Map([[configDigest, config], ...image.layers.map((l) => [l.digest, l.bytes] as const)]),
  };
}

describe('history', () => {
  it('is newest first, with size 0 for empty_layer entries and the image ID only on top', async () => {
    const image = buildImage({
      layers: [layer('a'), layer('b')],
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: 'ADD a' },
        { created: '2024-01-02T00:00:00Z', created_by: 'ENV X=1', empty_layer: true },
        { created: '2024-01-03T00:00:00Z', created_by: 'ADD b', comment: 'second' },
        { created: '2024-01-04T00:00:00Z', created_by: 'CMD ["sh"]', empty_layer: true },
      ],
    });
    await addImage(store, image, ['h']);
    const rows = await store.history('h');
    expect(rows.map((r) => [r.id, r.createdBy, r.size, r.emptyLayer, r.comment])).toEqual([
      [image.configDigest, 'CMD ["sh"]', 0, true, ''],
      ['<missing>', 'ADD b', image.layers[1]!.size, false, 'second'],
      ['<missing>', 'ENV X=1', 0, true, ''],
      ['<missing>', 'ADD a', image.layers[0]!.size, false, ''],
    ]);
    expect(rows[0]?.created).toBe('2024-01-04T00:00:00Z');
  });

  it('works when the config has fewer history entries than layers: leftover layers get rows of their own', async () => {
    const full = buildImage({ layers: [layer('x'), layer('y'), layer('z')] });
    const image = withHistory(full, [{ created_by: 'ADD x' }]);
    await addImage(store, image, ['short']);
    const rows = await store.history('short');
    expect(rows.map((r) => [r.id, r.createdBy, r.size])).toEqual([
      [image.configDigest, '', image.layers[2]!.size],
      ['<missing>', '', image.layers[1]!.size],
      ['<missing>', 'ADD x', image.layers[0]!.size],
    ]);
    const none = withHistory(full, []);
    await addImage(store, none, ['none']);
    expect((await store.history('none')).map((r) => r.size)).toEqual(
      image.layers.map((l) => l.size).reverse(),
    );
  });

  it('shows the ID of a local image whose top layer chain is a row of this image', async () => {
    const base = buildImage({ layers: [layer('base')] });
    const child = buildImage({ layers: [layer('base'), layer('app')] });
    await addImage(store, base, ['base']);
    await addImage(store, child, ['child']);
    expect((await store.history('child')).map((r) => r.id)).toEqual([child.configDigest, base.configDigest]);
  });
});

describe('layer tree, disk usage, inspect', () => {
  it('chain IDs follow the OCI rule', () => {
    const d1 = `sha256:${'1'.repeat(64)}`;
    const d2 = `sha256:${'2'.repeat(64)}`;
    const expected = `sha256:${createHash('sha256').update(`${d1} ${d2}`).digest('hex')}`;
    expect(chainIds([d1, d2])).toEqual([d1, expected]);
  });

  it('builds one tree across images sharing base layers', async () => {
    const base = buildImage({ layers: [layer('base')] });
    const a = buildImage({ layers: [layer('base'), layer('a')] });
    const b = buildImage({ layers: [layer('base'), layer('b')] });
    await addImage(store, base, ['base']);
    await addImage(store, a, ['a']);
    await addImage(store, b, ['b']);
    const tree = await store.tree();
    const [root, ...rest] = tree;
    expect(root?.chainId).toBe(base.layers[0]!.diffId);
    expect(root?.topOf).toEqual([base.configDigest]);
    expect(root?.children).toHaveLength(2);
    expect(rest.map((n) => n.parent)).toEqual([root?.chainId, root?.chainId]);
    expect(rest.flatMap((n) => n.topOf).sort()).toEqual([a.configDigest, b.configDigest].sort());
    const rows = await store.list();
    expect(rows.find((r) => r.id === base.configDigest)?.inUse).toBe(true);
    expect(rows.find((r) => r.id === a.configDigest)?.inUse).toBe(false);
  });

  it('splits disk usage into shared and unique', async () => {
    const a = buildImage({ layers: [layer('base'), layer('a')] });
    const b = buildImage({ layers: [layer('base'), layer('b')] });
    await addImage(store, a, ['a']);
    await addImage(store, b, ['b']);
    const df = await store.df();
    const shared = a.layers[0]!.size;
    const ownA = a.size + a.config.length + a.layers[1]!.size;
    const ownB = b.size + b.config.length + b.layers[1]!.size;
    expect(df.totalSize).toBe(shared + ownA + ownB);
    expect(df.reclaimable).toBe(0);
    expect(df.images.find((i) => i.id === a.configDigest)).toMatchObject({
      sharedSize: shared,
      uniqueSize: ownA,
      size: shared + ownA,
    });
    await store.untag('b');
    expect((await store.df()).reclaimable).toBe(ownB);
  });

  it('inspect reads config, layers with diff IDs and history', async () => {
    const image = buildImage({
      layers: [layer('one')],
      config: {
        user: 'nobody',
        env: ['A=1'],
        cmd: ['run'],
        entrypoint: ['/init'],
        workingDir: '/srv',
        exposedPorts: ['80/tcp'],
        labels: { l: 'v' },
      },
      annotations: { 'org.opencontainers.image.source': 'here' },
    });
    await addImage(store, image, ['ins'], {
      source: 'docker.io/library/ins:latest',
      uncompressedSizes: { [image.layers[0]!.digest]: image.layers[0]!.tar.length },
    });
    const d = await store.inspect('ins');
    expect(d).toMatchObject({
      id: image.configDigest,
      user: 'nobody',
      env: ['A=1'],
      cmd: ['run'],
      entrypoint: ['/init'],
      workingDir: '/srv',
      exposedPorts: ['80/tcp'],
      labels: { l: 'v' },
      annotations: { 'org.opencontainers.image.source': 'here' },
      diffIds: [image.layers[0]!.diffId],
      manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      source: 'docker.io/library/ins:latest',
      uncompressedSize: image.layers[0]!.tar.length,
    });
    expect(d.layers[0]).toMatchObject({
      digest: image.layers[0]!.digest,
      diffId: image.layers[0]!.diffId,
      uncompressedSize: image.layers[0]!.tar.length,
    });
    expect(d.history).toHaveLength(1);
  });
});

describe('summary cache', () => {
  it('holds a committed image for the next process, which lists it without reading its config again', async () => {
    const image = buildImage({ layers: [layer('cached')] });
    // A pull lists first (is the image present?), so the commit finds a snapshot in memory.
    expect(await store.list()).toEqual([]);
    await addImage(store, image, ['cached:1']);
    const root = store.paths.root;
    // Without the config a list can only come from the cache the commit saved.
    await rm(store.blobPath(image.configDigest));
    const next = await ImageStore.open(root);
    const rows = await next.list();
    expect(rows.map((r) => r.id)).toEqual([image.configDigest]);
    expect(rows[0]).toMatchObject({ repoTags: ['docker.io/library/cached:1'], platform: { os: 'linux' } });
  });
});
