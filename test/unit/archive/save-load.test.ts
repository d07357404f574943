import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArchive } from '../../../electron/core/archive/load';
import { saveImages } from '../../../electron/core/archive/save';
import { TarWriter } from '../../../electron/core/archive/tar-writer';
import type { ImageStore } from '../../../electron/core/store/image-store';
import type { ArchiveFormat, StoreEvent } from '../../../shared/contract';
import { buildImage, smallImage, zstdAvailable, type FixtureImage } from '../../support/fixture';
import { addImage, tempStore } from '../store/add-image';

let cleanups: (() => Promise<void>)[] = [];
let source: ImageStore;
let sourceRoot: string;
let events: StoreEvent[];
let two: FixtureImage;
let one: FixtureImage;

async function freshStore(): Promise<{ store: ImageStore; root: string }> {
  const made = await tempStore();
  cleanups.push(made.cleanup);
  return made;
}

beforeEach(async () => {
  const made = await tempStore({ onEvent: (e) => events.push(e) });
  cleanups.push(made.cleanup);
  source = made.store;
  sourceRoot = made.root;
  events = [];
  one = smallImage('one');
  two = buildImage({
    layers: [
      { entries: [{ path: 'a', content: 'first layer' }] },
      { entries: [{ path: 'b', content: 'second layer' }], compression: zstdAvailable() ? 'zstd' : 'none' },
      { entries: [{ path: 'c', content: 'plain layer' }], compression: 'none' },
    ],
    config: { labels: { which: 'two' } },
  });
  await addImage(source, one, ['alpine:3.20', 'alpine:latest']);
  await addImage(source, two, ['localhost:5000/team/app:1']);
});

afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

/** What a refused load must leave exactly as it was: index.json, the blobs, and no spools in ingest. */
async function storeState(root: string): Promise<{ index: string; blobs: string[]; ingest: string[] }> {
  const blobs = await readdir(join(root, 'blobs', 'sha256')).catch(() => [] as string[]);
  const ingest = await readdir(join(root, '.berth', 'ingest')).catch(() => [] as string[]);
  return {
    index: await readFile(join(root, 'index.json'), 'utf8'),
    blobs: blobs.sort(),
    ingest: ingest.sort(),
  };
}

async function expectRefused(file: string, code: string, message: RegExp): Promise<void> {
  const { store, root } = await freshStore();
  await addImage(store, smallImage('already-here'), ['kept:1']);
  const before = await storeState(root);
  await expect(loadArchive(store, { path: file })).rejects.toMatchObject({
    code,
    message: expect.stringMatching(message) as string,
  });
  expect(await storeState(root)).toEqual(before);
  expect((await store.list()).map((r) => r.repoTags)).toEqual([['docker.io/library/kept:1']]);
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Writes a docker-archive by hand: `files` (or symlinks) in order, then manifest.json. */
async function handMadeDockerArchive(
  file: string,
  files: [string, Buffer | { symlink: string }][],
  manifest: unknown,
): Promise<void> {
  const out = createWriteStream(file);
  const tar = new TarWriter(out);
  for (const [path, body] of files) {
    if (Buffer.isBuffer(body)) {
      await tar.file(path, body);
      continue;
    }
    const header = new Header({ path, type: 'SymbolicLink', linkpath: body.symlink, size: 0, mode: 0o777 });
    header.encode();
    out.write(header.block);
  }
  await tar.file('manifest.json', Buffer.from(JSON.stringify(manifest)));
  await tar.finish();
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

describe('save then load', () => {
  const cases: [ArchiveFormat, boolean][] = [
    ['docker-archive', false],
    ['docker-archive', true],
    ['oci-archive', false],
    ['oci-archive', true],
  ];
  it.each(cases)('round-trips two images with three tags as %s (compress: %s)', async (format, compress) => {
    const output = join(sourceRoot, '..', `out-${format}-${compress}.tar`);
    const saved = await saveImages(source, {
      images: ['alpine:3.20', 'alpine:latest', 'localhost:5000/team/app:1'],
      output,
      format,
      compress,
    });
    expect(saved.images).toHaveLength(2);
    const head = (await readFile(output)).subarray(0, 2);
    expect(head[0] === 0x1f && head[1] === 0x8b).toBe(compress);
    expect(events.filter((e) => e.action === 'save')).toHaveLength(1);
    const { store } = await freshStore();
    const loadEvents: StoreEvent[] = [];
    store.subscribe((e) => loadEvents.push(e));
    const loaded = await loadArchive(store, { path: output });
    expect(loaded.format).toBe(format);
    expect(loaded.compression).toBe(compress ? 'gzip' : 'none');
    const summarize = (rows: { id: string; repoTags: string[] }[]) =>
      rows.map((r) => ({ id: r.id, names: [...r.repoTags].sort() })).sort((a, b) => a.id.localeCompare(b.id));
    expect(summarize(await store.list())).toEqual(summarize(await source.list()));
    expect(loadEvents.map((e) => e.action)).toEqual(['load', 'load']);
    expect((await store.fsck()).clean).toBe(true);
    if (format === 'oci-archive') {
      expect((await store.resolve('alpine:3.20')).image.manifestDigest).toBe(one.digest);
    }
  });

  it('writes docker-archive layers as plain tars whose digests are the diff IDs, manifest.json last', async () => {
    const output = join(sourceRoot, '..', 'plain.tar');
    await saveImages(source, { images: ['localhost:5000/team/app:1'], output });
    const names: string[] = [];
    const bytes = await readFile(output);
    for (let offset = 0; offset + 512 <= bytes.length;) {
      const header = bytes.subarray(offset, offset + 512);
      if (header.every((b) => b === 0)) break;
      const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
      const body = bytes.subarray(offset + 512, offset + 512 + size);
      if (name.endsWith('.tar')) expect(sha256(body)).toBe(`sha256:${name.slice(0, -4)}`);
      names.push(name);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    expect(names).toEqual([
      `${two.configDigest.slice(7)}.json`,
      ...two.layers.map((l) => `${l.diffId.slice(7)}.tar`),
      'manifest.json',
      'repositories',
    ]);
  });

  it('an image named by ID carries all its names; a failed save leaves no file behind', async () => {
    const output = join(sourceRoot, '..', 'by-id.tar.gz');
    const saved = await saveImages(source, { images: [one.configDigest], output, compress: true });
    expect(saved.images[0]?.names.sort()).toEqual([
      'docker.io/library/alpine:3.20',
      'docker.io/library/alpine:latest',
    ]);
    const manifest = JSON.parse(
      (await import('node:child_process')).execFileSync('tar', ['-xzOf', output, 'manifest.json']).toString(),
    ) as { RepoTags: string[] }[];
    expect(manifest[0]?.RepoTags.sort()).toEqual([
      'docker.io/library/alpine:3.20',
      'docker.io/library/alpine:latest',
    ]);
    const missing = join(sourceRoot, '..', 'never.tar');
    await expect(
      saveImages(source, { images: ['alpine:3.20', 'nope:1'], output: missing }),
    ).rejects.toMatchObject({
      code: 'IMAGE_UNKNOWN',
    });
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(join(sourceRoot, '..'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(
      saveImages(source, {
        images: ['alpine:3.20'],
        output: join(sourceRoot, '..', 'no-such-folder', 'x.tar'),
      }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/its folder does not exist/) as string,
    });
  });
});

describe('load of archives other tools write', () => {
  it('loads a docker-archive (docker 25 layout) whose layer is gzip-compressed, checking its diff ID', async () => {
    const layer = one.layers[0]!;
    const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
    const configPath = `blobs/sha256/${sha256(config).slice(7)}`;
    const layerPath = `blobs/sha256/${layer.digest.slice(7)}`;
    const file = join(sourceRoot, '..', 'gzip-layer.tar');
    await handMadeDockerArchive(
      file,
      [
        [configPath, config],
        [layerPath, layer.bytes],
      ],
      [{ Config: configPath, RepoTags: ['docker.io/library/zipped:1'], Layers: [layerPath] }],
    );
    const { store } = await freshStore();
    await loadArchive(store, { path: file });
    const details = await store.inspect('zipped:1');
    expect(details.layers).toMatchObject([
      {
        digest: layer.digest,
        diffId: layer.diffId,
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        uncompressedSize: layer.tar.length,
      },
    ]);
    expect((await store.fsck()).clean).toBe(true);
  });
});

describe('load refuses bad archives and leaves the store unchanged', () => {
  it('refuses a truncated archive, plain and gzip', async () => {
    for (const compress of [false, true]) {
      const output = join(sourceRoot, '..', `whole-${compress}.tar`);
      await saveImages(source, { images: ['alpine:3.20', 'localhost:5000/team/app:1'], output, compress });
      const bytes = await readFile(output);
      const cut = join(sourceRoot, '..', `cut-${compress}.tar`);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await expectRefused(cut, 'ARCHIVE_INVALID', /not a complete archive/);
    }
  });

  it('refuses a docker-archive whose layer does not match its diff ID', async () => {
    const config = Buffer.from(
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: [one.layers[0]!.diffId] } }),
    );
    const file = join(sourceRoot, '..', 'wrong-layer.tar');
    await handMadeDockerArchive(
      file,
      [
        [`${sha256(config).slice(7)}.json`, config],
        ['layer.tar', two.layers[2]!.tar],
      ],
      [{ Config: `${sha256(config).slice(7)}.json`, RepoTags: ['bad:1'], Layers: ['layer.tar'] }],
    );
    await expectRefused(file, 'DIGEST_MISMATCH', /layer layer\.tar has diff ID .* its config says/);
  });

  it('refuses a config whose content does not match the digest in its name', async () => {
    const config = Buffer.from(
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: [two.layers[2]!.diffId] } }),
    );
    const wrongName = `${'0'.repeat(64)}.json`;
    const file = join(sourceRoot, '..', 'wrong-config.tar');
    await handMadeDockerArchive(
      file,
      [
        [wrongName, config],
        ['l.tar', two.layers[2]!.tar],
      ],
      [{ Config: wrongName, RepoTags: ['bad:1'], Layers: ['l.tar'] }],
    );
    await expectRefused(file, 'DIGEST_MISMATCH', /config .* has digest/);
  });

  it('refuses an oci-archive whose layer blob is corrupt', async () => {
    const output = join(sourceRoot, '..', 'good-oci.tar');
    await saveImages(source, { images: ['localhost:5000/team/app:1'], output, format: 'oci-archive' });
    const bytes = await readFile(output);
    const marker = two.layers[2]!.bytes.subarray(512, 560);
    const at = bytes.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    bytes[at] = bytes[at]! ^ 0xff;
    const file = join(sourceRoot, '..', 'corrupt-oci.tar');
    await writeFile(file, bytes);
    await expectRefused(file, 'DIGEST_MISMATCH', /layer .* holds content with digest/);
  });

  it('refuses path traversal and missing files named by manifest.json', async () => {
    const config = Buffer.from(
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: [two.layers[2]!.diffId] } }),
    );
    const configName = `${sha256(config).slice(7)}.json`;
    const cases: [string, string, RegExp][] = [
      [
        '../../etc/passwd',
        'ARCHIVE_INVALID',
        /layer path "\.\.\/\.\.\/etc\/passwd" points outside the archive/,
      ],
      ['/etc/passwd', 'ARCHIVE_INVALID', /points outside the archive/],
      ['missing.tar', 'ARCHIVE_INVALID', /layer "missing\.tar" is not in the archive/],
    ];
    for (const [i, [layerPath, code, message]] of cases.entries()) {
      const file = join(sourceRoot, '..', `paths-${i}.tar`);
      await handMadeDockerArchive(
        file,
        [
          [configName, config],
          ['l.tar', two.layers[2]!.tar],
        ],
        [{ Config: configName, RepoTags: ['bad:1'], Layers: [layerPath] }],
      );
      await expectRefused(file, code, message);
    }
  });

  it("follows docker's legacy layer symlinks inside the archive and refuses one that climbs out", async () => {
    const config = Buffer.from(
      JSON.stringify({
        rootfs: { type: 'layers', diff_ids: [two.layers[2]!.diffId, two.layers[2]!.diffId] },
      }),
    );
    const configName = `${sha256(config).slice(7)}.json`;
    const file = join(sourceRoot, '..', 'linked.tar');
    await handMadeDockerArchive(
      file,
      [
        [configName, config],
        ['aaa/layer.tar', two.layers[2]!.tar],
        ['bbb/layer.tar', { symlink: '../aaa/layer.tar' }],
      ],
      [{ Config: configName, RepoTags: ['linked:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }],
    );
    const { store } = await freshStore();
    const loaded = await loadArchive(store, { path: file });
    expect(loaded.images).toEqual([{ id: sha256(config), names: ['docker.io/library/linked:1'] }]);
    expect((await store.fsck()).clean).toBe(true);
    const escaping = join(sourceRoot, '..', 'escaping.tar');
    await handMadeDockerArchive(
      escaping,
      [
        [configName, config],
        ['aaa/layer.tar', two.layers[2]!.tar],
        ['bbb/layer.tar', { symlink: '../../outside/layer.tar' }],
      ],
      [{ Config: configName, RepoTags: ['linked:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }],
    );
    await expectRefused(
      escaping,
      'ARCHIVE_INVALID',
      /layer path "bbb\/layer\.tar" points outside the archive/,
    );
  });

  it('refuses a file that is no archive and a missing file', async () => {
    const file = join(sourceRoot, '..', 'junk.tar');
    await writeFile(file, Buffer.from('this is not a tar archive at all'.repeat(40)));
    await expectRefused(file, 'ARCHIVE_INVALID', /junk\.tar/);
    await expectRefused(join(sourceRoot, '..', 'nothing-here.tar'), 'NOT_FOUND', /no archive file/);
  });
});

describe('gunzip helper sanity', () => {
  it('a compressed save is one gzip stream over a tar', async () => {
    const output = join(sourceRoot, '..', 'g.tar.gz');
    await saveImages(source, { images: ['alpine:3.20'], output, compress: true, format: 'oci-archive' });
    const tar = gunzipSync(await readFile(output));
    expect(tar.subarray(0, 10).toString('utf8')).toBe('oci-layout');
  });
});
