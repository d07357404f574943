import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const mib = 1024 * 1024;

let scratch: string;
let childScript: string;
let registry: TestRegistry;
let proxy: FaultProxy;
let image: FixtureImage;
let child: ChildProcess | undefined;

/** The pulling process: pulls argv[3] into the store at argv[2] and prints each progress snapshot's bytes. */
const childSource = `
import { emptyRegistriesConf } from ${JSON.stringify(join(repoRoot, 'electron/core/reference/registries-conf'))};
import { RegistryPool } from ${JSON.stringify(join(repoRoot, 'electron/core/registry/connect'))};
import { Puller } from ${JSON.stringify(join(repoRoot, 'electron/core/pull/pull'))};
import { ImageStore } from ${JSON.stringify(join(repoRoot, 'electron/core/store/image-store'))};
const [root, reference] = process.argv.slice(2);
const store = await ImageStore.open(root);
const conf = emptyRegistriesConf();
const registries = new RegistryPool({ conf, certsDirs: [], auth: { read: [], write: root + '/unused-auth.json' } });
const puller = new Puller({ store, registries, conf, progressIntervalMs: 0 });
await puller.pull({ reference, onProgress: (p) => console.log(JSON.stringify({ done: p.layers[0]?.done ?? 0 })) });
`;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-pull-restart-'));
  // Bundled under node_modules/.cache so the child resolves packages from the project, as the app would.
  const cache = join(repoRoot, 'node_modules', '.cache', 'berth-test');
  await mkdir(cache, { recursive: true });
  const entry = join(cache, `pull-child-${process.pid}.ts`);
  childScript = join(cache, `pull-child-${process.pid}.mjs`);
  await writeFile(entry, childSource);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: childScript,
    logLevel: 'silent',
  });
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  image = buildImage({ layers: [{ entries: [{ path: 'restart.bin', size: 4 * mib }], gzipLevel: 1 }] });
  await pushImage(registry, 'berth/restart', '1', image);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await proxy?.stop();
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
  await rm(childScript.replace(/\.mjs$/, '.ts'), { force: true });
  await rm(childScript, { force: true });
});

describe('a pull killed mid-layer', () => {
  it('resumes in the next process from the bytes the killed one stored', async () => {
    const root = join(scratch, 'store');
    const reference = `${proxy.host}/berth/restart:1`;
    const layer = image.layers[0] as FixtureImage['layers'][number];
    const stallAt = 1_500_000;
    proxy.add({
      method: 'GET',
      path: `/v2/berth/restart/blobs/${layer.digest}`,
      fault: { kind: 'stall', afterBytes: stallAt },
    });

    const spawned = spawn(process.execPath, [childScript, root, reference], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    let stderr = '';
    spawned.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((done) => spawned.once('exit', () => done()));
    const reached = await new Promise<boolean>((done) => {
      createInterface({ input: spawned.stdout }).on('line', (line) => {
        if ((JSON.parse(line) as { done: number }).done >= stallAt) done(true);
      });
      spawned.once('exit', () => done(false));
    });
    expect(reached, stderr).toBe(true);
    spawned.kill('SIGKILL');
    await exited;

    const store = await ImageStore.open(root);
    const conf = emptyRegistriesConf();
    const registries = new RegistryPool({
      conf,
      certsDirs: [],
      auth: { read: [], write: join(scratch, 'auth.json') },
    });
    try {
      const outcome = await new Puller({ store, registries, conf }).pull({ reference });
      expect(outcome.imageId).toBe(image.configDigest);
      expect(await store.hasBlob(layer.digest)).toBe(true);
    } finally {
      await registries.close();
    }
    const fetches = proxy.requests().filter((r) => r.url.endsWith(layer.digest));
    expect(fetches.map((r) => r.range)).toEqual([undefined, `bytes=${stallAt}-`]);
    expect(fetches[1]?.bytesSent).toBe(layer.size - stallAt);
  });
});
