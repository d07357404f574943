import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageLayers } from '../../../electron/core/layers/image-layers.js';
import { ImageStore } from '../../../electron/core/store/image-store.js';
import { createHandlers } from '../../../electron/ipc/handlers.js';
import { BerthError } from '../../../shared/error.js';
import { buildImage, type FixtureImage } from '../../support/fixture.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-image-layers-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

let store: ImageStore;

async function seed(image: FixtureImage, name: string): Promise<void> {
  for (const blob of image.blobs().values()) await store.putBlob(blob);
  await store.putBlob(image.manifest);
  await store.commitImage({ manifestDigest: image.digest, names: [name], source: 'test', action: 'load' });
}

const base = {
  entries: [
    { path: 'etc/', type: 'dir' as const },
    { path: 'etc/os-release', content: 'NAME=Berth\n' },
    { path: 'bin/busybox', size: 3000 },
  ],
};
const first = buildImage({
  layers: [
    base,
    {
      entries: [
        { path: 'etc/motd', content: 'hi\n' },
        { path: 'bin', type: 'opaque' },
      ],
    },
    { entries: [{ path: 'srv/app', size: 100 }] },
  ],
});
const second = buildImage({
  layers: [
    base,
    {
      entries: [
        { path: 'etc/os-release', content: 'NAME=Other\n' },
        { path: 'api', size: 9 },
      ],
    },
  ],
});

beforeAll(async () => {
  store = await ImageStore.open(join(scratch, 'store'));
  await seed(first, 'test/first:1');
  await seed(second, 'test/second:1');
  await seed(
    buildImage({
      layers: [
        { entries: [{ path: 'etc/motd', content: 'hello\n' }] },
        { entries: [{ path: 'etc/motd-link', type: 'hardlink', linkname: 'etc/motd' }] },
      ],
    }),
    'test/linked:1',
  );
});

async function rejection(promise: Promise<unknown>): Promise<BerthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(err)}`);
  return err;
}

describe('ImageLayers', () => {
  it('indexes layers on demand and saves their index files for next time', async () => {
    const explorer = new ImageLayers(store);
    const layers = await explorer.list('test/first:1');
    expect(layers.map((l) => [l.index, l.entryCount, l.problem])).toEqual([
      [0, 3, undefined],
      [1, 1, undefined],
      [2, 1, undefined],
    ]);
    expect(layers[0]?.diffId).toBe(first.layers[0]?.diffId);
    const files = await readdir(store.paths.layerIndexes);
    for (const layer of first.layers) expect(files).toContain(`${layer.digest.slice(7)}.idx`);
  });

  it('lists one directory at a time with roll-ups, in both views', async () => {
    const explorer = new ImageLayers(store);
    const merged = await explorer.directory('test/first:1', 1, 'merged', '/');
    expect(merged.entries.map((e) => [e.name, e.type, e.change])).toEqual([
      ['bin', 'dir', 'unchanged'],
      ['etc', 'dir', 'unchanged'],
    ]);
    const bin = await explorer.directory('test/first:1', 1, 'merged', 'bin');
    expect(bin.entries).toMatchObject([{ name: 'busybox', change: 'removed', removedBytes: 3000, size: 0 }]);
    const changed = await explorer.directory('test/first:1', 1, 'layer', '');
    expect(changed.directory.changes).toEqual({ added: 1, modified: 0, removed: 1 });
    expect(changed.entries.map((e) => e.name)).toEqual(['bin', 'etc']);
    const err = await rejection(explorer.directory('test/first:1', 1, 'merged', 'etc/os-release'));
    expect(err.code).toBe('NOT_FOUND');
    expect((await rejection(explorer.directory('test/first:1', 3, 'merged', ''))).code).toBe('BAD_REQUEST');
    expect((await rejection(explorer.directory('test/first:1', 0, 'merged', '../x'))).code).toBe(
      'BAD_REQUEST',
    );
  });

  it('previews from the layer holding the surviving copy, and refuses a relative destination', async () => {
    const explorer = new ImageLayers(store);
    const preview = await explorer.preview('test/first:1', 2, 'merged', '/etc/motd');
    expect(preview).toMatchObject({ layer: 1, text: 'hi\n', binary: false, truncated: false });
    const binary = await explorer.preview('test/first:1', 0, 'layer', 'bin/busybox');
    expect(binary.binary).toBe(true);
    expect(binary.text).toBeUndefined();
    const linked = await explorer.preview('test/linked:1', 1, 'merged', 'etc/motd-link');
    expect(linked).toMatchObject({ layer: 0, path: 'etc/motd', text: 'hello\n' });
    const err = await rejection(explorer.extract('test/first:1', 2, 'merged', '/etc', 'relative/dir'));
    expect(err.code).toBe('BAD_REQUEST');
  });

  it('compares two images directory by directory, rolled up', async () => {
    const explorer = new ImageLayers(store);
    const root = await explorer.compare('test/first:1', 'test/second:1', '');
    expect(root.entries.map((e) => [e.name, e.change])).toEqual([
      ['api', 'added'],
      ['bin', 'modified'],
      ['etc', 'modified'],
      ['srv', 'removed'],
    ]);
    const etc = await explorer.compare('test/first:1', 'test/second:1', 'etc');
    expect(etc.entries.map((e) => [e.name, e.change, e.sizeBefore, e.sizeAfter])).toEqual([
      ['motd', 'removed', 3, undefined],
      ['os-release', 'modified', 11, 11],
    ]);
    expect(etc.directory.changes).toEqual({ added: 0, modified: 1, removed: 1 });
  });

  it('lists the bottom layer from its index file exactly as the replay did before the file existed', async () => {
    const image = buildImage({
      layers: [
        {
          entries: [
            { path: 'etc/', type: 'dir' },
            { path: 'etc/os-release', content: 'NAME=Bottom\n' },
            { path: 'usr/bin/sh', size: 50 },
            { path: 'usr/bin/ash', type: 'hardlink', linkname: 'usr/bin/sh' },
            { path: 'usr/lib/sh', type: 'symlink', linkname: '../bin/sh' },
            { path: 'opt', type: 'opaque' },
            { path: 'gone', type: 'whiteout' },
          ],
        },
      ],
    });
    await seed(image, 'test/bottom:1');
    const file = join(store.paths.layerIndexes, `${image.layers[0]!.digest.slice(7)}.idx`);
    await rm(file, { force: true });
    const walk = async (explorer: ImageLayers): Promise<unknown[]> => {
      const seen: unknown[] = [];
      const pending = [''];
      for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
        for (const view of ['merged', 'layer'] as const) {
          const listing = await explorer.directory('test/bottom:1', 0, view, path);
          seen.push(listing);
          if (view === 'merged')
            for (const entry of listing.entries) if (entry.type === 'dir') pending.push(entry.path);
        }
      }
      return seen;
    };
    // No index file yet: the view is replayed from the index built from the blob, which is saved.
    const replayed = await walk(new ImageLayers(store));
    expect(await readdir(store.paths.layerIndexes)).toContain(`${image.layers[0]!.digest.slice(7)}.idx`);
    const fromFile = new ImageLayers(store);
    // The count comes from the index file's header; the replay above decoded all five entries.
    expect((await fromFile.list('test/bottom:1'))[0]?.entryCount).toBe(5);
    expect(await walk(fromFile)).toEqual(replayed);
    expect(replayed.length).toBe(10);
    const preview = await fromFile.preview('test/bottom:1', 0, 'merged', 'usr/bin/ash');
    expect(preview).toMatchObject({ path: 'usr/bin/ash', layer: 0, size: 50 });

    await writeFile(file, 'not a layer index');
    const broken = new ImageLayers(store);
    expect((await broken.directory('test/bottom:1', 0, 'merged', '')).entries).toEqual([]);
    expect((await broken.list('test/bottom:1'))[0]?.problem?.code).toBe('STORE_CORRUPT');
  });

  it('flags a corrupt layer and still shows the others', async () => {
    const broken = buildImage({
      layers: [{ entries: [{ path: 'ok', content: 'fine\n' }] }, { entries: [{ path: 'lost', size: 10 }] }],
    });
    await seed(broken, 'test/broken:1');
    const bad = store.blobPath(broken.layers[1]!.digest);
    await chmod(bad, 0o644);
    await writeFile(bad, Buffer.from('not gzip, not a tar at all'));
    const explorer = new ImageLayers(store);
    const layers = await explorer.list('test/broken:1');
    expect(layers[0]?.problem).toBeUndefined();
    expect(layers[1]?.problem?.message).toMatch(/cannot be read/);
    const top = await explorer.directory('test/broken:1', 1, 'merged', '');
    expect(top.entries.map((e) => e.name)).toEqual(['ok']);
  });
});

describe('layers:extract handler', () => {
  it('needs a destination on berth serve, and writes nothing when the desktop dialog is cancelled', async () => {
    const base = {
      storePath: store.root,
      settingsFile: join(scratch, 'config.json'),
      version: '0',
      emit: () => {},
    };
    const serve = createHandlers({ ...base, host: 'serve', imageStore: store });
    const params = { image: 'test/first:1', layer: 2, view: 'merged' as const, path: '/etc' };
    expect((await rejection(serve['layers:extract'](params))).code).toBe('BAD_REQUEST');
    const desktop = createHandlers({
      ...base,
      host: 'electron',
      imageStore: store,
      chooseDirectory: () => Promise.resolve(undefined),
    });
    expect(await desktop['layers:extract'](params)).toMatchObject({ done: false, written: 0 });
    const dest = join(scratch, 'chosen');
    const chosen = createHandlers({
      ...base,
      host: 'electron',
      imageStore: store,
      chooseDirectory: () => Promise.resolve(dest),
    });
    expect(await chosen['layers:extract'](params)).toMatchObject({
      done: true,
      written: 3,
      destination: dest,
    });
    expect((await readdir(join(dest, 'etc'))).sort()).toEqual(['motd', 'os-release']);
  });
});
