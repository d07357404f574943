import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import {
  buildImage,
  buildIndex,
  buildLayerTar,
  deterministicBytes,
  deterministicStream,
  FIXTURE_MTIME,
  MEDIA_TYPES,
  smallImage,
  zstdAvailable,
  type ImageSpec,
} from '../support/fixture.js';

interface ListedEntry {
  path: string;
  type: string;
  size: number;
  mode: number | undefined;
  linkpath: string | undefined;
  mtime: Date | undefined;
  body: Buffer;
}

function listTar(bytes: Buffer): Promise<ListedEntry[]> {
  return new Promise((resolve, reject) => {
    const entries: ListedEntry[] = [];
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () =>
          entries.push({
            path: entry.path,
            type: entry.type,
            size: entry.size,
            mode: entry.mode,
            linkpath: entry.linkpath,
            mtime: entry.mtime,
            body: Buffer.concat(chunks),
          }),
        );
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(entries));
    parser.end(bytes);
  });
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const spec: ImageSpec = {
  config: {
    architecture: 'arm64',
    variant: 'v8',
    user: '1000:1000',
    env: ['A=1'],
    entrypoint: ['/bin/app'],
    cmd: ['--serve'],
    workingDir: '/srv',
    labels: { role: 'fixture' },
    exposedPorts: ['8080/tcp'],
    author: 'berth tests',
  },
  layers: [
    {
      createdBy: 'ADD base',
      entries: [
        { path: 'etc/', type: 'dir' },
        { path: 'etc/motd', content: 'hello\n' },
        { path: 'var/cache/', type: 'dir' },
        { path: 'var/cache/a', size: 3000 },
        { path: 'usr/bin/sh', content: 'sh', mode: 0o755 },
        { path: 'bin/sh', type: 'symlink', linkname: '/usr/bin/sh' },
        { path: 'usr/bin/ash', type: 'hardlink', linkname: 'usr/bin/sh' },
      ],
    },
    {
      createdBy: 'RUN cleanup',
      compression: 'none',
      entries: [
        { path: '/etc/motd', type: 'whiteout' },
        { path: 'var/cache', type: 'opaque' },
        { path: 'rootfile', type: 'whiteout' },
        { path: `deep/${'x'.repeat(120)}/${'y'.repeat(60)}`, content: 'long path' },
      ],
    },
  ],
  history: [
    { created: '2024-01-01T00:00:00Z', created_by: 'ADD base' },
    { created: '2024-01-01T00:00:00Z', created_by: 'ENV A=1', empty_layer: true },
    { created: '2024-01-01T00:00:00Z', created_by: 'RUN cleanup' },
  ],
};

describe('fixture builder', () => {
  it('builds the same digests from the same spec', () => {
    const a = buildImage(spec);
    const b = buildImage(structuredClone(spec));
    expect(b.digest).toBe(a.digest);
    expect(b.configDigest).toBe(a.configDigest);
    expect(b.layers.map((l) => l.digest)).toEqual(a.layers.map((l) => l.digest));
    expect(b.manifest.equals(a.manifest)).toBe(true);
    const changed = buildImage({ ...spec, config: { ...spec.config, cmd: ['--other'] } });
    expect(changed.digest).not.toBe(a.digest);
    expect(changed.layers.map((l) => l.digest)).toEqual(a.layers.map((l) => l.digest));
  });

  it('names whiteouts .wh.<name> and opaque dirs .wh..wh..opq', async () => {
    const image = buildImage(spec);
    const second = image.layers[1];
    if (!second) throw new Error('missing layer');
    const entries = await listTar(second.bytes);
    expect(entries.map((e) => e.path)).toEqual([
      'etc/.wh.motd',
      'var/cache/.wh..wh..opq',
      '.wh.rootfile',
      `deep/${'x'.repeat(120)}/${'y'.repeat(60)}`,
    ]);
    expect(entries.every((e) => e.type === 'File')).toBe(true);
    expect(entries[3]?.body.toString()).toBe('long path');
  });

  it('writes files, dirs, links, modes, generated content and fixed mtimes', async () => {
    const image = buildImage(spec);
    const first = image.layers[0];
    if (!first) throw new Error('missing layer');
    const entries = await listTar(first.bytes);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('etc/')?.type).toBe('Directory');
    expect(byPath.get('etc/motd')?.body.toString()).toBe('hello\n');
    expect(byPath.get('var/cache/a')?.body.equals(deterministicBytes(3000, 'var/cache/a'))).toBe(true);
    expect(byPath.get('usr/bin/sh')?.mode).toBe(0o755);
    expect(byPath.get('bin/sh')).toMatchObject({ type: 'SymbolicLink', linkpath: '/usr/bin/sh' });
    expect(byPath.get('usr/bin/ash')).toMatchObject({ type: 'Link', linkpath: 'usr/bin/sh' });
    expect(entries.every((e) => e.mtime?.getTime() === FIXTURE_MTIME.getTime())).toBe(true);
  });

  it('records diff IDs as the sha256 of the uncompressed tar, and blob digests of the compressed bytes', () => {
    const image = buildImage(spec);
    const [gz, raw] = image.layers;
    if (!gz || !raw) throw new Error('missing layers');
    expect(gz.mediaType).toBe(MEDIA_TYPES.ociLayerGzip);
    expect(gunzipSync(gz.bytes).equals(gz.tar)).toBe(true);
    expect(gz.diffId).toBe(sha256(gz.tar));
    expect(gz.digest).toBe(sha256(gz.bytes));
    expect(gz.diffId).not.toBe(gz.digest);
    const fast = buildImage({ ...spec, layers: [{ ...spec.layers[0], gzipLevel: 1 }, spec.layers[1] ?? {}] });
    expect(fast.layers[0]?.diffId).toBe(gz.diffId);
    expect(fast.layers[0]?.digest).not.toBe(gz.digest);
    expect(raw.mediaType).toBe(MEDIA_TYPES.ociLayer);
    expect(raw.diffId).toBe(raw.digest);
    const config = JSON.parse(image.config.toString()) as {
      rootfs: { diff_ids: string[] };
      history: { empty_layer?: boolean }[];
      config: Record<string, unknown>;
      architecture: string;
      variant: string;
    };
    expect(config.rootfs.diff_ids).toEqual([gz.diffId, raw.diffId]);
    expect(config.history).toHaveLength(3);
    expect(config.history[1]?.empty_layer).toBe(true);
    expect(config.config).toMatchObject({
      User: '1000:1000',
      ExposedPorts: { '8080/tcp': {} },
      WorkingDir: '/srv',
      Entrypoint: ['/bin/app'],
    });
    expect(image.platform).toEqual({ architecture: 'arm64', os: 'linux', variant: 'v8' });
    expect(image.configDigest).toBe(sha256(image.config));
    expect(image.digest).toBe(sha256(image.manifest));
    const manifest = JSON.parse(image.manifest.toString()) as { config: { digest: string; size: number } };
    expect(manifest.config).toMatchObject({ digest: image.configDigest, size: image.config.length });
  });

  it('refuses a history that does not match the layers', () => {
    expect(() =>
      buildImage({ layers: [{ entries: [] }], history: [{ created_by: 'x', empty_layer: true }] }),
    ).toThrow(/non-empty/);
  });

  it('makes Docker schema2 images and manifest lists with platforms', () => {
    const amd = smallImage('amd', { format: 'docker' });
    const arm = smallImage('arm', { format: 'docker', architecture: 'arm', variant: 'v7' });
    expect(amd.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(amd.layers[0]?.mediaType).toBe(MEDIA_TYPES.dockerLayerGzip);
    const list = buildIndex([amd, arm]);
    expect(list.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    const json = JSON.parse(list.manifest.toString()) as {
      manifests: { digest: string; platform: object }[];
    };
    expect(json.manifests).toEqual([
      { mediaType: MEDIA_TYPES.dockerManifest, digest: amd.digest, size: amd.size, platform: amd.platform },
      {
        mediaType: MEDIA_TYPES.dockerManifest,
        digest: arm.digest,
        size: arm.size,
        platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
      },
    ]);
    expect(list.blobs().size).toBe(4);
    expect(() => buildImage({ format: 'docker', layers: [{ entries: [], compression: 'zstd' }] })).toThrow(
      /zstd/,
    );
  });

  it.runIf(zstdAvailable())('compresses zstd layers deterministically', () => {
    const a = buildImage({ layers: [{ entries: [{ path: 'f', size: 10_000 }], compression: 'zstd' }] });
    const b = buildImage({ layers: [{ entries: [{ path: 'f', size: 10_000 }], compression: 'zstd' }] });
    expect(a.layers[0]?.mediaType).toBe(MEDIA_TYPES.ociLayerZstd);
    expect(a.layers[0]?.bytes.subarray(0, 4).toString('hex')).toBe('28b52ffd');
    expect(a.digest).toBe(b.digest);
  });

  it('generates deterministic, seed-dependent, incompressible bytes, streamed or whole', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const whole = deterministicBytes(size, 'seed');
    expect(deterministicBytes(size, 'seed').equals(whole)).toBe(true);
    expect(deterministicBytes(size, 'other').subarray(0, 64).equals(whole.subarray(0, 64))).toBe(false);
    const chunks: Buffer[] = [];
    for await (const chunk of deterministicStream(size, 'seed')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(whole)).toBe(true);
    const layer = buildLayerTar([{ path: 'big', size: 1024 * 1024 }]);
    const image = buildImage({ layers: [{ tar: layer }] });
    expect(image.layers[0]?.size).toBeGreaterThan(1024 * 1024);
  });
});
