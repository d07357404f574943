import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  buildIndex,
  FixturePushError,
  pushImage,
  pushIndex,
  sha256Digest,
  smallImage,
  writeOciLayout,
} from '../support/fixture.js';
import { startRegistry, type StartRegistryOptions, type TestRegistry } from '../support/registry.js';

const run = promisify(execFile);

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-harness-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function skopeo(args: string[]): Promise<Buffer> {
  const { stdout } = await run('skopeo', ['--insecure-policy', '--tmpdir', scratch, ...args], {
    encoding: 'buffer',
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { PATH: process.env.PATH, HOME: scratch, REGISTRY_AUTH_FILE: join(scratch, 'auth.json') },
  });
  return stdout;
}

/** skopeo flags that reach this registry: TLS trust and credentials. */
function skopeoFlags(registry: TestRegistry, creds?: string): string[] {
  const flags = registry.certsDir
    ? [`--cert-dir=${join(registry.certsDir, registry.host)}`]
    : ['--tls-verify=false'];
  const user = creds ?? (registry.username ? `${registry.username}:${registry.password}` : undefined);
  if (user) flags.push(`--creds=${user}`);
  return flags;
}

const variants: [string, StartRegistryOptions][] = [
  ['http', {}],
  ['tls', { tls: true }],
  ['htpasswd', { auth: 'htpasswd' }],
  ['token', { auth: 'token' }],
  ['tls+token', { tls: true, auth: 'token' }],
];

describe.each(variants)('%s registry', (_name, options) => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry(options);
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('serves a pushed fixture image byte-for-byte to skopeo', async () => {
    const image = smallImage(`variant-${_name}`);
    await pushImage(registry, 'fixtures/small', 'v1', image);
    const raw = await skopeo([
      'inspect',
      '--raw',
      ...skopeoFlags(registry),
      `docker://${registry.host}/fixtures/small:v1`,
    ]);
    expect(sha256Digest(raw)).toBe(image.digest);
    const config = await skopeo([
      'inspect',
      '--config',
      '--raw',
      ...skopeoFlags(registry),
      `docker://${registry.host}/fixtures/small:v1`,
    ]);
    expect(sha256Digest(config)).toBe(image.configDigest);
    expect(registry.requests()).toContainEqual({
      method: 'PUT',
      uri: '/v2/fixtures/small/manifests/v1',
      status: 201,
    });
  });

  it.runIf(options.auth !== undefined)('refuses wrong credentials with 401', async () => {
    const image = smallImage('refused');
    const wrong = { username: registry.username ?? 'x', password: 'wrong-password' };
    const error = await pushImage(registry, 'fixtures/refused', 'v1', image, wrong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FixturePushError);
    expect((error as FixturePushError).status).toBe(401);
    const anonymous = await pushImage(registry, 'fixtures/refused', 'v1', image, 'anonymous').catch(
      (e: unknown) => e,
    );
    expect((anonymous as FixturePushError).status).toBe(401);
    await expect(
      skopeo([
        'inspect',
        '--raw',
        ...skopeoFlags(registry, 'nobody:nothing'),
        `docker://${registry.host}/fixtures/small:v1`,
      ]),
    ).rejects.toThrow();
    const basic = `Basic ${Buffer.from(`${registry.username}:wrong-password`).toString('base64')}`;
    const direct = await fetch(`${registry.url}/v2/`, {
      headers: { authorization: basic },
      dispatcher: registry.dispatcher,
    });
    await direct.body?.cancel();
    expect(direct.status).toBe(401);
  });

  it.runIf(options.auth === 'token')('grants the requested scopes only to valid users', () => {
    const requests = registry.token?.requests() ?? [];
    expect(
      requests.some(
        (r) => r.account === registry.username && r.granted.includes('repository:fixtures/small:pull,push'),
      ),
    ).toBe(true);
    expect(requests.some((r) => r.account === registry.username && r.status === 401)).toBe(true);
    expect(requests.filter((r) => r.account === undefined).every((r) => r.granted.length === 0)).toBe(true);
  });
});

describe('multi-platform and layouts', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it.each(['oci', 'docker'] as const)(
    'round-trips a %s multi-platform index through skopeo',
    async (format) => {
      const amd = smallImage(`multi-${format}-amd64`, { format });
      const arm = smallImage(`multi-${format}-arm64`, { format, architecture: 'arm64', variant: 'v8' });
      const index = buildIndex([amd, arm]);
      await pushIndex(registry, `fixtures/multi-${format}`, 'latest', index);
      const ref = `docker://${registry.host}/fixtures/multi-${format}:latest`;
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ref]);
      expect(sha256Digest(raw)).toBe(index.digest);
      const armConfig = await skopeo([
        '--override-arch=arm64',
        '--override-variant=v8',
        'inspect',
        '--config',
        '--raw',
        '--tls-verify=false',
        ref,
      ]);
      expect(sha256Digest(armConfig)).toBe(arm.configDigest);
      const dir = join(scratch, `copy-${format}`);
      await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', ref, `dir:${dir}`]);
      expect(sha256Digest(await readFile(join(dir, 'manifest.json')))).toBe(index.digest);
      for (const child of [amd, arm]) {
        const copied = await readFile(join(dir, `${child.digest.slice('sha256:'.length)}.manifest.json`));
        expect(sha256Digest(copied)).toBe(child.digest);
      }
      for (const [digest, bytes] of index.blobs()) {
        expect(sha256Digest(await readFile(join(dir, digest.slice('sha256:'.length))))).toBe(
          sha256Digest(bytes),
        );
      }
    },
  );

  it('writes OCI layouts that umoci and skopeo read', async () => {
    const dir = join(scratch, 'layout');
    const image = buildImage({
      layers: [
        {
          entries: [
            { path: 'a/', type: 'dir' },
            { path: 'a/file', content: 'one' },
          ],
        },
        { entries: [{ path: 'a/file', type: 'whiteout' }], compression: 'none' },
      ],
    });
    const index = buildIndex([
      smallImage('layout-amd64'),
      smallImage('layout-arm64', { architecture: 'arm64' }),
    ]);
    await writeOciLayout(dir, [{ name: 'single', image }]);
    await writeOciLayout(dir, [{ name: 'multi', image: index }]);
    const layoutIndex = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: unknown[];
    };
    expect(layoutIndex.manifests).toHaveLength(2);
    const { stdout } = await run('umoci', ['ls', '--layout', dir], { timeout: 30_000 });
    expect(
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(['multi', 'single']);
    const raw = await skopeo(['inspect', '--raw', `oci:${dir}:single`]);
    expect(sha256Digest(raw)).toBe(image.digest);
    const rawIndex = await skopeo(['inspect', '--raw', `oci:${dir}:multi`]);
    expect(sha256Digest(rawIndex)).toBe(index.digest);
    await skopeo([
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${dir}:single`,
      `docker://${registry.host}/fixtures/from-layout:v1`,
    ]);
    const pushed = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/fixtures/from-layout:v1`,
    ]);
    expect(sha256Digest(pushed)).toBe(image.digest);
  });

  it('lets anonymous clients pull, but not push, from a token registry with anonymousPull', async () => {
    const open = await startRegistry({ auth: 'token', anonymousPull: true });
    try {
      const image = smallImage('anonymous');
      await pushImage(open, 'public/app', 'v1', image);
      const raw = await skopeo([
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${open.host}/public/app:v1`,
      ]);
      expect(sha256Digest(raw)).toBe(image.digest);
      const push = await pushImage(open, 'public/app', 'v2', smallImage('other'), 'anonymous').catch(
        (e: unknown) => e,
      );
      expect((push as FixturePushError).status).toBe(401);
      const anonymous = open.token?.requests().filter((r) => r.account === undefined) ?? [];
      expect(anonymous.some((r) => r.granted.includes('repository:public/app:pull'))).toBe(true);
    } finally {
      await open.stop();
    }
  });

  it('stops the registry and removes its storage', async () => {
    const spare = await startRegistry();
    const storage = spare.storageDir;
    expect(existsSync(storage)).toBe(true);
    await spare.stop();
    expect(existsSync(storage)).toBe(false);
    await expect(fetch(`${spare.url}/v2/`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});
