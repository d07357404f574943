import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCredentials, type AuthFileLocations } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf, type RegistriesConf } from '../../electron/core/reference/registries-conf';
import { formatPlatform, hostPlatform } from '../../electron/core/registry/platform';
import { createHandlers } from '../../electron/ipc/handlers';
import type { EventName, Handlers, Payload, Platform, PullProgress } from '../../shared/contract';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, buildIndex, pushImage, pushIndex, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { fakeKeychain } from '../support/fake-keychain';
import { SealedCredentialStore } from '../../electron/core/reference/sealed-credentials';
import { ProgressLog } from '../support/progress-log';

let scratch: string;
let registry: TestRegistry;
let proxy: FaultProxy;
let count = 0;

const here = hostPlatform();
const other: Platform =
  here.architecture === 'arm64'
    ? { os: 'linux', architecture: 'amd64' }
    : { os: 'linux', architecture: 'arm64', variant: 'v8' };
const imageFor = (p: Platform, seed: string): FixtureImage =>
  buildImage({
    config: { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) },
    layers: [{ entries: [{ path: 'f', size: 2048, seed }] }],
  });
const mine = imageFor(here, 'mine');
const theirs = imageFor(other, 'theirs');
const index = buildIndex([mine, theirs]);
const v1 = imageFor(here, 'v1');
const v2 = imageFor(here, 'v2');

function conf(): RegistriesConf {
  const c = emptyRegistriesConf();
  c.unqualifiedSearchRegistries = [registry.host, 'blocked.example.com'];
  c.aliases = { 'multi-alias': `${registry.host}/berth/multi` };
  c.registries = [
    {
      prefix: 'blocked.example.com',
      location: 'blocked.example.com',
      insecure: false,
      secure: false,
      blocked: true,
      mirrors: [{ location: 'mirror.example.com', insecure: true, pullFromMirror: 'digest-only' }],
    },
  ];
  c.sources = ['/test/registries.conf'];
  return c;
}

/** Handlers on a fresh store and auth file; with `loggedIn` the registry's credentials are saved first. */
async function setup(
  loggedIn = true,
  savedLogins?: SealedCredentialStore,
): Promise<{
  handlers: Handlers;
  auth: AuthFileLocations;
  until: (match: (p: PullProgress) => boolean) => Promise<PullProgress>;
}> {
  const n = count++;
  const root = join(scratch, `store-${n}`);
  const auth = { read: [join(scratch, `auth-${n}.json`)], write: join(scratch, `auth-${n}.json`) };
  if (loggedIn) {
    await storeCredentials(
      registry.host,
      { username: registry.username ?? '', password: registry.password ?? '' },
      auth,
    );
    await storeCredentials(
      proxy.host,
      { username: registry.username ?? '', password: registry.password ?? '' },
      auth,
    );
  }
  const log = new ProgressLog();
  const handlers = createHandlers({
    storePath: root,
    settingsFile: join(scratch, `settings-${n}.json`),
    host: 'serve',
    version: '0.0.0-test',
    emit: <E extends EventName>(name: E, payload: Payload<E>) => {
      if (name === 'pull:progress') log.record(payload as PullProgress);
    },
    registryEnvironment: { conf: conf(), certsDirs: [], auth },
    ...(savedLogins ? { savedLogins } : {}),
  });
  const until = (match: (p: PullProgress) => boolean): Promise<PullProgress> => log.until(match);
  return { handlers, auth, until };
}

const ended = (pullId: string, after = 0) => {
  let seen = 0;
  return (p: PullProgress) =>
    p.pullId === pullId &&
    (p.state === 'complete' || p.state === 'failed' || p.state === 'cancelled') &&
    seen++ >= after;
};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-registry-handlers-'));
  registry = await startRegistry({ auth: 'htpasswd' });
  proxy = await startFaultProxy(registry.url);
  const auth = { username: registry.username ?? '', password: registry.password ?? '' };
  await pushIndex(registry, 'berth/multi', '1.0', index, auth);
  await pushImage(registry, 'berth/multi', '0.9', theirs, auth);
  await pushImage(registry, 'berth/update', '1', v1, auth);
  await pushImage(registry, 'berth/flaky', '1', v1, auth);
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('registry handlers', () => {
  it('reference:resolve says how aliases and search registries resolve, and refuses bad input', async () => {
    const { handlers } = await setup();
    expect(await handlers['reference:resolve']({ reference: 'multi-alias:1.0' })).toEqual({
      input: 'multi-alias:1.0',
      shortName: true,
      candidates: [{ reference: `${registry.host}/berth/multi:1.0`, origin: 'alias' }],
      blocked: [],
      ambiguous: false,
      summary: `multi-alias:1.0 → ${registry.host}/berth/multi:1.0 (alias)`,
    });
    const search = await handlers['reference:resolve']({ reference: 'berth/app' });
    expect(search.candidates).toEqual([{ reference: `${registry.host}/berth/app:latest`, origin: 'search' }]);
    expect(search.blocked).toEqual(['blocked.example.com']);
    await expect(handlers['reference:resolve']({ reference: 'blocked.example.com/x' })).rejects.toMatchObject(
      {
        code: 'REGISTRY_BLOCKED',
      },
    );
    await expect(handlers['reference:resolve']({ reference: 'Bad//Name' })).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
    });
    await expect(handlers['reference:resolve']({ reference: 42 as unknown as string })).rejects.toMatchObject(
      { code: 'BAD_REQUEST', message: 'reference must be a non-empty string' },
    );
  });

  it('remote:tags lists the repository’s tags, through an alias too; a tagged name is refused', async () => {
    const { handlers } = await setup();
    expect(await handlers['remote:tags']({ repository: `${registry.host}/berth/multi` })).toEqual({
      repository: `${registry.host}/berth/multi`,
      tags: ['0.9', '1.0'],
    });
    expect((await handlers['remote:tags']({ repository: 'multi-alias' })).tags).toEqual(['0.9', '1.0']);
    await expect(
      handlers['remote:tags']({ repository: `${registry.host}/berth/multi:1.0` }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('remote:inspect lists an index’s platforms and what a pull of one downloads', async () => {
    const { handlers } = await setup();
    const remote = await handlers['remote:inspect']({ reference: `${registry.host}/berth/multi:1.0` });
    expect(remote.digest).toBe(index.digest);
    expect(remote.platforms.map(formatPlatform)).toEqual([here, other].map(formatPlatform));
    expect(remote.size).toBe(mine.config.length + (mine.layers[0]?.size ?? 0));
    const chosen = await handlers['remote:inspect']({
      reference: `${registry.host}/berth/multi:1.0`,
      platform: formatPlatform(other),
    });
    expect(chosen.size).toBe(theirs.config.length + (theirs.layers[0]?.size ?? 0));
    await expect(
      handlers['remote:inspect']({ reference: `${registry.host}/berth/multi:nope` }),
    ).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
  });

  it('registries:login verifies first (nothing saved on a wrong password), lists the login, logout removes it', async () => {
    const { handlers, auth } = await setup(false);
    const listed = await handlers['registries:list']({});
    expect(listed).toMatchObject({
      sources: ['/test/registries.conf'],
      searchRegistries: [registry.host, 'blocked.example.com'],
      aliases: { 'multi-alias': `${registry.host}/berth/multi` },
      registries: [
        {
          prefix: 'blocked.example.com',
          blocked: true,
          mirrors: [{ location: 'mirror.example.com', insecure: true, pullFromMirror: 'digest-only' }],
        },
      ],
      credentials: [],
      authFile: auth.write,
    });
    await expect(
      handlers['registries:login']({
        registry: registry.host,
        username: registry.username ?? '',
        password: 'wrong',
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(readFile(auth.write, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    const password = registry.password ?? '';
    expect(
      await handlers['registries:login']({
        registry: registry.host,
        username: registry.username ?? '',
        password,
      }),
    ).toEqual({ registry: registry.host, file: auth.write });
    const after = await handlers['registries:list']({});
    expect(after.credentials).toEqual([
      { registry: registry.host, username: registry.username, source: auth.write },
    ]);
    expect(JSON.stringify(after)).not.toContain(password);
    expect(JSON.stringify(after)).not.toContain(
      Buffer.from(`${registry.username ?? ''}:${password}`).toString('base64'),
    );

    expect(await handlers['registries:logout']({ registry: registry.host })).toMatchObject({ removed: true });
    expect((await handlers['registries:list']({})).credentials).toEqual([]);
  });

  it('in the desktop app, registries:login seals the login with the keychain (no auth file) and pulls use it', async () => {
    const sealed = new SealedCredentialStore(join(scratch, `sealed-${count}.json`), fakeKeychain());
    const { handlers, auth, until } = await setup(false, sealed);
    const password = registry.password ?? '';
    expect(
      await handlers['registries:login']({
        registry: registry.host,
        username: registry.username ?? '',
        password,
      }),
    ).toEqual({ registry: registry.host, file: sealed.file });
    await expect(readFile(auth.write, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(sealed.file, 'utf8')).not.toContain(password);
    expect((await handlers['registries:list']({})).credentials).toEqual([
      { registry: registry.host, username: registry.username, source: `desktop keychain (${sealed.file})` },
    ]);

    const { pullId } = await handlers['pull:start']({ reference: `${registry.host}/berth/update:1` });
    expect((await until(ended(pullId))).state).toBe('complete');

    expect(await handlers['registries:logout']({ registry: registry.host })).toEqual({
      registry: registry.host,
      removed: true,
      file: sealed.file,
    });
    expect(await sealed.registries()).toEqual([]);
    expect((await handlers['registries:list']({})).credentials).toEqual([]);
  });

  it('images:check-update compares the stored digest with the registry’s current one', async () => {
    const { handlers, until } = await setup();
    const reference = `${registry.host}/berth/update:1`;
    const { pullId } = await handlers['pull:start']({ reference });
    expect((await until(ended(pullId))).state).toBe('complete');
    expect(await handlers['images:check-update']({ image: v1.configDigest })).toEqual({
      name: reference,
      localDigest: v1.digest,
      remoteDigest: v1.digest,
      upToDate: true,
    });
    await pushImage(registry, 'berth/update', '1', v2, {
      username: registry.username ?? '',
      password: registry.password ?? '',
    });
    expect(await handlers['images:check-update']({ image: v1.configDigest, name: reference })).toMatchObject({
      remoteDigest: v2.digest,
      upToDate: false,
    });
    await expect(handlers['images:check-update']({ image: 'sha256:0000' })).rejects.toMatchObject({
      code: expect.stringMatching(/IMAGE_UNKNOWN|NOT_FOUND|AMBIGUOUS_ID/) as unknown as string,
    });
  });

  it('pull:retry runs a failed pull again under the same ID', async () => {
    const { handlers, until } = await setup();
    proxy.add({ path: '/v2/berth/flaky/manifests/1', times: 1, fault: { kind: 'status', status: 403 } });
    const { pullId } = await handlers['pull:start']({ reference: `${proxy.host}/berth/flaky:1` });
    const failed = await until(ended(pullId));
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('DENIED');
    expect(await handlers['pull:retry']({ pullId })).toEqual({ pullId });
    const retried = await until(ended(pullId, 1));
    expect(retried.state).toBe('complete');
    expect(retried.imageId).toBe(v1.configDigest);
    expect((await handlers['pull:list']({})).filter((p) => p.pullId === pullId)).toHaveLength(1);
    await expect(handlers['pull:retry']({ pullId: 'no-such-pull' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
