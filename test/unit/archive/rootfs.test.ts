import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { exportRootfs } from '../../../electron/core/archive/export-rootfs';
import { importRootfs } from '../../../electron/core/archive/import-rootfs';
import { hostPlatform } from '../../../electron/core/registry/platform';
import { squashImage } from '../../../electron/core/archive/squash';
import type { ImageStore } from '../../../electron/core/store/image-store';
import { buildImage, buildLayerTar } from '../../support/fixture';
import { rawTar } from '../layers/layer-fixtures';
import { addImage, tempStore } from '../store/add-image';
import { streamOf, whiteoutLayers, whiteoutRootfs } from './rootfs-fixtures';
import { listTar, rootfsView, treeState } from './tar-listing';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function freshStore(): Promise<{ store: ImageStore; root: string }> {
  const { store, root, cleanup } = await tempStore();
  cleanups.push(cleanup);
  return { store, root };
}

async function exported(store: ImageStore, query: string): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exportRootfs(store, query, out, '-');
  return Buffer.concat(chunks);
}

async function configOf(store: ImageStore, query: string): Promise<Record<string, unknown>> {
  return (await store.inspect(query)).config as Record<string, unknown>;
}

const rootfsTar = buildLayerTar([
  { path: 'bin/', type: 'dir' },
  { path: 'bin/app', size: 3000, mode: 0o755 },
  { path: 'etc/hostname', content: 'box\n' },
]);

describe('import', () => {
  it('turns a gzip tarball into a one-layer image with the changes, message and platform asked for', async () => {
    const { store } = await freshStore();
    const result = await importRootfs(store, {
      source: streamOf(gzipSync(rootfsTar)),
      label: 'rootfs.tar.gz',
      reference: 'local/app:1',
      changes: [
        'CMD ["/bin/app", "--serve"]',
        'ENTRYPOINT /bin/sh -c',
        'ENV A=1 B="two words"',
        'ENV PATH /usr/local/bin:/usr/bin',
        'LABEL org.example.team=core "with space"="yes it works"',
        'EXPOSE 80 53/udp',
        'USER app:app',
        'VOLUME ["/data", "/logs"]',
        'WORKDIR /srv',
        'WORKDIR www',
      ],
      message: 'first cut',
      platform: 'linux/arm64',
    });
    expect(result.names).toEqual(['docker.io/local/app:1']);
    expect(result.layer.diffId).toBe(`sha256:${createHash('sha256').update(rootfsTar).digest('hex')}`);
    const layerBytes = await store.readBlob(result.layer.digest);
    expect(gunzipSync(layerBytes).equals(rootfsTar)).toBe(true);
    const config = await configOf(store, 'local/app:1');
    expect(config).toMatchObject({
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      rootfs: { type: 'layers', diff_ids: [result.layer.diffId] },
      config: {
        Cmd: ['/bin/app', '--serve'],
        Entrypoint: ['/bin/sh', '-c', '/bin/sh -c'],
        Env: ['A=1', 'B=two words', 'PATH=/usr/local/bin:/usr/bin'],
        Labels: { 'org.example.team': 'core', 'with space': 'yes it works' },
        ExposedPorts: { '80/tcp': {}, '53/udp': {} },
        User: 'app:app',
        Volumes: { '/data': {}, '/logs': {} },
        WorkingDir: '/srv/www',
      },
    });
    const history = config.history as { comment?: string; created?: string }[];
    expect(history).toHaveLength(1);
    expect(history[0]?.comment).toBe('first cut');
    expect(history[0]?.created).toBe(config.created);
    const [row] = await store.list();
    expect(row?.repoDigests).toEqual([]);
    expect((await store.events()).at(-1)).toMatchObject({ action: 'import', id: result.id });
    expect((await store.fsck()).clean).toBe(true);
  });

  it('without a name leaves the image dangling, found by its ID; a plain tar works too', async () => {
    const { store } = await freshStore();
    const result = await importRootfs(store, { source: streamOf(rootfsTar), label: 'rootfs.tar' });
    const [row] = await store.list();
    expect(row).toMatchObject({ id: result.id, dangling: true, repoTags: [] });
    expect(row?.platform).toEqual(hostPlatform());
    const config = await configOf(store, result.id);
    expect(config).toMatchObject({ os: hostPlatform().os, architecture: hostPlatform().architecture });
    expect(config.history).toEqual([
      expect.objectContaining({ created_by: 'berth import rootfs.tar', comment: 'imported from tarball' }),
    ]);
    expect((await store.resolve(result.id.slice(7, 19))).facts.configDigest).toBe(result.id);
  });

  const bad: [string, () => Parameters<typeof importRootfs>[1], string, RegExp][] = [
    [
      'an unknown --change instruction',
      () => ({ source: streamOf(rootfsTar), label: 'r.tar', changes: ['ENV A=1', 'RUN rm -rf /'] }),
      'BAD_REQUEST',
      /RUN cannot be used with import; allowed: CMD, ENTRYPOINT, ENV/,
    ],
    [
      'a bad EXPOSE port',
      () => ({ source: streamOf(rootfsTar), label: 'r.tar', changes: ['EXPOSE http'] }),
      'BAD_REQUEST',
      /"http" is not a port/,
    ],
    [
      'a truncated tarball',
      () => ({ source: streamOf(rootfsTar.subarray(0, 1700)), label: 'r.tar' }),
      'ARCHIVE_INVALID',
      /r\.tar is not a usable root filesystem tarball: the tar is (truncated|invalid: truncated input)/i,
    ],
    [
      'a truncated gzip tarball',
      () => {
        const gz = gzipSync(rootfsTar);
        return { source: streamOf(gz.subarray(0, gz.length - 200)), label: 'r.tgz' };
      },
      'ARCHIVE_INVALID',
      /r\.tgz is not a usable root filesystem tarball: gzip stream is corrupt or truncated/,
    ],
    [
      'a corrupt gzip tarball',
      () => {
        const gz = Buffer.from(gzipSync(rootfsTar));
        gz.fill(0x55, 40, 200);
        return { source: streamOf(gz), label: 'r.tgz' };
      },
      'ARCHIVE_INVALID',
      /r\.tgz is not a usable root filesystem tarball/,
    ],
    [
      'an entry that climbs out with ..',
      () => ({
        source: streamOf(
          rawTar([
            { name: 'etc/ok', body: Buffer.from('fine') },
            { name: '../../etc/cron.d/evil', body: Buffer.from('* * * * * root sh') },
          ]),
        ),
        label: 'evil.tar',
      }),
      'ARCHIVE_INVALID',
      /evil\.tar: entry "\.\.\/\.\.\/etc\/cron\.d\/evil" climbs out of the root filesystem/,
    ],
    [
      'a hardlink that points out of the root',
      () => ({
        source: streamOf(rawTar([{ name: 'shadow', type: 'Link', linkpath: '../../etc/shadow' }])),
        label: 'evil.tar',
      }),
      'ARCHIVE_INVALID',
      /evil\.tar: entry "shadow" is a hardlink to a path outside/,
    ],
    [
      'a name with a digest',
      () => ({ source: streamOf(rootfsTar), label: 'r.tar', reference: 'app@sha256:' + 'a'.repeat(64) }),
      'INVALID_REFERENCE',
      /has a digest/,
    ],
    [
      'a bad platform',
      () => ({ source: streamOf(rootfsTar), label: 'r.tar', platform: 'linux/amd64/v2/extra' }),
      'BAD_REQUEST',
      /invalid platform/,
    ],
  ];
  it.each(bad)(
    'refuses %s with a clear error and leaves the store unchanged',
    async (_what, req, code, message) => {
      const { store, root } = await freshStore();
      await addImage(store, buildImage({ layers: [{ entries: [{ path: 'x', content: 'x' }] }] }), ['keep:1']);
      const before = await treeState(root);
      const err = await importRootfs(store, req()).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe(code);
      expect(err?.message).toMatch(message);
      expect(await treeState(root)).toEqual(before);
    },
  );
});

describe('export', () => {
  it('writes exactly the filesystem a container sees: whiteouts, opaque dirs, replacements, links applied', async () => {
    const { store } = await freshStore();
    await addImage(store, buildImage({ layers: whiteoutLayers }), ['fixture:wh']);
    const { entries, order } = await listTar(await exported(store, 'fixture:wh'));
    expect(rootfsView(entries)).toEqual(whiteoutRootfs);
    expect(order).toHaveLength(new Set(order).size);
    // Every hardlink points at an entry written before it.
    for (const [path, entry] of entries) {
      if (entry.type !== 'Link') continue;
      expect(order.indexOf(entry.link ?? ''), path).toBeGreaterThanOrEqual(0);
      expect(order.indexOf(entry.link ?? '')).toBeLessThan(order.indexOf(path));
    }
    expect(entries.get('usr/bin/kept')?.mode).toBe(0o4755);
    expect(entries.get('usr/bin/tool-alias')).toMatchObject({ type: 'File', size: 1200, mode: 0o755 });
    expect((await store.events()).at(-1)).toMatchObject({
      action: 'export',
      names: ['docker.io/library/fixture:wh'],
    });
  });
});

describe('squash', () => {
  it('makes a one-layer image with the same filesystem and config, and leaves the old image as it was', async () => {
    const { store } = await freshStore();
    const image = buildImage({
      layers: whiteoutLayers,
      config: { env: ['A=1'], cmd: ['/bin/sh'], labels: { team: 'core' }, workingDir: '/srv' },
    });
    await addImage(store, image, ['fixture:wh']);
    const before = await store.inspect('fixture:wh');
    const tarBefore = await listTar(await exported(store, 'fixture:wh'));
    const result = await squashImage(store, 'fixture:wh', 'fixture:squashed');
    expect(result).toMatchObject({
      from: image.configDigest,
      replacedLayers: 4,
      names: ['docker.io/library/fixture:squashed'],
    });
    const after = await store.inspect('fixture:squashed');
    expect(after.layers).toHaveLength(1);
    expect(after.diffIds).toEqual([result.layer.diffId]);
    const tarAfter = await listTar(await exported(store, 'fixture:squashed'));
    expect(Object.fromEntries(tarAfter.entries)).toEqual(Object.fromEntries(tarBefore.entries));
    const oldConfig = before.config as Record<string, unknown>;
    const newConfig = after.config as Record<string, unknown>;
    expect(newConfig.config).toEqual(oldConfig.config);
    expect(newConfig.created).toBe(oldConfig.created);
    expect(newConfig.history).toEqual([
      expect.objectContaining({ comment: `squashed 4 layers of ${image.configDigest.slice(7, 19)}` }),
    ]);
    const old = await store.inspect('fixture:wh');
    expect(old.digest).toBe(before.digest);
    expect(old.id).toBe(image.configDigest);
    expect(old.layers).toEqual(before.layers);
    expect((await store.events()).some((e) => e.action === 'squash' && e.id === result.id)).toBe(true);
    expect((await store.fsck()).clean).toBe(true);
  });

  it('squashes a Docker-format image into an OCI one that keeps its config, and refuses a bad new name first', async () => {
    const { store, root } = await freshStore();
    const image = buildImage({
      format: 'docker',
      layers: [
        { entries: [{ path: 'a', content: 'one' }] },
        {
          entries: [
            { path: 'a', type: 'whiteout' },
            { path: 'b', content: 'two' },
          ],
        },
      ],
      config: { user: 'nobody', labels: { kind: 'docker' } },
    });
    await addImage(store, image, ['docker-format:1']);
    const before = await treeState(root);
    await expect(squashImage(store, 'docker-format:1', 'Bad Name')).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
    });
    expect(await treeState(root)).toEqual(before);
    const result = await squashImage(store, 'docker-format:1', 'docker-format:flat');
    const after = await store.inspect('docker-format:flat');
    expect(after.manifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(after.user).toBe('nobody');
    expect(after.labels).toEqual({ kind: 'docker' });
    expect(result.replacedLayers).toBe(2);
    const { entries } = await listTar(await exported(store, 'docker-format:flat'));
    expect(rootfsView(entries)).toEqual({ b: 'file:3' });
    expect((await store.fsck()).clean).toBe(true);
  });
});
