import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const berth = resolve(import.meta.dirname, '..', '..', 'bin', 'berth');
let dir: string;

// A module resolve hook that writes every module the process resolves to stderr, one `resolved URL` line each.
const hooks = `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  writeSync(2, 'resolved ' + found.url + '\\n');
  return found;
}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-serve-startup-'));
  await writeFile(join(dir, 'hooks.mjs'), hooks);
  await writeFile(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts `berth serve`, waits for its URL, kills it, and resolves every module it had resolved by then. */
async function modulesBeforeUrl(): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(dir, 'register.mjs')).href,
      berth,
      '--store',
      join(dir, 'store'),
      'serve',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stderrDone = new Promise((done) => child.stderr.once('end', done));
  const exited = new Promise((done) => child.once('exit', done));
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (/\?token=\S+/.test(stdout)) done();
    });
    child.once('exit', (code) => fail(new Error(`berth serve exited ${String(code)}: ${stderr}`)));
  });
  // No shutdown code runs after SIGKILL, so nothing loaded while stopping is counted.
  child.kill('SIGKILL');
  await Promise.all([exited, stderrDone]);
  return [...stderr.matchAll(/^resolved (\S+)$/gm)].map((m) => m[1] ?? '');
}

// Launch to interactive: the registry client, pull engine, archive and layer code load on first use, not
// before `berth serve` prints its URL (each of these packages cost milliseconds to tens of them to load).
it('prints its URL without loading the registry client, archive, layer or progress-bar packages', async () => {
  const resolved = await modulesBeforeUrl();
  const packages = new Set(
    resolved.flatMap((url) => {
      const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return match?.[1] ? [match[1]] : [];
    }),
  );
  // The hook saw the CLI's own dependencies, so an absence below means something.
  expect(packages).toContain('commander');
  expect(packages).toContain('ws');
  for (const lazy of [
    'undici',
    'tar',
    'fzstd',
    'dockerfile-ast',
    'minimatch',
    'smol-toml',
    'p-limit',
    'cli-progress',
    'proper-lockfile',
  ]) {
    expect(packages, `${lazy} was loaded before the URL`).not.toContain(lazy);
  }
});
