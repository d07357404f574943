import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ReadEntry } from 'tar';
import { BerthError } from '../../../shared/error';
import { decodeLayer } from '../layers/layer-stream';
import {
  baseName,
  comparePaths,
  normalizeEntryPath,
  whiteoutPrefix,
  type EntryType,
  type LayerIndex,
} from '../layers/layer-entry';
import { MergedFilesystem, layerIndexes } from '../layers/merged-filesystem';
import { TarFeed } from '../layers/tar-entry-feed';
import { entryTypeOf } from '../layers/tar-feed';
import type { ImageStore, ResolvedImage } from '../store/image-store';
import { layerIndexSource } from './rootfs-layer';
import { TarWriter, type TarEntryHeader } from './rootfs-tar';

/** Why an entry of a layer did not make it into the exported filesystem although its path survives. */
export interface ExportSkip {
  path: string;
  reason: 'hardlink-target-missing';
}

/** What an export wrote. */
export interface ExportResult {
  /** Image ID (config digest). */
  id: string;
  /** Entries written to the tar. */
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  layers: number;
  skipped: ExportSkip[];
}

/** How one layer's hardlinks are written so that each points at an entry of the exported tar. */
interface LinkPlan {
  /** A file this layer wrote that does not survive, but that surviving hardlinks share: written under this link path. */
  carriers: Map<string, string>;
  /** Surviving hardlink path → the path it points at in the export. */
  targets: Map<string, string>;
  /** Surviving hardlinks whose content cannot be found in this layer. */
  orphans: Set<string>;
}

function planLinks(fs: MergedFilesystem, index: LayerIndex, layer: number): LinkPlan {
  const plan: LinkPlan = { carriers: new Map(), targets: new Map(), orphans: new Set() };
  const files = new Set<string>();
  const links = index.entries.filter((e) => e.type === 'hardlink' && fs.lookup(e.path)?.layer === layer);
  if (links.length === 0) return plan;
  const linkTargets = new Map<string, string>();
  for (const entry of index.entries) {
    if (entry.type === 'file') files.add(entry.path);
    else if (entry.type === 'hardlink') linkTargets.set(entry.path, entry.linkTarget ?? '');
  }
  for (const link of links) {
    // A link to a link shares the same file: follow the chain (bounded) to the path holding the content.
    let target = link.linkTarget ?? '';
    for (let hops = 0; hops < 40 && !files.has(target) && linkTargets.has(target); hops++)
      target = linkTargets.get(target) ?? '';
    const final = fs.lookup(target);
    if (final?.layer === layer && final.type === 'file') {
      plan.targets.set(link.path, target);
    } else if (files.has(target)) {
      // The file this link shares was replaced or removed above: the first link carries its content.
      const carrier = plan.carriers.get(target) ?? link.path;
      plan.carriers.set(target, carrier);
      if (carrier !== link.path) plan.targets.set(link.path, carrier);
    } else if (final?.type === 'file') {
      plan.targets.set(link.path, target);
    } else {
      plan.orphans.add(link.path);
    }
  }
  return plan;
}

function headerOf(entry: ReadEntry, path: string, type: EntryType): TarEntryHeader {
  const header: TarEntryHeader = {
    path,
    type,
    mode: entry.mode ?? (type === 'dir' ? 0o755 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size: type === 'file' ? entry.size : 0,
  };
  if (entry.mtime) header.mtime = entry.mtime;
  if (entry.uname) header.uname = entry.uname;
  if (entry.gname) header.gname = entry.gname;
  if (type === 'symlink') header.linkpath = entry.linkpath ?? '';
  if (type === 'char' || type === 'block') {
    header.devmaj = entry.header.devmaj ?? 0;
    header.devmin = entry.header.devmin ?? 0;
  }
  return header;
}

/**
 * Writes an image's flattened filesystem (what a container sees) as one tar into `out`, without ending it.
 * The final tree is computed from the layer indexes first; then each layer's tar is read once, in order, and
 * only the entries that survive are copied (whiteout markers, hidden and replaced entries and earlier copies
 * of paths written twice are dropped). Directories only implied by their children come first. File contents
 * stream through; nothing is extracted to disk or held in memory. A hardlink whose file was replaced above
 * it is written as a file (the first such link) so that every link points at an entry of the tar.
 */
export async function writeRootfs(
  store: ImageStore,
  resolved: ResolvedImage,
  out: Writable,
): Promise<ExportResult> {
  const { facts } = resolved;
  const source = layerIndexSource(store, facts.layers, facts.diffIds);
  const fs = new MergedFilesystem();
  for await (const index of layerIndexes(source)) fs.applyLayer(index, { statuses: false });
  const tar = new TarWriter(out);
  const result: ExportResult = {
    id: facts.configDigest,
    entries: 0,
    bytes: 0,
    layers: facts.layers.length,
    skipped: [],
  };
  const implied: string[] = [];
  for (const { path, entry } of fs.paths()) if (entry === undefined) implied.push(path);
  implied.sort(comparePaths);
  for (const path of implied) {
    await tar.entry({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
    result.entries += 1;
  }
  for (const [layer, descriptor] of facts.layers.entries()) {
    const index = await source.load(layer);
    const earlierCopies = new Map<string, number>();
    for (const duplicate of index.duplicates)
      earlierCopies.set(duplicate.path, (earlierCopies.get(duplicate.path) ?? 0) + 1);
    const links = planLinks(fs, index, layer);
    for (const path of links.orphans) result.skipped.push({ path, reason: 'hardlink-target-missing' });
    let chain: Promise<void> = Promise.resolve();
    const copy = (entry: ReadEntry, header: TarEntryHeader, feed: TarFeed): void => {
      chain = chain
        .then(async () => {
          await tar.entry(header, header.type === 'file' ? entry : undefined);
          if (header.type !== 'file') entry.resume();
          result.entries += 1;
          result.bytes += header.size;
        })
        .catch((err: unknown) => {
          entry.resume();
          feed.fail(err);
        });
    };
    const feed: TarFeed = new TarFeed((entry) => {
      const normalized = normalizeEntryPath(entry.path);
      const type = entryTypeOf(entry.type);
      if ('reason' in normalized || normalized.path === '' || type === undefined) {
        entry.resume();
        return;
      }
      const path = normalized.path;
      if (baseName(path).startsWith(whiteoutPrefix)) {
        entry.resume();
        return;
      }
      const skipCopies = earlierCopies.get(path) ?? 0;
      if (skipCopies > 0) {
        earlierCopies.set(path, skipCopies - 1);
        entry.resume();
        return;
      }
      const final = fs.lookup(path);
      const survives = final?.layer === layer && final.type === type;
      const carrier = type === 'file' && !survives ? links.carriers.get(path) : undefined;
      if (carrier !== undefined) {
        copy(entry, headerOf(entry, carrier, 'file'), feed);
        return;
      }
      if (!survives || links.orphans.has(path)) {
        entry.resume();
        return;
      }
      const header = headerOf(entry, path, type);
      if (type === 'hardlink') {
        const target = links.targets.get(path);
        if (target === undefined) {
          // This link carries its file's content and was already written.
          entry.resume();
          return;
        }
        header.linkpath = target;
      }
      copy(entry, header, feed);
    });
    await decodeLayer(store.openBlob(descriptor.digest), (chunk) => feed.write(chunk));
    await feed.end();
    await chain;
  }
  await tar.finish();
  return result;
}

/** Exports an image's flattened filesystem into `out` (ended when done) and logs an `export` event. */
export async function exportRootfs(
  store: ImageStore,
  query: string,
  out: Writable,
  destination: string,
): Promise<ExportResult> {
  const resolved = await store.resolve(query);
  const done = finished(out);
  done.catch(() => undefined);
  const result = await writeRootfs(store, resolved, out);
  out.end();
  await done;
  await store.recordEvent({
    action: 'export',
    id: resolved.facts.configDigest,
    names: resolved.image.names,
    detail: { destination, entries: result.entries, bytes: result.bytes },
  });
  return result;
}

/**
 * Exports to `file`: written under a temporary name in the same folder and renamed into place only when the
 * whole tar is written, so a failure never leaves a partial tar where the user asked for one.
 */
export async function exportRootfsToFile(
  store: ImageStore,
  query: string,
  file: string,
): Promise<ExportResult & { file: string }> {
  const resolved = await store.resolve(query);
  const folder = await stat(dirname(file)).catch(() => undefined);
  if (!folder?.isDirectory())
    throw new BerthError('NOT_FOUND', `folder ${dirname(file)} does not exist`, { file });
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.partial`);
  const out = createWriteStream(temp, { flags: 'wx' });
  try {
    const result = await exportRootfs(store, resolved.facts.configDigest, out, file);
    await rename(temp, file);
    return { ...result, file };
  } catch (err) {
    out.destroy();
    await rm(temp, { force: true });
    throw err;
  }
}
