import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, buildIndex, type FixtureImage, type FixtureIndex } from '../support/fixture.js';
import { runCli, type CliRun } from '../support/berth-cli';

let scratch: string;
let bundle: string;
let outside: string;
let wasteful: FixtureImage;
let multi: FixtureIndex;

const osRelease = 'NAME=test\n';

/** Runs the bundled files CLI on the scratch store. */
function cli(args: string[]): Promise<CliRun> {
  return runCli({ entry: join(bundle, 'cli.mjs'), store: join(scratch, 'store'), home: scratch, args });
}

/** Puts an image into the store the way `load` would: blobs and names only, no layer indexes. */
async function seed(store: ImageStore, image: FixtureImage, name: string): Promise<void> {
  for (const blob of image.blobs().values()) await store.putBlob(blob);
  await store.putBlob(image.manifest);
  await store.commitImage({ manifestDigest: image.digest, names: [name], source: 'test', action: 'load' });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-files-cli-'));
  outside = join(scratch, 'outside');
  await mkdir(outside);
  bundle = join(process.cwd(), 'node_modules', '.cache', `berth-files-test-${process.pid}`);
  await build({
    entryPoints: { cli: 'test/integration/files-cli.ts' },
    outdir: bundle,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  // Hand-computed: layer bytes 1910 + 1500 + 500 = 3910; the final filesystem keeps big@2 (500),
  // keep (200, its hardlink counted once) and etc/os-release (10) = 710; waste is big@0 (1000),
  // big@1 (1500) and the deleted dir/x (300) and dir/y (400) = 3200.
  wasteful = buildImage({
    layers: [
      {
        entries: [
          { path: 'big', size: 1000 },
          { path: 'keep', size: 200 },
          { path: 'hard', type: 'hardlink', linkname: 'keep' },
          { path: 'dir/', type: 'dir' },
          { path: 'dir/x', size: 300 },
          { path: 'dir/y', size: 400 },
          { path: 'etc/', type: 'dir' },
          { path: 'etc/os-release', content: osRelease },
          { path: 'link', type: 'symlink', linkname: '/etc/os-release' },
          { path: 'gone', type: 'symlink', linkname: '/nowhere' },
        ],
        createdBy: 'ADD base /',
      },
      {
        entries: [
          { path: 'big', size: 1500 },
          { path: 'dir', type: 'whiteout' },
        ],
        createdBy: 'RUN rm -rf /dir',
      },
      { entries: [{ path: 'big', size: 500 }], createdBy: 'COPY big /big' },
    ],
  });
  // A layer whose symlink points outside, followed by a file "inside" it: cp must not follow the link.
  const hostile = buildImage({
    layers: [
      {
        entries: [
          { path: 'escape', type: 'symlink', linkname: outside },
          { path: 'escape/pwned', content: 'should never land outside DEST\n' },
          { path: 'ok', content: 'fine\n' },
        ],
      },
    ],
  });
  const store = await ImageStore.open(join(scratch, 'store'));
  await seed(store, wasteful, 'berth-test/wasteful:1');
  await seed(store, hostile, 'berth-test/hostile:1');
  // A 3-platform index stored as pulls store it: amd64 named, arm64 an unnamed sibling, arm/v7 not pulled.
  const per = (architecture: string, variant?: string) =>
    buildImage({
      layers: [{ entries: [{ path: 'etc/arch', content: `${architecture}\n` }] }],
      config: variant === undefined ? { architecture } : { architecture, variant },
    });
  multi = buildIndex([per('amd64'), per('arm64', 'v8'), per('arm', 'v7')]);
  for (const child of multi.children) await store.putBlob(child.manifest);
  for (const blob of multi.blobs().values()) await store.putBlob(blob);
  await store.putBlob(multi.manifest);
  const repoDigests = [`docker.io/berth-test/multi@${multi.digest}`];
  const [amd64, arm64] = multi.children as [FixtureImage, FixtureImage];
  const fromIndex = { indexDigest: multi.digest, repoDigests, action: 'pull' as const };
  await store.commitImage({ manifestDigest: amd64.digest, names: ['berth-test/multi:1'], ...fromIndex });
  await store.commitImage({ manifestDigest: arm64.digest, names: [], ...fromIndex });
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
  if (bundle) await rm(bundle, { recursive: true, force: true });
});

describe('berth efficiency', () => {
  it('reports the hand-computed waste and efficiency, itemized by path with layers', async () => {
    const ran = await cli(['--json', 'efficiency', 'berth-test/wasteful:1']);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const report = JSON.parse(ran.stdout) as {
      totalBytes: number;
      finalBytes: number;
      wastedBytes: number;
      efficiency: number;
      paths: { path: string; bytes: number; addedIn: number[]; removedIn: number[] }[];
      passed: boolean;
    };
    expect(report).toMatchObject({ totalBytes: 3910, finalBytes: 710, wastedBytes: 3200, passed: true });
    expect(report.efficiency).toBeCloseTo(710 / 3910, 10);
    expect(report.paths).toEqual([
      { path: 'big', bytes: 2500, addedIn: [0, 1], removedIn: [1, 2] },
      { path: 'dir/y', bytes: 400, addedIn: [0], removedIn: [1] },
      { path: 'dir/x', bytes: 300, addedIn: [0], removedIn: [1] },
    ]);
  });

  it('exits 0 when every threshold is met and 1 when one is crossed', async () => {
    const met = await cli([
      'efficiency',
      'berth-test/wasteful:1',
      '--max-waste',
      '3200',
      '--min-efficiency',
      '0.18',
    ]);
    expect(met.code).toBe(0);
    expect(met.stdout).toContain('PASS');
    expect((await cli(['efficiency', 'berth-test/wasteful:1', '--max-waste', '82%'])).code).toBe(0);

    const bytes = await cli(['efficiency', 'berth-test/wasteful:1', '--max-waste', '3199']);
    expect(bytes.code).toBe(1);
    expect(bytes.stdout).toMatch(/FAIL: wasted 3200 bytes, more than the allowed 3199/);
    const percent = await cli(['efficiency', 'berth-test/wasteful:1', '--max-waste', '81%']);
    expect(percent.code).toBe(1);
    expect(percent.stdout).toMatch(/FAIL: wasted 81\.84% of layer bytes/);
    const ratio = await cli(['--json', 'efficiency', 'berth-test/wasteful:1', '--min-efficiency', '0.19']);
    expect(ratio.code).toBe(1);
    expect(JSON.parse(ratio.stdout)).toMatchObject({ passed: false });
  });

  it('refuses a malformed threshold as bad usage (exit 2) with the reason', async () => {
    const bad = await cli(['efficiency', 'berth-test/wasteful:1', '--max-waste', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('neither bytes');
    expect((await cli(['efficiency', 'berth-test/wasteful:1', '--min-efficiency', '1.5'])).code).toBe(2);
  });
});

describe('berth files', () => {
  it('lists the final filesystem with link targets and flags, never whiteout markers', async () => {
    const ran = await cli(['files', 'berth-test/wasteful:1']);
    expect(ran.code).toBe(0);
    expect(ran.stdout).not.toContain('.wh.');
    expect(ran.stdout).not.toContain('/dir/');
    expect(ran.stdout).toMatch(/\/hard link to keep/);
    expect(ran.stdout).toMatch(/\/link -> \/etc\/os-release\n/);
    expect(ran.stdout).toMatch(/\/gone -> \/nowhere {2}\[link-dangling\]/);
  });

  it('shows what one layer changed, a removal with the bytes it hides', async () => {
    const ran = await cli(['--json', 'files', 'berth-test/wasteful:1', '--layer', '1', '--changes']);
    expect(ran.code).toBe(0);
    const { view, entries } = JSON.parse(ran.stdout) as {
      view: string;
      entries: { path: string; change: string; removedBytes: number; size: number }[];
    };
    expect(view).toBe('layer');
    expect(entries.map((e) => [e.path, e.change])).toEqual([
      ['big', 'modified'],
      ['dir', 'removed'],
    ]);
    expect(entries.find((e) => e.path === 'dir')?.removedBytes).toBe(700);
  });

  it('shows the whole filesystem after a layer with --merged', async () => {
    const ran = await cli(['--json', 'files', 'berth-test/wasteful:1', '--layer', '0', '--merged']);
    const { entries } = JSON.parse(ran.stdout) as { entries: { path: string }[] };
    expect(entries.map((e) => e.path)).toContain('dir/x');
  });

  it('finds which layer added, modified or removed a path', async () => {
    const ran = await cli(['--json', 'files', 'berth-test/wasteful:1', '--find', 'dir/*']);
    const { hits } = JSON.parse(ran.stdout) as { hits: { path: string; layer: number; change: string }[] };
    expect(hits.map((h) => [h.layer, h.change, h.path])).toEqual([
      [0, 'added', 'dir/x'],
      [0, 'added', 'dir/y'],
      [1, 'removed', 'dir/x'],
      [1, 'removed', 'dir/y'],
    ]);
  });

  it('says which layer does not exist', async () => {
    const ran = await cli(['files', 'berth-test/wasteful:1', '--layer', '7']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('layer 7 does not exist');
  });
});

describe('berth cat and cp', () => {
  it('prints a file read from its layer blob', async () => {
    const ran = await cli(['cat', 'berth-test/wasteful:1', '/etc/os-release']);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe(osRelease);
    const missing = await cli(['cat', 'berth-test/wasteful:1', '/dir/x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not in the image/);
  });

  it('copies a file and a folder out of the merged filesystem', async () => {
    const dest = join(scratch, 'cp-file');
    expect((await cli(['cp', 'berth-test/wasteful:1:/etc/os-release', dest])).code).toBe(0);
    expect(await readFile(join(dest, 'os-release'), 'utf8')).toBe(osRelease);
    const folder = join(scratch, 'cp-root');
    const ran = await cli(['cp', 'berth-test/wasteful:1:/', folder]);
    expect(ran.code).toBe(0);
    expect((await readFile(join(folder, 'big'))).length).toBe(500);
    expect((await lstat(join(folder, 'hard'))).ino).toBe((await lstat(join(folder, 'keep'))).ino);
    expect(await readlink(join(folder, 'link'))).toBe('/etc/os-release');
    expect((await readdir(folder)).sort()).not.toContain('dir');
  });

  it('refuses to write outside DEST', async () => {
    const dest = join(scratch, 'cp-hostile');
    const ran = await cli(['--json', 'cp', 'berth-test/hostile:1:/', dest]);
    expect(ran.code).toBe(0);
    expect(await readdir(outside)).toEqual([]);
    const result = JSON.parse(ran.stdout) as { skipped: { path: string; reason: string }[] };
    expect(result.skipped).toContainEqual({ path: 'escape/pwned', reason: 'parent-not-directory' });
    expect(await readFile(join(dest, 'ok'), 'utf8')).toBe('fine\n');

    const climb = await cli(['cp', 'berth-test/wasteful:1:/../../etc', join(scratch, 'cp-climb')]);
    expect(climb.code).toBe(2);
    expect(climb.stderr).toContain('climbs out of the image');
    const noPath = await cli(['cp', 'berth-test/wasteful:1', join(scratch, 'cp-none')]);
    expect(noPath.code).toBe(2);
  });
});

describe('--platform', () => {
  it('explores the stored sibling platform with files, efficiency, cat and cp', async () => {
    expect((await cli(['cat', 'berth-test/multi:1', '/etc/arch'])).stdout).toBe('amd64\n');
    const cat = await cli(['cat', 'berth-test/multi:1', '/etc/arch', '--platform', 'linux/arm64']);
    expect(cat).toMatchObject({ code: 0, stdout: 'arm64\n' });
    const files = await cli(['--json', 'files', 'berth-test/multi:1', '--platform', 'linux/arm64/v8']);
    const { entries } = JSON.parse(files.stdout) as { entries: { path: string; size: number }[] };
    expect(entries.find((e) => e.path === 'etc/arch')?.size).toBe('arm64\n'.length);
    const efficiency = await cli(['--json', 'efficiency', 'berth-test/multi:1', '--platform', 'arm64']);
    expect(JSON.parse(efficiency.stdout)).toMatchObject({ finalBytes: 'arm64\n'.length, passed: true });
    const dest = join(scratch, 'cp-platform');
    const cp = await cli(['cp', '--platform', 'linux/arm64', 'berth-test/multi:1:/etc/arch', dest]);
    expect(cp.code).toBe(0);
    expect(await readFile(join(dest, 'arch'), 'utf8')).toBe('arm64\n');
  });

  it('says when a platform of the index is not stored (and how to pull it) or not offered at all', async () => {
    const notStored = await cli(['cat', 'berth-test/multi:1', '/etc/arch', '--platform', 'linux/arm/v7']);
    expect(notStored.code).toBe(1);
    expect(notStored.stdout).toBe('');
    expect(notStored.stderr).toContain(
      `the linux/arm/v7 image of berth-test/multi:1 is not in the store; pull it with: berth pull --platform linux/arm/v7 docker.io/berth-test/multi@${multi.digest}`,
    );
    const none = await cli(['files', 'berth-test/multi:1', '--platform', 'windows/amd64']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'has no windows/amd64 image; it has: linux/amd64, linux/arm64/v8, linux/arm/v7',
    );
    const bad = await cli(['efficiency', 'berth-test/multi:1', '--platform', 'linux/arm64/v8/x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid platform');
  });
});
