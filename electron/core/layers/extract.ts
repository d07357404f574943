import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, realpath, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ReadEntry } from 'tar';
import { BerthError } from '../../../shared/error';
import { decodeLayer, defaultDecodeLimits, type DecodeLimits } from './layer-stream';
import { baseName, normalizeEntryPath, parentPath, resolveLinkTarget, whiteoutPrefix } from './layer-entry';
import { TarFeed } from './tar-entry-feed';
import { defaultTarLimits, entryTypeOf, type TarLimits } from './tar-feed';
import type { MergedFilesystem } from './merged-filesystem';

/** A layer blob as a stream, or a function that opens it afresh (needed to follow hardlinks out of a selection). */
export type LayerBlob = Readable | AsyncIterable<Buffer> | (() => Readable | AsyncIterable<Buffer>);

/** Why an entry was not written. */
export type SkipReason =
  | 'unsafe-path'
  | 'parent-not-directory'
  | 'exists-as-directory'
  | 'hardlink-escape'
  | 'hardlink-target-missing'
  | 'special-file';

/** What an extraction wrote and what it refused. */
export interface ExtractResult {
  /** Paths written, relative to the destination, in tar order. */
  written: string[];
  skipped: { path: string; reason: SkipReason }[];
  /** Symlinks written whose targets point outside the destination (written as they are, never followed). */
  linksLeavingDestination: string[];
  bytes: number;
}

/** Caps for reading a layer blob; the same as indexing uses. */
export type ExtractOptions = Partial<DecodeLimits> & Partial<TarLimits>;

const sentinelStop = new Error('stop reading the layer');

function limitsOf(opts: ExtractOptions): { decode: DecodeLimits; tar: TarLimits } {
  return { decode: { ...defaultDecodeLimits, ...opts }, tar: { ...defaultTarLimits, ...opts } };
}

/** Streams a layer blob's entries (normalized path, or undefined for refused names) to `onEntry`. */
async function walkLayer(
  blob: Readable | AsyncIterable<Buffer>,
  onEntry: (entry: ReadEntry, path: string | undefined, feed: TarFeed) => void,
  opts: ExtractOptions,
): Promise<boolean> {
  const limits = limitsOf(opts);
  const feed: TarFeed = new TarFeed((entry) => {
    const normalized = normalizeEntryPath(entry.path);
    const path = 'reason' in normalized ? undefined : normalized.path;
    if (path !== undefined && baseName(path).startsWith(whiteoutPrefix)) {
      entry.resume();
      return;
    }
    onEntry(entry, path, feed);
  }, limits.tar);
  try {
    await decodeLayer(blob, (chunk) => feed.write(chunk), limits.decode);
    await feed.end();
    return true;
  } catch (err) {
    if (err === sentinelStop) return false;
    throw err;
  }
}

function openBlob(blob: LayerBlob): Readable | AsyncIterable<Buffer> {
  return typeof blob === 'function' ? blob() : blob;
}

/** The selected path's place under the destination: `usr/lib` selects `lib/...`, like `docker cp`. */
function relativeToSelection(selection: string, path: string): string | undefined {
  if (selection === '') return path;
  if (path === selection) return baseName(selection);
  if (path.startsWith(`${selection}/`)) return baseName(selection) + path.slice(selection.length);
  return undefined;
}

/**
 * Writes entries into one destination directory and nowhere else: every parent is checked with lstat
 * (a symlink or file in the way refuses the entry), files are created with O_EXCL|O_NOFOLLOW after any
 * old non-directory is unlinked, and hardlinks may only point at files this extraction wrote.
 */
class ConfinedWriter {
  readonly result: ExtractResult = { written: [], skipped: [], linksLeavingDestination: [], bytes: 0 };
  /** Image path of each file written, to the absolute path it was written at. */
  readonly files = new Map<string, string>();

  constructor(private readonly root: string) {}

  skip(path: string, reason: SkipReason): void {
    this.result.skipped.push({ path, reason });
  }

  /** Creates the parents of `rel` under the root; undefined when something other than a directory is in the way. */
  private async parent(rel: string): Promise<string | undefined> {
    let current = this.root;
    const dir = parentPath(rel);
    if (dir === '') return current;
    for (const part of dir.split('/')) {
      current = join(current, part);
      const stat = await lstat(current).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (!stat) await mkdir(current, { mode: 0o755 });
      else if (stat.isSymbolicLink() || !stat.isDirectory()) return undefined;
    }
    return current;
  }

  /** Clears the way for a new non-directory at `target`; false when a directory sits there. */
  private async clear(target: string): Promise<boolean> {
    const stat = await lstat(target).catch(() => undefined);
    if (!stat) return true;
    if (stat.isDirectory()) return false;
    await unlink(target);
    return true;
  }

  private async place(rel: string, isDirectory: boolean): Promise<string | undefined> {
    const parent = await this.parent(rel);
    if (parent === undefined) {
      this.skip(rel, 'parent-not-directory');
      return undefined;
    }
    const target = join(parent, baseName(rel));
    if (isDirectory) return target;
    if (!(await this.clear(target))) {
      this.skip(rel, 'exists-as-directory');
      return undefined;
    }
    return target;
  }

  async directory(rel: string, mode: number): Promise<void> {
    const target = await this.place(rel, true);
    if (target === undefined) return;
    const stat = await lstat(target).catch(() => undefined);
    if (stat && (stat.isSymbolicLink() || !stat.isDirectory())) {
      this.skip(rel, 'parent-not-directory');
      return;
    }
    if (!stat) await mkdir(target, { mode: 0o755 });
    await chmod(target, (mode & 0o777) | 0o700);
    this.result.written.push(rel);
  }

  async file(rel: string, imagePath: string, mode: number, body: ReadEntry): Promise<void> {
    const target = await this.place(rel, false);
    if (target === undefined) {
      body.resume();
      return;
    }
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(target, flags, mode & 0o777);
    const out = handle.createWriteStream();
    body.pipe(out);
    await finished(out);
    this.result.bytes += out.bytesWritten;
    this.files.set(imagePath, target);
    this.result.written.push(rel);
  }

  async symlink(rel: string, linkTarget: string): Promise<void> {
    const target = await this.place(rel, false);
    if (target === undefined) return;
    await symlink(linkTarget, target);
    if (linkTarget.startsWith('/') || resolveLinkTarget(rel, linkTarget).escapes)
      this.result.linksLeavingDestination.push(rel);
    this.result.written.push(rel);
  }

  async hardlink(rel: string, existing: string): Promise<void> {
    const target = await this.place(rel, false);
    if (target === undefined) return;
    await link(existing, target);
    this.result.written.push(rel);
  }
}

/**
 * Extracts a file or directory (`''` for the whole layer) from a layer blob into `dest`, named as `docker cp`
 * names it (`usr/lib` lands in `dest/lib`). Nothing is ever written outside `dest`: names with `..` are refused,
 * absolute names are taken from the image root, symlinks are written but never followed, and hardlinks only
 * join files of this extraction. Hardlinks to files outside the selection need `blob` to be a function that
 * reopens the blob (one more pass); otherwise they are skipped. Throws NOT_FOUND when nothing matched.
 */
export async function extractFromLayer(
  blob: LayerBlob,
  selection: string,
  dest: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const selected = selectionPath(selection);
  const writer = await openDestination(dest);
  const pending = new Map<string, string[]>();
  const matched = await extractPass(openBlob(blob), selected, writer, pending, () => true, opts);
  if (!matched) throw new BerthError('NOT_FOUND', `${JSON.stringify(selection)} is not in this layer`);
  if (pending.size > 0) await extractHardlinkTargets(blob, pending, writer, opts);
  return writer.result;
}

/**
 * Extracts a file or directory of the merged filesystem (`fs` with every layer up to the one viewed applied)
 * into `dest`, taking each path from the layer that holds its surviving copy, so whiteouts and overwrites are
 * honoured. `layers[k]` is layer k's blob; functions that reopen blobs let hardlinks reach files outside the
 * selection. The same confinement as {@link extractFromLayer} applies.
 */
export async function extractMerged(
  layers: readonly LayerBlob[],
  fs: MergedFilesystem,
  selection: string,
  dest: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const selected = selectionPath(selection);
  if (selected !== '' && fs.lookup(selected) === undefined) {
    throw new BerthError('NOT_FOUND', `${JSON.stringify(selection)} is not in the merged filesystem`);
  }
  const writer = await openDestination(dest);
  const pending = new Map<string, string[]>();
  for (const [layer, blob] of layers.entries()) {
    if (layer >= fs.layerCount) break;
    await extractPass(
      openBlob(blob),
      selected,
      writer,
      pending,
      (path) => fs.lookup(path)?.layer === layer,
      opts,
    );
  }
  const byLayer = new Map<number, Map<string, string[]>>();
  for (const [target, links] of pending) {
    const existing = writer.files.get(target);
    if (existing !== undefined) {
      for (const rel of links) await writer.hardlink(rel, existing);
      continue;
    }
    const holder = fs.lookup(target);
    const group = byLayer.get(holder?.layer ?? -1) ?? new Map<string, string[]>();
    group.set(target, links);
    byLayer.set(holder?.layer ?? -1, group);
  }
  for (const [layer, group] of byLayer) {
    const blob = layers[layer];
    if (blob === undefined) {
      for (const links of group.values())
        for (const rel of links) writer.skip(rel, 'hardlink-target-missing');
    } else {
      await extractHardlinkTargets(blob, group, writer, opts);
    }
  }
  return writer.result;
}

function selectionPath(selection: string): string {
  const normalized = normalizeEntryPath(selection);
  if ('reason' in normalized) {
    throw new BerthError('BAD_REQUEST', `path ${JSON.stringify(selection)} climbs out of the image`);
  }
  return normalized.path;
}

async function openDestination(dest: string): Promise<ConfinedWriter> {
  await mkdir(dest, { recursive: true });
  return new ConfinedWriter(await realpath(dest));
}

/** One pass over a layer writing the selected entries `keep` accepts; true when any entry was selected. */
async function extractPass(
  blob: Readable | AsyncIterable<Buffer>,
  selected: string,
  writer: ConfinedWriter,
  pending: Map<string, string[]>,
  keep: (path: string) => boolean,
  opts: ExtractOptions,
): Promise<boolean> {
  let matched = false;
  let chain: Promise<void> = Promise.resolve();
  await walkLayer(
    blob,
    (entry, path, feed) => {
      const rel = path === undefined ? undefined : relativeToSelection(selected, path);
      if (path === undefined || rel === undefined || rel === '' || !keep(path)) {
        if (path === undefined && (selected === '' || entry.path.includes(selected))) {
          writer.skip(entry.path, 'unsafe-path');
        }
        entry.resume();
        return;
      }
      matched = true;
      const task = async (): Promise<void> => {
        const type = entryTypeOf(entry.type);
        switch (type) {
          case 'file':
            await writer.file(rel, path, entry.mode ?? 0o644, entry);
            return;
          case 'dir':
            entry.resume();
            await writer.directory(rel, entry.mode ?? 0o755);
            return;
          case 'symlink':
            entry.resume();
            await writer.symlink(rel, entry.linkpath ?? '');
            return;
          case 'hardlink': {
            entry.resume();
            const target = normalizeEntryPath(entry.linkpath ?? '');
            if ('reason' in target || target.path === '') {
              writer.skip(rel, 'hardlink-escape');
              return;
            }
            const existing = writer.files.get(target.path);
            if (existing !== undefined) await writer.hardlink(rel, existing);
            else pending.set(target.path, [...(pending.get(target.path) ?? []), rel]);
            return;
          }
          case 'char':
          case 'block':
          case 'fifo':
          case undefined:
            entry.resume();
            writer.skip(rel, 'special-file');
        }
      };
      chain = chain.then(task).catch((err: unknown) => {
        entry.resume();
        feed.fail(err);
      });
    },
    opts,
  );
  await chain;
  return matched;
}

/** Second pass: writes the content of files outside the selection that selected hardlinks share. */
async function extractHardlinkTargets(
  blob: LayerBlob,
  pending: Map<string, string[]>,
  writer: ConfinedWriter,
  opts: ExtractOptions,
): Promise<void> {
  if (typeof blob !== 'function') {
    for (const links of pending.values())
      for (const rel of links) writer.skip(rel, 'hardlink-target-missing');
    return;
  }
  let chain: Promise<void> = Promise.resolve();
  await walkLayer(
    blob(),
    (entry, path, feed) => {
      const links = path === undefined ? undefined : pending.get(path);
      if (!links || entryTypeOf(entry.type) !== 'file' || path === undefined) {
        entry.resume();
        return;
      }
      pending.delete(path);
      const [first, ...rest] = links as [string, ...string[]];
      chain = chain
        .then(async () => {
          await writer.file(first, path, entry.mode ?? 0o644, entry);
          const written = writer.files.get(path);
          for (const rel of rest) {
            if (written !== undefined) await writer.hardlink(rel, written);
          }
        })
        .catch((err: unknown) => {
          entry.resume();
          feed.fail(err);
        });
    },
    opts,
  );
  await chain;
  for (const links of pending.values()) for (const rel of links) writer.skip(rel, 'hardlink-target-missing');
}

/** The first bytes of one file of a layer, for a quick look. */
export interface FilePreview {
  path: string;
  type: 'file' | 'symlink';
  /** Full size of the file. */
  size: number;
  /** Up to `maxBytes` of content (empty for a symlink). */
  bytes: Buffer;
  truncated: boolean;
  /** True when the bytes look binary (a NUL byte, or not valid UTF-8). */
  binary: boolean;
  linkTarget?: string;
}

function looksBinary(bytes: Buffer, truncated: boolean): boolean {
  if (bytes.includes(0)) return true;
  const text = bytes.toString('utf8');
  const bad = text.indexOf('\uFFFD');
  return bad >= 0 && !(truncated && bad >= text.length - 3);
}

/**
 * Finds `path` in a layer blob and hands its entry to `read`, following a hardlink to its file within the
 * layer (a second pass, so `blob` must be a function that reopens it; `doing` names the use in the error
 * otherwise). `read` settles with its result once it has it and stops the walk with `sentinelStop`, or fails
 * the feed; it must never reject. NOT_FOUND when the layer has no such path.
 */
async function readLayerEntry<T>(
  blob: LayerBlob,
  path: string,
  doing: string,
  opts: ExtractOptions,
  read: (entry: ReadEntry, wanted: string, feed: TarFeed) => Promise<T | undefined>,
): Promise<T> {
  let wanted = selectionPath(path);
  for (let pass = 0; pass < 2; pass++) {
    let reading: Promise<T | undefined> | undefined;
    let hardlinkTo: string | undefined;
    await walkLayer(
      openBlob(blob),
      (entry, entryPath, feed) => {
        if (entryPath !== wanted) {
          entry.resume();
          return;
        }
        if (entryTypeOf(entry.type) === 'hardlink') {
          const target = normalizeEntryPath(entry.linkpath ?? '');
          if (!('reason' in target)) hardlinkTo = target.path;
          entry.resume();
          feed.fail(sentinelStop);
          return;
        }
        reading = read(entry, wanted, feed);
      },
      opts,
    );
    const result = await reading;
    if (result !== undefined) return result;
    if (hardlinkTo === undefined) break;
    if (typeof blob !== 'function') {
      throw new BerthError(
        'UNSUPPORTED',
        `${JSON.stringify(path)} is a hardlink; ${doing} it needs a blob that can be reopened`,
      );
    }
    wanted = hardlinkTo;
  }
  throw new BerthError('NOT_FOUND', `${JSON.stringify(path)} is not a file in this layer`);
}

/**
 * Reads the first `maxBytes` (64 KiB) of a file out of a layer blob, stopping the read as soon as it has them.
 * A hardlink is followed to its file within the layer (reopening the blob when `blob` is a function);
 * a symlink is reported with its target. NOT_FOUND when the layer has no such path.
 */
export async function previewFromLayer(
  blob: LayerBlob,
  path: string,
  opts: ExtractOptions & { maxBytes?: number } = {},
): Promise<FilePreview> {
  const maxBytes = opts.maxBytes ?? 64 * 1024;
  const preview = await readLayerEntry(
    blob,
    path,
    'previewing',
    opts,
    (entry, wanted, feed) =>
      new Promise<FilePreview | undefined>((resolve) => {
        const type = entryTypeOf(entry.type);
        if (type === 'symlink') {
          entry.resume();
          resolve({
            path: wanted,
            type: 'symlink',
            size: 0,
            bytes: Buffer.alloc(0),
            truncated: false,
            binary: false,
            linkTarget: entry.linkpath ?? '',
          });
          feed.fail(sentinelStop);
          return;
        }
        if (type !== 'file') {
          entry.resume();
          feed.fail(new BerthError('UNSUPPORTED', `${JSON.stringify(path)} is a ${entry.type}, not a file`));
          resolve(undefined);
          return;
        }
        const chunks: Buffer[] = [];
        let have = 0;
        let settled = false;
        const size = entry.size;
        const done = (truncated: boolean): void => {
          if (settled) return;
          settled = true;
          resolve({
            path: wanted,
            type: 'file',
            size,
            bytes: Buffer.concat(chunks),
            truncated,
            binary: false,
          });
          feed.fail(sentinelStop);
        };
        entry.on('data', (chunk: Buffer) => {
          if (settled) return;
          chunks.push(chunk.subarray(0, maxBytes - have));
          have += chunk.length;
          if (have >= maxBytes) done(size > maxBytes);
        });
        entry.on('end', () => done(false));
      }),
  );
  return { ...preview, binary: preview.type === 'file' && looksBinary(preview.bytes, preview.truncated) };
}

/**
 * Streams one file's whole content out of a layer blob into `out` (for `berth cat`), without ending `out`.
 * A hardlink is followed within the layer when `blob` can be reopened; a symlink or directory is UNSUPPORTED,
 * a missing path NOT_FOUND. Resolves with the bytes written.
 */
export async function copyFileFromLayer(
  blob: LayerBlob,
  path: string,
  out: Writable,
  opts: ExtractOptions = {},
): Promise<number> {
  return readLayerEntry(blob, path, 'reading', opts, (entry, _wanted, feed) => {
    const type = entryTypeOf(entry.type);
    if (type !== 'file') {
      entry.resume();
      const what =
        type === 'symlink' ? `a symlink to ${JSON.stringify(entry.linkpath ?? '')}` : `a ${entry.type}`;
      feed.fail(new BerthError('UNSUPPORTED', `${JSON.stringify(path)} is ${what}, not a file`));
      return Promise.resolve(undefined);
    }
    return new Promise<number | undefined>((resolve, reject) => {
      let bytes = 0;
      entry.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (!out.write(chunk)) {
          entry.pause();
          out.once('drain', () => entry.resume());
        }
      });
      entry.on('end', () => {
        resolve(bytes);
        feed.fail(sentinelStop);
      });
      out.once('error', reject);
    }).catch((err: unknown) => {
      feed.fail(err);
      return undefined;
    });
  });
}
