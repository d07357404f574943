import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, buildIndex, smallImage, writeOciLayout } from '../support/fixture';
import { addImage } from '../unit/store/add-image';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-interop-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function skopeoDigest(layout: string, name: string): Promise<string> {
  const { stdout } = await run('skopeo', [
    'inspect',
    '--override-os',
    'linux',
    '--override-arch',
    'amd64',
    `oci:${layout}:${name}`,
  ]);
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}

describe('a Berth store read by skopeo and umoci', () => {
  it('skopeo inspect reports the digest Berth reports, umoci ls lists every name, dangling entries do not disturb them', async () => {
    const root = join(dir, 'berth-written');
    const store = await ImageStore.open(root);
    const single = smallImage('single');
    const amd = smallImage('multi', { architecture: 'amd64' });
    const arm = smallImage('multi', { architecture: 'arm64', variant: 'v8' });
    const index = buildIndex([amd, arm]);
    const docker = smallImage('docker', { format: 'docker' });
    await addImage(store, single, ['alpine:3.20', 'alpine:latest']);
    await addImage(store, index, ['quay.io/team/multi:1']);
    await addImage(store, docker, ['localhost:5000/docker:v2']);
    await store.tag('alpine:3.20', 'localhost:5000/oci:v1');
    await addImage(store, smallImage('dangling'), ['gone']);
    await store.untag('gone');
    // Tags and untags are journaled; flush folds them into index.json, which is all foreign tools read.
    await store.flush();
    const rows = await store.list();
    // skopeo 1.9's OCI layout reader skips entries with Docker media types, so the Docker-format image is
    // checked through umoci only.
    for (const name of [
      'docker.io/library/alpine:3.20',
      'docker.io/library/alpine:latest',
      'quay.io/team/multi:1',
      'localhost:5000/oci:v1',
    ]) {
      const row = rows.find((r) => r.repoTags.includes(name));
      expect(await skopeoDigest(root, name), name).toBe(row?.digest);
    }
    expect(rows.find((r) => r.repoTags.includes('quay.io/team/multi:1'))?.digest).toBe(index.digest);
    const { stdout } = await run('umoci', ['ls', '--layout', root]);
    expect(stdout.trim().split('\n').sort()).toEqual(
      [
        'docker.io/library/alpine:3.20',
        'docker.io/library/alpine:latest',
        'localhost:5000/docker:v2',
        'localhost:5000/oci:v1',
        'quay.io/team/multi:1',
      ].sort(),
    );
    expect((await store.fsck()).clean).toBe(true);
  });
});

describe('layouts written by skopeo opened as stores', () => {
  it('opens a layout skopeo copy wrote, normalizing its short names, and keeps working on it', async () => {
    const source = join(dir, 'fixture-layout');
    const image = buildImage({
      layers: [{ entries: [{ path: 'hello', content: 'hi' }] }],
      config: { labels: { from: 'skopeo' } },
    });
    await writeOciLayout(source, [{ name: 'app:1.0', image }]);
    const target = join(dir, 'skopeo-written');
    await run('skopeo', ['copy', '--quiet', `oci:${source}:app:1.0`, `oci:${target}:app:1.0`]);
    await run('skopeo', [
      'copy',
      '--quiet',
      `oci:${source}:app:1.0`,
      `oci:${target}:registry.example/team/app:2`,
    ]);
    const store = await ImageStore.open(target);
    const [row] = await store.list();
    expect(row?.repoTags).toEqual(['docker.io/library/app:1.0', 'registry.example/team/app:2']);
    expect(row?.labels).toEqual({ from: 'skopeo' });
    const digest = await skopeoDigest(target, 'app:1.0');
    expect(row?.digest).toBe(digest);
    expect((await store.resolve('app:1.0')).image.manifestDigest).toBe(digest);
    await store.tag('app:1.0', 'app:copy');
    await store.flush();
    expect(await skopeoDigest(target, 'docker.io/library/app:copy')).toBe(digest);
    expect((await store.fsck()).clean).toBe(true);
  });

  it('opens a multi-platform index skopeo copied with --all, choosing the manifest for this platform', async () => {
    const source = join(dir, 'fixture-multi');
    const amd = smallImage('m2', { architecture: 'amd64' });
    const arm = smallImage('m2', { architecture: 'arm64' });
    await writeOciLayout(source, [{ name: 'multi', image: buildIndex([amd, arm]) }]);
    const target = join(dir, 'skopeo-multi');
    await run('skopeo', ['copy', '--quiet', '--all', `oci:${source}:multi`, `oci:${target}:multi:2`]);
    const store = await ImageStore.open(target, { platform: { os: 'linux', architecture: 'arm64' } });
    const [row] = await store.list();
    expect(row?.id).toBe(arm.configDigest);
    expect(row?.repoTags).toEqual(['docker.io/library/multi:2']);
    await store.tag('multi:2', 'multi:3');
    expect((await store.resolve('multi:3')).facts.configDigest).toBe(arm.configDigest);
    expect((await store.fsck()).clean).toBe(true);
  });
});
