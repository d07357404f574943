import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../electron/core/store/image-store';
import { smallImage } from '../support/fixture';
import { addImage } from '../unit/store/add-image';
import { namesAfter, tagOps } from './store-ops';

const run = promisify(execFile);
let dir: string;
let bundle: string;

// The worker and the CLI run as real processes. They are bundled with esbuild (vite's own bundler) into
// node_modules/.cache so their bare imports resolve against the project's node_modules.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-procs-'));
  bundle = join(process.cwd(), 'node_modules', '.cache', `berth-store-test-${process.pid}`);
  await mkdir(bundle, { recursive: true });
  await build({
    entryPoints: { worker: 'test/integration/store-worker.ts', cli: 'test/integration/store-cli.ts' },
    outdir: bundle,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(bundle, { recursive: true, force: true });
});

function worker(...args: string[]): ChildProcess {
  return spawn(process.execPath, [join(bundle, 'worker.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

async function cli(
  root: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      join(bundle, 'cli.mjs'),
      '--store',
      root,
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('two processes on one store', () => {
  it('200 interleaved tag/untag operations each end with exactly the expected names, fsck clean', async () => {
    const root = join(dir, 'two');
    const store = await ImageStore.open(root);
    const image = smallImage('base');
    await addImage(store, image, ['base']);
    const runs = [worker('tags', root, 'left', '200'), worker('tags', root, 'right', '200')].map(exited);
    const results = await Promise.all(runs);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const expected = new Set(['docker.io/library/base:latest']);
    for (const prefix of ['left', 'right'])
      for (const n of namesAfter(tagOps(prefix, 200))) expected.add(`docker.io/library/${n}:latest`);
    const [row] = await store.list();
    expect(new Set(row?.repoTags)).toEqual(expected);
    expect(row?.repoTags).toHaveLength(expected.size);
    expect(await store.fsck()).toMatchObject({ clean: true, problems: [] });
    const events = await store.events();
    expect(events.filter((e) => e.action === 'tag' || e.action === 'untag')).toHaveLength(400);
  });
});

describe('a writer killed at random points', () => {
  it('leaves a store fsck finds clean, every time (24 trials), and the lock it held goes stale', async () => {
    const trials = 24;
    const parallel = 3;
    let next = 0;
    const failures: string[] = [];
    const trial = async (n: number) => {
      const root = join(dir, `kill-${n}`);
      await ImageStore.open(root);
      const child = worker('chaos', root, String(n * 7919 + 1));
      const done = exited(child);
      const lines = createInterface({ input: child.stdout! });
      await new Promise<void>((resolve, reject) => {
        lines.on('line', (line) => line === 'ready' && resolve());
        child.once('exit', () => reject(new Error(`worker ${n} exited before it was ready`)));
      });
      // The kill lands at a random instant of the random workload: that is the point of the test.
      await new Promise((resolve) => setTimeout(resolve, 20 + ((n * 37) % 300)));
      child.kill('SIGKILL');
      const { signal } = await done;
      expect(signal).toBe('SIGKILL');
      const report = await (await ImageStore.open(root)).fsck();
      if (!report.clean) failures.push(`trial ${n}: ${report.problems.join('; ')}`);
    };
    const lanes = Array.from({ length: parallel }, async () => {
      while (next < trials) await trial(next++);
    });
    await Promise.all(lanes);
    expect(failures).toEqual([]);

    // A writer after the crash waits out the stale lock (2 s here) and then works.
    const root = join(dir, 'kill-0');
    const store = await ImageStore.open(root, { lock: { staleMs: 2000, waitMs: 30_000 } });
    const [first] = await store.list();
    await addImage(store, smallImage('after-crash'), ['after-crash']);
    if (first) await store.tag(first.id, 'still-works');
    expect((await store.fsck({ repair: true })).clean).toBe(true);
  });
});

describe('the CLI', () => {
  it('lists, tags, untags, removes and checks a store, with exit codes and clear errors', async () => {
    const root = join(dir, 'cli');
    const store = await ImageStore.open(root);
    const image = smallImage('cli');
    await addImage(store, image, ['alpine:3.20']);
    const id = image.configDigest.slice(7, 19);

    let r = await cli(root, 'images');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(r.stdout).toMatch(new RegExp(`^alpine\\s+3\\.20\\s+${id}\\s`, 'm'));

    expect((await cli(root, 'tag', 'alpine:3.20', 'mine/app:1')).code).toBe(0);
    r = await cli(root, 'images', '--json', '--filter', 'reference=mine/*');
    expect((JSON.parse(r.stdout) as { repoTags: string[] }[])[0]?.repoTags).toContain('docker.io/mine/app:1');
    r = await cli(root, 'images', '--digests');
    expect(r.stdout).toContain(image.digest);

    r = await cli(root, 'rmi', id);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`image ${id} has 2 names`);
    expect(r.stderr).toContain('use --force');

    r = await cli(root, 'inspect', 'ab');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"ab" is too short an ID prefix');
    expect((await cli(root, 'inspect', 'foo')).stderr).toContain('no image matches "foo"');
    expect((await cli(root, 'images', '--filter', 'bogus=1')).code).toBe(2);

    r = await cli(root, 'history', 'alpine:3.20');
    expect(r.stdout.split('\n')[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(r.stdout).toContain(id);
    r = await cli(root, 'inspect', 'mine/app:1');
    expect((JSON.parse(r.stdout) as { id: string }[])[0]?.id).toBe(image.configDigest);

    r = await cli(root, 'untag', 'alpine:3.20', 'mine/app:1');
    expect(r.stdout.trim()).toBe('Untagged: mine/app:1');
    r = await cli(root, 'tree');
    expect(r.stdout).toContain(`Top layer of: ${id} alpine:3.20`);
    r = await cli(root, 'df');
    expect(r.stdout).toMatch(/^Images: 1/);
    r = await cli(root, 'rmi', 'alpine:3.20');
    expect(r.stdout).toContain(`Untagged: alpine:3.20\nDeleted: ${image.configDigest}`);
    r = await cli(root, 'events', '--since', '1h');
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[2]),
    ).toEqual(['pull', 'tag', 'untag', 'remove']);
    r = await cli(root, 'fsck');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('store is clean');
    await store.putBlob(Buffer.from('x'.repeat(10)));
    await addImage(store, image, ['again']);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(store.blobPath(image.layers[0]!.digest), 'garbage');
    r = await cli(root, 'fsck');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('is corrupt');
    r = await cli(root, 'fsck', '--repair');
    expect(r.stdout).toContain('needs a re-pull');
    r = await cli(root, 'prune', '--all');
    expect(r.stdout).toContain('Total reclaimed space');
    expect((await cli(root, 'images', '-q')).stdout).toBe('');
  });
});
