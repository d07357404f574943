import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  emptyRegistriesConf,
  mergeRegistriesConf,
  parseRegistriesConf,
} from '../../electron/core/reference/registries-conf';
import { isInsecureRegistry } from '../../electron/core/reference/registry-rules';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import { BerthError } from '../../shared/error';
import { pushImage, smallImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let image: FixtureImage;
let scratch: string;
const pools: RegistryPool[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-pull-tls-'));
  registry = await startRegistry({ tls: true });
  image = smallImage('tls-pull');
  await pushImage(registry, 'berth/tls', '1', image);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A puller for a registry that registries.conf marks `insecure = false`, trusting the given certs.d folders. */
async function setup(name: string, certsDirs: string[]) {
  const conf = emptyRegistriesConf();
  mergeRegistriesConf(
    conf,
    parseRegistriesConf(`[[registry]]\nlocation = "${registry.host}"\ninsecure = false\n`, 'test.conf'),
  );
  // Loopback is insecure by default; the explicit setting is what makes this a verified-TLS pull.
  expect(isInsecureRegistry(conf, registry.host)).toBe(false);
  const root = join(scratch, name);
  const store = await ImageStore.open(root);
  const pool = new RegistryPool({
    conf,
    certsDirs,
    auth: { read: [], write: join(scratch, `${name}-auth.json`) },
    client: { retry: { baseDelayMs: 1, maxDelayMs: 5 } },
  });
  pools.push(pool);
  return {
    root,
    store,
    puller: new Puller({ store, registries: pool, conf, retry: { baseDelayMs: 1, maxDelayMs: 5 } }),
  };
}

it('pulls over TLS verified with the test CA from a certs.d folder', async () => {
  const { store, puller } = await setup('trusted', [registry.certsDir as string]);
  const outcome = await puller.pull({ reference: `${registry.host}/berth/tls:1` });
  expect(outcome).toMatchObject({ status: 'pulled', imageId: image.configDigest });
  expect((await store.list()).map((i) => i.id)).toEqual([image.configDigest]);
});

it('refuses the same registry without the CA, naming certs.d, and stores nothing', async () => {
  const { root, puller } = await setup('untrusted', []);
  let error: unknown;
  try {
    await puller.pull({ reference: `${registry.host}/berth/tls:1` });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(BerthError);
  expect((error as BerthError).message).toContain(`the TLS certificate of ${registry.host} is not trusted`);
  expect((error as BerthError).message).toContain('certs.d');
  const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: unknown[] };
  expect(index.manifests).toEqual([]);
});
