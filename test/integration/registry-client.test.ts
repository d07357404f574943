import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRegistryCertificates } from '../../electron/core/reference/certs';
import type { RegistryCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryClient, type RegistryClientOptions } from '../../electron/core/registry/client';
import { openRegistry, proxyFromEnv, type RegistryEnvironment } from '../../electron/core/registry/connect';
import { inspectRemote } from '../../electron/core/registry/inspect';
import { login, logout } from '../../electron/core/registry/login';
import { parsePlatform, selectPlatform } from '../../electron/core/registry/platform';
import type { RegistryLogEntry } from '../../electron/core/registry/transport';
import {
  buildIndex,
  pushImage,
  pushIndex,
  smallImage,
  type FixtureImage,
  type FixtureIndex,
} from '../support/fixture.js';
import { startRegistry, type StartRegistryOptions, type TestRegistry } from '../support/registry.js';
import { failure } from '../support/failure';

const run = promisify(execFile);
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-registry-client-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function skopeoRaw(registry: TestRegistry, ref: string): Promise<Buffer> {
  const flags = registry.certsDir
    ? [`--cert-dir=${join(registry.certsDir, registry.host)}`]
    : ['--tls-verify=false'];
  if (registry.username) flags.push(`--creds=${registry.username}:${registry.password}`);
  const { stdout } = await run(
    'skopeo',
    ['--insecure-policy', 'inspect', '--raw', ...flags, `docker://${registry.host}/${ref}`],
    {
      encoding: 'buffer',
      timeout: 30_000,
      env: { PATH: process.env.PATH, HOME: scratch, REGISTRY_AUTH_FILE: join(scratch, 'skopeo-auth.json') },
    },
  );
  return stdout;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function clientFor(
  registry: TestRegistry,
  credentials: RegistryCredentials | 'default' | 'none' = 'default',
  extra: Partial<RegistryClientOptions> = {},
): Promise<RegistryClient> {
  const options: RegistryClientOptions = {
    registry: registry.host,
    insecure: !registry.tls,
    retry: fastRetry,
    ...extra,
  };
  if (registry.certsDir)
    options.certificates = await findRegistryCertificates(registry.host, [registry.certsDir]);
  if (credentials === 'default' && registry.username !== undefined && registry.password !== undefined) {
    options.credentials = { kind: 'basic', username: registry.username, password: registry.password };
  } else if (typeof credentials === 'object') {
    options.credentials = credentials;
  }
  return new RegistryClient(options);
}

async function drain(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const variants: [string, StartRegistryOptions][] = [
  ['plain http', {}],
  ['htpasswd basic auth', { auth: 'htpasswd' }],
  ['token auth', { auth: 'token' }],
  ['TLS with a certs.d CA', { tls: true }],
  ['TLS with token auth', { tls: true, auth: 'token' }],
];

describe.each(variants)('against docker-registry with %s', (_name, registryOptions) => {
  let registry: TestRegistry;
  let image: FixtureImage;
  let index: FixtureIndex;
  let client: RegistryClient;
  const logs: RegistryLogEntry[] = [];

  beforeAll(async () => {
    registry = await startRegistry(registryOptions);
    image = smallImage('client-test', { format: 'docker' });
    index = buildIndex([
      smallImage('multi-amd64'),
      smallImage('multi-arm64', { architecture: 'arm64', variant: 'v8' }),
      smallImage('multi-armv7', { architecture: 'arm', variant: 'v7' }),
    ]);
    await pushImage(registry, 'berth/small', '1.0', image);
    await pushIndex(registry, 'berth/multi', 'latest', index);
    client = await clientFor(registry, 'default', { log: (entry) => logs.push(entry) });
  });

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('pings /v2/ and reports the auth scheme', async () => {
    const ping = await client.ping();
    expect(ping.scheme).toBe(registry.tls ? 'https' : 'http');
    expect(ping.auth).toBe(
      registry.auth === 'htpasswd' ? 'basic' : registry.auth === 'token' ? 'bearer' : 'none',
    );
  });

  it('resolves a tag to the digest and bytes skopeo sees', async () => {
    const raw = await skopeoRaw(registry, 'berth/small:1.0');
    const fetched = await client.resolveManifest('berth/small', '1.0');
    expect(fetched.digest).toBe(sha256(raw));
    expect(fetched.digest).toBe(image.digest);
    expect(fetched.bytes.equals(raw)).toBe(true);
    expect(fetched.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(fetched.parsed.kind).toBe('manifest');
    const head = await client.headManifest('berth/small', '1.0');
    expect(head.digest).toBe(image.digest);
  });

  it('streams config and layer blobs whose digests match the manifest', async () => {
    const fetched = await client.fetchManifest('berth/small', image.digest);
    if (fetched.parsed.kind !== 'manifest') throw new Error('expected a manifest');
    const config = await client.fetchBlobBytes('berth/small', fetched.parsed.config);
    expect(config.equals(image.config)).toBe(true);
    for (const layer of fetched.parsed.layers) {
      const blob = await client.fetchBlob('berth/small', layer.digest);
      expect(blob.status).toBe(200);
      expect(blob.totalSize).toBe(layer.size);
      expect(sha256(await drain(blob.body))).toBe(layer.digest);
    }
  });

  it('resumes a blob from an offset with Range and reports 206', async () => {
    const layer = image.layers[0] as FixtureImage['layers'][number];
    const offset = Math.floor(layer.size / 2);
    const blob = await client.fetchBlob('berth/small', layer.digest, { offset });
    expect(blob.status).toBe(206);
    expect(blob.start).toBe(offset);
    expect(blob.totalSize).toBe(layer.size);
    expect((await drain(blob.body)).equals(layer.bytes.subarray(offset))).toBe(true);
  });

  it('resolves the 3-platform index like skopeo and chooses platforms from it', async () => {
    const raw = await skopeoRaw(registry, 'berth/multi:latest');
    const top = await client.resolveManifest('berth/multi', 'latest');
    expect(top.digest).toBe(sha256(raw));
    if (top.parsed.kind !== 'index') throw new Error('expected an index');
    const [amd64, arm64, armv7] = index.children as [FixtureImage, FixtureImage, FixtureImage];
    const manifests = top.parsed.manifests;
    const choose = (p: string): string => selectPlatform(manifests, parsePlatform(p), 'multi').digest;
    expect(choose('linux/amd64')).toBe(amd64.digest);
    expect(choose('linux/arm64')).toBe(arm64.digest);
    expect(choose('linux/arm/v7')).toBe(armv7.digest);
    expect(() => choose('linux/arm/v6')).toThrow(
      'multi has no image for linux/arm/v6; it has: linux/amd64, linux/arm64/v8, linux/arm/v7',
    );
    const child = await client.fetchManifest('berth/multi', arm64.digest);
    expect(child.bytes.equals(arm64.manifest)).toBe(true);
  });

  it('inspects a remote image without pulling its layers', async () => {
    const remote = await inspectRemote(client, 'berth/multi', 'latest', {
      platform: parsePlatform('linux/arm64'),
      tags: true,
    });
    const arm64 = index.children[1] as FixtureImage;
    expect(remote.digest).toBe(index.digest);
    expect(remote.manifestDigest).toBe(arm64.digest);
    expect(remote.configDigest).toBe(arm64.configDigest);
    expect(remote.architecture).toBe('arm64');
    expect(remote.platforms.map((p) => `${p.os}/${p.architecture}/${p.variant ?? ''}`)).toEqual([
      'linux/amd64/',
      'linux/arm64/v8',
      'linux/arm/v7',
    ]);
    expect(remote.labels['org.opencontainers.image.title']).toBe('multi-arm64');
    expect(remote.size).toBe(arm64.config.length + arm64.layers.reduce((s, l) => s + l.size, 0));
    expect(remote.tags).toEqual(['latest']);
  });

  it('lists tags', async () => {
    for (const tag of ['a', 'b', 'c']) await pushImage(registry, 'berth/tags', tag, image);
    expect((await client.listTags('berth/tags')).sort()).toEqual(['a', 'b', 'c']);
  });

  it('names a missing tag and a missing blob clearly', async () => {
    const missing = await failure(client.resolveManifest('berth/small', '3.99'));
    expect(missing.code).toBe('MANIFEST_UNKNOWN');
    expect(missing.message).toBe(`manifest unknown: tag 3.99 not found in ${registry.host}/berth/small`);
    const blob = await failure(client.fetchBlob('berth/small', `sha256:${'0'.repeat(64)}`));
    expect(blob.code).toBe('BLOB_UNKNOWN');
    await expect(client.fetchBlob('berth/small', 'sha256:../../x')).rejects.toMatchObject({
      code: 'INVALID_DIGEST',
    });
  });

  it.runIf(registryOptions.auth !== undefined)(
    'refuses wrong credentials and anonymous access with UNAUTHORIZED',
    async () => {
      const wrong = await clientFor(registry, {
        kind: 'basic',
        username: registry.username ?? '',
        password: 'wrong-password',
      });
      const anonymous = await clientFor(registry, 'none');
      try {
        const denied = await failure(wrong.resolveManifest('berth/small', '1.0'));
        expect(denied.code).toBe('UNAUTHORIZED');
        expect(denied.message).toBe(`unauthorized: check your credentials for ${registry.host}`);
        expect(JSON.stringify(denied.toWire())).not.toContain('wrong-password');
        const anon = await failure(anonymous.fetchManifest('berth/small', '1.0'));
        expect(anon.code).toBe('UNAUTHORIZED');
        expect(anon.message).toContain(`log in with "berth login ${registry.host}"`);
      } finally {
        await wrong.close();
        await anonymous.close();
      }
    },
  );

  it.runIf(registryOptions.auth === 'token')('caches one token per scope across calls', async () => {
    const fresh = await clientFor(registry);
    try {
      const before = registry.token?.requests().length ?? 0;
      await fresh.resolveManifest('berth/small', '1.0');
      await fresh.fetchManifest('berth/small', image.digest);
      await fresh.fetchBlobBytes('berth/small', {
        mediaType: 'x',
        digest: image.configDigest,
        size: image.config.length,
      });
      const asked = (registry.token?.requests() ?? []).slice(before);
      expect(asked.map((r) => r.scopes)).toEqual([['repository:berth/small:pull']]);
      expect(asked[0]?.account).toBe(registry.username);
    } finally {
      await fresh.close();
    }
  });

  it('never puts the password or a token in its request log', () => {
    const text = JSON.stringify(logs);
    expect(logs.length).toBeGreaterThan(0);
    if (registry.password) expect(text).not.toContain(registry.password);
    expect(text).not.toMatch(/authorization|bearer|basic /i);
  });
});

describe('TLS trust', () => {
  let registry: TestRegistry;
  let image: FixtureImage;
  beforeAll(async () => {
    registry = await startRegistry({ tls: true });
    image = smallImage('tls-trust');
    await pushImage(registry, 'berth/tls', '1', image);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('refuses an untrusted certificate on a secure registry, naming certs.d', async () => {
    const client = new RegistryClient({ registry: registry.host, insecure: false, retry: fastRetry });
    try {
      const err = await failure(client.resolveManifest('berth/tls', '1'));
      expect(err.code).toBe('NETWORK');
      expect(err.message).toContain(`the TLS certificate of ${registry.host} is not trusted`);
      expect(err.message).toContain(`${registry.host}/ca.crt`);
    } finally {
      await client.close();
    }
  });

  it('skips verification for an insecure registry and trusts certs.d through openRegistry', async () => {
    const insecure = new RegistryClient({ registry: registry.host, insecure: true, retry: fastRetry });
    const environment: RegistryEnvironment = {
      conf: emptyRegistriesConf(),
      certsDirs: [registry.certsDir as string],
      auth: { read: [], write: join(scratch, 'unused.json') },
    };
    const secure = await openRegistry(registry.host, environment, { insecure: false });
    try {
      expect((await insecure.resolveManifest('berth/tls', '1')).digest).toBe(image.digest);
      expect((await insecure.ping()).scheme).toBe('https');
      expect((await secure.resolveManifest('berth/tls', '1')).digest).toBe(image.digest);
    } finally {
      await insecure.close();
      await secure.close();
    }
  });
});

describe('login and logout', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushImage(registry, 'berth/private', '1', smallImage('private'));
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('verifies credentials before writing auth.json (0600), and the saved login is used for pulls', async () => {
    const file = join(scratch, 'login', 'auth.json');
    const environment: RegistryEnvironment = {
      conf: emptyRegistriesConf(),
      certsDirs: [],
      auth: { read: [file], write: file },
      client: { retry: fastRetry },
    };
    const wrong = await failure(
      login({ registry: registry.host, username: registry.username ?? '', password: 'not-it' }, environment),
    );
    expect(wrong.code).toBe('UNAUTHORIZED');
    expect(wrong.message).toBe(`unauthorized: check your credentials for ${registry.host}`);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

    const saved = await login(
      {
        registry: `http://${registry.host}/`,
        username: registry.username ?? '',
        password: registry.password ?? '',
      },
      environment,
    );
    expect(saved).toEqual({ registry: registry.host, file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain(registry.password);

    const client = await openRegistry(registry.host, environment);
    try {
      expect((await client.resolveManifest('berth/private', '1')).parsed.kind).toBe('manifest');
    } finally {
      await client.close();
    }
    expect(await logout(registry.host, environment)).toEqual({
      registry: registry.host,
      removed: true,
      file,
    });
    const after = await openRegistry(registry.host, environment);
    try {
      await expect(after.resolveManifest('berth/private', '1')).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
      });
    } finally {
      await after.close();
    }
  });
});

describe('catalog', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
    for (const repo of ['one/a', 'two/b', 'three/c']) await pushImage(registry, repo, 'x', smallImage(repo));
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('follows Link pagination through every page', async () => {
    const client = await clientFor(registry);
    try {
      expect((await client.catalog({ pageSize: 1 })).sort()).toEqual(['one/a', 'three/c', 'two/b']);
      const pages = registry.requests().filter((r) => r.uri.startsWith('/v2/_catalog'));
      expect(pages.length).toBeGreaterThanOrEqual(3);
    } finally {
      await client.close();
    }
  });
});

describe('token refresh', () => {
  let registry: TestRegistry;
  let denyNext = 0;
  beforeAll(async () => {
    registry = await startRegistry({
      auth: 'token',
      tokenPolicy: (account, _resource, requested) => {
        if (denyNext > 0) {
          denyNext--;
          return [];
        }
        return account === undefined ? [] : requested;
      },
    });
    await pushImage(registry, 'berth/refresh', '1', smallImage('refresh'));
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('asks for a fresh token once when the registry refuses the cached one', async () => {
    const client = await clientFor(registry);
    try {
      denyNext = 1;
      const before = registry.token?.requests().length ?? 0;
      expect((await client.resolveManifest('berth/refresh', '1')).parsed.kind).toBe('manifest');
      expect((registry.token?.requests() ?? []).length - before).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('gives up with UNAUTHORIZED when the fresh token is refused too', async () => {
    const client = await clientFor(registry);
    try {
      denyNext = 2;
      const before = registry.token?.requests().length ?? 0;
      const err = await failure(client.fetchManifest('berth/refresh', '1'));
      expect(err.code).toBe('UNAUTHORIZED');
      expect((registry.token?.requests() ?? []).length - before).toBe(2);
    } finally {
      denyNext = 0;
      await client.close();
    }
  });
});

describe('through an HTTP proxy', () => {
  let registry: TestRegistry;
  let proxyServer: Server;
  let proxyUrl: string;
  const tunnels: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    await pushImage(registry, 'berth/proxied', '1', smallImage('proxied'));
    // A forward proxy that only tunnels (CONNECT), as corporate proxies do.
    proxyServer = createServer((_req, res) => res.writeHead(405).end());
    proxyServer.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const target = req.url ?? '';
      tunnels.push(target);
      const [host, port] = [
        target.slice(0, target.lastIndexOf(':')),
        Number(target.slice(target.lastIndexOf(':') + 1)),
      ];
      const upstream = connect(port, host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((done) => proxyServer.listen(0, '127.0.0.1', () => done()));
    proxyUrl = `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxyServer?.closeAllConnections();
    await new Promise<void>((done) => (proxyServer ? proxyServer.close(() => done()) : done()));
    await registry?.stop();
  });

  it('tunnels registry requests through the proxy, except for NO_PROXY hosts', async () => {
    const proxied = await clientFor(registry, 'none', {
      proxy: proxyFromEnv({ HTTP_PROXY: proxyUrl, https_proxy: proxyUrl }) ?? {},
    });
    try {
      expect((await proxied.resolveManifest('berth/proxied', '1')).parsed.kind).toBe('manifest');
      expect(tunnels).toContain(registry.host);
    } finally {
      await proxied.close();
    }
    tunnels.length = 0;
    const bypass = await clientFor(registry, 'none', {
      proxy: proxyFromEnv({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }) ?? {},
    });
    try {
      expect((await bypass.resolveManifest('berth/proxied', '1')).parsed.kind).toBe('manifest');
      expect(tunnels).toEqual([]);
    } finally {
      await bypass.close();
    }
    expect(proxyFromEnv({})).toBeUndefined();
  });
});
