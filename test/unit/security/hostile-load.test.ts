import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArchive } from '../../../electron/core/archive/load';
import { defaultDecodeLimits, type DecodeLimits } from '../../../electron/core/layers/layer-stream';
import { ImageStore } from '../../../electron/core/store/image-store';
import { buildLayerTar } from '../../support/fixture-tar';
import { smallImage } from '../../support/fixture';
import { rawTar, type RawMember } from '../layers/layer-fixtures';
import { addImage } from '../store/add-image';

/**
 * Hostile archives for `berth load`, beyond what save-load.test.ts proves (manifest.json paths that climb
 * out, missing files, wrong digests, truncation): tar entries that climb out of the archive, absolute and
 * through symlinks or hardlinks, NUL in names, bombs in the archive and in a layer, lying OCI descriptors.
 * The store sits next to an empty `canary` folder in a folder of its own; every case checks that folder
 * holds exactly `canary` (still empty) and `store`, so nothing was written outside the store.
 */

let home: string;
let inputs: string;
let root: string;
let canary: string;
let store: ImageStore;

const mib = 1024 * 1024;
const bombLimits: DecodeLimits = { ...defaultDecodeLimits, maxCompressionRatio: 100, ratioFloorBytes: mib };

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Every file under `dir` with its size, sorted: the whole state a refused load must leave as it was. */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    found.push(`${path.slice(dir.length + 1)}${entry.isFile() ? ` ${(await stat(path)).size}` : '/'}`);
  }
  return found.sort();
}

/** Nothing outside the store: its folder holds the store and the still-empty canary, nothing else. */
async function expectConfined(): Promise<void> {
  expect((await readdir(home)).sort()).toEqual(['canary', 'store']);
  expect(await readdir(canary)).toEqual([]);
}

/** A docker-archive of one image named `hostile:1` with one plain layer, plus `extra` members before it. */
function dockerArchive(
  extra: RawMember[],
  layer: Buffer = buildLayerTar([{ path: 'etc/hostname', content: 'box\n' }]),
  diffId: string = sha256(layer),
): Buffer {
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const configName = `${sha256(config).slice(7)}.json`;
  const manifest = [{ Config: configName, RepoTags: ['hostile:1'], Layers: ['layer.tar'] }];
  return rawTar([
    ...extra,
    { name: configName, body: config },
    { name: 'layer.tar', body: layer },
    { name: 'manifest.json', body: Buffer.from(JSON.stringify(manifest)) },
  ]);
}

async function archiveFile(name: string, bytes: Buffer): Promise<string> {
  const file = join(inputs, name);
  await writeFile(file, bytes);
  return file;
}

/** Loads `file` expecting a refusal with `code` and `message`; the store and its folder stay as they were. */
async function expectRefused(
  file: string,
  code: string,
  message: RegExp,
  limits: DecodeLimits = defaultDecodeLimits,
): Promise<void> {
  const before = await tree(home);
  await expect(loadArchive(store, { path: file }, { limits })).rejects.toMatchObject({
    code,
    message: expect.stringMatching(message) as string,
  });
  expect(await tree(home)).toEqual(before);
  await expectConfined();
  expect((await store.list()).map((r) => r.repoTags)).toEqual([['docker.io/library/kept:1']]);
}

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'berth-hostile-load-'));
  inputs = await mkdtemp(join(tmpdir(), 'berth-hostile-inputs-'));
  root = join(home, 'store');
  canary = join(home, 'canary');
  await mkdir(canary);
  store = await ImageStore.open(root);
  await addImage(store, smallImage('kept'), ['kept:1']);
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(inputs, { recursive: true, force: true });
});

describe('load: archive entries that point outside the archive', { timeout: 30_000 }, () => {
  it('never writes ../x, /abs/x, a file through an escaping symlink or an escaping hardlink outside the store', async () => {
    const file = await archiveFile(
      'escapes.tar',
      dockerArchive([
        { name: '../canary/dotdot', body: Buffer.from('climbed one level') },
        { name: '../../canary/dotdot-2', body: Buffer.from('climbed two levels') },
        { name: 'a/../../canary/mixed', body: Buffer.from('climbed through a folder') },
        { name: join(canary, 'absolute'), body: Buffer.from('absolute path') },
        { name: 'esc', type: 'SymbolicLink', linkpath: '../canary' },
        { name: 'esc/through-link', body: Buffer.from('written through a symlink') },
        { name: 'abs-link', type: 'SymbolicLink', linkpath: canary },
        { name: 'abs-link/through-absolute-link', body: Buffer.from('through an absolute symlink') },
        { name: 'hard', type: 'Link', linkpath: '../canary/hard' },
        { name: 'passwd', type: 'Link', linkpath: '../../etc/passwd' },
      ]),
    );
    const passwd = await readFile('/etc/passwd', 'utf8');
    const loaded = await loadArchive(store, { path: file });
    expect(loaded.images[0]?.names).toEqual(['docker.io/library/hostile:1']);
    await expectConfined();
    expect(await readFile('/etc/passwd', 'utf8')).toBe(passwd);
    expect((await store.fsck()).problems).toEqual([]);
    // Only the image's own blobs reached the store; no spool of a hostile entry stays in ingest.
    expect(await readdir(store.paths.ingest)).toEqual([]);
  });

  it('refuses a layer named through an escaping symlink, and a config that is itself a link out', async () => {
    const layer = buildLayerTar([{ path: 'x', content: 'x' }]);
    const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
    const configName = `${sha256(config).slice(7)}.json`;
    const throughLink = rawTar([
      { name: configName, body: config },
      { name: 'out', type: 'SymbolicLink', linkpath: '/etc' },
      {
        name: 'manifest.json',
        body: Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['x:1'], Layers: ['out'] }])),
      },
    ]);
    await expectRefused(
      await archiveFile('link-layer.tar', throughLink),
      'ARCHIVE_INVALID',
      /layer path "out" points outside the archive/,
    );
    const linkedConfig = rawTar([
      { name: 'config.json', type: 'SymbolicLink', linkpath: '../../../etc/passwd' },
      { name: 'layer.tar', body: layer },
      {
        name: 'manifest.json',
        body: Buffer.from(
          JSON.stringify([{ Config: 'config.json', RepoTags: ['x:1'], Layers: ['layer.tar'] }]),
        ),
      },
    ]);
    await expectRefused(
      await archiveFile('link-config.tar', linkedConfig),
      'ARCHIVE_INVALID',
      /config of manifest\.json entry 1 path "config\.json" points outside the archive/,
    );
  });

  it('refuses a NUL byte in an entry name', async () => {
    const file = await archiveFile(
      'nul.tar',
      dockerArchive([{ name: 'evil\0../../canary/x', body: Buffer.from('x'), pax: true }]),
    );
    await expectRefused(file, 'ARCHIVE_INVALID', /nul\.tar.*NUL/);
  });
});

describe('load: an archive cut anywhere', { timeout: 30_000 }, () => {
  it('leaves no spool behind when cut right at or just after any entry header', async () => {
    const whole = dockerArchive([{ name: 'padding', body: Buffer.alloc(3000, 1) }]);
    const cuts: number[] = [];
    for (let offset = 0; offset + 512 <= whole.length;) {
      const header = whole.subarray(offset, offset + 512);
      if (header.every((b) => b === 0)) break;
      const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
      cuts.push(offset + 512, offset + 513);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    expect(cuts.length).toBeGreaterThanOrEqual(8);
    for (const [i, cut] of cuts.entries()) {
      await expectRefused(
        await archiveFile(`cut-${i}.tar`, whole.subarray(0, cut)),
        'ARCHIVE_INVALID',
        new RegExp(`cut-${i}\\.tar is not a complete archive`),
      );
    }
  });
});

describe('load: decompression caps', { timeout: 30_000 }, () => {
  const zeros = (): Buffer => buildLayerTar([{ path: 'zeros', content: Buffer.alloc(16 * mib) }]);

  it('stops a gzip bomb of the whole archive at the ratio cap and at the size cap', async () => {
    const bomb = gzipSync(dockerArchive([{ name: 'zeros', body: Buffer.alloc(16 * mib) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const file = await archiveFile('bomb.tar.gz', bomb);
    await expectRefused(
      file,
      'TOO_LARGE',
      /bomb\.tar\.gz: the archive decompresses more than 100:1 .*decompression bomb/,
      bombLimits,
    );
    await expectRefused(file, 'TOO_LARGE', /bomb\.tar\.gz: the archive expands past the 8388608-byte cap/, {
      ...defaultDecodeLimits,
      maxUncompressedBytes: 8 * mib,
    });
  });

  it('stops a gzip bomb inside a layer, naming the layer', async () => {
    const tar = zeros();
    const file = await archiveFile('layer-bomb.tar', dockerArchive([], gzipSync(tar), sha256(tar)));
    await expectRefused(
      file,
      'TOO_LARGE',
      /layer-bomb\.tar: layer layer\.tar decompresses more than 100:1/,
      bombLimits,
    );
  });
});

describe('load: lying OCI layouts', { timeout: 30_000 }, () => {
  /** An oci-archive of smallImage('oci') whose index.json entry is `entry` (the real one when omitted). */
  function ociArchive(mutate: (entry: Record<string, unknown>) => void, drop?: string): Buffer {
    const image = smallImage('oci');
    const entry: Record<string, unknown> = {
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/oci:1' },
    };
    mutate(entry);
    const blobs: RawMember[] = [...image.blobs(), [image.digest, image.manifest] as const]
      .filter(([digest]) => digest !== drop)
      .map(([digest, body]) => ({ name: `blobs/sha256/${digest.slice(7)}`, body }));
    return rawTar([
      { name: 'oci-layout', body: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { name: 'index.json', body: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [entry] })) },
      ...blobs,
    ]);
  }

  it('loads the honest layout (the cases below differ from it in one field)', async () => {
    const loaded = await loadArchive(store, {
      path: await archiveFile(
        'honest.tar',
        ociArchive(() => {}),
      ),
    });
    expect(loaded.images[0]?.names).toEqual(['docker.io/library/oci:1']);
    await expectConfined();
  });

  it('refuses a digest that would climb out of blobs/, a wrong size and a missing layer blob', async () => {
    await expectRefused(
      await archiveFile(
        'traversal.tar',
        ociArchive((e) => (e.digest = 'sha256:../../../canary/x')),
      ),
      'ARCHIVE_INVALID',
      /manifest has an invalid digest "sha256:\.\.\/\.\.\/\.\.\/canary\/x"/,
    );
    await expectRefused(
      await archiveFile(
        'size.tar',
        ociArchive((e) => (e.size = Number(e.size) + 1)),
      ),
      'SIZE_MISMATCH',
      /manifest sha256:[0-9a-f]{64} has \d+ bytes, its descriptor says \d+/,
    );
    const image = smallImage('oci');
    const layer = image.layers[0]?.digest ?? '';
    await expectRefused(
      await archiveFile(
        'missing.tar',
        ociArchive(() => {}, layer),
      ),
      'ARCHIVE_INVALID',
      new RegExp(`layer "blobs/sha256/${layer.slice(7)}" is not in the archive`),
    );
  });

  it('refuses a manifest.json too large to be one, without loading it', async () => {
    const huge = rawTar([{ name: 'manifest.json', body: Buffer.alloc(17 * mib, 0x20) }]);
    await expectRefused(
      await archiveFile('huge.tar', huge),
      'TOO_LARGE',
      /manifest\.json is \d+ bytes, over/,
    );
  });
});
