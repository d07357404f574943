import { describe, expect, it } from 'vitest';
import { BottomLayerListings } from '../../../electron/core/layers/bottom-layer-listings.js';
import { encodeLayerIndex } from '../../../electron/core/layers/index-file.js';
import type { LayerIndex } from '../../../electron/core/layers/layer-entry.js';
import {
  MergedFilesystem,
  type FileTreeNode,
  type LayerChanges,
} from '../../../electron/core/layers/merged-filesystem.js';
import type { FixtureEntry } from '../../support/fixture-tar.js';
import { indexEntries, indexImage } from './layer-fixtures.js';

/** One layer with everything a bottom layer can hold: nested and implied dirs, links of every kind, markers. */
const layer: FixtureEntry[] = [
  { path: 'etc/', type: 'dir', mode: 0o700 },
  { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
  { path: 'etc/ssl/certs/ca.pem', size: 900 },
  { path: 'etc/ssl/private/', type: 'dir' },
  { path: 'etc/empty/', type: 'dir' },
  { path: 'usr/lib/libx.so.1', size: 4000 },
  { path: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.1' },
  { path: 'usr/lib/abs', type: 'symlink', linkname: '/etc/passwd' },
  { path: 'usr/lib/via-dir-link', type: 'symlink', linkname: '../../lib64/libx.so' },
  { path: 'lib64', type: 'symlink', linkname: 'usr/lib' },
  { path: 'usr/bin/tool', size: 1200, mode: 0o755 },
  { path: 'usr/bin/tool-alias', type: 'hardlink', linkname: 'usr/bin/tool' },
  { path: 'usr/bin/tool-alias2', type: 'hardlink', linkname: 'usr/bin/tool-alias' },
  { path: 'usr/bin/a-early', type: 'hardlink', linkname: 'usr/bin/tool-alias' },
  { path: 'usr/bin/to-missing', type: 'hardlink', linkname: 'usr/bin/nothing' },
  { path: 'usr/bin/to-dir', type: 'hardlink', linkname: 'usr/lib' },
  { path: 'usr/bin/to-implied', type: 'hardlink', linkname: 'usr' },
  // '-' and '.' sort before '/', so these sit between `usr/bin` and `usr/bin/...` in the index.
  { path: 'usr/bin-extra/x', size: 3 },
  { path: 'usr/bin.d/y', size: 4 },
  { path: 'usr/share/doc/é/readme', size: 40 },
  { path: 'usr/share/doc/😀/note', size: 41 },
  { path: 'dangling', type: 'symlink', linkname: '/does/not/exist' },
  { path: 'escape', type: 'symlink', linkname: '../../../outside' },
  { path: 'loop-a', type: 'symlink', linkname: 'loop-b' },
  { path: 'loop-b', type: 'symlink', linkname: 'loop-a' },
  { path: 'dir-link', type: 'symlink', linkname: 'etc/ssl' },
  { path: 'dup', size: 3 },
  { path: 'dup', size: 4 },
  { path: 'gone', type: 'whiteout' },
  { path: 'etc/old.conf', type: 'whiteout' },
  { path: 'var/cache', type: 'whiteout' },
  { path: 'opq/', type: 'dir' },
  { path: 'opq', type: 'opaque' },
  { path: 'opq/kept', size: 9 },
  { path: 'opq/deep/inner', size: 10 },
  { type: 'opaque', path: '' },
];

/**
 * The listings the replay of layers 0..`top` gives for every directory of both views of `top`, and what `top`
 * changed.
 */
function replayedListings(
  indexes: LayerIndex[],
  top = indexes.length - 1,
): {
  directories: string[];
  changes: LayerChanges;
  list: (path: string, view: 'layer' | 'merged') => unknown;
} {
  const fs = new MergedFilesystem();
  let changes = fs.applyLayer(indexes[0]!, { statuses: top === 0 });
  for (let i = 1; i <= top; i++) changes = fs.applyLayer(indexes[i]!, { statuses: i === top });
  const listings = fs.directoryListings(changes);
  const directories: string[] = [];
  const visit = (node: FileTreeNode): void => {
    if (!node.children) return;
    directories.push(node.path);
    node.children.forEach(visit);
  };
  visit(fs.mergedTree(changes));
  return { directories, changes, list: (path, view) => listings.list(path, view) };
}

function expectSameAsReplay(index: LayerIndex, fast: BottomLayerListings): number {
  const replay = replayedListings([index]);
  const probes = [...replay.directories, 'etc/passwd', 'dir-link', 'nowhere', 'usr/bin/tool/x', 'gone'];
  for (const path of probes) {
    for (const view of ['merged', 'layer'] as const) {
      expect(fast.list(path, view), `${view} ${path || '/'}`).toEqual(replay.list(path, view));
    }
  }
  return replay.directories.length;
}

describe('bottom layer listings', () => {
  it('list every directory of both views exactly as the replay does: names, sizes, roll-ups, statuses, flags', async () => {
    const index = await indexEntries(layer);
    expect(index.whiteouts.length).toBe(3);
    expect(index.opaqueDirs).toEqual(['', 'opq']);
    const fast = BottomLayerListings.fromIndexBytes(encodeLayerIndex(index));
    expect(fast, 'the fixture takes the fast path').toBeDefined();
    expect(expectSameAsReplay(index, fast!)).toBeGreaterThan(15);

    const root = fast!.list('', 'merged');
    expect(root?.directory).toMatchObject({ status: 'unchanged', layer: -1, childCount: 10 });
    const bin = fast!.list('usr/bin', 'merged');
    expect(bin?.children.map((c) => [c.name, c.size, c.flags ?? []])).toEqual([
      ['a-early', 0, []],
      ['to-dir', 0, ['link-dangling']],
      ['to-implied', 0, ['link-dangling']],
      ['to-missing', 0, ['link-dangling']],
      ['tool', 1200, []],
      ['tool-alias', 0, []],
      // A link to a link written before it counts its file's bytes in the replay; kept as it is.
      ['tool-alias2', 1200, []],
    ]);
    expect(fast!.list('etc/ssl', 'layer')?.directory).toMatchObject({
      flags: ['implicit'],
      size: 900,
      changes: { added: 3, modified: 0, removed: 0 },
    });
  });

  it('leaves to the replay an index whose byte order differs from its path order, or a path under a file', async () => {
    // U+E000 sorts after an emoji's surrogates in UTF-16 but before its 4-byte UTF-8 form.
    const unordered = await indexEntries([
      { path: 'x/\u{e000}', size: 1 },
      { path: 'x/😀', size: 2 },
    ]);
    expect(BottomLayerListings.fromIndexBytes(encodeLayerIndex(unordered))).toBeUndefined();
    const underFile = await indexEntries([
      { path: 'a', size: 1 },
      { path: 'a-b', size: 2 },
      { path: 'a/b', size: 3 },
    ]);
    expect(underFile.entries.map((e) => e.path)).toEqual(['a', 'a-b', 'a/b']);
    expect(BottomLayerListings.fromIndexBytes(encodeLayerIndex(underFile))).toBeUndefined();
  });

  it('lists a generated layer of thousands of files the same as the replay', async () => {
    const entries: FixtureEntry[] = [];
    for (let d = 0; d < 20; d++) {
      if (d % 3 === 0) entries.push({ path: `srv/d${d}/`, type: 'dir' });
      for (let f = 0; f < 100; f++) entries.push({ path: `srv/d${d}/s${f % 7}/f${f}`, size: f + d });
      entries.push({ path: `srv/d${d}-link`, type: 'hardlink', linkname: `srv/d${d}/s0/f0` });
    }
    const index = await indexEntries(entries);
    const fast = BottomLayerListings.fromIndexBytes(encodeLayerIndex(index));
    expect(fast).toBeDefined();
    expect(expectSameAsReplay(index, fast!)).toBe(1 + 1 + 20 + 140);
  });

  it('refuses a corrupt index as STORE_CORRUPT', async () => {
    const bytes = encodeLayerIndex(await indexEntries(layer));
    expect(() => BottomLayerListings.fromIndexBytes(bytes.subarray(0, bytes.length - 40))).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT' }) as Error,
    );
  });
});

/** Layers for the bottom `layer` above: every way a layer above can reach into a base it has not read yet. */
const above: FixtureEntry[][] = [
  [
    // Hardlinks in directories nothing else touches lose or change their file: their bytes start to count.
    { path: 'usr/bin.d/y', type: 'whiteout' },
    { path: 'usr/share/doc/é/readme', size: 41 },
    { path: 'usr/bin/tool', type: 'whiteout' },
    { path: 'usr/lib/libx.so.1', type: 'whiteout' },
    { path: 'etc/', type: 'dir', mode: 0o755 },
    { path: 'etc/ssl/', type: 'dir' },
    { path: 'etc/ssl', type: 'opaque' },
    { path: 'etc/ssl/new.pem', size: 12 },
    { path: 'usr/bin-extra', size: 5 },
    { path: 'etc/passwd/under-a-file', size: 6 },
    { path: 'newdir/a', size: 7 },
    { path: 'newlink', type: 'hardlink', linkname: 'usr/share/doc/😀/note' },
    { path: 'nothing-here', type: 'whiteout' },
    { path: 'dup', size: 3 },
  ],
  [
    { path: 'usr/bin/tool', size: 1300 },
    { path: 'usr/bin/tool-alias', type: 'whiteout' },
    { path: 'opq', type: 'opaque' },
    { path: 'usr/lib/libx.so.1', size: 4000 },
    { path: 'newdir', type: 'whiteout' },
    { path: 'usr/share/doc/😀/note', type: 'whiteout' },
    { path: 'usr/share/doc/😀/note2', size: 2 },
    { path: 'etc/ssl/private/', type: 'dir', mode: 0o700 },
  ],
];

/** The bottom fixture with links whose directories no layer above reads, and whose files those layers change. */
const bottom: FixtureEntry[] = [
  ...layer,
  { path: 'srv/links/to-y', type: 'hardlink', linkname: 'usr/bin.d/y' },
  { path: 'srv/other/to-readme', type: 'hardlink', linkname: 'usr/share/doc/é/readme' },
  { path: 'srv/other/to-tool', type: 'hardlink', linkname: 'usr/bin/tool' },
  { path: 'srv/other/keep', size: 8 },
];

/** Listings of layer `top` built on the bottom's index, read in `order`, against the replay of 0..`top`. */
function expectAboveSameAsReplay(indexes: LayerIndex[], top: number, order: 'forward' | 'reverse'): number {
  const replay = replayedListings(indexes, top);
  const base = BottomLayerListings.fromIndexBytes(encodeLayerIndex(indexes[0]!));
  expect(base, 'the bottom takes the fast path').toBeDefined();
  const fs = MergedFilesystem.above(base!);
  let aboveChanges: LayerChanges | undefined;
  for (let i = 1; i <= top; i++) aboveChanges = fs.applyLayer(indexes[i]!, { statuses: i === top });
  expect(aboveChanges).toEqual(replay.changes);
  const listings = fs.directoryListings(aboveChanges!);
  const probes = [...replay.directories, 'etc/passwd', 'usr/bin/tool', 'nowhere', 'newdir', 'opq/deep'];
  if (order === 'reverse') probes.reverse();
  for (const path of probes) {
    for (const view of ['merged', 'layer'] as const) {
      expect(listings.list(path, view), `layer ${top} ${view} ${path || '/'} (${order})`).toEqual(
        replay.list(path, view),
      );
    }
  }
  return replay.directories.length;
}

describe('layers above a bottom layer read from its index', () => {
  it('list every directory of both views of each layer exactly as the replay does, read in either order', async () => {
    const indexes = await indexImage([bottom, ...above]);
    for (const top of [1, 2]) {
      expect(expectAboveSameAsReplay(indexes, top, 'forward')).toBeGreaterThan(15);
      expectAboveSameAsReplay(indexes, top, 'reverse');
    }
    const fs = MergedFilesystem.above(BottomLayerListings.fromIndexBytes(encodeLayerIndex(indexes[0]!))!);
    const listings = fs.directoryListings(fs.applyLayer(indexes[1]!));
    // The base counted 0 bytes for a link to a present file; with the file gone the link holds them.
    expect(listings.list('srv/links', 'merged')?.directory.size).toBe(4);
    expect(listings.list('srv/other', 'merged')?.children.map((c) => [c.name, c.size])).toEqual([
      ['keep', 8],
      ['to-readme', 40],
      ['to-tool', 1200],
    ]);
    expect(() => fs.applyLayer(indexes[2]!)).toThrow(/once directory listings were taken/);
  });

  it('lists a generated image of thousands of files the same as the replay', async () => {
    const base: FixtureEntry[] = [];
    const upper: FixtureEntry[] = [];
    for (let d = 0; d < 20; d++) {
      for (let f = 0; f < 100; f++) base.push({ path: `srv/d${d}/s${f % 7}/f${f}`, size: f + d });
      base.push({ path: `srv/d${d}-link`, type: 'hardlink', linkname: `srv/d${d}/s0/f0` });
      if (d % 4 === 0) upper.push({ path: `srv/d${d}/s0/f0`, type: 'whiteout' });
      if (d % 5 === 1) upper.push({ path: `srv/d${d}/s${d % 7}`, type: 'whiteout' });
      if (d % 6 === 2) upper.push({ path: `srv/d${d}/s1/new`, size: 3 });
    }
    const indexes = await indexImage([base, upper]);
    expect(expectAboveSameAsReplay(indexes, 1, 'forward')).toBeGreaterThan(150);
    expectAboveSameAsReplay(indexes, 1, 'reverse');
  });
});
