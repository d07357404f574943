import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, link, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, Parser, type ReadEntry } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeEntryPath } from '../../../electron/core/layers/layer-entry.js';
import { TarHeaderFeed, type TarHeader } from '../../../electron/core/layers/tar-feed.js';
import { rawTar } from './layer-fixtures.js';

interface Seen {
  path: string;
  type: string;
  size: number;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  mtime: number | undefined;
  linkpath: string | undefined;
  sha256?: string;
}

/** Parses a tar with TarHeaderFeed in chunks of `size` bytes. */
function parse(tar: Buffer, size = 777, onSkipped?: (name: string, type: string) => void): Seen[] {
  const seen: Seen[] = [];
  const feed = new TarHeaderFeed(
    (header: TarHeader) => {
      const record: Seen = {
        ...header,
        mtime: header.mtime === undefined ? undefined : Math.floor(header.mtime),
      };
      seen.push(record);
      const hash = createHash('sha256');
      return { data: (chunk) => hash.update(chunk), end: () => (record.sha256 = hash.digest('hex')) };
    },
    undefined,
    onSkipped,
  );
  for (let offset = 0; offset < tar.length; offset += size) feed.write(tar.subarray(offset, offset + size));
  feed.end();
  return seen;
}

/** The same fields as the `tar` package's parser reports them: the oracle. */
async function parseWithNodeTar(tar: Buffer): Promise<Seen[]> {
  const seen: Seen[] = [];
  const parser = new Parser();
  parser.on('entry', (entry: ReadEntry) => {
    const record: Seen = {
      path: entry.path,
      type: entry.type,
      size: entry.type === 'Directory' ? 0 : entry.size,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtime: entry.mtime ? Math.floor(entry.mtime.getTime() / 1000) : undefined,
      linkpath: entry.linkpath,
    };
    seen.push(record);
    const hash = createHash('sha256');
    entry.on('data', (chunk: Buffer) => hash.update(chunk));
    entry.on('end', () => (record.sha256 = hash.digest('hex')));
  });
  await new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.end(tar);
  });
  return seen;
}

function caught(run: () => unknown): { code?: string; message: string } {
  try {
    run();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

const scratch = await mkdtemp(join(tmpdir(), 'berth-tar-feed-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A tree with names past 100 and 155 bytes, a long symlink target, a hardlink and a multi-block file. */
async function gnuTarOf(format: 'gnu' | 'pax' | 'ustar'): Promise<Buffer> {
  const root = join(scratch, format);
  const long = `${'l'.repeat(120)}/${'m'.repeat(120)}`;
  await mkdir(join(root, long), { recursive: true });
  await writeFile(join(root, long, `${'n'.repeat(90)}.txt`), 'deep file');
  await writeFile(join(root, 'big'), Buffer.alloc(70_000, 7));
  await writeFile(join(root, 'empty'), '');
  await link(join(root, 'big'), join(root, 'big-link'));
  await symlink(`/${'t'.repeat(150)}/target`, join(root, 'far-link'));
  await writeFile(join(root, 'ünïcode-ñame'), 'utf8');
  const args = ['-c', `--format=${format}`, '--sort=name', '-C', root, '.'];
  const result = spawnSync('tar', args, { maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(result.stderr.toString());
  return result.stdout;
}

describe('TarHeaderFeed', () => {
  it.each(['gnu', 'pax'] as const)(
    'reads a GNU tar --format=%s (long names, long link, hardlink) exactly as the tar package does',
    async (format) => {
      const tar = await gnuTarOf(format);
      const expected = await parseWithNodeTar(tar);
      for (const size of [1, 100, 512, 4096, tar.length]) expect(parse(tar, size)).toEqual(expected);
      const paths = expected.map((e) => e.path);
      expect(paths.some((p) => Buffer.byteLength(p) > 255)).toBe(true);
      expect(expected.find((e) => e.path === './far-link')?.linkpath).toHaveLength(158);
      expect(expected.find((e) => e.path === './big-link')).toMatchObject({
        type: 'Link',
        linkpath: './big',
      });
    },
  );

  it('joins the ustar prefix and name', async () => {
    const tar = await gnuTarOf('ustar').catch(() => undefined);
    const prefixed = rawTar([{ name: `${'p'.repeat(120)}/${'q'.repeat(90)}`, body: Buffer.from('x') }]);
    expect(parse(prefixed).map((e) => e.path)).toEqual([`${'p'.repeat(120)}/${'q'.repeat(90)}`]);
    if (tar) expect(parse(tar)).toEqual(await parseWithNodeTar(tar));
  });

  it('applies PAX path, linkpath and size, and a global header to later entries', () => {
    const tar = rawTar([
      { name: 'a'.repeat(300), body: Buffer.from('pax-named'), pax: true },
      { name: 'l', type: 'SymbolicLink', linkpath: 'x'.repeat(200) },
    ]);
    const seen = parse(tar);
    expect(seen.map((e) => [e.path.length, e.type, e.size, e.linkpath?.length])).toEqual([
      [300, 'File', 9, undefined],
      [1, 'SymbolicLink', 0, 200],
    ]);
    const body = Buffer.alloc(600, 1);
    const sized = paxBlock('x', `size=${body.length}`);
    const header = Buffer.alloc(512);
    new Header({ path: 'sized', type: 'File', size: 0, mode: 0o644, mtime: new Date(0) }).encode(header);
    const global = paxBlock('g', 'uid=4242', 'path=ignored');
    const plain = rawTar([{ name: 'later', body: Buffer.from('z') }]);
    const all = Buffer.concat([global, sized, header, body, Buffer.alloc(1024 - body.length), plain]);
    expect(parse(all, 300).map((e) => [e.path, e.size, e.uid])).toEqual([
      ['sized', 600, 4242],
      ['later', 1, 4242],
    ]);
  });

  it('reads base-256 sizes, uids and negative times', () => {
    const content = Buffer.alloc(1000, 3);
    const header = Buffer.alloc(512);
    new Header({ path: 'b256', type: 'File', size: 1, mode: 0o600, mtime: new Date(0) }).encode(header);
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header.writeUIntBE(content.length, 136 - 6, 6);
    header.fill(0, 108, 116);
    header[108] = 0x80;
    header.writeUIntBE(3_000_000_000, 116 - 4, 4);
    header.fill(0xff, 136, 148);
    header[147] = 0xfe; // -2 in two's complement
    resum(header);
    const tar = Buffer.concat([header, content, Buffer.alloc(24 + 1024)]);
    expect(parse(tar)).toEqual([
      {
        path: 'b256',
        type: 'File',
        size: 1000,
        mode: 0o600,
        uid: 3_000_000_000,
        gid: undefined,
        mtime: -2,
        linkpath: undefined,
        sha256: createHash('sha256').update(content).digest('hex'),
      },
    ]);
  });

  it('keeps nothing of a fed buffer past write(), so the caller may reuse it, and flags each last view', () => {
    const members = [
      { name: 'a'.repeat(150), body: Buffer.alloc(3000, 1), pax: true },
      { name: 'b', body: Buffer.alloc(0) },
      { name: 'c', body: Buffer.alloc(5000, 7) },
      { name: 'd', body: Buffer.from('tail') },
    ];
    const tar = rawTar(members);
    const expected = parse(tar);
    const scratch = Buffer.alloc(700);
    const seen: { path: string; sha256?: string; lastFlags: boolean[] }[] = [];
    const feed = new TarHeaderFeed((header) => {
      const record: { path: string; sha256?: string; lastFlags: boolean[] } = {
        path: header.path,
        lastFlags: [],
      };
      seen.push(record);
      const hash = createHash('sha256');
      return {
        data: (chunk, last) => {
          hash.update(chunk);
          record.lastFlags.push(last);
        },
        end: () => (record.sha256 = hash.digest('hex')),
      };
    });
    for (let offset = 0; offset < tar.length; offset += scratch.length) {
      const length = tar.copy(scratch, 0, offset, offset + scratch.length);
      feed.write(scratch.subarray(0, length));
      scratch.fill(0xee);
    }
    feed.end();
    expect(seen.map((r) => [r.path, r.sha256])).toEqual(expected.map((r) => [r.path, r.sha256]));
    for (const record of seen) {
      if (record.lastFlags.length === 0) continue;
      expect(record.lastFlags.at(-1)).toBe(true);
      expect(record.lastFlags.slice(0, -1).every((flag) => !flag)).toBe(true);
    }
    expect(seen.find((r) => r.path === 'c')?.lastFlags.length).toBeGreaterThan(1);
  });

  it('refuses a bad checksum, a bad base-256 field, a truncated header and a truncated body', () => {
    const tar = rawTar([{ name: 'a', body: Buffer.from('hello') }]);
    const bad = Buffer.from(tar);
    bad[0] = 0x62;
    expect(caught(() => parse(bad))).toMatchObject({ code: 'ARCHIVE_INVALID', message: /checksum failure/ });
    const b256 = Buffer.from(tar);
    b256[124] = 0xc0;
    resum(b256);
    expect(caught(() => parse(b256))).toMatchObject({ code: 'ARCHIVE_INVALID', message: /base256/ });
    expect(caught(() => parse(tar.subarray(0, 300)))).toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: /Unrecognized archive format/,
    });
    expect(caught(() => parse(tar.subarray(0, 512 + 3)))).toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: /Truncated input/,
    });
    expect(caught(() => parse(tar.subarray(0, 1024 + 512)))).toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: /end-of-archive marker/,
    });
  });

  it('sums headers alike wherever they lie in the fed buffer (in place when 4-byte aligned, copied when not)', () => {
    const tar = rawTar([
      { name: 'first', body: Buffer.alloc(700, 3) },
      { name: 'second', body: Buffer.from('two') },
    ]);
    const expected = parse(tar, tar.length);
    const bad = Buffer.from(tar);
    const badHeader = 1536;
    bad[badHeader + 1] = 0x78;
    for (let shift = 0; shift < 4; shift++) {
      const backing = Buffer.alloc(tar.length + 8);
      tar.copy(backing, shift);
      const view = backing.subarray(shift, shift + tar.length);
      expect(view.byteOffset % 4).toBe(shift);
      expect(parse(view, view.length)).toEqual(expected);
      expect(parse(view, 512 + shift)).toEqual(expected);
      bad.copy(backing, shift);
      expect(caught(() => parse(view, view.length))).toMatchObject({
        code: 'ARCHIVE_INVALID',
        message: /checksum failure/,
      });
    }
  });

  it('refuses NULs in GNU long names, and passes unsupported types to onSkipped', () => {
    const name = Buffer.from('evil\0name\0\0');
    const header = Buffer.alloc(512);
    new Header({ path: '././@LongLink', type: 'NextFileHasLongPath', size: name.length }).encode(header);
    const body = Buffer.concat([name, Buffer.alloc(512 - name.length)]);
    const tar = Buffer.concat([header, body, rawTar([{ name: 'short' }])]);
    expect(caught(() => parse(tar))).toMatchObject({ code: 'ARCHIVE_INVALID', message: /NUL/ });
    const skipped: string[] = [];
    const sparse = Buffer.alloc(512);
    new Header({ path: 'holes', type: 'SparseFile', size: 10, mode: 0o644 }).encode(sparse);
    const withSparse = Buffer.concat([sparse, Buffer.alloc(512), rawTar([{ name: 'after' }])]);
    expect(parse(withSparse, 100, (n, t) => skipped.push(`${n}:${t}`)).map((e) => e.path)).toEqual(['after']);
    expect(skipped).toEqual(['holes:SparseFile']);
  });
});

/** One PAX header (type `x` or `g`) holding the given `key=value` records. */
function paxBlock(type: 'x' | 'g', ...records: string[]): Buffer {
  const text = records
    .map((record) => {
      let length = Buffer.byteLength(record) + 3;
      while (`${length} ${record}\n`.length !== length) length += 1;
      return `${length} ${record}\n`;
    })
    .join('');
  const body = Buffer.from(text);
  const header = Buffer.alloc(512);
  new Header({
    path: 'PaxHeader',
    type: type === 'x' ? 'ExtendedHeader' : 'GlobalExtendedHeader',
    size: body.length,
  }).encode(header);
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** Rewrites a header block's checksum after its fields were edited by hand. */
function resum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i] ?? 0;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

describe('normalizeEntryPath', () => {
  it('keeps plain names as they are and normalizes every odd one', () => {
    const cases: [string, ReturnType<typeof normalizeEntryPath>][] = [
      ['usr/bin/env', { path: 'usr/bin/env', absolute: false }],
      ['.../x..y/.z', { path: '.../x..y/.z', absolute: false }],
      ['./usr//bin/./env/', { path: 'usr/bin/env', absolute: false }],
      ['/etc/x', { path: 'etc/x', absolute: true }],
      ['.', { path: '', absolute: false }],
      ['', { path: '', absolute: false }],
      ['a/../b', { reason: 'parent-traversal' }],
      ['..', { reason: 'parent-traversal' }],
    ];
    for (const [name, expected] of cases) expect(normalizeEntryPath(name)).toEqual(expected);
  });
});
