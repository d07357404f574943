import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-journal-'));
  bundle = join(process.cwd(), 'node_modules', '.cache', `berth-journal-test-${process.pid}`);
  await mkdir(bundle, { recursive: true });
  await build({
    entryPoints: { worker: 'test/integration/journal-worker.ts' },
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

/** Runs the worker; resolves with how many operations it reported done, and how it ended. */
function worker(root: string, prefix: string, count: number, killAfter?: number) {
  const child = spawn(process.execPath, [join(bundle, 'worker.mjs'), root, prefix, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let done = 0;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    done = Number(line.split(' ')[1]);
    if (killAfter !== undefined && done >= killAfter) child.kill('SIGKILL');
  });
  return new Promise<{ done: number; code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.once('close', (code, signal) => resolve({ done, code, signal, stderr })),
  );
}

const expectedNames = (prefix: string, ops: number) =>
  new Set([
    'docker.io/library/base:latest',
    ...[...namesAfter(tagOps(prefix, 1000).slice(0, ops))].map((n) => `docker.io/library/${n}:latest`),
  ]);

describe('the name journal across processes', () => {
  it('a process that exits normally leaves every name in index.json, where umoci reads them', async () => {
    const root = join(dir, 'exit');
    await addImage(await ImageStore.open(root), smallImage('base'), ['base']);
    const result = await worker(root, 'exit', 60);
    expect(result, result.stderr).toMatchObject({ code: 0, done: 60 });
    expect(await stat(join(root, '.berth', 'index-journal.jsonl')).catch(() => undefined)).toBeUndefined();
    const { stdout } = await run('umoci', ['ls', '--layout', root]);
    expect(new Set(stdout.trim().split('\n'))).toEqual(expectedNames('exit', 60));
  });

  it('a process killed while tagging loses no acknowledged operation, and the store stays clean (8 trials)', async () => {
    for (let trial = 0; trial < 8; trial++) {
      const root = join(dir, `kill-${trial}`);
      await addImage(await ImageStore.open(root), smallImage('base'), ['base']);
      const prefix = `k${trial}`;
      const result = await worker(root, prefix, 1000, 5 + trial * 9);
      expect(result.signal, result.stderr).toBe('SIGKILL');
      const store = await ImageStore.open(root, { lock: { staleMs: 2000, waitMs: 30_000 } });
      const names = new Set((await store.list())[0]?.repoTags);
      // The kill lands after `done` operations returned; the one in flight may or may not have landed.
      const acknowledged = expectedNames(prefix, result.done);
      const withNext = expectedNames(prefix, result.done + 1);
      expect([acknowledged, withNext], `trial ${trial}`).toContainEqual(names);
      expect(await store.fsck(), `trial ${trial}`).toMatchObject({ clean: true });
      // The next writer folds the journal in; a foreign reader then sees the same names.
      await store.flush();
      const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as {
        manifests: { annotations?: Record<string, string> }[];
      };
      expect(
        new Set(index.manifests.flatMap((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? [])),
      ).toEqual(names);
    }
  });
});
