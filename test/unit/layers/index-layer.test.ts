import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { bigFileTar } from '../../support/fixture-tar.js';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildLayerTar } from '../../support/fixture-tar.js';
import { decodeLayerIndex, encodeLayerIndex } from '../../../electron/core/layers/index-file.js';
import { indexLayer } from '../../../electron/core/layers/index-layer.js';
import { detectCompression } from '../../../electron/core/layers/layer-stream.js';
import { BerthError } from '../../../shared/error.js';
import { chunked, indexEntries, rawTar, zstdCliAvailable, zstdCompress } from './layer-fixtures.js';

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

describe('indexLayer', () => {
  const entries = [
    { path: 'etc/', type: 'dir' as const },
    { path: 'etc/hostname', content: 'box\n', mode: 0o600, uid: 10, gid: 20 },
    { path: 'etc/old.conf', type: 'whiteout' as const },
    { path: 'var/cache', type: 'opaque' as const },
    { path: 'bin/sh', type: 'symlink' as const, linkname: '/bin/busybox' },
    { path: 'bin/busybox', size: 5000 },
    { path: 'bin/ash', type: 'hardlink' as const, linkname: 'bin/busybox' },
  ];

  it('records entries sorted by path with types, sizes, modes, owners, links and content hashes', async () => {
    const index = await indexEntries(entries);
    expect(index.entries.map((e) => [e.path, e.type, e.size])).toEqual([
      ['bin/ash', 'hardlink', 0],
      ['bin/busybox', 'file', 5000],
      ['bin/sh', 'symlink', 0],
      ['etc', 'dir', 0],
      ['etc/hostname', 'file', 4],
    ]);
    const hostname = index.entries.find((e) => e.path === 'etc/hostname');
    expect(hostname).toMatchObject({ mode: 0o600, uid: 10, gid: 20, contentHash: sha256('box\n') });
    expect(index.entries.find((e) => e.path === 'bin/sh')?.linkTarget).toBe('/bin/busybox');
    expect(index.entries.find((e) => e.path === 'bin/ash')?.linkTarget).toBe('bin/busybox');
    expect(index.whiteouts).toEqual(['etc/old.conf']);
    expect(index.opaqueDirs).toEqual(['var/cache']);
    expect(index.entries.some((e) => e.path.includes('.wh.'))).toBe(false);
  });

  it('returns the DiffID of the uncompressed tar for gzip, plain and zstd blobs alike', async () => {
    const tar = buildLayerTar(entries);
    const diffId = `sha256:${sha256(tar)}`;
    const gz = await indexLayer(chunked(gzipSync(tar), 7));
    expect(gz).toMatchObject({ diffId, compression: 'gzip', uncompressedSize: tar.length });
    const plain = await indexLayer(chunked(tar, 3));
    expect(plain).toMatchObject({ diffId, compression: 'none', compressedSize: tar.length });
    expect(plain.entries).toEqual(gz.entries);
    if (zstdCliAvailable()) {
      const zst = await indexLayer(chunked(zstdCompress(tar), 5));
      expect(zst).toMatchObject({ diffId, compression: 'zstd' });
      expect(zst.entries).toEqual(gz.entries);
    }
  });

  it('detects compression from magic bytes only', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('etc/'))).toBe('none');
  });

  it('accepts an empty layer (only the end-of-archive marker)', async () => {
    const index = await indexLayer(Readable.from([gzipSync(Buffer.alloc(1024))]));
    expect(index.entries).toEqual([]);
    expect(index.diffId).toBe('sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
  });

  it('normalizes ./ and / prefixes and flags absolute names', async () => {
    const tar = rawTar([
      { name: './usr/', type: 'Directory' },
      { name: './usr/bin/env', body: Buffer.from('x') },
      { name: '/etc/passwd', body: Buffer.from('root') },
      { name: './', type: 'Directory' },
    ]);
    const index = await indexLayer(chunked(tar));
    expect(index.entries.map((e) => e.path)).toEqual(['etc/passwd', 'usr', 'usr/bin/env']);
    expect(index.notices).toEqual([{ name: '/etc/passwd', reason: 'absolute-path', dropped: false }]);
  });

  it('keeps the last copy of a path written twice and records the earlier bytes as a duplicate', async () => {
    const index = await indexEntries([
      { path: 'a', size: 100 },
      { path: 'a', size: 30 },
    ]);
    expect(index.entries).toHaveLength(1);
    expect(index.entries[0]?.size).toBe(30);
    expect(index.duplicates).toEqual([{ path: 'a', size: 100 }]);
  });

  it('resolves copies of a path written three times among others, in sorted and unsorted tars alike', async () => {
    const sorted = await indexEntries([
      { path: 'a', size: 1 },
      { path: 'b', content: 'first' },
      { path: 'b', content: 'second' },
      { path: 'b', content: 'third' },
      { path: 'c', size: 3 },
    ]);
    const unsorted = await indexEntries([
      { path: 'c', size: 3 },
      { path: 'b', content: 'first' },
      { path: 'a', size: 1 },
      { path: 'b', content: 'second' },
      { path: 'b', content: 'third' },
    ]);
    for (const index of [sorted, unsorted]) {
      expect(index.entries.map((e) => [e.path, e.size])).toEqual([
        ['a', 1],
        ['b', 5],
        ['c', 3],
      ]);
      expect(index.entries[1]?.contentHash).toBe(sha256('third'));
      expect(index.duplicates).toEqual([
        { path: 'b', size: 5 },
        { path: 'b', size: 6 },
      ]);
    }
  });

  it('encodes a tar in path order as it streams, to the very bytes an index of records gives', async () => {
    const inOrder = [
      { path: 'abs', size: 2 },
      { path: 'bin/', type: 'dir' as const },
      { path: 'bin/ash', type: 'hardlink' as const, linkname: 'bin/busybox' },
      { path: 'bin/busybox', size: 9000 },
      { path: 'bin/sh', type: 'symlink' as const, linkname: '/bin/busybox' },
      { path: 'etc/hostname', content: 'box\n', mode: 0o600, uid: 10, gid: 20 },
      { path: 'etc/old.conf', type: 'whiteout' as const },
      { path: 'srv/é/😀', size: 0 },
      { path: 'var/cache', type: 'opaque' as const },
    ];
    const streamed = await indexEntries(inOrder);
    // The same tar with its first entry last takes the records path from the second entry on.
    const recorded = await indexEntries([...inOrder.slice(1), inOrder[0]!]);
    const plain = { ...streamed };
    expect(plain.entries.map((e) => e.path)).toEqual([
      'abs',
      'bin',
      'bin/ash',
      'bin/busybox',
      'bin/sh',
      'etc/hostname',
      'srv/é/😀',
    ]);
    expect(plain).toEqual({ ...recorded, diffId: streamed.diffId, compressedSize: streamed.compressedSize });
    expect(encodeLayerIndex(streamed)).toEqual(encodeLayerIndex(plain));
    expect(decodeLayerIndex(encodeLayerIndex(streamed))).toEqual(plain);
  });

  it('rejects a layer whose DiffID differs from the expected one', async () => {
    await expect(
      indexEntries([{ path: 'a' }], { expectedDiffId: `sha256:${'0'.repeat(64)}` }),
    ).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
  });

  it('indexes 100,000 files', async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ path: `d${i % 100}/f${i}`, content: '' }));
    const tar = buildLayerTar(many);
    const index = await indexLayer(chunked(tar, 64 * 1024));
    expect(index.entries).toHaveLength(100_000);
    expect(index.uncompressedSize).toBe(tar.length);
  }, 60_000);

  it('streams a 256 MiB layer with flat memory', async () => {
    const size = 256 * 1024 * 1024;
    const tar = (): AsyncGenerator<Buffer> => bigFileTar(size);
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    const index = await indexLayer(Readable.from(tar(), { objectMode: false }));
    clearInterval(timer);
    expect(index.entries).toEqual([expect.objectContaining({ path: 'big.bin', size })]);
    expect(index.uncompressedSize).toBe(size + 1536);
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('reads a stream teed from a download while the download goes on', async () => {
    const blob = gzipSync(buildLayerTar(entries));
    const download = chunked(blob, 512);
    const toIndex = new PassThrough();
    const toDisk = new PassThrough();
    const stored: Buffer[] = [];
    toDisk.on('data', (chunk: Buffer) => stored.push(chunk));
    download.on('data', (chunk: Buffer) => {
      toIndex.write(chunk);
      toDisk.write(chunk);
    });
    download.on('end', () => {
      toIndex.end();
      toDisk.end();
    });
    const index = await indexLayer(toIndex);
    expect(Buffer.concat(stored)).toEqual(blob);
    expect(index.compressedSize).toBe(blob.length);
    expect(index.entries).toHaveLength(5);
  });

  it('fails with BerthError, never a raw error', async () => {
    const err = await indexLayer(Readable.from([Buffer.from('not a tar at all, just text')])).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: 'ARCHIVE_INVALID' });
  });
});
