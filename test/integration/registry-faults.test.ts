import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient, type RegistryClientOptions } from '../../electron/core/registry/client';
import type { RetryNotice } from '../../electron/core/registry/retry';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { createTestCertificates } from '../support/tls.js';
import { failure } from '../support/failure';

const repo = 'berth/faults';
const mib = 1024 * 1024;

let registry: TestRegistry;
let proxy: FaultProxy;
let image: FixtureImage;
let waits: number[];
let notices: RetryNotice[];
const clients: RegistryClient[] = [];

function client(extra: Partial<RegistryClientOptions> = {}): RegistryClient {
  const c = new RegistryClient({
    registry: proxy.host,
    insecure: true,
    credentials: { kind: 'basic', username: registry.username ?? '', password: registry.password ?? '' },
    retry: {
      baseDelayMs: 100,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
    ...extra,
  });
  clients.push(c);
  return c;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const layerOf = (i: number): FixtureImage['layers'][number] =>
  image.layers[i] as FixtureImage['layers'][number];
const manifestGet = { method: 'GET', path: /\/manifests\// };
const configDescriptor = (): { mediaType: string; digest: string; size: number } => ({
  mediaType: 'application/vnd.oci.image.config.v1+json',
  digest: image.configDigest,
  size: image.config.length,
});

beforeAll(async () => {
  registry = await startRegistry({ auth: 'htpasswd' });
  proxy = await startFaultProxy(registry.url);
  image = buildImage({
    layers: [
      { entries: [{ path: 'big.bin', size: 3 * mib }], gzipLevel: 1 },
      { entries: [{ path: 'small.txt', content: 'hi' }] },
    ],
  });
  await pushImage(registry, repo, 'v1', image);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.stop();
  await registry?.stop();
});

beforeEach(() => {
  proxy.clear();
  waits = [];
  notices = [];
});

describe('retries through the fault proxy', () => {
  it('retries a 503 and then succeeds, telling onRetry', async () => {
    proxy.add({ ...manifestGet, fault: { kind: 'status', status: 503 } });
    const fetched = await client().resolveManifest(repo, 'v1', { onRetry: (n) => notices.push(n) });
    expect(fetched.digest).toBe(image.digest);
    expect(waits).toHaveLength(1);
    expect(notices[0]?.reason).toContain('answered 503');
    expect(
      proxy
        .requests()
        .filter((r) => r.method === 'GET' && r.url.includes('/manifests/'))
        .map((r) => r.status),
    ).toEqual([503, 200]);
  });

  it('waits as long as a 429 Retry-After asks', async () => {
    proxy.add({ ...manifestGet, fault: { kind: 'status', status: 429, headers: { 'retry-after': '3' } } });
    expect((await client().resolveManifest(repo, 'v1')).digest).toBe(image.digest);
    expect(waits).toEqual([3000]);
  });

  it('gives up after five attempts with a clear error', async () => {
    proxy.add({ ...manifestGet, times: 100, fault: { kind: 'status', status: 502 } });
    const err = await failure(client().fetchManifest(repo, image.digest));
    expect(err.code).toBe('REGISTRY_UNAVAILABLE');
    expect(err.message).toContain(`${proxy.host} answered 502`);
    expect(proxy.requests().filter((r) => r.status === 502)).toHaveLength(5);
    expect(waits).toHaveLength(4);
    expect(waits.every((w, i) => i === 0 || w >= (waits[i - 1] as number) * 0.5)).toBe(true);
  });

  it('does not retry a 4xx', async () => {
    proxy.add({ ...manifestGet, times: 100, fault: { kind: 'status', status: 403 } });
    const err = await failure(client().fetchManifest(repo, image.digest));
    expect(err.code).toBe('DENIED');
    expect(proxy.requests().filter((r) => r.status === 403)).toHaveLength(1);
  });

  it('retries a connection reset in the middle of a manifest', async () => {
    proxy.add({ ...manifestGet, fault: { kind: 'reset', afterBytes: 20 } });
    expect((await client().fetchManifest(repo, image.digest)).digest).toBe(image.digest);
    expect(waits).toHaveLength(1);
  });

  it('times out a stalled body and retries', async () => {
    proxy.add({ ...manifestGet, fault: { kind: 'stall', afterBytes: 10 } });
    expect((await client({ bodyTimeoutMs: 300 }).fetchManifest(repo, image.digest)).digest).toBe(
      image.digest,
    );
    expect(waits).toHaveLength(1);
  });
});

describe('blob resume', () => {
  it('resumes a reset layer download from the byte offset reached, with Range', async () => {
    const layer = layerOf(0);
    const cut = Math.floor(layer.size / 2);
    proxy.add({
      method: 'GET',
      path: `/v2/${repo}/blobs/${layer.digest}`,
      fault: { kind: 'reset', afterBytes: cut },
    });
    const c = client();
    const first = await c.fetchBlob(repo, layer.digest);
    const received: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of first.body as AsyncIterable<Buffer>) received.push(chunk);
      })(),
    ).rejects.toThrow();
    const have = Buffer.concat(received);
    expect(have.length).toBeGreaterThan(0);
    expect(have.length).toBeLessThanOrEqual(cut);
    const rest = await c.fetchBlob(repo, layer.digest, { offset: have.length });
    expect(rest.status).toBe(206);
    expect(rest.start).toBe(have.length);
    const tail: Buffer[] = [];
    for await (const chunk of rest.body as AsyncIterable<Buffer>) tail.push(chunk);
    expect(sha256(Buffer.concat([have, ...tail]))).toBe(layer.digest);
    const ranges = proxy
      .requests()
      .filter((r) => r.url.endsWith(layer.digest))
      .map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${have.length}-`]);
  });
});

describe('hostile responses', () => {
  it('reports a flipped byte in a manifest or config as DIGEST_MISMATCH', async () => {
    proxy.add({ ...manifestGet, fault: { kind: 'flip', offset: 40 } });
    expect((await failure(client().fetchManifest(repo, image.digest))).code).toBe('DIGEST_MISMATCH');
    proxy.add({
      method: 'GET',
      path: `/v2/${repo}/blobs/${image.configDigest}`,
      fault: { kind: 'flip', offset: 3 },
    });
    const err = await failure(client().fetchBlobBytes(repo, configDescriptor()));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(image.configDigest);
  });

  it('falls back to GET when HEAD names no digest, and trusts a header digest only after hashing', async () => {
    proxy.add({
      method: 'HEAD',
      path: /\/manifests\/v1$/,
      fault: { kind: 'headers', set: { 'docker-content-digest': '' } },
    });
    expect((await client().resolveManifest(repo, 'v1')).digest).toBe(image.digest);
    expect(
      proxy
        .requests()
        .filter((r) => r.url.endsWith('/manifests/v1'))
        .map((r) => r.method),
    ).toEqual(['HEAD', 'GET']);
    const lie = `sha256:${'e'.repeat(64)}`;
    proxy.add({
      method: 'HEAD',
      path: /\/manifests\/v1$/,
      fault: { kind: 'headers', set: { 'docker-content-digest': '' } },
    });
    proxy.add({
      method: 'GET',
      path: /\/manifests\/v1$/,
      fault: { kind: 'headers', set: { 'docker-content-digest': lie } },
    });
    const err = await failure(client().resolveManifest(repo, 'v1'));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(lie);
  });

  it('refuses a config longer than its descriptor', async () => {
    proxy.add({
      method: 'GET',
      path: `/v2/${repo}/blobs/${image.configDigest}`,
      fault: { kind: 'append', bytes: Buffer.from('xx') },
    });
    expect((await failure(client().fetchBlobBytes(repo, configDescriptor()))).code).toBe('SIZE_MISMATCH');
  });

  it('refuses a Content-Type that disagrees with the mediaType (CVE-2021-41190)', async () => {
    proxy.add({
      ...manifestGet,
      fault: { kind: 'headers', set: { 'content-type': 'application/vnd.oci.image.index.v1+json' } },
    });
    const err = await failure(client().fetchManifest(repo, image.digest));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).toContain('CVE-2021-41190');
  });

  it('refuses a manifest over 4 MiB while streaming, declared or not, without reading it all', async () => {
    const total = 64 * mib;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
    proxy.add({ ...manifestGet, fault: { kind: 'generate', status: 200, headers, chunk, total } });
    const streamed = await failure(client().fetchManifest(repo, image.digest));
    expect(streamed.code).toBe('TOO_LARGE');
    proxy.add({
      ...manifestGet,
      fault: { kind: 'generate', status: 200, headers, chunk, total, declareLength: true },
    });
    expect((await failure(client().fetchManifest(repo, image.digest))).code).toBe('TOO_LARGE');
    const generated = proxy.requests().filter((r) => r.fault === 'generate');
    expect(generated).toHaveLength(2);
    for (const r of generated) {
      expect(r.bytesSent).toBeLessThan(16 * mib);
    }
  });

  it('reads at most 1 MiB of an error body and still reports the status', async () => {
    proxy.add({
      ...manifestGet,
      fault: { kind: 'generate', status: 404, chunk: Buffer.alloc(64 * 1024, 0x41), total: 64 * mib },
    });
    const err = await failure(client().fetchManifest(repo, image.digest));
    expect(err.code).toBe('MANIFEST_UNKNOWN');
    const record = proxy.requests().find((r) => r.fault === 'generate');
    expect(record?.bytesSent).toBeLessThan(64 * mib);
  });

  it('refuses a token response over 1 MiB', async () => {
    proxy.add({
      method: 'GET',
      path: '/v2/',
      times: 10,
      fault: {
        kind: 'status',
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${proxy.url}/huge-token",service="svc"` },
      },
    });
    proxy.add({
      path: '/huge-token',
      times: 10,
      fault: { kind: 'generate', status: 200, chunk: Buffer.alloc(65536, 0x7b), total: 64 * mib },
    });
    const err = await failure(client().fetchManifest(repo, image.digest));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toContain('token response');
  });
});

describe('redirects', () => {
  it('drops Authorization on a redirect to another host and keeps Range', async () => {
    const layer = layerOf(1);
    const other = `localhost:${proxy.port}`;
    proxy.add({
      method: 'GET',
      path: `/v2/${repo}/blobs/${layer.digest}`,
      fault: { kind: 'redirect', location: `http://${other}/storage/blob?sig=abc` },
    });
    proxy.add({
      method: 'GET',
      path: '/storage/blob',
      fault: { kind: 'status', status: 200, body: layer.bytes },
    });
    const blob = await client().fetchBlob(repo, layer.digest, { offset: 5 });
    expect(blob.status).toBe(200);
    expect(blob.start).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of blob.body as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(sha256(Buffer.concat(chunks))).toBe(layer.digest);
    const [first, second] = proxy
      .requests()
      .filter((r) => r.url.includes(layer.digest) || r.url.startsWith('/storage/'));
    expect(first).toMatchObject({ host: proxy.host, authorization: true, range: 'bytes=5-' });
    expect(second).toMatchObject({
      host: other,
      authorization: false,
      range: 'bytes=5-',
      url: '/storage/blob?sig=abc',
    });
  });

  it('bounds a redirect loop', async () => {
    const path = `/v2/${repo}/manifests/${image.digest}`;
    proxy.add({ method: 'GET', path, times: 50, fault: { kind: 'redirect', location: path } });
    const err = await failure(client().fetchManifest(repo, image.digest));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('too many redirects');
    expect(proxy.requests().filter((r) => r.fault === 'redirect')).toHaveLength(6);
  });
});

describe('a secure registry behind an https proxy', () => {
  let scratch: string;
  let secure: FaultProxy;
  let ca: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-faults-tls-'));
    const certs = await createTestCertificates(scratch);
    ca = certs.caCert;
    secure = await startFaultProxy(registry.url, { tls: { cert: certs.serverCert, key: certs.serverKey } });
  });
  afterAll(async () => {
    await secure?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  function secureClient(): RegistryClient {
    return client({ registry: secure.host, insecure: false, certificates: { ca: [ca] } });
  }

  it('works through the https proxy with the test CA', async () => {
    expect((await secureClient().resolveManifest(repo, 'v1')).digest).toBe(image.digest);
  });

  it('never follows a redirect from https down to http', async () => {
    const layer = layerOf(1);
    secure.add({
      method: 'GET',
      path: `/v2/${repo}/blobs/${layer.digest}`,
      fault: { kind: 'redirect', location: `${proxy.url}/storage/x` },
    });
    const err = await failure(secureClient().fetchBlob(repo, layer.digest));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('refusing a redirect from https to plain http');
    expect(proxy.requests().some((r) => r.url === '/storage/x')).toBe(false);
  });

  it('refuses a plain-http auth realm on an https registry', async () => {
    secure.add({
      method: 'GET',
      path: '/v2/',
      times: 10,
      fault: {
        kind: 'status',
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${proxy.url}/token",service="svc"` },
      },
    });
    const err = await failure(secureClient().fetchManifest(repo, image.digest));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain('refusing the plain-http auth realm');
    expect(proxy.requests().some((r) => r.url.startsWith('/token'))).toBe(false);
  });
});
