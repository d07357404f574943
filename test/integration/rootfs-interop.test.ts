import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, buildLayerTar, writeOciLayout } from '../support/fixture';
import { addImage } from '../unit/store/add-image';
import { whiteoutLayers, whiteoutRootfs } from '../unit/archive/rootfs-fixtures';
import { listRootfs, listTar, rootfsView, treeState } from '../unit/archive/tar-listing';
import { runCli, type CliRun } from '../support/berth-cli';

const run = promisify(execFile);
const umoci = spawnSync('umoci', ['--version'], { stdio: 'ignore' }).status === 0;
let scratch: string;
let store: string;

function cli(args: string[]): Promise<CliRun> {
  return runCli({ store, home: scratch, args, maxBuffer: 64 * 1024 * 1024 });
}

async function skopeoConfig(name: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('skopeo', ['inspect', '--config', `oci:${store}:${name}`]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  store = join(scratch, 'store');
  const images = await ImageStore.open(store);
  await addImage(images, buildImage({ layers: whiteoutLayers, config: { env: ['A=1'], cmd: ['/bin/sh'] } }), [
    'fixture:wh',
  ]);
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('berth import', () => {
  it('makes the config --change asks for, as skopeo reads it from the store', async () => {
    const tarball = join(scratch, 'rootfs.tar.gz');
    const tar = buildLayerTar([
      { path: 'bin/', type: 'dir' },
      { path: 'bin/app', size: 5000, mode: 0o755 },
    ]);
    await writeFile(tarball, gzipSync(tar));
    const imported = await cli([
      '--json',
      'import',
      tarball,
      'local/app:1',
      '--change',
      'CMD ["/bin/app", "serve"]',
      '--change',
      'ENTRYPOINT /bin/app',
      '-c',
      'ENV MODE=prod LEVEL="very high"',
      '-c',
      'ENV HOME /root',
      '-c',
      'LABEL org.opencontainers.image.title=app team=core',
      '-c',
      'EXPOSE 8080 53/udp',
      '-c',
      'USER 1000',
      '-c',
      'VOLUME /data',
      '-c',
      'WORKDIR /srv',
      '--message',
      'built by hand',
      '--platform',
      'linux/amd64',
    ]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const result = JSON.parse(imported.stdout) as { id: string; layer: { diffId: string } };
    const config = await skopeoConfig('docker.io/local/app:1');
    expect(config).toMatchObject({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Cmd: ['/bin/app', 'serve'],
        Entrypoint: ['/bin/sh', '-c', '/bin/app'],
        Env: ['MODE=prod', 'LEVEL=very high', 'HOME=/root'],
        Labels: { 'org.opencontainers.image.title': 'app', team: 'core' },
        ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
        User: '1000',
        Volumes: { '/data': {} },
        WorkingDir: '/srv',
      },
      rootfs: { type: 'layers', diff_ids: [result.layer.diffId] },
      history: [expect.objectContaining({ comment: 'built by hand' })],
    });
    const { stdout } = await run('skopeo', ['inspect', `oci:${store}:docker.io/local/app:1`]);
    expect((JSON.parse(stdout) as { Layers: string[] }).Layers).toHaveLength(1);
  });

  it('without a name prints the ID of a dangling image', async () => {
    const tarball = join(scratch, 'plain.tar');
    await writeFile(tarball, buildLayerTar([{ path: 'hello', content: 'hi' }]));
    const imported = await cli(['import', tarball]);
    expect(imported.code).toBe(0);
    const id = imported.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const listed = JSON.parse((await cli(['--json', 'images'])).stdout) as {
      id: string;
      dangling: boolean;
    }[];
    expect(listed.find((i) => i.id === id)?.dangling).toBe(true);
  });

  it('refuses bad input with a clear message and exit code, leaving the store as it was', async () => {
    const before = await treeState(store);
    const good = join(scratch, 'plain.tar');
    const unknown = await cli(['import', good, 'x:1', '--change', 'RUN rm -rf /']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--change "RUN rm -rf \/": RUN cannot be used with import/);
    const missing = await cli(['import', join(scratch, 'nope.tar')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/tarball .*nope\.tar does not exist/);
    const truncated = join(scratch, 'truncated.tar.gz');
    const gz = gzipSync(buildLayerTar([{ path: 'big', size: 100_000 }]));
    await writeFile(truncated, gz.subarray(0, gz.length / 2));
    const cut = await cli(['import', truncated, 'cut:1']);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(
      /truncated\.tar\.gz is not a usable root filesystem tarball: gzip stream is corrupt or truncated/,
    );
    expect(await treeState(store)).toEqual(before);
  });
});

describe('berth export and squash', () => {
  it('export writes exactly the expected file list, the same umoci raw unpack makes', async () => {
    const out = join(scratch, 'wh.tar');
    const exported = await cli(['export', 'fixture:wh', '-o', out]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const { entries } = await listTar(await readFile(out));
    expect(rootfsView(entries)).toEqual(whiteoutRootfs);
    if (!umoci) return;
    const layout = join(scratch, 'layout');
    await writeOciLayout(layout, [
      {
        name: 'wh',
        image: buildImage({ layers: whiteoutLayers, config: { env: ['A=1'], cmd: ['/bin/sh'] } }),
      },
    ]);
    const rootfs = join(scratch, 'umoci-rootfs');
    await run('umoci', ['raw', 'unpack', '--rootless', '--image', `${layout}:wh`, rootfs]);
    expect(rootfsView(entries)).toEqual(await listRootfs(rootfs));
  });

  it('squash makes one layer with the same exported filesystem; the old image is unchanged', async () => {
    const before = JSON.parse((await cli(['--json', 'inspect', 'fixture:wh'])).stdout) as {
      digest: string;
      layers: unknown[];
    };
    const squashed = await cli(['--json', 'squash', 'fixture:wh', 'fixture:flat']);
    expect(squashed.stderr).toBe('');
    expect(squashed.code).toBe(0);
    expect(JSON.parse(squashed.stdout)).toMatchObject({
      replacedLayers: 4,
      names: ['docker.io/library/fixture:flat'],
    });
    const { stdout } = await run('skopeo', ['inspect', `oci:${store}:docker.io/library/fixture:flat`]);
    expect((JSON.parse(stdout) as { Layers: string[] }).Layers).toHaveLength(1);
    expect(await skopeoConfig('docker.io/library/fixture:flat')).toMatchObject({
      config: { Env: ['A=1'], Cmd: ['/bin/sh'] },
      history: [
        expect.objectContaining({
          comment: expect.stringMatching(/^squashed 4 layers of [0-9a-f]{12}$/) as unknown,
        }),
      ],
    });
    await cli(['export', 'fixture:wh', '-o', join(scratch, 'before.tar')]);
    await cli(['export', 'fixture:flat', '-o', join(scratch, 'after.tar')]);
    const a = await listTar(await readFile(join(scratch, 'before.tar')));
    const b = await listTar(await readFile(join(scratch, 'after.tar')));
    expect(Object.fromEntries(b.entries)).toEqual(Object.fromEntries(a.entries));
    const after = JSON.parse((await cli(['--json', 'inspect', 'fixture:wh'])).stdout) as {
      digest: string;
      layers: unknown[];
    };
    expect(after.digest).toBe(before.digest);
    expect(after.layers).toEqual(before.layers);
    const fsck = await cli(['fsck']);
    expect(fsck.code).toBe(0);
  });
});
