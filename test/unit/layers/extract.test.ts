import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLayerTar } from '../../support/fixture-tar.js';
import { deterministicBytes } from '../../support/fixture-content.js';
import { PassThrough } from 'node:stream';
import {
  copyFileFromLayer,
  extractFromLayer,
  extractMerged,
  previewFromLayer,
} from '../../../electron/core/layers/extract.js';
import { indexLayer } from '../../../electron/core/layers/index-layer.js';
import { MergedFilesystem } from '../../../electron/core/layers/merged-filesystem.js';
import { chunked } from './layer-fixtures.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-extract-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const big = deterministicBytes(200 * 1024, 'big');
const blob = gzipSync(
  buildLayerTar([
    { path: 'etc/', type: 'dir' },
    { path: 'etc/os-release', content: 'NAME=Berth\n' },
    { path: 'usr/bin/tool', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { path: 'usr/lib/', type: 'dir', mode: 0o750 },
    { path: 'usr/lib/big.bin', content: big },
    { path: 'usr/lib/big-link', type: 'hardlink', linkname: 'usr/lib/big.bin' },
    { path: 'usr/lib/tool-link', type: 'hardlink', linkname: 'usr/bin/tool' },
    { path: 'usr/lib/current', type: 'symlink', linkname: 'big.bin' },
    { path: 'usr/lib/.wh.old', type: 'whiteout' },
  ]),
);
const open = (): ReturnType<typeof chunked> => chunked(blob, 4096);
let counter = 0;
const freshDest = (): string => join(scratch, `dest-${counter++}`);

describe('extractFromLayer', () => {
  it('extracts one file under its base name', async () => {
    const dest = freshDest();
    const result = await extractFromLayer(open(), '/etc/os-release', dest);
    expect(await readdir(dest)).toEqual(['os-release']);
    expect(await readFile(join(dest, 'os-release'), 'utf8')).toBe('NAME=Berth\n');
    expect(result).toMatchObject({ written: ['os-release'], skipped: [], bytes: 11 });
  });

  it('extracts a directory with its files, modes, symlinks and hardlinks, never whiteout markers', async () => {
    const dest = freshDest();
    const result = await extractFromLayer(open, 'usr/lib', dest);
    expect((await readdir(join(dest, 'lib'))).sort()).toEqual([
      'big-link',
      'big.bin',
      'current',
      'tool-link',
    ]);
    expect(await readFile(join(dest, 'lib/big.bin'))).toEqual(big);
    expect((await stat(join(dest, 'lib/big-link'))).ino).toBe((await stat(join(dest, 'lib/big.bin'))).ino);
    expect(await readlink(join(dest, 'lib/current'))).toBe('big.bin');
    expect((await stat(join(dest, 'lib'))).mode & 0o777).toBe(0o750);
    // tool-link's file is outside the selection: a second pass over the reopened blob fetches its content.
    expect(await readFile(join(dest, 'lib/tool-link'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await stat(join(dest, 'lib/tool-link'))).mode & 0o777).toBe(0o755);
    expect(result.skipped).toEqual([]);
  });

  it('skips hardlinks to files outside the selection when the blob cannot be reopened', async () => {
    const result = await extractFromLayer(open(), 'usr/lib', freshDest());
    expect(result.skipped).toEqual([{ path: 'lib/tool-link', reason: 'hardlink-target-missing' }]);
  });

  it('replaces a symlink already in the destination instead of writing through it', async () => {
    const dest = freshDest();
    const outside = join(scratch, `outside-${counter}`);
    await mkdir(outside);
    await writeFile(join(outside, 'os-release'), 'untouched');
    await mkdir(dest);
    await symlink(join(outside, 'os-release'), join(dest, 'os-release'));
    await symlink(outside, join(dest, 'etc'));
    await extractFromLayer(open(), 'etc/os-release', dest);
    expect((await lstat(join(dest, 'os-release'))).isFile()).toBe(true);
    expect(await readFile(join(outside, 'os-release'), 'utf8')).toBe('untouched');
    const result = await extractFromLayer(open(), '', dest);
    expect(result.skipped).toContainEqual({ path: 'etc', reason: 'parent-not-directory' });
    expect(result.skipped).toContainEqual({ path: 'etc/os-release', reason: 'parent-not-directory' });
    expect(await readdir(outside)).toEqual(['os-release']);
  });

  it('throws NOT_FOUND for a path the layer does not hold and BAD_REQUEST for one that climbs out', async () => {
    await expect(extractFromLayer(open(), 'nope', freshDest())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(extractFromLayer(open(), '../etc', freshDest())).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});

describe('previewFromLayer', () => {
  it('returns the first 64 KiB of a large file, flagged truncated and binary', async () => {
    const preview = await previewFromLayer(open(), 'usr/lib/big.bin');
    expect(preview).toMatchObject({ type: 'file', size: big.length, truncated: true, binary: true });
    expect(preview.bytes).toEqual(big.subarray(0, 64 * 1024));
  });

  it('returns a whole small text file', async () => {
    const preview = await previewFromLayer(open(), '/etc/os-release');
    expect(preview).toMatchObject({ truncated: false, binary: false, size: 11 });
    expect(preview.bytes.toString()).toBe('NAME=Berth\n');
  });

  it('reports a symlink with its target and follows a hardlink when the blob can be reopened', async () => {
    expect(await previewFromLayer(open(), 'usr/lib/current')).toMatchObject({
      type: 'symlink',
      linkTarget: 'big.bin',
    });
    const viaLink = await previewFromLayer(open, 'usr/lib/tool-link');
    expect(viaLink.bytes.toString()).toBe('#!/bin/sh\necho hi\n');
    await expect(previewFromLayer(open(), 'usr/lib/tool-link')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
  });

  it('throws NOT_FOUND for a missing path and UNSUPPORTED for a directory', async () => {
    await expect(previewFromLayer(open(), 'missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(previewFromLayer(open(), 'usr/lib')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('extractMerged', () => {
  it('takes each path from the layer holding its surviving copy and honours whiteouts', async () => {
    const layerBlobs = [
      gzipSync(
        buildLayerTar([
          { path: 'app/', type: 'dir' },
          { path: 'app/old.txt', content: 'old' },
          { path: 'app/config', content: 'v1' },
          { path: 'app/bin', content: 'binary', mode: 0o755 },
        ]),
      ),
      gzipSync(
        buildLayerTar([
          { path: 'app/old.txt', type: 'whiteout' },
          { path: 'app/config', content: 'v2' },
          { path: 'app/bin-alias', type: 'hardlink', linkname: 'app/bin' },
        ]),
      ),
    ];
    const fs = new MergedFilesystem();
    for (const bytes of layerBlobs) fs.applyLayer(await indexLayer(chunked(bytes)));
    const dest = freshDest();
    const result = await extractMerged(
      layerBlobs.map((bytes) => () => chunked(bytes)),
      fs,
      '/app',
      dest,
    );
    expect((await readdir(join(dest, 'app'))).sort()).toEqual(['bin', 'bin-alias', 'config']);
    expect(await readFile(join(dest, 'app/config'), 'utf8')).toBe('v2');
    expect((await stat(join(dest, 'app/bin-alias'))).ino).toBe((await stat(join(dest, 'app/bin'))).ino);
    expect(result.skipped).toEqual([]);
    await expect(extractMerged([], fs, 'app/old.txt', freshDest())).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('copyFileFromLayer', () => {
  it('streams a whole file, follows a hardlink, and refuses symlinks and missing paths', async () => {
    const sink = (): { out: PassThrough; bytes: () => Buffer } => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (chunk: Buffer) => chunks.push(chunk));
      return { out, bytes: () => Buffer.concat(chunks) };
    };
    const whole = sink();
    expect(await copyFileFromLayer(open(), 'usr/lib/big.bin', whole.out)).toBe(big.length);
    expect(whole.bytes()).toEqual(big);
    const linked = sink();
    await copyFileFromLayer(open, 'usr/lib/tool-link', linked.out);
    expect(linked.bytes().toString()).toBe('#!/bin/sh\necho hi\n');
    await expect(copyFileFromLayer(open(), 'usr/lib/current', sink().out)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
    await expect(copyFileFromLayer(open(), 'nope', sink().out)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
