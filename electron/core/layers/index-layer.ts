import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Blake3Hasher, blake3 } from './blake3';
import { elideInput } from '../../../shared/digest';
import { BerthError } from '../../../shared/error';
import {
  decodeLayer,
  defaultDecodeLimits,
  defaultDecodeOptions,
  type DecodeLimits,
  type DecodeOptions,
} from './layer-stream';
import { LayerEntryEncoder } from './index-file';
import {
  TarHeaderFeed,
  defaultTarLimits,
  entryTypeOf,
  type TarBodySink,
  type TarHeader,
  type TarLimits,
} from './tar-feed';
import {
  baseName,
  comparePaths,
  joinPath,
  normalizeEntryPath,
  opaqueMarker,
  parentPath,
  whiteoutPrefix,
  type DuplicateEntry,
  type LayerEntry,
  type LayerIndex,
  type LayerNotice,
  type NoticeReason,
} from './layer-entry';

const empty = Buffer.alloc(0);

/** Caps and switches for indexing one layer; every field defaults to a generous limit. */
export interface IndexLayerOptions
  extends
    Partial<DecodeLimits>,
    Partial<Pick<DecodeOptions, 'gunzipWorkerFromBytes' | 'handOverSource'>>,
    Partial<TarLimits> {
  /** Most notices kept in the index; further ones are only counted. */
  maxNotices?: number;
  /** Rejects the layer unless its DiffID is this `sha256:<hex>`. */
  expectedDiffId?: string;
}

/**
 * Files of this size and up get a BLAKE3 content hash, smaller ones sha256. Both are cryptographic, so an upper
 * layer cannot pass a changed file off as unchanged. BLAKE3 costs a fifth of sha256 per byte here, but a call
 * into it ~3 µs more, so sha256 stays cheaper for small files. The choice follows the size alone, and files of
 * different sizes never compare equal, so equal content always gets equal hashes.
 */
export const blake3FromBytes = 8 * 1024;

/** An incremental hash of either kind. */
interface RunningHash {
  update(chunk: Buffer): unknown;
  digest(encoding: 'hex'): string;
}

/** A Buffer over the same bytes, not a copy (the BLAKE3 module is typed for Buffers). */
function bufferOver(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** The content hash (hex) of a whole file given in one view; see {@link blake3FromBytes}. */
export function fileContentHash(content: Uint8Array): string {
  return content.length >= blake3FromBytes
    ? blake3(bufferOver(content)).toString('hex')
    : oneShotHash('sha256', content, 'hex');
}

/**
 * Hashes each regular file's content into its record, or into the encoder that holds the file: a file whose
 * content arrives in one view is hashed in one call. The tar reader feeds one entry at a time, so one instance
 * serves every file (no object per file), and it keeps no view past the call that handed it over.
 */
class ContentHash implements TarBodySink {
  private into: LayerEntry | LayerEntryEncoder | undefined;
  private size = 0;
  private digest: string | undefined;
  private hash: RunningHash | undefined;

  /** Starts the next file's content, of `size` bytes, for `into`. */
  open(into: LayerEntry | LayerEntryEncoder, size: number): this {
    this.into = into;
    this.size = size;
    this.digest = undefined;
    this.hash = undefined;
    return this;
  }

  data(chunk: Uint8Array, last: boolean): void {
    if (this.hash) this.hash.update(bufferOver(chunk));
    else if (last) this.digest = fileContentHash(chunk);
    else if (this.size >= blake3FromBytes) this.hash = new Blake3Hasher().update(bufferOver(chunk));
    else this.hash = createHash('sha256').update(chunk);
  }

  end(): void {
    const into = this.into;
    if (into === undefined) return;
    const digest = this.hash ? this.hash.digest('hex') : (this.digest ?? fileContentHash(empty));
    if (into instanceof LayerEntryEncoder) into.contentHash(digest);
    else into.contentHash = digest;
    this.into = undefined;
    this.digest = undefined;
    this.hash = undefined;
  }
}

/** Collects entries, whiteouts and notices as the tar streams past. */
class IndexBuilder {
  /**
   * Entries encoded as they come while their paths ascend (a tar written in order, the usual case); at the first
   * path out of order or written twice they become records, and `entries` takes over.
   */
  private encoder: LayerEntryEncoder | undefined = new LayerEntryEncoder();
  /** Records in tar order; a path written twice is resolved in `finish` (the last copy wins). */
  private entries: LayerEntry[] = [];
  private readonly content = new ContentHash();
  readonly whiteouts = new Set<string>();
  readonly opaqueDirs = new Set<string>();
  readonly duplicates: DuplicateEntry[] = [];
  readonly notices: LayerNotice[] = [];
  noticesOmitted = 0;

  constructor(private readonly maxNotices: number) {}

  notice(name: string, reason: NoticeReason, dropped: boolean): void {
    if (this.notices.length >= this.maxNotices) this.noticesOmitted += 1;
    else this.notices.push({ name: elideInput(name), reason, dropped });
  }

  onEntry(entry: TarHeader): TarBodySink | undefined {
    const name = entry.path;
    const normalized = normalizeEntryPath(name);
    if ('reason' in normalized) {
      this.notice(name, normalized.reason, true);
      return undefined;
    }
    const { path, absolute } = normalized;
    if (absolute) this.notice(name, 'absolute-path', false);
    if (path === '') return undefined;
    if (path.startsWith(whiteoutPrefix, path.lastIndexOf('/') + 1)) {
      this.onMarker(name, path, baseName(path));
      return undefined;
    }
    const type = entryTypeOf(entry.type);
    if (type === undefined) {
      this.notice(name, 'unsupported-type', true);
      return undefined;
    }
    const mode = entry.mode ?? 0;
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    const mtime = entry.mtime !== undefined ? Math.floor(entry.mtime) : 0;
    let linkTarget: string | undefined;
    if (type === 'symlink') linkTarget = entry.linkpath ?? '';
    if (type === 'hardlink') {
      const target = normalizeEntryPath(entry.linkpath ?? '');
      if ('reason' in target || target.path === '' || target.path === path) {
        this.notice(name, 'hardlink-escape', true);
        return undefined;
      }
      linkTarget = target.path;
    }
    const encoder = this.encoder;
    if (encoder !== undefined) {
      const size = type === 'file' ? entry.size : 0;
      if (encoder.add(path, type, { mode, uid, gid, size, mtime }, linkTarget)) {
        return type === 'file' ? this.content.open(encoder, size) : undefined;
      }
      this.entries = encoder.entries();
      this.encoder = undefined;
    }
    if (type === 'file') {
      // The hash field is in the literal (ContentHash fills it when the content ends), so the record is built
      // with every field in the object itself: adding one later costs a second, separate allocation per file,
      // and with 200,000 files the young-generation collections that copy survivors are most of the GC time.
      const record: LayerEntry = { path, type, size: entry.size, mode, uid, gid, mtime, contentHash: '' };
      this.entries.push(record);
      return this.content.open(record, entry.size);
    }
    const record: LayerEntry = { path, type, size: 0, mode, uid, gid, mtime };
    if (linkTarget !== undefined) record.linkTarget = linkTarget;
    this.entries.push(record);
    return undefined;
  }

  private onMarker(name: string, path: string, base: string): void {
    const dir = parentPath(path);
    if (base === opaqueMarker) {
      this.opaqueDirs.add(dir);
      return;
    }
    const target = base.slice(whiteoutPrefix.length);
    if (target.startsWith(whiteoutPrefix) || target === '' || target === '.' || target === '..') {
      this.notice(name, 'stray-whiteout', true);
      return;
    }
    this.whiteouts.add(joinPath(dir, target));
  }

  /**
   * Sorts the records by path (a tar is usually close to sorted already, so the check alone often suffices), and
   * keeps the last copy of a path written more than once, counting the earlier ones as duplicates: the sort is
   * stable, so copies of a path stay in tar order.
   */
  private sortedEntries(): LayerEntry[] {
    const all = this.entries;
    let sorted = true;
    let repeated = false;
    for (let i = 1; i < all.length; i++) {
      const order = comparePaths(all[i - 1]!.path, all[i]!.path);
      if (order === 0) repeated = true;
      else if (order > 0) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      all.sort((a, b) => comparePaths(a.path, b.path));
      repeated = true;
    }
    if (!repeated) return all;
    const unique: LayerEntry[] = [];
    for (let i = 0; i < all.length; i++) {
      const record = all[i]!;
      const next = all[i + 1];
      if (next !== undefined && next.path === record.path)
        this.duplicates.push({ path: record.path, size: record.size });
      else unique.push(record);
    }
    return unique;
  }

  finish(decoded: Awaited<ReturnType<typeof decodeLayer>>): LayerIndex {
    const header: Omit<LayerIndex, 'entries'> = {
      diffId: decoded.diffId,
      compression: decoded.compression,
      compressedSize: decoded.compressedSize,
      uncompressedSize: decoded.uncompressedSize,
      whiteouts: [...this.whiteouts].sort(comparePaths),
      opaqueDirs: [...this.opaqueDirs].sort(comparePaths),
      // The same array sortedEntries fills with the copies of paths written twice.
      duplicates: this.duplicates,
      notices: this.notices,
      noticesOmitted: this.noticesOmitted,
    };
    if (this.encoder) return this.encoder.index(header);
    return { ...header, entries: this.sortedEntries() };
  }
}

/**
 * Indexes a layer blob in one streaming pass: detects gzip/zstd/plain from the magic bytes, computes the DiffID
 * (sha256 of the uncompressed tar) and each regular file's content hash ({@link fileContentHash}), and records every entry, whiteout and opaque
 * marker. Never writes to disk and never buffers the layer, so it can read a stream tee'd from a download.
 * Throws BerthError TOO_LARGE when a cap is crossed and ARCHIVE_INVALID for corrupt, truncated or hostile tars.
 */
export async function indexLayer(
  stream: Readable | AsyncIterable<Buffer>,
  opts: IndexLayerOptions = {},
): Promise<LayerIndex> {
  const decodeLimits: DecodeLimits = {
    maxUncompressedBytes: opts.maxUncompressedBytes ?? defaultDecodeLimits.maxUncompressedBytes,
    maxCompressionRatio: opts.maxCompressionRatio ?? defaultDecodeLimits.maxCompressionRatio,
    ratioFloorBytes: opts.ratioFloorBytes ?? defaultDecodeLimits.ratioFloorBytes,
    maxZstdWindowBytes: opts.maxZstdWindowBytes ?? defaultDecodeLimits.maxZstdWindowBytes,
  };
  const tarLimits: TarLimits = {
    maxEntries: opts.maxEntries ?? defaultTarLimits.maxEntries,
    maxPaxHeaderBytes: opts.maxPaxHeaderBytes ?? defaultTarLimits.maxPaxHeaderBytes,
    maxPathBytes: opts.maxPathBytes ?? defaultTarLimits.maxPathBytes,
    maxPathDepth: opts.maxPathDepth ?? defaultTarLimits.maxPathDepth,
  };
  const builder = new IndexBuilder(opts.maxNotices ?? 1000);
  const feed = new TarHeaderFeed(
    (entry) => builder.onEntry(entry),
    tarLimits,
    (name) => builder.notice(name, 'unsupported-type', true),
  );
  // The tar reader copies what it keeps past a write (a split header, PAX text) and ContentHash keeps no view.
  const decoded = await decodeLayer(stream, (chunk) => feed.write(chunk), decodeLimits, {
    gunzipWorkerFromBytes: opts.gunzipWorkerFromBytes ?? defaultDecodeOptions.gunzipWorkerFromBytes,
    reuseChunks: true,
    handOverSource: opts.handOverSource === true,
  });
  feed.end();
  if (opts.expectedDiffId !== undefined && opts.expectedDiffId !== decoded.diffId) {
    throw new BerthError(
      'DIGEST_MISMATCH',
      `layer DiffID is ${decoded.diffId}, expected ${opts.expectedDiffId}`,
      {
        expected: opts.expectedDiffId,
        actual: decoded.diffId,
      },
    );
  }
  return builder.finish(decoded);
}
