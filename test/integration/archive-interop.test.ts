import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, smallImage, writeOciLayout, type FixtureImage } from '../support/fixture';
import { addImage } from '../unit/store/add-image';

const run = promisify(execFile);
const berth = join(import.meta.dirname, '..', '..', 'bin', 'berth');
let dir: string;
let sourceStore: string;
let big: FixtureImage;
let small: FixtureImage;

function cli(store: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [berth, '--store', store, ...args]);
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-archive-'));
  sourceStore = join(dir, 'source');
  const store = await ImageStore.open(sourceStore);
  big = buildImage({
    layers: [
      {
        entries: [
          { path: 'etc/', type: 'dir' },
          { path: 'etc/os-release', content: 'ID=berth\n' },
        ],
      },
      {
        entries: [
          { path: 'usr/', type: 'dir' },
          { path: 'usr/hello', content: 'hello\n'.repeat(500) },
        ],
      },
    ],
    config: { labels: { which: 'big' }, cmd: ['/usr/hello'] },
  });
  small = smallImage('archive-small', { format: 'docker' });
  await addImage(store, big, ['alpine:3.20', 'alpine:latest']);
  await addImage(store, small, ['localhost:5000/team/app:1']);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The config digest and the diff IDs of the layer blobs skopeo wrote into an OCI layout. */
async function layoutDigests(layout: string, name: string): Promise<{ config: string; diffIds: string[] }> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${layout}:${name}`]);
  const manifest = JSON.parse(stdout) as { config: { digest: string }; layers: { digest: string }[] };
  const blob = (digest: string) => readFile(join(layout, 'blobs', 'sha256', digest.slice(7)));
  const configBytes = await blob(manifest.config.digest);
  expect(sha256(configBytes)).toBe(manifest.config.digest);
  const diffIds: string[] = [];
  for (const layer of manifest.layers) {
    const bytes = await blob(layer.digest);
    diffIds.push(sha256(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes));
  }
  return { config: manifest.config.digest, diffIds };
}

describe('berth save read by skopeo', () => {
  it.each([false, true])(
    'skopeo copies every image of a berth docker-archive (compress: %s) to an OCI layout with the same config and diff IDs',
    async (compress) => {
      const file = join(dir, `saved-${compress}.tar`);
      const args = ['save', '-o', file, 'alpine:3.20', 'alpine:latest', 'localhost:5000/team/app:1'];
      const { stdout } = await cli(sourceStore, compress ? [...args, '--compress'] : args);
      expect(stdout.trim().split('\n').sort()).toEqual([
        'Saved image: alpine:3.20',
        'Saved image: alpine:latest',
        'Saved image: localhost:5000/team/app:1',
      ]);
      // skopeo 1.9 and podman 4.3 read no gzip-compressed docker-archive (not even one gzip(1) made), so the
      // compressed one is checked to be a gzip stream and handed to skopeo decompressed.
      let readable = file;
      if (compress) {
        const bytes = await readFile(file);
        expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
        readable = join(dir, 'saved-gunzipped.tar');
        await writeFile(readable, gunzipSync(bytes));
      }
      const layout = join(dir, `skopeo-from-berth-${compress}`);
      for (const [ref, image] of [
        ['alpine:3.20', big],
        ['alpine:latest', big],
        ['localhost:5000/team/app:1', small],
      ] as const) {
        await run('skopeo', ['copy', '--quiet', `docker-archive:${readable}:${ref}`, `oci:${layout}:${ref}`]);
        const found = await layoutDigests(layout, ref);
        expect(found.config, ref).toBe(image.configDigest);
        expect(found.diffIds, ref).toEqual(image.layers.map((l) => l.diffId));
      }
    },
  );
});

describe('berth save then berth load into a fresh store', () => {
  it.each([
    ['docker-archive', false],
    ['docker-archive', true],
    ['oci-archive', false],
    ['oci-archive', true],
  ])('round-trips two images and three tags as %s (compress: %s)', async (format, compress) => {
    const file = join(dir, `round-trip-${format}-${compress}.tar`);
    const names = ['alpine:3.20', 'alpine:latest', 'localhost:5000/team/app:1'];
    await cli(sourceStore, [
      'save',
      '--format',
      format,
      ...(compress ? ['--compress'] : []),
      '-o',
      file,
      ...names,
    ]);
    const target = join(dir, `round-trip-store-${format}-${compress}`);
    await cli(target, ['load', '-i', file]);
    const listing = async (store: string) => {
      const rows = JSON.parse((await cli(store, ['--json', 'images'])).stdout) as {
        id: string;
        repoTags: string[];
      }[];
      return Object.fromEntries(rows.map((r) => [r.id, [...r.repoTags].sort()]));
    };
    expect(await listing(target)).toEqual(await listing(sourceStore));
    expect(Object.keys(await listing(target)).sort()).toEqual([big.configDigest, small.configDigest].sort());
  });
});

describe('berth oci-archive read by skopeo', () => {
  it('skopeo finds each name of a berth oci-archive and copies the image unchanged', async () => {
    const file = join(dir, 'saved-oci.tar');
    await cli(sourceStore, ['save', '--format', 'oci-archive', '-o', file, 'alpine:3.20', 'alpine:latest']);
    const layout = join(dir, 'skopeo-from-berth-oci');
    for (const name of ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest']) {
      await run('skopeo', ['copy', '--quiet', `oci-archive:${file}:${name}`, `oci:${layout}:${name}`]);
      const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${layout}:${name}`]);
      expect(sha256(Buffer.from(stdout)), name).toBe(big.digest);
    }
  });
});

describe('berth save read by podman', () => {
  it('podman load takes a berth docker-archive with every image, name and ID', async () => {
    const file = join(dir, 'for-podman.tar');
    await cli(sourceStore, ['save', '-o', file, 'alpine:3.20', 'alpine:latest', 'localhost:5000/team/app:1']);
    const podman = [
      '--root',
      join(dir, 'podman-root'),
      '--runroot',
      join(dir, 'podman-run'),
      '--storage-driver',
      'vfs',
    ];
    await run('podman', [...podman, 'load', '-q', '-i', file]);
    const { stdout } = await run('podman', [...podman, 'images', '--format', 'json']);
    const rows = JSON.parse(stdout) as { Id: string; Names?: string[] }[];
    const byId = Object.fromEntries(rows.map((r) => [`sha256:${r.Id}`, [...(r.Names ?? [])].sort()]));
    expect(byId).toEqual({
      [big.configDigest]: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
      [small.configDigest]: ['localhost:5000/team/app:1'],
    });
  });
});

describe('archives written by skopeo loaded by berth', () => {
  it('loads a skopeo docker-archive with both its tags and a skopeo oci-archive with its name', async () => {
    const layout = join(dir, 'fixture-layout');
    await writeOciLayout(layout, [
      { name: 'app:1.0', image: big },
      { name: 'other:2', image: smallImage('other') },
    ]);
    const dockerArchive = join(dir, 'skopeo-docker.tar');
    await run('skopeo', [
      'copy',
      '--quiet',
      '--additional-tag',
      'quay.io/team/app:extra',
      `oci:${layout}:app:1.0`,
      `docker-archive:${dockerArchive}:app:1.0`,
    ]);
    const ociArchive = join(dir, 'skopeo-oci.tar');
    await run('skopeo', [
      'copy',
      '--quiet',
      `oci:${layout}:other:2`,
      `oci-archive:${ociArchive}:registry.example/team/other:2`,
    ]);

    const target = join(dir, 'loaded');
    const loaded = await cli(target, ['load', '-i', dockerArchive]);
    expect(loaded.stdout.trim().split('\n').sort()).toEqual([
      'Loaded image: app:1.0',
      'Loaded image: quay.io/team/app:extra',
    ]);
    const json = JSON.parse((await cli(target, ['--json', 'load', '-i', ociArchive])).stdout) as {
      format: string;
      images: { id: string; names: string[] }[];
    };
    expect(json.format).toBe('oci-archive');
    expect(json.images).toEqual([
      { id: smallImage('other').configDigest, names: ['registry.example/team/other:2'] },
    ]);
    const store = await ImageStore.open(target);
    const rows = await store.list();
    const byId = Object.fromEntries(rows.map((r) => [r.id, [...r.repoTags].sort()]));
    expect(byId).toEqual({
      [big.configDigest]: ['docker.io/library/app:1.0', 'quay.io/team/app:extra'],
      [smallImage('other').configDigest]: ['registry.example/team/other:2'],
    });
    const details = await store.inspect('app:1.0');
    expect(details.diffIds).toEqual(big.layers.map((l) => l.diffId));
    expect((await store.fsck()).clean).toBe(true);
    const events = await store.events();
    expect(events.map((e) => e.action)).toEqual(['load', 'load']);
  });
});
