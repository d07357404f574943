import { spawnSync } from 'node:child_process';
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImage, writeOciLayout, type FixtureLayerSpec } from '../support/fixture.js';
import { indexLayer } from '../../electron/core/layers/index-layer.js';
import type { LayerIndex } from '../../electron/core/layers/layer-entry.js';
import { MergedFilesystem, type FileTreeNode } from '../../electron/core/layers/merged-filesystem.js';

const umoci = spawnSync('umoci', ['--version'], { stdio: 'ignore' }).status === 0;
const scratch = await mkdtemp(join(tmpdir(), 'berth-layers-umoci-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Layers exercising every whiteout and replacement rule; each prefix of them is unpacked by umoci. */
const layers: FixtureLayerSpec[] = [
  {
    entries: [
      { path: 'etc/', type: 'dir' },
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { path: 'etc/old.conf', size: 300 },
      { path: 'usr/lib/libx.so.1', size: 4000 },
      { path: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.1' },
      { path: 'usr/bin/tool', size: 1200, mode: 0o755 },
      { path: 'usr/bin/tool-alias', type: 'hardlink', linkname: 'usr/bin/tool' },
      { path: 'cache/', type: 'dir' },
      { path: 'cache/a', size: 10 },
      { path: 'cache/sub/b', size: 20 },
      { path: 'opq-before/', type: 'dir' },
      { path: 'opq-before/lower', size: 5 },
      { path: 'opq-after/', type: 'dir' },
      { path: 'opq-after/lower', size: 6 },
      { path: 'file-to-dir', size: 7 },
      { path: 'dir-to-file/', type: 'dir' },
      { path: 'dir-to-file/inner', size: 8 },
      { path: 'dangling', type: 'symlink', linkname: '/does/not/exist' },
    ],
  },
  {
    entries: [
      { path: 'etc/old.conf', type: 'whiteout' },
      { path: 'cache', type: 'whiteout' },
      { path: 'opq-before', type: 'opaque' },
      { path: 'opq-before/upper', size: 9 },
      { path: 'opq-after/upper', size: 11 },
      { path: 'opq-after', type: 'opaque' },
      { path: 'file-to-dir/', type: 'dir' },
      { path: 'file-to-dir/child', size: 12 },
      { path: 'dir-to-file', size: 13 },
      { path: 'usr/lib/libx.so.2', size: 4100 },
      { path: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.2' },
    ],
    compression: 'none',
  },
  { entries: [] },
  {
    entries: [
      { path: 'usr/lib/libx.so.1', type: 'whiteout' },
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/bash\n' },
      { path: 'new/deep/file', size: 14 },
    ],
  },
];

type Listing = Record<string, string>;

/** What umoci wrote, as `path -> type[:size|:target]`; hardlinks are plain files on disk. */
async function listRootfs(rootfs: string): Promise<Listing> {
  const out: Listing = {};
  for (const entry of await readdir(rootfs, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    const path = full.slice(rootfs.length + 1);
    const stat = await lstat(full);
    if (stat.isSymbolicLink()) out[path] = `symlink:${await readlink(full)}`;
    else if (stat.isDirectory()) out[path] = 'dir';
    else out[path] = `file:${stat.size}`;
  }
  return out;
}

/** The merged tree as the same listing (removed nodes left out; a hardlink takes its file's size). */
function listTree(tree: FileTreeNode, sizes: Map<string, number>): Listing {
  const out: Listing = {};
  const visit = (node: FileTreeNode): void => {
    if (node.status === 'removed') return;
    if (node.path !== '') {
      const entry = node.entry;
      if (node.type === 'dir') out[node.path] = 'dir';
      else if (node.type === 'symlink') out[node.path] = `symlink:${entry?.linkTarget ?? ''}`;
      else if (node.type === 'hardlink') out[node.path] = `file:${sizes.get(entry?.linkTarget ?? '') ?? -1}`;
      else out[node.path] = `file:${entry?.size ?? -1}`;
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(tree);
  return out;
}

describe.skipIf(!umoci)('merged trees match umoci raw unpack', () => {
  it('after every layer of an image with whiteouts, opaque dirs, replacements and links', async () => {
    const layout = join(scratch, 'layout');
    const images = layers.map((_, n) => buildImage({ layers: layers.slice(0, n + 1) }));
    await writeOciLayout(
      layout,
      images.map((image, n) => ({ name: `upto-${n}`, image })),
    );
    const full = images[images.length - 1];
    if (!full) throw new Error('no image');
    const indexes: LayerIndex[] = [];
    for (const layer of full.layers) indexes.push(await indexLayer(Readable.from([layer.bytes])));
    expect(indexes.map((i) => i.diffId)).toEqual(full.layers.map((l) => l.diffId));

    const fs = new MergedFilesystem();
    const fileSizes = new Map<string, number>();
    const listings: Listing[] = [];
    for (const [n, index] of indexes.entries()) {
      const changes = fs.applyLayer(index);
      for (const entry of index.entries) if (entry.type === 'file') fileSizes.set(entry.path, entry.size);
      const rootfs = join(scratch, `rootfs-${n}`);
      const unpack = spawnSync(
        'umoci',
        ['raw', 'unpack', '--rootless', '--image', `${layout}:upto-${n}`, rootfs],
        {
          encoding: 'utf8',
        },
      );
      expect(unpack.stderr, `umoci unpack of layer ${n}`).not.toMatch(/error|fatal/i);
      expect(unpack.status).toBe(0);
      const unpacked = await listRootfs(rootfs);
      expect(listTree(fs.mergedTree(changes), fileSizes), `merged tree after layer ${n}`).toEqual(unpacked);
      listings.push(unpacked);
    }
    expect(listings[1]).toMatchObject({
      'opq-before/upper': 'file:9',
      'opq-after/upper': 'file:11',
      'file-to-dir/child': 'file:12',
      'dir-to-file': 'file:13',
      'usr/bin/tool-alias': 'file:1200',
    });
    for (const gone of [
      'etc/old.conf',
      'cache',
      'opq-before/lower',
      'opq-after/lower',
      'dir-to-file/inner',
    ]) {
      expect(listings[1]).not.toHaveProperty([gone]);
    }
    expect(listings[3]).not.toHaveProperty(['usr/lib/libx.so.1']);
  });
});
