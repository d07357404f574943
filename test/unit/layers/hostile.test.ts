import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLayerTar } from '../../support/fixture-tar.js';
import { extractFromLayer } from '../../../electron/core/layers/extract.js';
import { indexLayer } from '../../../electron/core/layers/index-layer.js';
import { chunked, rawTar, rejection, zstdCliAvailable, zstdCompress } from './layer-fixtures.js';

async function expectFailure(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await rejection(promise);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
}

const scratch = await mkdtemp(join(tmpdir(), 'berth-hostile-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

/** A destination inside a fresh sandbox, beside an `outside` directory that must stay empty. */
async function sandbox(name: string): Promise<{ dest: string; outside: string }> {
  const root = join(scratch, name);
  const outside = join(root, 'outside');
  const dest = join(root, 'dest');
  await rm(root, { recursive: true, force: true });
  await mkdir(outside, { recursive: true });
  await mkdir(dest);
  return { dest, outside };
}

describe('hostile layer tars', () => {
  it('drops ../x and a/../../b, keeps /etc/x inside the image, and flags all three', async () => {
    const tar = rawTar([
      { name: '../x', body: Buffer.from('escape') },
      { name: 'a/../../b', body: Buffer.from('escape') },
      { name: '/etc/x', body: Buffer.from('abs') },
      { name: 'ok', body: Buffer.from('fine') },
    ]);
    const index = await indexLayer(chunked(tar));
    expect(index.entries.map((e) => e.path)).toEqual(['etc/x', 'ok']);
    expect(index.notices).toEqual([
      { name: '../x', reason: 'parent-traversal', dropped: true },
      { name: 'a/../../b', reason: 'parent-traversal', dropped: true },
      { name: '/etc/x', reason: 'absolute-path', dropped: false },
    ]);
    const { dest, outside } = await sandbox('traversal');
    const result = await extractFromLayer(chunked(tar), '', dest);
    expect(await listTree(dest)).toEqual(['etc', 'etc/x', 'ok']);
    expect(await readdir(outside)).toEqual([]);
    expect(result.skipped).toEqual([
      { path: '../x', reason: 'unsafe-path' },
      { path: 'a/../../b', reason: 'unsafe-path' },
    ]);
  });

  it('never follows a symlink to write a/passwd through it', async () => {
    const { dest, outside } = await sandbox('symlink');
    const tar = rawTar([
      { name: 'a', type: 'SymbolicLink', linkpath: outside },
      { name: 'a/passwd', body: Buffer.from('pwned') },
      { name: 'rel', type: 'SymbolicLink', linkpath: '../outside' },
      { name: 'rel/passwd', body: Buffer.from('pwned') },
    ]);
    const result = await extractFromLayer(chunked(tar), '', dest);
    expect(await readdir(outside)).toEqual([]);
    expect(result.skipped).toEqual([
      { path: 'a/passwd', reason: 'parent-not-directory' },
      { path: 'rel/passwd', reason: 'parent-not-directory' },
    ]);
    expect(result.linksLeavingDestination).toEqual(['a', 'rel']);
  });

  it('refuses a hardlink to ../../etc/passwd, and never links to a host file for /etc/passwd', async () => {
    const tar = rawTar([
      { name: 'escape', type: 'Link', linkpath: '../../etc/passwd' },
      { name: 'abs', type: 'Link', linkpath: '/etc/passwd' },
    ]);
    const index = await indexLayer(chunked(tar));
    expect(index.notices).toEqual([{ name: 'escape', reason: 'hardlink-escape', dropped: true }]);
    expect(index.entries.map((e) => [e.path, e.linkTarget])).toEqual([['abs', 'etc/passwd']]);
    const { dest, outside } = await sandbox('hardlink');
    const result = await extractFromLayer(() => chunked(tar), '', dest);
    expect(await listTree(dest)).toEqual([]);
    expect(await readdir(outside)).toEqual([]);
    expect(result.skipped).toEqual([
      { path: 'escape', reason: 'hardlink-escape' },
      { path: 'abs', reason: 'hardlink-target-missing' },
    ]);
  });

  it('refuses a NUL byte in a PAX path', async () => {
    const tar = rawTar([{ name: 'evil\0name', body: Buffer.from('x'), pax: true }]);
    await expectFailure(indexLayer(chunked(tar)), 'ARCHIVE_INVALID', /NUL/);
  });

  it('refuses a 10 MB PAX header without buffering it', async () => {
    const tar = rawTar([
      { name: 'big-pax', body: Buffer.from('x'), paxComment: 'c'.repeat(10 * 1024 * 1024) },
    ]);
    await expectFailure(indexLayer(chunked(tar, 64 * 1024)), 'TOO_LARGE', /extended header of \d+ bytes/);
  });

  it('refuses names past the length and depth caps (100k-deep folders)', async () => {
    const deep = Array.from({ length: 100_000 }, () => 'd').join('/');
    await expectFailure(
      indexLayer(chunked(rawTar([{ name: deep, type: 'Directory', pax: true }]))),
      'TOO_LARGE',
      /longer than 4096 bytes/,
    );
    const tar = rawTar([{ name: Array.from({ length: 40 }, () => 'd').join('/'), type: 'Directory' }]);
    await expectFailure(indexLayer(chunked(tar), { maxPathDepth: 32 }), 'TOO_LARGE', /deeper than 32 levels/);
  });

  it('caps the entry count', async () => {
    const tar = buildLayerTar(Array.from({ length: 50 }, (_, i) => ({ path: `f${i}` })));
    await expectFailure(indexLayer(chunked(tar), { maxEntries: 10 }), 'TOO_LARGE', /more than 10 entries/);
  });

  it('stops a gzip bomb at the ratio cap and at the size cap', async () => {
    const bomb = gzipSync(buildLayerTar([{ path: 'zeros', content: Buffer.alloc(32 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expectFailure(
      indexLayer(chunked(bomb, 4096), { maxCompressionRatio: 100, ratioFloorBytes: 1024 * 1024 }),
      'TOO_LARGE',
      /decompression bomb/,
    );
    await expectFailure(
      indexLayer(chunked(bomb, 4096), { maxUncompressedBytes: 8 * 1024 * 1024 }),
      'TOO_LARGE',
      /uncompressed size/,
    );
  });

  it.skipIf(!zstdCliAvailable())('stops a zstd bomb and a zstd frame asking for a huge window', async () => {
    const bomb = zstdCompress(
      buildLayerTar([{ path: 'zeros', content: Buffer.alloc(64 * 1024 * 1024) }]),
      19,
    );
    expect(bomb.length).toBeLessThan(16 * 1024);
    await expectFailure(
      indexLayer(chunked(bomb, 4096), { maxCompressionRatio: 1000, ratioFloorBytes: 1024 * 1024 }),
      'TOO_LARGE',
      /decompression bomb/,
    );
    const hugeWindow = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0, 0, 0, 0]);
    await expectFailure(indexLayer(Readable.from([hugeWindow])), 'TOO_LARGE', /window/);
  });

  it('refuses truncated tars, truncated gzip and truncated zstd as ARCHIVE_INVALID', async () => {
    const tar = buildLayerTar([
      { path: 'a', size: 5000 },
      { path: 'b', size: 10 },
    ]);
    const cuts = [
      tar.subarray(0, 512 + 1000),
      tar.subarray(0, tar.length - 1024),
      gzipSync(tar).subarray(0, 200),
    ];
    if (zstdCliAvailable()) cuts.push(zstdCompress(tar).subarray(0, 100));
    const messages = [
      /truncated|Truncated/,
      /end-of-archive marker/,
      /gzip stream is corrupt or truncated/,
      /zstd stream/,
    ];
    for (const [i, cut] of cuts.entries()) {
      await expectFailure(indexLayer(chunked(cut)), 'ARCHIVE_INVALID', messages[i] ?? /./);
    }
  });

  it('flags .wh.. and aufs metadata whiteouts as stray and never lists markers', async () => {
    const tar = rawTar([
      { name: '.wh..' },
      { name: 'x/.wh..wh.plnk' },
      { name: 'x/.wh..wh..opq' },
      { name: 'x/.wh.real' },
    ]);
    const index = await indexLayer(chunked(tar));
    expect(index.entries).toEqual([]);
    expect(index.whiteouts).toEqual(['x/real']);
    expect(index.opaqueDirs).toEqual(['x']);
    expect(index.notices.map((n) => [n.name, n.reason])).toEqual([
      ['.wh..', 'stray-whiteout'],
      ['x/.wh..wh.plnk', 'stray-whiteout'],
    ]);
  });
});
