import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding Berth's package.json, found from wherever the bundler put this module. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The built renderer (out/renderer), served by `berth serve` and loaded by the Electron window. */
export function rendererDir(): string {
  return join(packageRoot(), 'out', 'renderer');
}
