import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeLayerIndex,
  encodeLayerIndex,
  readLayerIndex,
  readLayerIndexHeader,
  writeLayerIndex,
} from '../../../electron/core/layers/index-file.js';
import type { LayerIndex } from '../../../electron/core/layers/layer-entry.js';
import { indexEntries } from './layer-fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'berth-layer-index-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** An index of `count` regular files named by `pathOf`, each with a size and a content hash. */
function manyFiles(count: number, pathOf: (i: number) => string): LayerIndex {
  return {
    diffId: `sha256:${'a'.repeat(64)}`,
    compression: 'gzip',
    compressedSize: 1,
    uncompressedSize: 1,
    entries: Array.from({ length: count }, (_, i) => ({
      path: pathOf(i),
      type: 'file' as const,
      size: i,
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 1_700_000_000,
      contentHash: i.toString(16).padStart(64, '0'),
    })),
    whiteouts: [],
    opaqueDirs: [],
    duplicates: [],
    notices: [],
    noticesOmitted: 0,
  };
}

describe('layer index files', () => {
  it('round-trip every field, gzip or not', async () => {
    const index: LayerIndex = await indexEntries([
      { path: 'usr/bin/', type: 'dir' },
      { path: 'usr/bin/tool', size: 3000, mode: 0o4755, uid: 65534, gid: 65534 },
      { path: 'usr/bin/tool2', type: 'hardlink', linkname: 'usr/bin/tool' },
      { path: 'usr/bin/x', type: 'symlink', linkname: '../../opt/x' },
      { path: 'usr/share/ünïcødé-😀', content: 'u' },
      { path: 'usr/share/ünïcødé-😁', content: 'v' },
      { path: 'gone', type: 'whiteout' },
      { path: 'var', type: 'opaque' },
      { path: 'dup', size: 2 },
      { path: 'dup', size: 3 },
    ]);
    for (const gzip of [false, true]) {
      const file = join(dir, `index-${gzip}.blix`);
      await writeLayerIndex(file, index, { gzip });
      expect(await readLayerIndex(file)).toEqual(index);
    }
    expect(decodeLayerIndex(encodeLayerIndex(index))).toEqual(index);
  });

  it('stores 200,000 entries compactly', async () => {
    const index = manyFiles(200_000, (i) => `usr/share/doc/package-${Math.floor(i / 20)}/file-${i}.txt`);
    const { entries } = index;
    const file = join(dir, 'big.blix');
    await writeLayerIndex(file, index);
    // 32 bytes of hash plus a few bytes of path suffix and metadata per entry.
    expect((await stat(file)).size).toBeLessThan(200_000 * 60);
    const read = await readLayerIndex(file);
    expect(read.entries).toHaveLength(200_000);
    expect(read.entries[123_456]).toEqual(entries[123_456]);
  });

  it('reads the header alone from the file’s beginning, gzip or not, and a header longer than that whole', async () => {
    const base = manyFiles(50_000, (i) => `srv/data/file-${String(i).padStart(6, '0')}.bin`);
    // 2,000 notices of ~120 bytes: a header of about 250 kB, past the first read.
    const noisy: LayerIndex = {
      ...base,
      notices: Array.from({ length: 2000 }, (_, i) => ({
        name: `${'n'.repeat(100)}-${i}`,
        reason: 'unsupported-type' as const,
        dropped: true,
      })),
    };
    for (const index of [base, noisy]) {
      for (const gzip of [false, true]) {
        const file = join(dir, `header-${index.notices.length}-${gzip}.blix`);
        await writeLayerIndex(file, index, { gzip });
        const { entries: _entries, ...header } = index;
        expect(await readLayerIndexHeader(file)).toEqual(header);
      }
    }
    await expect(readLayerIndexHeader(join(dir, 'missing.blix'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('rebuilds every path exactly when ASCII and non-ASCII names alternate and a path outgrows the buffer or a one-byte length', () => {
    const long = `deep/${'d'.repeat(5000)}`;
    const paths = [
      'a/ascii',
      'a/asciï',
      'a/asciï/ok',
      'a/asciïz',
      'a/b',
      'a/b/😀',
      'a/b/😀/x',
      'a/b/c',
      long,
      `${long}/leaf`,
      `${long}/lëaf`,
      // 18,000 UTF-8 bytes after the shared prefix: a three-byte length in front of the suffix.
      `${long}/${'é'.repeat(9000)}`,
      'z',
    ];
    const index: LayerIndex = {
      diffId: `sha256:${'b'.repeat(64)}`,
      compression: 'none',
      compressedSize: 1,
      uncompressedSize: 1,
      entries: paths.map((path) => ({ path, type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: 0 })),
      whiteouts: [],
      opaqueDirs: [],
      duplicates: [],
      notices: [],
      noticesOmitted: 0,
    };
    expect(decodeLayerIndex(encodeLayerIndex(index)).entries.map((e) => e.path)).toEqual(paths);
  });

  it('refuses a path that claims to share more than the previous path', () => {
    const bytes = encodeLayerIndex({
      diffId: `sha256:${'c'.repeat(64)}`,
      compression: 'none',
      compressedSize: 1,
      uncompressedSize: 1,
      entries: [{ path: 'ab', type: 'file', size: 0, mode: 0, uid: 0, gid: 0, mtime: 0 }],
      whiteouts: [],
      opaqueDirs: [],
      duplicates: [],
      notices: [],
      noticesOmitted: 0,
    });
    // The first path's shared-prefix count sits right after the entry count (1); make it claim 5 units.
    const at = bytes.indexOf(Buffer.from([1, 0, 2, 0x61, 0x62]));
    expect(at).toBeGreaterThan(0);
    bytes[at + 1] = 5;
    expect(() => decodeLayerIndex(bytes)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('refuses corrupt and truncated files with STORE_CORRUPT and missing ones with NOT_FOUND', async () => {
    const bytes = encodeLayerIndex(await indexEntries([{ path: 'a', content: 'x' }]));
    await writeFile(join(dir, 'cut.blix'), bytes.subarray(0, bytes.length - 5));
    await expect(readLayerIndex(join(dir, 'cut.blix'))).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await writeFile(join(dir, 'junk.blix'), 'hello');
    await expect(readLayerIndex(join(dir, 'junk.blix'))).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await expect(readLayerIndex(join(dir, 'none.blix'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
