import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportRootfs, exportRootfsToFile } from '../../../electron/core/archive/export-rootfs';
import { importRootfs } from '../../../electron/core/archive/import-rootfs';
import { squashImage } from '../../../electron/core/archive/squash';
import { defaultDecodeLimits } from '../../../electron/core/layers/layer-stream';
import { ImageStore } from '../../../electron/core/store/image-store';
import { buildImage, buildLayerTar, smallImage } from '../../support/fixture';
import { streamOf } from '../archive/rootfs-fixtures';
import { listTar, type ListedEntry } from '../archive/tar-listing';
import { rawTar } from '../layers/layer-fixtures';
import { addImage } from '../store/add-image';

/**
 * Hostile tarballs for `import` and hostile images for `export` and `squash`, beyond what rootfs.test.ts
 * proves (`../x` and a hardlink out refused by import, truncated and corrupt tarballs). The store sits next
 * to an empty `canary` folder and an `out` folder; nothing may appear anywhere but the store and the file
 * an export was asked to write.
 */

let home: string;
let root: string;
let canary: string;
let out: string;
let store: ImageStore;

const mib = 1024 * 1024;

/** Every file under `dir` with its size, sorted. */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    found.push(`${path.slice(dir.length + 1)}${entry.isFile() ? ` ${(await stat(path)).size}` : '/'}`);
  }
  return found.sort();
}

async function expectConfined(outFiles: string[] = []): Promise<void> {
  expect((await readdir(home)).sort()).toEqual(['canary', 'out', 'store']);
  expect(await readdir(canary)).toEqual([]);
  expect((await readdir(out)).sort()).toEqual(outFiles);
}

/** The entries of an exported tar, and the checks every export must pass: nothing that lands outside its root. */
function expectSafeTar(entries: Map<string, ListedEntry>, order: string[]): void {
  const symlinks = new Set([...entries].filter(([, e]) => e.type === 'SymbolicLink').map(([p]) => p));
  for (const path of order) {
    expect(path.startsWith('/'), path).toBe(false);
    expect(path.split('/'), path).not.toContain('..');
    expect(path, 'no NUL').not.toContain('\0');
    // No entry sits below a symlink written before it, so extracting cannot write through one.
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++)
      expect(symlinks.has(parts.slice(0, i).join('/')), path).toBe(false);
    const entry = entries.get(path);
    if (entry?.type === 'Link') {
      expect(order.indexOf(entry.link ?? ''), `${path} links to an entry of the tar`).toBeGreaterThanOrEqual(
        0,
      );
      expect(order.indexOf(entry.link ?? '')).toBeLessThan(order.indexOf(path));
    }
  }
}

async function exported(query: string): Promise<{ entries: Map<string, ListedEntry>; order: string[] }> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exportRootfs(store, query, sink, '-');
  return listTar(Buffer.concat(chunks));
}

/** A layer with every hostile entry the issue names. */
const hostileTar = rawTar([
  { name: '../x', body: Buffer.from('escape') },
  { name: 'a/../../b', body: Buffer.from('escape') },
  { name: '/etc/x', body: Buffer.from('absolute') },
  { name: 'link', type: 'SymbolicLink', linkpath: '/etc' },
  { name: 'link/passwd', body: Buffer.from('through an absolute symlink') },
  { name: 'rel', type: 'SymbolicLink', linkpath: '../../canary' },
  { name: 'rel/passwd', body: Buffer.from('through a relative symlink') },
  { name: 'escape', type: 'Link', linkpath: '../../etc/passwd' },
  { name: 'abs', type: 'Link', linkpath: '/etc/passwd' },
  { name: 'ok', body: Buffer.from('fine') },
]);

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'berth-hostile-rootfs-'));
  root = join(home, 'store');
  canary = join(home, 'canary');
  out = join(home, 'out');
  await mkdir(canary);
  await mkdir(out);
  store = await ImageStore.open(root);
  await addImage(store, smallImage('kept'), ['kept:1']);
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('import of hostile tarballs', { timeout: 30_000 }, () => {
  const refused: [string, Buffer, string, RegExp][] = [
    [
      'a/../../b',
      rawTar([{ name: 'a/../../b', body: Buffer.from('x') }]),
      'ARCHIVE_INVALID',
      /t\.tar: entry "a\/\.\.\/\.\.\/b" climbs out of the root filesystem/,
    ],
    [
      'a NUL byte in a name',
      rawTar([{ name: 'evil\0/../../x', body: Buffer.from('x'), pax: true }]),
      'ARCHIVE_INVALID',
      /t\.tar is not a usable root filesystem tarball: .*NUL/,
    ],
    [
      'a gzip bomb (ratio cap)',
      gzipSync(buildLayerTar([{ path: 'zeros', content: Buffer.alloc(16 * mib) }])),
      'TOO_LARGE',
      /t\.tar is not a usable root filesystem tarball: .*decompresses more than 100:1 .*decompression bomb/,
    ],
    [
      'a 100k-deep path',
      rawTar([{ name: Array.from({ length: 100_000 }, () => 'd').join('/'), type: 'Directory', pax: true }]),
      'TOO_LARGE',
      /t\.tar is not a usable root filesystem tarball: .*longer than 4096 bytes/,
    ],
  ];
  it.each(refused)(
    'refuses %s with a clear error; the store and its folder stay as they were',
    async (_what, tar, code, message) => {
      const before = await tree(home);
      await expect(
        importRootfs(store, {
          source: streamOf(tar),
          label: 't.tar',
          reference: 'hostile:1',
          limits: { ...defaultDecodeLimits, maxCompressionRatio: 100, ratioFloorBytes: mib },
        }),
      ).rejects.toMatchObject({ code, message: expect.stringMatching(message) as string });
      expect(await tree(home)).toEqual(before);
      await expectConfined();
    },
  );

  it('stops a bomb at the size cap too', async () => {
    const before = await tree(home);
    const bomb = gzipSync(buildLayerTar([{ path: 'zeros', content: Buffer.alloc(16 * mib) }]));
    await expect(
      importRootfs(store, {
        source: streamOf(bomb),
        label: 'b.tgz',
        limits: { ...defaultDecodeLimits, maxUncompressedBytes: 8 * mib },
      }),
    ).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringMatching(/b\.tgz .*8388608-byte cap/) as string,
    });
    expect(await tree(home)).toEqual(before);
  });

  it('confines /etc/x and a file written through a symlink: the image sees them inside its root', async () => {
    const tar = rawTar([
      { name: '/etc/x', body: Buffer.from('absolute') },
      { name: 'link', type: 'SymbolicLink', linkpath: '/etc' },
      { name: 'link/passwd', body: Buffer.from('through a symlink') },
      { name: 'ok', body: Buffer.from('fine') },
    ]);
    const passwd = await readFile('/etc/passwd', 'utf8');
    await importRootfs(store, { source: streamOf(tar), label: 't.tar', reference: 'confined:1' });
    await expectConfined();
    expect(await readFile('/etc/passwd', 'utf8')).toBe(passwd);
    const { entries, order } = await exported('confined:1');
    expectSafeTar(entries, order);
    expect(order).toEqual(expect.arrayContaining(['etc/x', 'ok', 'link/passwd']));
    expect(entries.get('link')?.type).toBe('Directory');
    expect((await store.fsck()).problems).toEqual([]);
  });
});

describe('export and squash of a hostile image', { timeout: 30_000 }, () => {
  it('export drops entries that climb out and hardlinks out of the root; nothing lands under a symlink', async () => {
    await addImage(store, buildImage({ layers: [{ tar: hostileTar }] }), ['hostile:1']);
    const { entries, order } = await exported('hostile:1');
    expectSafeTar(entries, order);
    expect(order).toEqual(expect.arrayContaining(['etc/x', 'ok']));
    for (const dropped of ['x', 'b', 'escape', 'abs', '../x', 'a/../../b'])
      expect(order).not.toContain(dropped);
    await expectConfined();
  });

  it('berth export writes only its output file, and nothing at all when it fails', async () => {
    await addImage(store, buildImage({ layers: [{ tar: hostileTar }] }), ['hostile:1']);
    const file = join(out, 'rootfs.tar');
    const result = await exportRootfsToFile(store, 'hostile:1', file);
    expect(result.skipped).toEqual([{ path: 'abs', reason: 'hardlink-target-missing' }]);
    await expectConfined(['rootfs.tar']);
    const { entries, order } = await listTar(await readFile(file));
    expectSafeTar(entries, order);
    // A layer that is not a whole tar: refused, and no partial file is left where one was asked for.
    const whole = buildLayerTar([{ path: 'big', size: 100_000 }]);
    await addImage(store, buildImage({ layers: [{ tar: whole.subarray(0, 20_000) }] }), ['cut:1']);
    await expect(exportRootfsToFile(store, 'cut:1', join(out, 'cut.tar'))).rejects.toMatchObject({
      code: 'ARCHIVE_INVALID',
    });
    await expectConfined(['rootfs.tar']);
  });

  it('squash makes a layer holding the same safe filesystem; the store stays consistent', async () => {
    await addImage(
      store,
      buildImage({ layers: [{ tar: hostileTar }, { entries: [{ path: 'top', content: 'top' }] }] }),
      ['hostile:1'],
    );
    const before = await exported('hostile:1');
    const result = await squashImage(store, 'hostile:1', 'hostile:squashed');
    expect(result.replacedLayers).toBe(2);
    const after = await exported('hostile:squashed');
    expectSafeTar(after.entries, after.order);
    expect(Object.fromEntries(after.entries)).toEqual(Object.fromEntries(before.entries));
    await expectConfined();
    expect((await store.fsck()).problems).toEqual([]);
  });
});
