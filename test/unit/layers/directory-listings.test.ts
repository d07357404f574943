import { describe, expect, it } from 'vitest';
import {
  MergedFilesystem,
  type FileTreeNode,
  type ListedNode,
} from '../../../electron/core/layers/merged-filesystem.js';
import type { FixtureEntry } from '../../support/fixture-tar.js';
import { indexImage } from './layer-fixtures.js';

/** Whiteouts of files and dirs, opaque markers before and after siblings, replacements both ways, links, empties. */
const layers: FixtureEntry[][] = [
  [
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
    { path: 'escape', type: 'symlink', linkname: '../../../outside' },
    { path: 'dup', size: 3 },
    { path: 'dup', size: 4 },
  ],
  [
    { path: 'etc/old.conf', type: 'whiteout' },
    { path: 'cache', type: 'whiteout' },
    { path: 'opq-before', type: 'opaque' },
    { path: 'opq-before/upper', size: 9 },
    { path: 'opq-after/upper', size: 11 },
    { path: 'opq-after', type: 'opaque' },
    { path: 'file-to-dir/', type: 'dir' },
    { path: 'file-to-dir/child', size: 12 },
    { path: 'dir-to-file', size: 13 },
    { path: 'usr/lib/', type: 'dir', mode: 0o750 },
    { path: 'usr/lib/libx.so.2', size: 4100 },
    { path: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.2' },
    { path: 'usr/bin/tool', type: 'whiteout' },
  ],
  [],
  [
    { path: 'usr/lib/libx.so.1', type: 'whiteout' },
    { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/bash\n' },
    { path: 'new/deep/file', size: 14 },
    { path: 'etc/', type: 'dir', mode: 0o700 },
  ],
];

/** A full-tree node as a listing shows it: without children, with their count on directories. */
function flat(node: FileTreeNode): ListedNode {
  const { children, ...rest } = node;
  return children === undefined ? rest : { ...rest, childCount: children.length };
}

/** Checks every directory of a full tree against the lazy listing of the same directory. */
function expectSameListings(tree: FileTreeNode, list: (path: string) => unknown, label: string): number {
  let directories = 0;
  const visit = (node: FileTreeNode): void => {
    if (!node.children) return;
    directories++;
    expect(list(node.path), `${label}: ${node.path || '/'}`).toEqual({
      directory: flat(node),
      children: node.children.map(flat),
    });
    for (const child of node.children) visit(child);
  };
  visit(tree);
  return directories;
}

describe('directory listings', () => {
  it('equal the full merged and layer-only trees, directory by directory, after every layer', async () => {
    const indexes = await indexImage(layers);
    const fs = new MergedFilesystem();
    let checked = 0;
    for (const index of indexes) {
      const changes = fs.applyLayer(index);
      const listings = fs.directoryListings(changes);
      const label = `layer ${changes.layer}`;
      checked += expectSameListings(
        fs.mergedTree(changes),
        (p) => listings.list(p, 'merged'),
        `${label} merged`,
      );
      checked += expectSameListings(
        fs.layerTree(changes),
        (p) => listings.list(p, 'layer'),
        `${label} layer`,
      );
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('are the same when the layers below were applied without their statuses', async () => {
    const indexes = await indexImage(layers);
    for (let top = 1; top < indexes.length; top++) {
      const full = new MergedFilesystem();
      const lean = new MergedFilesystem();
      let fullChanges = full.applyLayer(indexes[0]!);
      let leanChanges = lean.applyLayer(indexes[0]!, { statuses: false });
      expect(leanChanges.statuses.size).toBe(0);
      expect(fullChanges.statuses.size).toBeGreaterThan(0);
      for (let i = 1; i <= top; i++) {
        fullChanges = full.applyLayer(indexes[i]!);
        leanChanges = lean.applyLayer(indexes[i]!, { statuses: i === top });
      }
      expect(leanChanges).toEqual(fullChanges);
      const listings = lean.directoryListings(leanChanges);
      const label = `layer ${top} over lean layers`;
      expectSameListings(full.mergedTree(fullChanges), (p) => listings.list(p, 'merged'), `${label} merged`);
      expectSameListings(full.layerTree(fullChanges), (p) => listings.list(p, 'layer'), `${label} layer`);
    }
  });

  it('lists a removed directory by its ghosts and says nothing of paths that are not directories', async () => {
    const fs = new MergedFilesystem();
    const [first, second] = await indexImage(layers.slice(0, 2));
    fs.applyLayer(first!);
    const listings = fs.directoryListings(fs.applyLayer(second!));
    const cache = listings.list('cache', 'merged');
    expect(cache?.directory).toMatchObject({ status: 'removed', removedBytes: 30, childCount: 2 });
    expect(cache?.children.map((c) => [c.name, c.status, c.removedBytes])).toEqual([
      ['a', 'removed', 10],
      ['sub', 'removed', 20],
    ]);
    expect(listings.list('etc/passwd', 'merged')).toBeUndefined();
    expect(listings.list('nowhere', 'layer')).toBeUndefined();
  });
});
