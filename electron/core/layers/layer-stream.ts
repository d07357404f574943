import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { BerthError } from '../../../shared/error';
import { claimGunzipWorker, gunzipOffThread, releaseGunzipWorker } from './gunzip-worker';
import type { LayerCompression } from './layer-entry';

/** Caps on the uncompressed stream that stop decompression bombs before they cost memory or disk. */
export interface DecodeLimits {
  /** Largest uncompressed tar accepted. */
  maxUncompressedBytes: number;
  /** Largest uncompressed/compressed byte ratio, enforced once `ratioFloorBytes` have been produced. */
  maxCompressionRatio: number;
  /** Uncompressed bytes below which no ratio is enforced (small runs of zeros compress extremely well). */
  ratioFloorBytes: number;
  /** Largest zstd window a frame may ask for; the decoder allocates the window up front. */
  maxZstdWindowBytes: number;
}

/** Defaults generous enough for any real image layer. */
export const defaultDecodeLimits: DecodeLimits = {
  maxUncompressedBytes: 64 * 1024 ** 3,
  maxCompressionRatio: 1000,
  ratioFloorBytes: 1024 ** 3,
  maxZstdWindowBytes: 128 * 1024 ** 2,
};

/** How a decode runs, apart from its limits. */
export interface DecodeOptions {
  /**
   * Compressed bytes from which a gzip layer is inflated and hashed on a worker thread, leaving the caller's
   * thread to the decoded chunks; a smaller blob inflates inline, where a worker would cost more to start.
   */
  gunzipWorkerFromBytes: number;
  /**
   * `consume` keeps no reference to a chunk once it returns (or its promise settles), so the decoder may hand it
   * views of a buffer it then reuses instead of a fresh copy of each chunk.
   */
  reuseChunks: boolean;
  /**
   * The caller keeps no reference to the chunks of `source` once they are read: a gzip worker may take over
   * their memory (the chunk is detached) instead of copying it.
   */
  handOverSource?: boolean;
}

/** Starts a worker for any gzip blob of 1 MiB or more; hands `consume` chunks it may keep. */
export const defaultDecodeOptions: DecodeOptions = {
  gunzipWorkerFromBytes: 1024 * 1024,
  reuseChunks: false,
};

/** What a finished decode measured. */
export interface DecodedLayer {
  compression: LayerCompression;
  compressedSize: number;
  uncompressedSize: number;
  /** `sha256:<hex>` of the uncompressed bytes: the DiffID. */
  diffId: string;
}

const gzipMagic = [0x1f, 0x8b];
const zstdMagic = [0x28, 0xb5, 0x2f, 0xfd];

/** Detects gzip or zstd from a blob's first bytes; anything else is taken as an uncompressed tar. */
export function detectCompression(head: Uint8Array): LayerCompression {
  if (gzipMagic.every((b, i) => head[i] === b)) return 'gzip';
  if (zstdMagic.every((b, i) => head[i] === b)) return 'zstd';
  return 'none';
}

/** Keeps memory flat when one compressed kilobyte expands to many blocks (zstd RLE blocks are 4 bytes each). */
const zstdSliceBytes = 1024;

function zstdWindowBytes(frame: Uint8Array): number | undefined {
  const descriptor = frame[4];
  if (descriptor === undefined) return undefined;
  const singleSegment = (descriptor >> 5) & 1;
  if (singleSegment === 0) {
    const window = frame[5];
    if (window === undefined) return undefined;
    const base = 2 ** (10 + (window >> 3));
    return base + (base / 8) * (window & 7);
  }
  const sizeBytes = [1, 2, 4, 8][descriptor >> 6] ?? 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3] ?? 0;
  const start = 5 + dictBytes;
  if (frame.length < start + sizeBytes) return undefined;
  let size = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + (frame[start + i] ?? 0);
  return sizeBytes === 2 ? size + 256 : size;
}

async function* zstdDecode(source: AsyncIterable<Buffer>, maxWindow: number): AsyncGenerator<Buffer> {
  // Loaded on the first zstd layer: evaluating fzstd builds its tables (about 5 ms of every pull's start).
  const { Decompress } = await import('fzstd');
  const out: Buffer[] = [];
  const decoder = new Decompress((chunk) => {
    if (chunk.length > 0) out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  });
  let checked = false;
  try {
    for await (const chunk of source) {
      if (!checked) {
        const window = zstdWindowBytes(chunk);
        if (window !== undefined && window > maxWindow) {
          throw new BerthError(
            'TOO_LARGE',
            `zstd frame asks for a ${window}-byte window, over the ${maxWindow}-byte cap`,
          );
        }
        checked = true;
      }
      for (let offset = 0; offset < chunk.length; offset += zstdSliceBytes) {
        decoder.push(chunk.subarray(offset, offset + zstdSliceBytes));
        while (out.length > 0) yield out.shift() as Buffer;
      }
    }
    decoder.push(new Uint8Array(0), true);
    while (out.length > 0) yield out.shift() as Buffer;
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('ARCHIVE_INVALID', `zstd stream is corrupt or truncated: ${(err as Error).message}`);
  }
}

/** Reads at least `count` bytes (or all there is) off an iterator without losing any. */
async function readHead(
  iterator: AsyncIterator<Buffer>,
  count: number,
): Promise<{ head: Buffer; done: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < count) {
    const next = await iterator.next();
    if (next.done === true) return { head: Buffer.concat(chunks), done: true };
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    chunks.push(chunk);
    length += chunk.length;
  }
  return { head: Buffer.concat(chunks), done: false };
}

/**
 * Decompresses a layer blob (gzip, zstd or plain tar, told apart by magic bytes) and hands each uncompressed
 * chunk to `consume`, waiting on it for backpressure. A gzip blob of `options.gunzipWorkerFromBytes` or more is
 * inflated and hashed on a worker thread (it reads that much ahead to tell), so two cores share the work. Hashes the uncompressed bytes for the DiffID and enforces
 * `limits` as bytes arrive, so a bomb is stopped after at most one chunk past a cap.
 */
export async function decodeLayer(
  source: Readable | AsyncIterable<Buffer>,
  consume: (chunk: Buffer) => void | Promise<void>,
  limits: DecodeLimits = defaultDecodeLimits,
  options: DecodeOptions = defaultDecodeOptions,
): Promise<DecodedLayer> {
  const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let compressedSize = 0;
  let uncompressedSize = 0;
  const hash = createHash('sha256');
  const { head, done } = await readHead(iterator, Math.max(zstdMagic.length, options.gunzipWorkerFromBytes));
  const compression = detectCompression(head);
  const offThread =
    compression === 'gzip' && head.length >= options.gunzipWorkerFromBytes && claimGunzipWorker();
  let offThreadDigest = '';

  async function* compressed(): AsyncGenerator<Buffer> {
    try {
      compressedSize += head.length;
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) return;
        const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        compressedSize += chunk.length;
        yield chunk;
      }
    } finally {
      await iterator.return?.();
    }
  }

  async function sink(decoded: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of decoded) {
      uncompressedSize += chunk.length;
      if (uncompressedSize > limits.maxUncompressedBytes) {
        throw new BerthError(
          'TOO_LARGE',
          `layer expands past the ${limits.maxUncompressedBytes}-byte cap on uncompressed size`,
          { maxUncompressedBytes: limits.maxUncompressedBytes },
        );
      }
      if (
        compression !== 'none' &&
        uncompressedSize > limits.ratioFloorBytes &&
        uncompressedSize > limits.maxCompressionRatio * compressedSize
      ) {
        throw new BerthError(
          'TOO_LARGE',
          `layer decompresses more than ${limits.maxCompressionRatio}:1 (${uncompressedSize} bytes from ${compressedSize}): refused as a decompression bomb`,
          { uncompressedSize, compressedSize, maxCompressionRatio: limits.maxCompressionRatio },
        );
      }
      if (!offThread) hash.update(chunk);
      await consume(chunk);
    }
  }

  try {
    switch (compression) {
      case 'none':
        await pipeline(compressed, sink);
        break;
      case 'gzip':
        if (offThread) {
          await pipeline(async function* () {
            offThreadDigest = yield* gunzipOffThread(compressed(), {
              ...gunzipWorkerOptions,
              lend: options.reuseChunks,
              handOver: options.handOverSource === true,
            });
          }, sink);
        } else {
          await pipeline(compressed, zlib.createGunzip({ chunkSize: gunzipChunkBytes }), sink);
        }
        break;
      case 'zstd':
        await pipeline(
          compressed,
          (s: AsyncIterable<Buffer>) => zstdDecode(s, limits.maxZstdWindowBytes),
          sink,
        );
        break;
    }
  } catch (err) {
    if (err instanceof BerthError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (compression === 'gzip' && typeof code === 'string' && code.startsWith('Z_')) {
      throw new BerthError(
        'ARCHIVE_INVALID',
        `gzip stream is corrupt or truncated: ${(err as Error).message}`,
      );
    }
    throw err;
  } finally {
    if (offThread) releaseGunzipWorker();
  }
  const diffId = `sha256:${offThread ? offThreadDigest : hash.digest('hex')}`;
  return { compression, compressedSize, uncompressedSize, diffId };
}

/**
 * Output chunk of the gzip decoder. zlib's 16 KiB default makes a 256 MB layer 16,000 trips through the
 * stream, the DiffID hash and the tar parser; 256 KiB cuts that per-chunk overhead sixteenfold.
 */
const gunzipChunkBytes = 256 * 1024;

/**
 * Eight decoded chunks (2 MiB) at most in flight between the gzip worker and the tar reader, and 2 MiB of
 * compressed input queued in the worker.
 */
const gunzipWorkerOptions = { chunkSize: gunzipChunkBytes, credits: 8, inputAhead: 2 * 1024 * 1024 };
