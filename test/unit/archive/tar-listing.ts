import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';

/** One entry of a tar as the tests compare them: type, permission bits, owner, size, sha256, link target. */
export interface ListedEntry {
  type: string;
  mode: number;
  size: number;
  hash?: string;
  link?: string;
}

/** Every entry of a tar by path (trailing `/` dropped), in the order the tar holds them in `order`. */
export async function listTar(
  bytes: Buffer,
): Promise<{ entries: Map<string, ListedEntry>; order: string[] }> {
  const entries = new Map<string, ListedEntry>();
  const order: string[] = [];
  const parser = new Parser();
  parser.on('entry', (entry: ReadEntry) => {
    const path = entry.path.replace(/\/+$/, '');
    const listed: ListedEntry = { type: entry.type, mode: (entry.mode ?? 0) & 0o7777, size: entry.size };
    if (entry.linkpath) listed.link = entry.linkpath;
    const hash = createHash('sha256');
    entry.on('data', (chunk: Buffer) => hash.update(chunk));
    entry.on('end', () => {
      if (entry.type === 'File') listed.hash = hash.digest('hex');
    });
    order.push(path);
    entries.set(path, listed);
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.end(bytes);
  });
  return { entries, order };
}

/** A tar listing in umoci's terms: `path -> dir | symlink:target | file:size`, a hardlink as its file's size. */
export function rootfsView(entries: Map<string, ListedEntry>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, e] of entries) {
    if (e.type === 'Directory') out[path] = 'dir';
    else if (e.type === 'SymbolicLink') out[path] = `symlink:${e.link ?? ''}`;
    else if (e.type === 'Link') out[path] = `file:${entries.get(e.link ?? '')?.size ?? -1}`;
    else out[path] = `file:${e.size}`;
  }
  return out;
}

/** A directory tree as `path -> dir | symlink:target | file:size` (what umoci unpacked). */
export async function listRootfs(rootfs: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(rootfs, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    const path = full.slice(rootfs.length + 1);
    const stat = await lstat(full);
    if (stat.isSymbolicLink()) out[path] = `symlink:${await readlink(full)}`;
    else if (stat.isDirectory()) out[path] = 'dir';
    else out[path] = `file:${stat.size}`;
  }
  return out;
}

/** Every file under a folder with its size and sha256, to prove a store did not change. */
export async function treeState(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    out[full.slice(root.length + 1)] = createHash('sha256')
      .update(await readFile(full))
      .digest('hex');
  }
  return out;
}
