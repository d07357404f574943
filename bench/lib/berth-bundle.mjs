// Bundles the TypeScript Berth workloads (bench/berth/*.ts, importing electron/core directly) with esbuild,
// and runs the CLI's capability probe. A workload whose Berth code is missing reports why, never a number.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Bundles `bench/berth/<name>.ts` to `<outDir>/<name>.mjs`; resolves { file } or { error }. */
export async function bundleBerthWorkload(repoRoot, name, outDir) {
  const outfile = join(outDir, `${name}.mjs`);
  try {
    await build({
      entryPoints: [join(repoRoot, 'bench', 'berth', `${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
      sourcemap: false,
    });
    return { file: outfile };
  } catch (error) {
    const messages = (error.errors ?? []).map((e) => `${e.location?.file ?? ''}: ${e.text}`);
    return { error: messages.length > 0 ? messages.join('; ') : String(error.message ?? error) };
  }
}

/**
 * Builds the CLI (electron-vite) unless told not to, then lists the commands `berth --help` offers. Resolves { commands, error? }.
 */
export function probeBerthCli(repoRoot, { build: buildFirst }) {
  if (buildFirst) {
    const built = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (built.status !== 0) {
      return {
        commands: [],
        error: `electron-vite build failed: ${(built.stderr || built.stdout).trim().split('\n').slice(-3).join(' ')}`,
      };
    }
  }
  if (!existsSync(join(repoRoot, 'out', 'main', 'cli.js')))
    return { commands: [], error: 'out/main/cli.js is not built' };
  const help = spawnSync(process.execPath, [join(repoRoot, 'bin', 'berth'), '--help'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (help.status !== 0)
    return { commands: [], error: `berth --help failed: ${help.stderr.trim().slice(0, 300)}` };
  const commandsSection = help.stdout.split(/^Commands:\s*$/m)[1] ?? '';
  const commands = [...commandsSection.matchAll(/^\s{2}([a-z][\w-]*)/gm)].map((m) => m[1]);
  return { commands };
}
