import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool, type RegistryEnvironment } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { Pusher, type PusherOptions, type PushOutcome } from '../../electron/core/push/push';
import { ImageStore } from '../../electron/core/store/image-store';
import type { PullProgress } from '../../shared/contract';
import { startFaultProxy, type FaultProxy, type ProxyRequestRecord } from '../support/fault-proxy.js';
import {
  buildImage,
  buildIndex,
  pushBlob,
  pushImage,
  pushIndex,
  smallImage,
  type FixtureImage,
  type FixtureIndex,
} from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { failure } from '../support/failure';

const run = promisify(execFile);
const mib = 1024 * 1024;

let scratch: string;
/** Token auth: `berth` may do anything, `reader` may only pull. */
let registry: TestRegistry;
let proxy: FaultProxy;
/** A second registry without auth, so pushes there upload rather than mount. */
let plain: TestRegistry;
let plainProxy: FaultProxy;
let three: FixtureImage;
let big: FixtureImage;
let multi: FixtureIndex;
const pools: RegistryPool[] = [];
let count = 0;

const users = { berth: 'berth-secret', reader: 'reader-secret' };

async function environment(account?: { username: string; password: string }): Promise<RegistryEnvironment> {
  const file = join(scratch, `auth-${count++}.json`);
  if (account) await storeCredentials(proxy.host, account, { read: [file], write: file });
  return {
    conf: emptyRegistriesConf(),
    certsDirs: [],
    auth: { read: [file], write: file },
    client: { retry: { baseDelayMs: 1, maxDelayMs: 5 }, bodyTimeoutMs: 10_000 },
  };
}

async function setup(
  account: { username: string; password: string } | undefined = { username: 'berth', password: users.berth },
  options: Partial<PusherOptions> = {},
): Promise<{ store: ImageStore; puller: Puller; pusher: Pusher }> {
  const store = await ImageStore.open(join(scratch, `store-${count++}`));
  const env = await environment(account);
  const pool = new RegistryPool(env);
  pools.push(pool);
  const puller = new Puller({
    store,
    registries: pool,
    conf: env.conf,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  const pusher = new Pusher({
    store,
    registries: pool,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  return { store, puller, pusher };
}

/** A store holding `reference`, pulled with full rights (through the proxy, so names carry its host). */
async function pulled(
  reference: string,
  allPlatforms = false,
  options: Partial<PusherOptions> = {},
): Promise<{ store: ImageStore; pusher: Pusher; imageId: string }> {
  const { store, puller, pusher } = await setup(undefined, options);
  const outcome = await puller.pull({ reference, allPlatforms });
  return { store, pusher, imageId: outcome.imageId ?? '' };
}

async function push(
  pusher: Pusher,
  image: string,
  destination?: string,
): Promise<{ outcome: PushOutcome; events: PullProgress[] }> {
  const events: PullProgress[] = [];
  const outcome = await pusher.push({
    image,
    ...(destination === undefined ? {} : { destination }),
    onProgress: (p) => events.push(p),
  });
  return { outcome, events };
}

/** Requests that carry blob bytes: PUT or PATCH on an upload session. */
function uploads(records: ProxyRequestRecord[]): ProxyRequestRecord[] {
  return records.filter(
    (r) => (r.method === 'PUT' || r.method === 'PATCH') && r.url.includes('/blobs/uploads/'),
  );
}

async function skopeoRaw(reference: string, creds?: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    'skopeo',
    [
      'inspect',
      '--raw',
      '--tls-verify=false',
      ...(creds ? [`--creds=${creds}`] : []),
      `docker://${reference}`,
    ],
    { env: { PATH: process.env.PATH, HOME: scratch } },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-push-'));
  registry = await startRegistry({
    auth: 'token',
    users,
    tokenPolicy: (account, _resource, requested) =>
      account === 'berth' ? requested : account === 'reader' ? requested.filter((a) => a === 'pull') : [],
  });
  proxy = await startFaultProxy(registry.url);
  plain = await startRegistry();
  plainProxy = await startFaultProxy(plain.url);
  three = buildImage({
    layers: [0, 1, 2].map((i) => ({
      entries: [{ path: `layer-${i}.bin`, size: 48 * 1024 * (i + 1) }],
      gzipLevel: 1,
    })),
    config: { labels: { purpose: 'push' } },
  });
  big = buildImage({ layers: [{ entries: [{ path: 'big.bin', size: 3 * mib }], compression: 'none' }] });
  multi = buildIndex([
    smallImage('push-amd64'),
    smallImage('push-arm64', { architecture: 'arm64', variant: 'v8' }),
    smallImage('push-armv7', { architecture: 'arm', variant: 'v7' }),
  ]);
  await pushImage(registry, 'berth/a', '1', three);
  await pushImage(registry, 'berth/big', '1', big);
  await pushIndex(registry, 'berth/multi', 'latest', multi);
  // B already holds the first layer, so HEAD must skip it.
  await pushBlob(registry, 'berth/b', three.layers[0]!.digest, three.layers[0]!.bytes);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await proxy?.stop();
  await plainProxy?.stop();
  await registry?.stop();
  await plain?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('push to the real registry', () => {
  it('pushes an image from repository A to B with HEAD skips and cross-repository mounts, no re-upload', async () => {
    const source = `${proxy.host}/berth/a:1`;
    const { store, pusher, imageId } = await pulled(source);
    proxy.clear();
    const { outcome, events } = await push(pusher, source, `${proxy.host}/berth/b:1`);
    const log = proxy.requests();

    expect(outcome.imageId).toBe(three.configDigest);
    expect(outcome.digest).toBe(three.digest);
    const status = new Map(outcome.blobs.map((b) => [b.digest, b.status]));
    expect(status.get(three.layers[0]!.digest)).toBe('exists');
    for (const digest of [three.configDigest, three.layers[1]!.digest, three.layers[2]!.digest]) {
      expect(status.get(digest)).toBe('mounted');
      expect(
        log.some(
          (r) =>
            r.method === 'POST' &&
            r.url.includes(`mount=${encodeURIComponent(digest)}`) &&
            r.url.includes(`from=${encodeURIComponent('berth/a')}`) &&
            r.status === 201,
        ),
      ).toBe(true);
    }
    expect(log.filter((r) => r.method === 'HEAD' && r.url.includes('/blobs/'))).toHaveLength(4);
    expect(uploads(log)).toEqual([]);
    expect(outcome.bytesUploaded).toBe(0);
    expect(log.filter((r) => r.method === 'PUT' && r.url === '/v2/berth/b/manifests/1')).toHaveLength(1);

    // skopeo sees the same manifest and config; a fresh store pulling B gets the same image ID.
    const raw = await skopeoRaw(`${registry.host}/berth/b:1`, `berth:${users.berth}`);
    expect((raw.config as { digest: string }).digest).toBe(three.configDigest);
    const fresh = await setup();
    expect((await fresh.puller.pull({ reference: `${proxy.host}/berth/b:1` })).imageId).toBe(imageId);

    // The pushed repo digest is recorded, with a push event, and progress went out as a push.
    const [summary] = await store.list({ reference: [source] });
    expect(summary?.repoDigests).toContain(`${proxy.host}/berth/b@${three.digest}`);
    const [event] = (await store.events()).filter((e) => e.action === 'push');
    expect(event?.id).toBe(imageId);
    expect(events.at(-1)).toMatchObject({
      kind: 'push',
      state: 'complete',
      reference: `${proxy.host}/berth/b:1`,
    });
    expect(events.at(-1)?.layers.every((l) => l.status === 'exists')).toBe(true);
  });

  it('a tag-only push uploads nothing but the manifest', async () => {
    const source = `${proxy.host}/berth/a:1`;
    const { pusher } = await pulled(source);
    await push(pusher, source, `${proxy.host}/berth/c:1`);
    proxy.clear();
    const { outcome } = await push(pusher, source, `${proxy.host}/berth/c:2`);
    const log = proxy.requests();
    expect(outcome.blobs.every((b) => b.status === 'exists')).toBe(true);
    expect(uploads(log)).toEqual([]);
    expect(log.filter((r) => r.url.includes('mount='))).toEqual([]);
    expect(log.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual(['/v2/berth/c/manifests/2']);
    const raw = await skopeoRaw(`${registry.host}/berth/c:2`, `berth:${users.berth}`);
    expect((raw.config as { digest: string }).digest).toBe(three.configDigest);
  });

  it('pushes a multi-platform image (platform manifests, then the index) and it pulls back whole', async () => {
    const { pusher, store } = await pulled(`${proxy.host}/berth/multi:latest`, true);
    expect(await store.list()).toHaveLength(3);
    plainProxy.clear();
    const destination = `${plainProxy.host}/multi/copy:1`;
    const { outcome } = await push(pusher, `${proxy.host}/berth/multi:latest`, destination);
    expect(outcome.digest).toBe(multi.digest);
    expect(outcome.manifests.map((m) => m.digest)).toEqual([
      ...multi.children.map((c) => c.digest),
      multi.digest,
    ]);
    expect(outcome.manifests.at(-1)?.mediaType).toBe(multi.mediaType);
    expect(outcome.blobs.every((b) => b.status === 'uploaded')).toBe(true);
    const puts = plainProxy.requests().filter((r) => r.method === 'PUT' && r.url.includes('/manifests/'));
    expect(puts.map((r) => r.url)).toEqual([
      ...multi.children.map((c) => `/v2/multi/copy/manifests/${c.digest}`),
      '/v2/multi/copy/manifests/1',
    ]);

    const raw = await skopeoRaw(`${plain.host}/multi/copy:1`);
    expect((raw.manifests as { digest: string }[]).map((m) => m.digest)).toEqual(
      multi.children.map((c) => c.digest),
    );
    const fresh = await setup(undefined);
    const back = await fresh.puller.pull({ reference: destination, allPlatforms: true });
    expect(back.digest).toBe(multi.digest);
    expect(back.images.map((i) => i.imageId).sort()).toEqual(
      multi.children.map((c) => c.configDigest).sort(),
    );
  });

  it('pushes only its own platform manifest when the other platforms of its index are not in the store', async () => {
    const { pusher } = await pulled(`${proxy.host}/berth/multi:latest`);
    const amd64 = multi.children[0]!;
    const destination = `${plainProxy.host}/multi/single:1`;
    const { outcome } = await push(pusher, `${proxy.host}/berth/multi:latest`, destination);
    expect(outcome).toMatchObject({ digest: amd64.digest, indexSkipped: multi.digest });
    expect(outcome.manifests).toEqual([{ digest: amd64.digest, mediaType: amd64.mediaType }]);
    const raw = await skopeoRaw(`${plain.host}/multi/single:1`);
    expect((raw.config as { digest: string }).digest).toBe(amd64.configDigest);
  });

  it('cancels a running push and leaves the image as it was', async () => {
    const { pusher, store } = await pulled(`${proxy.host}/berth/big:1`, false, { progressIntervalMs: 0 });
    const before = await store.list();
    plainProxy.clear();
    plainProxy.add({
      method: 'PUT',
      path: /\/blobs\/uploads\//,
      times: 100,
      fault: { kind: 'status', status: 503 },
    });
    const controller = new AbortController();
    const events: PullProgress[] = [];
    const pushing = pusher.push({
      image: `${proxy.host}/berth/big:1`,
      destination: `${plainProxy.host}/cancelled:1`,
      signal: controller.signal,
      onProgress: (p) => {
        events.push(p);
        if (p.layers.some((l) => l.status === 'retrying')) controller.abort();
      },
    });
    const err = await failure(pushing);
    plainProxy.clear();
    expect(err.code).toBe('CANCELLED');
    expect(events.at(-1)?.state).toBe('cancelled');
    expect(await store.list()).toEqual(before);
  });

  it('retries 503s on POST, PUT and PATCH, and resumes a failed closing PUT from the reported Range', async () => {
    const { pusher, imageId } = await pulled(`${proxy.host}/berth/big:1`, false, {
      chunkThreshold: 1 * mib,
      chunkSize: 512 * 1024,
      progressIntervalMs: 0,
    });
    plainProxy.clear();
    const layer = big.layers[0]!.digest;
    const fault = { kind: 'status' as const, status: 503, body: '{"errors":[{"code":"UNAVAILABLE"}]}' };
    plainProxy.add({ method: 'POST', path: /\/blobs\/uploads\/$/, fault });
    plainProxy.add({ method: 'PATCH', path: /\/blobs\/uploads\//, fault });
    plainProxy.add({ method: 'PUT', path: new RegExp(`digest=${encodeURIComponent(layer)}`), fault });
    plainProxy.add({
      method: 'PUT',
      path: new RegExp(`digest=${encodeURIComponent(big.configDigest)}`),
      fault,
    });
    const destination = `${plainProxy.host}/faulty:1`;
    const { outcome, events } = await push(pusher, `${proxy.host}/berth/big:1`, destination);
    const log = plainProxy.requests();
    expect(log.filter((r) => r.fault === 'status')).toHaveLength(4);
    expect(outcome.blobs.every((b) => b.status === 'uploaded')).toBe(true);
    // The big layer went up in PATCH chunks; after a failure a status GET read the session's Range.
    const patches = log.filter((r) => r.method === 'PATCH' && r.status === 202);
    expect(patches.length).toBe(Math.ceil(big.layers[0]!.size / (512 * 1024)));
    expect(log.some((r) => r.method === 'GET' && r.url.includes('/blobs/uploads/') && r.status === 204)).toBe(
      true,
    );
    expect(events.some((e) => e.layers.some((l) => l.status === 'retrying'))).toBe(true);

    const fresh = await setup(undefined);
    expect((await fresh.puller.pull({ reference: destination })).imageId).toBe(imageId);
  });
});

describe('a push that cannot start says why, before any upload', () => {
  const cases: [string, { username: string; password: string } | undefined, string, string][] = [
    ['no credentials', undefined, 'UNAUTHORIZED', 'no-credentials'],
    ['wrong credentials', { username: 'berth', password: 'wrong' }, 'UNAUTHORIZED', 'credentials-refused'],
    ['no push permission', { username: 'reader', password: users.reader }, 'DENIED', 'no-push-permission'],
  ];
  it.each(cases)('%s', async (_name, account, code, reason) => {
    const source = `${proxy.host}/berth/a:1`;
    const { store } = await pulled(source);
    const env = await environment(account);
    const pool = new RegistryPool(env);
    pools.push(pool);
    const pusher = new Pusher({ store, registries: pool, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    const before = await store.list();
    proxy.clear();
    const err = await failure(pusher.push({ image: source, destination: `${proxy.host}/berth/denied:1` }));
    expect(err.code).toBe(code);
    expect(err.detail?.reason).toBe(reason);
    expect(err.message).toContain(`${proxy.host}/berth/denied`);
    const log = proxy.requests();
    expect(uploads(log)).toEqual([]);
    expect(log.filter((r) => r.method === 'HEAD' || r.url.includes('mount='))).toEqual([]);
    expect(await store.list()).toEqual(before);
  });
});
