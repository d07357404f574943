import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArchive } from '../../electron/core/archive/load';
import { saveImages } from '../../electron/core/archive/save';
import { Pusher } from '../../electron/core/push/push';
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
let pushed: FixtureImage;
/** The two images every load archive holds, and the archives (one per format). */
let loadImages: { image: FixtureImage; name: string }[];
let archives: { file: string; size: number }[];

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
 * Each kind of work (pull, tag, prune, push, load) is one entry here and one mode in crash-worker.ts.
 */
interface CrashOperation {
  name: string;
  trials: number;
  args(trial: Trial): Promise<string[]>;
  /** Given each printed line in turn, true when it is time to kill (never true: the worker kills itself). */
  killAt(trial: Trial): (line: string, index: number) => boolean;
  verify(trial: Trial, store: ImageStore, lines: string[]): Promise<void>;
  /** The worker waits for a line on stdin after each line it prints (answered unless it is time to kill). */
  lockstep?: boolean;
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
      // A partial file that already holds every byte (killed before its commit) is committed without a request.
      const whole = kept === big.size;
      expect(ranges).toEqual(had || whole ? [] : [kept > 0 ? `bytes=${kept}-` : undefined]);
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
  {
    name: 'push',
    trials: 6,
    args: async ({ n, root }) => {
      const store = await ImageStore.open(root);
      await addImage(store, pushed, [pushSource]);
      pushBefore.set(n, await storeState(root));
      return ['push', root, pushSource, pushName(n), ...(n % 3 === 2 ? ['before-commit'] : [])];
    },
    killAt: ({ n, rng }) => {
      if (n % 3 === 2) return () => false;
      // Somewhere in the blob bytes, or once every blob is up (the manifest PUT and the commit follow).
      const total = pushed.layers.reduce((sum, l) => sum + l.size, pushed.config.length);
      const at = rng() * 1.2 * total;
      return (line) => line === 'uploaded' || (line.startsWith('progress ') && Number(line.slice(9)) >= at);
    },
    verify: async ({ n, root }, store) => {
      const repo = pushRepo(n);
      const blobs = [pushed.configDigest, ...pushed.layers.map((l) => l.digest)];
      const remote = await remoteManifest(repo);
      // The remote tag is absent or complete: its manifest and every blob it names can be fetched.
      if (remote !== undefined) {
        expect(remote).toBe(pushed.digest);
        for (const digest of blobs) expect(await remoteBlob(repo, digest), digest).toBe(true);
      }
      // The local store is unchanged, but for the pushed repo digest once the registry took the tag.
      const after = await storeState(root);
      const before = pushBefore.get(n);
      expect(after.blobs).toEqual(before?.blobs);
      const recorded = after.index !== before?.index;
      if (recorded) {
        expect(remote).toBe(pushed.digest);
        expect((await store.inspect(pushSource)).repoDigests).toContain(
          `${proxy.host}/${repo}@${pushed.digest}`,
        );
      }
      expect((await store.list()).find((r) => r.id === pushed.configDigest)?.repoTags).toEqual([pushSource]);
      // A re-push succeeds and skips every blob already in the registry: no upload is sent for them.
      const present = new Set<string>();
      for (const digest of blobs) if (await remoteBlob(repo, digest)) present.add(digest);
      pushMoments.add(
        recorded
          ? 'recorded'
          : remote !== undefined
            ? 'tagged, not recorded'
            : present.size === blobs.length
              ? 'every blob up, no tag'
              : present.size > 0
                ? 'some blobs up'
                : 'no blob up',
      );
      const seen = proxy.requests().length;
      const pool = new RegistryPool({
        conf: emptyRegistriesConf(),
        certsDirs: [],
        auth: { read: [], write: `${root}.auth.json` },
      });
      try {
        const outcome = await new Pusher({ store, registries: pool }).push({
          image: pushSource,
          destination: pushName(n),
        });
        expect(outcome.digest).toBe(pushed.digest);
        expect(Object.fromEntries(outcome.blobs.map((b) => [b.digest, b.status])), `push trial ${n}`).toEqual(
          Object.fromEntries(blobs.map((d) => [d, present.has(d) ? 'exists' : 'uploaded'])),
        );
      } finally {
        await pool.close();
      }
      const uploads = proxy
        .requests()
        .slice(seen)
        .filter((r) => r.method === 'PUT' && r.url.includes(`/v2/${repo}/blobs/uploads/`))
        .map((r) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.url)?.[1] ?? ''));
      expect(uploads.sort()).toEqual(blobs.filter((d) => !present.has(d)).sort());
      expect(await remoteManifest(repo)).toBe(pushed.digest);
      for (const digest of blobs) expect(await remoteBlob(repo, digest)).toBe(true);
      expect((await storeState(root)).blobs).toEqual(before?.blobs);
    },
    covered: () => {
      expect(pushMoments.has('some blobs up') || pushMoments.has('every blob up, no tag')).toBe(true);
      expect(pushMoments.has('tagged, not recorded')).toBe(true);
    },
  },
  {
    name: 'load',
    trials: 6,
    lockstep: true,
    args: ({ n, root }) => {
      const crash = loadCrashPoint(n);
      const archive = archives[n % archives.length] as { file: string };
      return Promise.resolve(['load', root, archive.file, ...(crash === undefined ? [] : [crash])]);
    },
    killAt: ({ n, rng }) => {
      if (loadCrashPoint(n) !== undefined) return () => false;
      // Somewhere in the archive's bytes, or once the first of its two images is named.
      const { size } = archives[n % archives.length] as { size: number };
      const at = rng() * 1.1 * size;
      return (line) =>
        line.startsWith('committed ') || (line.startsWith('read ') && Number(line.slice(5)) >= at);
    },
    verify: async ({ n }, store, lines) => {
      const archive = archives[n % archives.length] as { file: string; size: number };
      // Each image of the archive is absent (no name of it) or complete (named, every blob stored).
      const rows = await store.list();
      let named = 0;
      for (const { image, name } of loadImages) {
        const row = rows.find((r) => r.id === image.configDigest);
        if (row === undefined) continue;
        expect(row.repoTags, `load trial ${n}`).toEqual([name]);
        named += 1;
        const details = await store.inspect(name);
        for (const layer of details.layers) expect(await store.hasBlob(layer.digest)).toBe(true);
      }
      const read = Math.max(0, ...lines.filter((l) => l.startsWith('read ')).map((l) => Number(l.slice(5))));
      loadMoments.add(
        named === loadImages.length
          ? 'all named'
          : named > 0
            ? 'one of two named'
            : read < archive.size
              ? 'mid-archive'
              : 'read, none named',
      );
      // Loading again succeeds and names both; the spools a crash left are swept by gc.
      const loaded = await loadArchive(store, { path: archive.file });
      expect(loaded.images.map((i) => i.id).sort()).toEqual(
        loadImages.map((l) => l.image.configDigest).sort(),
      );
      const again = await store.list();
      for (const { image, name } of loadImages)
        expect(again.find((r) => r.id === image.configDigest)?.repoTags).toEqual([name]);
      await store.gc({ ingestGraceMs: 0 });
      expect(await readdir(store.paths.ingest).catch(() => [])).toEqual([]);
    },
    covered: () => {
      expect(loadMoments.has('mid-archive')).toBe(true);
      expect(loadMoments.has('read, none named') || loadMoments.has('one of two named')).toBe(true);
    },
  },
];

/** Where each push and load trial's kill landed, as the registry and the store showed afterwards. */
const pushMoments = new Set<string>();
const loadMoments = new Set<string>();
const pushSource = 'docker.io/library/to-push:1';
/** The store as each push trial started (index.json and the blob list). */
const pushBefore = new Map<number, { index: string; blobs: string[] }>();
const pushRepo = (n: number): string => `berth/pushed-${n}`;
const pushName = (n: number): string => `${proxy.host}/${pushRepo(n)}:1`;
const loadCrashPoint = (n: number): string | undefined =>
  n === 0 ? 'before-commit' : n === 1 ? 'in-commit' : undefined;

async function storeState(root: string): Promise<{ index: string; blobs: string[] }> {
  return {
    index: await readFile(join(root, 'index.json'), 'utf8'),
    blobs: (await readdir(join(root, 'blobs', 'sha256'))).sort(),
  };
}

/** The digest of the manifest the registry holds under `repo:1`, or undefined when it has none. */
async function remoteManifest(repo: string): Promise<string | undefined> {
  const response = await fetch(`${registry.url}/v2/${repo}/manifests/1`, {
    headers: { accept: pushed.mediaType },
  });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** True when the registry serves the whole blob with the right digest; false when it has none. */
async function remoteBlob(repo: string, digest: string): Promise<boolean> {
  const response = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status === 404) return false;
  expect(response.status).toBe(200);
  expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(digest);
  return true;
}

/** Runs one trial of `op`: prepare, start, kill, then the checks every crash must pass. */
async function runTrial(op: CrashOperation, n: number): Promise<void> {
  const root = join(scratch, `${op.name}-${n}`);
  const trial: Trial = { n, root, rng: random(n + 1) };
  const prepared = await ImageStore.open(root);
  const bystander = await addImage(prepared, smallImage('bystander'), [...bystanderNames, 'base']);
  bystanderId = bystander.id;
  const args = await op.args(trial);
  const child = spawn(process.execPath, [join(bundle, 'crash-worker.mjs'), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => undefined);
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
    else if (op.lockstep === true) child.stdin.write('\n');
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
  pushed = buildImage({
    layers: [
      { entries: [{ path: 'push.bin', size: 2 * mib }], gzipLevel: 1 },
      { entries: [{ path: 'pushed.txt', content: 'pushed\n' }] },
    ],
  });
  loadImages = [
    {
      image: buildImage({ layers: [{ entries: [{ path: 'load.bin', size: 2 * mib }], gzipLevel: 1 }] }),
      name: 'docker.io/library/load-a:1',
    },
    { image: smallImage('load-b'), name: 'docker.io/library/load-b:1' },
  ];
  const source = await ImageStore.open(join(scratch, 'load-source'));
  for (const { image, name } of loadImages) await addImage(source, image, [name]);
  archives = [];
  for (const format of ['docker-archive', 'oci-archive'] as const) {
    const file = join(scratch, `load.${format}.tar`);
    await saveImages(source, { images: loadImages.map((l) => l.name), output: file, format });
    archives.push({ file, size: (await stat(file)).size });
  }
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
