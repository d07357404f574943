import { describe, expect, it } from 'vitest';
import type { FixtureEntry } from '../../support/fixture-tar.js';
import {
  MergedFilesystem,
  viewLayer,
  type FileTreeNode,
} from '../../../electron/core/layers/merged-filesystem.js';
import { indexEntries, indexImage } from './layer-fixtures.js';

function find(tree: FileTreeNode, path: string): FileTreeNode | undefined {
  let node: FileTreeNode | undefined = tree;
  for (const part of path.split('/')) node = node?.children?.find((c) => c.name === part);
  return node;
}

/** Every path of a tree with its status, depth-first in name order. */
function listing(tree: FileTreeNode): string[] {
  const out: string[] = [];
  const visit = (node: FileTreeNode): void => {
    if (node.path !== '') out.push(`${node.path} ${node.status}`);
    for (const child of node.children ?? []) visit(child);
  };
  visit(tree);
  return out;
}

function present(tree: FileTreeNode): string[] {
  return listing(tree)
    .filter((line) => !line.endsWith(' removed'))
    .map((line) => line.split(' ')[0] ?? '');
}

describe('merged trees', () => {
  it('a whiteout of a file removes it and shows the bytes it hides', async () => {
    const layers = await indexImage([
      [
        { path: 'a/x', size: 100 },
        { path: 'a/y', size: 50 },
      ],
      [{ path: 'a/x', type: 'whiteout' }],
    ]);
    const view = await viewLayer(layers, 1);
    expect(present(view.merged)).toEqual(['a', 'a/y']);
    expect(find(view.merged, 'a/x')).toMatchObject({ status: 'removed', removedBytes: 100, layer: 0 });
    expect(find(view.merged, 'a')).toMatchObject({ size: 50, removedBytes: 100, changes: { removed: 1 } });
    expect(listing(view.layerOnly)).toEqual(['a unchanged', 'a/x removed']);
    expect(view.merged.size).toBe(50);
  });

  it('a whiteout of a directory removes everything below it', async () => {
    const layers = await indexImage([
      [
        { path: 'd/', type: 'dir' },
        { path: 'd/one', size: 10 },
        { path: 'd/sub/two', size: 20 },
        { path: 'e', size: 1 },
      ],
      [{ path: 'd', type: 'whiteout' }],
    ]);
    const view = await viewLayer(layers, 1);
    expect(present(view.merged)).toEqual(['e']);
    expect(listing(view.layerOnly)).toEqual([
      'd removed',
      'd/one removed',
      'd/sub removed',
      'd/sub/two removed',
    ]);
    expect(find(view.layerOnly, 'd')).toMatchObject({ removedBytes: 30, type: 'dir' });
    expect(view.changes.waste.map((w) => [w.path, w.bytes, w.kind])).toEqual([
      ['d/one', 10, 'deleted'],
      ['d/sub/two', 20, 'deleted'],
    ]);
  });

  for (const order of ['before', 'after'] as const) {
    it(`an opaque directory hides lower children when its marker comes ${order} its siblings`, async () => {
      const upper: FixtureEntry[] = [
        { path: 'o/', type: 'dir' },
        { path: 'o/new', size: 3 },
        { path: 'o/keep', content: 'same' },
      ];
      const marker: FixtureEntry = { path: 'o', type: 'opaque' };
      if (order === 'before') upper.splice(1, 0, marker);
      else upper.push(marker);
      const layers = await indexImage([
        [
          { path: 'o/', type: 'dir' },
          { path: 'o/old', size: 5 },
          { path: 'o/keep', content: 'same' },
          { path: 'o/deep/er', size: 7 },
          { path: 'p', size: 1 },
        ],
        upper,
      ]);
      const view = await viewLayer(layers, 1);
      expect(present(view.merged)).toEqual(['o', 'o/keep', 'o/new', 'p']);
      expect(listing(view.layerOnly)).toEqual([
        'o unchanged',
        'o/deep removed',
        'o/deep/er removed',
        'o/keep unchanged',
        'o/new added',
        'o/old removed',
      ]);
      expect(find(view.layerOnly, 'o')?.removedBytes).toBe(12);
    });
  }

  it('a file replaced by a directory and a directory replaced by a file are modified', async () => {
    const layers = await indexImage([
      [
        { path: 'p', size: 10 },
        { path: 'q/', type: 'dir' },
        { path: 'q/c', size: 20 },
      ],
      [
        { path: 'p/', type: 'dir' },
        { path: 'p/c', size: 1 },
        { path: 'q', size: 3 },
      ],
    ]);
    const view = await viewLayer(layers, 1);
    expect(listing(view.merged)).toEqual([
      'p modified',
      'p/c added',
      'q modified',
      'q removed',
      'q/c removed',
    ]);
    expect(find(view.merged, 'q')).toMatchObject({ type: 'file', size: 3 });
    expect(find(view.merged, 'p')).toMatchObject({ type: 'dir', size: 1 });
    expect(view.changes.waste.map((w) => [w.path, w.bytes, w.kind])).toEqual([
      ['p', 10, 'overwritten'],
      ['q/c', 20, 'deleted'],
    ]);
  });

  it('a whiteout and a new copy in the same layer replace the lower path without merging', async () => {
    const layers = await indexImage([
      [
        { path: 'w/', type: 'dir' },
        { path: 'w/old', size: 4 },
      ],
      [
        { path: 'w', type: 'whiteout' },
        { path: 'w/', type: 'dir' },
        { path: 'w/new', size: 2 },
      ],
    ]);
    const view = await viewLayer(layers, 1);
    expect(listing(view.merged)).toEqual(['w unchanged', 'w/new added', 'w/old removed']);
  });

  it('marks modified on type, size, content, mode, uid or gid, and never on mtime alone', async () => {
    const base: FixtureEntry[] = [
      { path: 'content', content: 'aaaa' },
      { path: 'mode', content: 'x' },
      { path: 'owner', content: 'x' },
      { path: 'group', content: 'x' },
      { path: 'time', content: 'x' },
      { path: 'same', content: 'x' },
      { path: 'link', type: 'symlink', linkname: 'same' },
    ];
    const changed: FixtureEntry[] = [
      { path: 'content', content: 'bbbb' },
      { path: 'mode', content: 'x', mode: 0o755 },
      { path: 'owner', content: 'x', uid: 1000 },
      { path: 'group', content: 'x', gid: 1000 },
      { path: 'time', content: 'x', mtime: new Date('2025-06-01T00:00:00Z') },
      { path: 'same', content: 'x' },
      { path: 'link', type: 'symlink', linkname: 'mode' },
    ];
    const view = await viewLayer(await indexImage([base, changed]), 1);
    expect(listing(view.layerOnly)).toEqual([
      'content modified',
      'group modified',
      'link modified',
      'mode modified',
      'owner modified',
      'same unchanged',
      'time unchanged',
    ]);
  });

  it('creates implied parent directories and flags them', async () => {
    const view = await viewLayer(await indexImage([[{ path: 'a/b/c', size: 1 }]]), 0);
    expect(listing(view.merged)).toEqual(['a added', 'a/b added', 'a/b/c added']);
    expect(find(view.merged, 'a/b')?.flags).toEqual(['implicit']);
  });

  it('shows symlink targets and flags links that escape the root or dangle', async () => {
    const layers = await indexImage([
      [
        { path: 'usr/lib/x', content: 'x' },
        { path: 'usr/bin/python3', size: 10 },
        { path: 'usr/bin/python', type: 'symlink', linkname: 'python3' },
        { path: 'usr/bin/abs', type: 'symlink', linkname: '/usr/bin/python3' },
        { path: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { path: 'via', type: 'symlink', linkname: 'lib/x' },
        { path: 'escape', type: 'symlink', linkname: '../../etc/shadow' },
        { path: 'dangling', type: 'symlink', linkname: 'nowhere' },
        { path: 'loop', type: 'symlink', linkname: 'loop' },
      ],
    ]);
    const { merged } = await viewLayer(layers, 0);
    expect(find(merged, 'usr/bin/python')?.entry?.linkTarget).toBe('python3');
    expect(find(merged, 'usr/bin/python')?.flags).toBeUndefined();
    expect(find(merged, 'usr/bin/abs')?.flags).toBeUndefined();
    expect(find(merged, 'via')?.flags).toBeUndefined();
    expect(find(merged, 'escape')?.flags).toEqual(['link-escapes', 'link-dangling']);
    expect(find(merged, 'dangling')?.flags).toEqual(['link-dangling']);
    expect(find(merged, 'loop')?.flags).toEqual(['link-dangling']);
  });

  it('counts hardlinked content once, and keeps it when the first name is deleted', async () => {
    const layers = await indexImage([
      [
        { path: 'f', size: 100 },
        { path: 'h', type: 'hardlink', linkname: 'f' },
      ],
      [{ path: 'f', type: 'whiteout' }],
    ]);
    const fs = new MergedFilesystem();
    const first = fs.applyLayer(layers[0] ?? (undefined as never));
    expect(fs.totalBytes()).toBe(100);
    expect(find(fs.mergedTree(first), 'h')).toMatchObject({ type: 'hardlink', size: 0 });
    const second = fs.applyLayer(layers[1] ?? (undefined as never));
    expect(fs.totalBytes()).toBe(100);
    expect(find(fs.mergedTree(second), 'h')).toMatchObject({ size: 100, flags: ['link-dangling'] });
  });

  it('an empty layer changes nothing', async () => {
    const layers = await indexImage([[{ path: 'a', size: 1 }], []]);
    const view = await viewLayer(layers, 1);
    expect(listing(view.merged)).toEqual(['a unchanged']);
    expect(listing(view.layerOnly)).toEqual([]);
  });

  it('reports whiteouts of paths no lower layer had', async () => {
    const view = await viewLayer(await indexImage([[], [{ path: 'ghost', type: 'whiteout' }]]), 1);
    expect(view.changes.unmatchedWhiteouts).toEqual(['ghost']);
    expect(listing(view.merged)).toEqual([]);
  });

  it('loads layers one at a time from a loader', async () => {
    const indexes = await indexImage([
      [{ path: 'a', size: 1 }],
      [{ path: 'b', size: 2 }],
      [{ path: 'c', size: 3 }],
    ]);
    const loaded: number[] = [];
    const view = await viewLayer(
      {
        count: 3,
        load: (layer) => {
          loaded.push(layer);
          return Promise.resolve(indexes[layer] ?? (undefined as never));
        },
      },
      1,
    );
    expect(loaded).toEqual([0, 1]);
    expect(listing(view.merged)).toEqual(['a unchanged', 'b added']);
    await expect(viewLayer(indexes, 5)).rejects.toThrow(RangeError);
  });

  it('puts a parent that is not a directory aside and flags it', async () => {
    const layers = [
      await indexEntries([{ path: 'a', type: 'symlink', linkname: '/etc' }]),
      await indexEntries([{ path: 'a/passwd', content: 'x' }]),
    ];
    const view = await viewLayer(layers, 1);
    expect(find(view.merged, 'a')?.flags).toEqual(['implicit', 'parent-not-directory']);
    expect(listing(view.merged)).toEqual(['a modified', 'a/passwd added']);
  });
});
