import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../package-root';
import { serve } from './serve';

/**
 * The Electron executable if it is installed, without triggering electron's own lazy download
 * (requiring the `electron` package from Node would start one).
 */
export function electronBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  let dir: string;
  try {
    dir = dirname(createRequire(join(packageRoot(), 'package.json')).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
  const pathFile = join(dir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) return join(env.ELECTRON_OVERRIDE_DIST_PATH, relative ?? 'electron');
  if (relative && existsSync(join(dir, 'dist', relative))) return join(dir, 'dist', relative);
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD) return undefined;
  // One honest attempt at electron's own installer; on a machine without its download host it fails fast.
  const install = spawnSync(process.execPath, [join(dir, 'install.js')], {
    stdio: 'ignore',
    timeout: 300_000,
  });
  if (install.status !== 0 || !existsSync(pathFile)) return undefined;
  const installed = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(installed) ? installed : undefined;
}

/** `berth app`: the desktop app, or the browser host when no Electron binary can be had. */
export function registerApp(program: Command): void {
  program
    .command('app')
    .description('start the desktop app (falls back to `berth serve` when Electron is not installed)')
    .action(async (_opts: unknown, command: Command) => {
      const binary = electronBinary();
      if (binary === undefined) {
        process.stdout.write(
          'Electron is not installed here (its binary could not be downloaded); starting `berth serve` instead.\n',
        );
        return serve(command, { host: '127.0.0.1', port: 0 });
      }
      const child = spawn(binary, [packageRoot()], { stdio: 'inherit' });
      await new Promise<void>((done, fail) => {
        child.once('error', fail);
        child.once('exit', (code) => {
          process.exitCode = code ?? 1;
          done();
        });
      });
    });
}
