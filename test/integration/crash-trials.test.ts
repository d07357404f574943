import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, pushImage, smallImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { addImage } from '../unit/store/add-image';

const mib = 1024 * 1024;
const bystanderNames = ['docker.io/library/keep:1', 'docker.io/library/keep:2'];

let scratch: string;
let bundle: string;
let registry: TestRegistry;
let proxy: FaultProxy;
let pulled: FixtureImage;
let bystanderId: string;

/** Seeded xorshift, so a failing trial can be replayed by its number. */
function random(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** What a trial hands its operation: the store folder, the trial's number and its seeded randomness. */
interface Trial {
  n: number;
  root: string;
  rng: () => number;
}

/**
 * One kind of store work to crash. The trial loop prepares a store holding a bystander image, starts the
 * worker with `args`, SIGKILLs it when `killAt` says so (or it kills itself), then checks fsck is clean and
 * the bystander's names are intact before calling `verify` with every line the worker printed.
 * Adding push or load is one more entry here and one more mode in crash-worker.ts.
 */
interface CrashOperation {
  name: string;
  trials: number;
  args(trial: Trial): Promise<string[]>;
  /** Given each printed line in turn, true when it is time to kill (never true: the worker kills itself). */
  killAt(trial: Trial): (line: string, index: number) => boolean;
  verify(trial: Trial, store: ImageStore, lines: string[]): Promise<void>;
  /** After all trials: the seeds reached the moments that matter (so the trials cannot pass vacuously). */
  covered?(): void;
}

/** Where each pull trial's kill landed, as the store showed afterwards. */
const pullMoments = new Set<string>();

const pullRepo = (n: number): string => `berth/crash-${n}`;
const pullName = (n: number): string => `${proxy.host}/${pullRepo(n)}:1`;
const pullCrashPoint = (n: number): string | undefined =>
  n % 4 === 0 ? 'before-commit' : n % 4 === 1 ? 'in-commit' : undefined;

const operations: CrashOperation[] = [
  {
    name: 'pull',
    trials: 8,
    args: async ({ n, root }) => {
      await pushImage(registry, pullRepo(n), '1', pulled);
      const crash = pullCrashPoint(n);
      return ['pull', root, pullName(n), ...(crash === undefined ? [] : [crash])];
    },
    killAt: ({ n, rng }) => {
      if (pullCrashPoint(n) !== undefined) return () => false;
      // Somewhere in the layer bytes, or once every layer is stored (verify, index, commit).
      const total = pulled.layers.reduce((sum, l) => sum + l.size, 0);
      const at = rng() * 1.25 * total;
      return (line) => line === 'stored' || (line.startsWith('progress ') && Number(line.slice(9)) >= at);
    },
    verify: async ({ n, root }, store) => {
      const crash = pullCrashPoint(n);
      const named = (await store.list()).some((r) => r.repoTags.includes(pullName(n)));
      if (crash === 'before-commit') {
        expect(named, 'a crash before the commit leaves the name unwritten').toBe(false);
        for (const layer of pulled.layers) expect(await store.hasBlob(layer.digest)).toBe(true);
      }
      if (named) {
        // Absent or complete: a written name has every blob.
        const details = await store.inspect(pullName(n));
        expect(details.id).toBe(pulled.configDigest);
        for (const layer of pulled.layers) expect(await store.hasBlob(layer.digest)).toBe(true);
      }
      // The next pull resumes: a partial layer continues from its length, a stored one is not fetched again.
      const big = pulled.layers[0] as FixtureImage['layers'][number];
      const partial = join(store.paths.ingest, `sha256-${big.digest.slice(7)}`);
      const kept = (await stat(partial).catch(() => undefined))?.size ?? 0;
      const had = await store.hasBlob(big.digest);
      pullMoments.add(
        named ? 'named' : had ? 'stored, not named' : kept > 0 ? 'mid-layer' : 'before any byte',
      );
      const bigGets = (): { range: string | undefined }[] =>
        proxy
          .requests()
          .filter((r) => r.method === 'GET' && r.url === `/v2/${pullRepo(n)}/blobs/${big.digest}`);
      const seen = bigGets().length;
      const conf = emptyRegistriesConf();
      const pool = new RegistryPool({ conf, certsDirs: [], auth: { read: [], write: `${root}.auth.json` } });
      try {
        const puller = new Puller({
          store,
          registries: pool,
          conf,
          hostPlatform: { os: 'linux', architecture: 'amd64' },
        });
        const outcome = await puller.pull({ reference: pullName(n), policy: 'always' });
        expect(outcome.imageId).toBe(pulled.configDigest);
      } finally {
        await pool.close();
      }
      const ranges = bigGets()
        .slice(seen)
        .map((r) => r.range);
      expect(ranges).toEqual(had ? [] : [kept > 0 ? `bytes=${kept}-` : undefined]);
      expect((await store.list()).find((r) => r.repoTags.includes(pullName(n)))?.id).toBe(
        pulled.configDigest,
      );
    },
  },
  {
    name: 'tag',
    trials: 6,
    args: ({ n, root }) => Promise.resolve(['tags', root, String(n + 1)]),
    killAt: ({ rng }) => {
      const at = 2 + Math.floor(rng() * 60);
      return (_line, index) => index >= at;
    },
    verify: async (_trial, store, lines) => {
      // Each name's last finished tag or untag holds; only the one in flight at the kill may be either way.
      const expected = new Map<string, boolean>();
      let inFlight: string | undefined;
      for (const line of lines) {
        const [word, name = ''] = line.split(' ');
        if (word === 'start') inFlight = name;
        if (word === 'tagged' || word === 'untagged') {
          expected.set(name, word === 'tagged');
          inFlight = undefined;
        }
      }
      const [row] = (await store.list()).filter((r) => r.id === bystanderId);
      for (const [name, present] of expected) {
        if (name === inFlight) continue;
        expect(row?.repoTags.includes(`docker.io/library/${name}:latest`), name).toBe(present);
      }
    },
  },
  {
    name: 'prune',
    trials: 6,
    args: ({ n, root }) => Promise.resolve(['prune', root, String(n + 1)]),
    killAt: ({ rng }) => {
      const at = 1 + Math.floor(rng() * 24);
      return (_line, index) => index >= at;
    },
    verify: async (_trial, store, lines) => {
      // A dangling image committed before a finished prune is gone; named images are untouched.
      const ids = new Set((await store.list()).map((r) => r.id));
      let pending: string[] = [];
      for (const line of lines) {
        if (line.startsWith('dangling ')) pending.push(line.slice(9));
        if (line === 'pruned') {
          for (const id of pending) expect(ids.has(id), id).toBe(false);
          pending = [];
        }
      }
      expect(ids.has(bystanderId)).toBe(true);
    },
  },
];

/** Runs one trial of `op`: prepare, start, kill, then the checks every crash must pass. */
async function runTrial(op: CrashOperation, n: number): Promise<void> {
  const root = join(scratch, `${op.name}-${n}`);
  const trial: Trial = { n, root, rng: random(n + 1) };
  const prepared = await ImageStore.open(root);
  const bystander = await addImage(prepared, smallImage('bystander'), [...bystanderNames, 'base']);
  bystanderId = bystander.id;
  const args = await op.args(trial);
  const child = spawn(process.execPath, [join(bundle, 'crash-worker.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  const killAt = op.killAt(trial);
  const reader = createInterface({ input: child.stdout });
  reader.on('line', (line) => {
    lines.push(line);
    if (killAt(line, lines.length - 1)) child.kill('SIGKILL');
  });
  const { code, signal } = await exited;
  await new Promise<void>(
    (resolve) => (reader.once('close', resolve), child.stdout.readableEnded && resolve()),
  );
  expect(signal === 'SIGKILL' || code === 0, `${op.name} trial ${n} ended ${code}/${signal}: ${stderr}`).toBe(
    true,
  );

  const store = await ImageStore.open(root, { lock: { staleMs: 2000, waitMs: 30_000 } });
  const report = await store.fsck();
  expect(report.problems, `${op.name} trial ${n}`).toEqual([]);
  const [row] = (await store.list()).filter((r) => r.id === bystander.id);
  for (const name of bystanderNames) expect(row?.repoTags, `${op.name} trial ${n}`).toContain(name);
  await op.verify(trial, store, lines);
  expect((await store.fsck()).problems, `${op.name} trial ${n} after verify`).toEqual([]);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-crash-'));
  bundle = join(process.cwd(), 'node_modules', '.cache', `berth-crash-test-${process.pid}`);
  await mkdir(bundle, { recursive: true });
  await build({
    entryPoints: { 'crash-worker': 'test/integration/crash-worker.ts' },
    outdir: bundle,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  pulled = buildImage({
    layers: [
      { entries: [{ path: 'crash.bin', size: 3 * mib }], gzipLevel: 1 },
      { entries: [{ path: 'small.txt', content: 'small\n' }] },
    ],
  });
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
  if (bundle) await rm(bundle, { recursive: true, force: true });
});

describe('SIGKILL at seeded random moments', () => {
  for (const op of operations) {
    it(`${op.name}: ${op.trials} trials leave fsck clean, other names intact, every finished result holding`, async () => {
      // Two lanes: the machine has two cores, and the pull trials each wait out a killed writer's lock.
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < op.trials) await runTrial(op, next++);
      };
      await Promise.all([lane(), lane()]);
      op.covered?.();
    });
  }
});
