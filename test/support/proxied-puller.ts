import { storeCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import type { TestRegistry } from './registry';

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
