import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { storeCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { startRegistry, type TestRegistry } from './registry';

/**
 * Opens the store at `root` with a Puller that reaches `registry` through a proxy at `proxyHost`, logged in with
 * the registry's credentials saved to `authFile`; fast retries so fault tests stay quick. Close the pool after.
 */
export async function proxiedPuller(options: {
  root: string;
  authFile: string;
  proxyHost: string;
  registry: TestRegistry;
}): Promise<{ store: ImageStore; puller: Puller; pool: RegistryPool }> {
  const { root, authFile, proxyHost, registry } = options;
  await storeCredentials(
    proxyHost,
    { username: registry.username ?? '', password: registry.password ?? '' },
    { read: [authFile], write: authFile },
  );
  const conf = emptyRegistriesConf();
  const pool = new RegistryPool({
    conf,
    certsDirs: [],
    auth: { read: [authFile], write: authFile },
    client: { retry: { baseDelayMs: 1, maxDelayMs: 5 }, bodyTimeoutMs: 5_000 },
  });
  const store = await ImageStore.open(root);
  const puller = new Puller({
    store,
    registries: pool,
    conf,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  return { store, puller, pool };
}

/** The registry, fault proxy and scratch folder a test file shares, and a Puller per store. */
export interface ProxiedPullerHarness {
  readonly registry: TestRegistry;
  readonly proxy: FaultProxy;
  readonly scratch: string;
  /** Closes `pool` with the others once the file's tests are done. */
  track(pool: RegistryPool): void;
  /** A store at `root` (a fresh one under `scratch` by default) with its own Puller through the proxy. */
  setup(root?: string): Promise<{ store: ImageStore; puller: Puller; root: string }>;
}

/**
 * Registers hooks that start a registry (htpasswd unless `auth: 'none'`) behind a fault proxy, with a scratch
 * folder named after `prefix`, before the file's tests, and stop them (with every pool) after. Call at a file's
 * top level; `setup` needs the htpasswd registry.
 */
export function proxiedPullerHarness(
  prefix: string,
  options: { auth?: 'htpasswd' | 'none' } = {},
): ProxiedPullerHarness {
  let scratch: string | undefined;
  let registry: TestRegistry | undefined;
  let proxy: FaultProxy | undefined;
  const pools: RegistryPool[] = [];
  let count = 0;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('the proxied-puller harness has not started (use it inside tests)');
    return value;
  };
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), `${prefix}-`));
    registry = await startRegistry(options.auth === 'none' ? {} : { auth: 'htpasswd' });
    proxy = await startFaultProxy(registry.url);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await proxy?.stop();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  return {
    get registry() {
      return started(registry);
    },
    get proxy() {
      return started(proxy);
    },
    get scratch() {
      return started(scratch);
    },
    track(pool) {
      pools.push(pool);
    },
    async setup(root = join(started(scratch), `store-${count++}`)) {
      const { store, puller, pool } = await proxiedPuller({
        root,
        authFile: join(started(scratch), `auth-${count++}.json`),
        proxyHost: started(proxy).host,
        registry: started(registry),
      });
      pools.push(pool);
      return { store, puller, root };
    },
  };
}
