import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { BerthError } from '../../../shared/error';
import { parseDigest } from '../../../shared/digest';
import { blobFile, ignoreMissing, syncDir, type LayoutPaths } from './layout';
import { loadLockLibrary } from './lock';

/** What the writer is told to expect; the digest is required so a partial file can be resumed by it. */
export interface IngestExpectation {
  digest: string;
  /** Expected size in bytes, when known (from a descriptor). */
  size?: number;
}

/**
 * Bytes written between background `fdatasync` calls. Flushing while the download runs leaves the final fsync
 * in `commit` little to write: a 30 MB layer's took 35–50 ms with one call at 32 MiB (never reached), 3–4 ms at
 * 8 MiB. That final fsync is still what makes the blob durable before the rename.
 */
const backgroundSyncBytes = 8 * 1024 * 1024;

/**
 * Bytes accepted but not yet in the file before `write` waits. Chunks queue while a write is in flight and go out
 * together in one `writev`, so the network never waits on a disk round trip per chunk.
 */
const queuedBytesLimit = 4 * 1024 * 1024;

/** Bytes per read when following a blob as it is written. */
const followChunkBytes = 256 * 1024;

/**
 * Streams one blob into the store. Invariant: a blob becomes visible in `blobs/` only after its bytes were
 * hashed, found equal to the expected digest and size, fsynced, and renamed in. Until then they sit in a
 * partial file under `.berth/ingest/`, named by the expected digest so an interrupted download can resume
 * (ask `offset`, fetch with an HTTP Range from there). One writer per digest at a time, across processes.
 */
export class BlobWriter {
  private hash: Hash;
  /** Bytes in the file. */
  private written: number;
  /** Bytes accepted (hashed): in the file, being written, or queued. */
  private accepted: number;
  /** Chunks waiting for the write in flight to finish. */
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | undefined;
  /** Why a queued write failed; the next `write` or `commit` throws it. */
  private failure: Error | undefined;
  private done = false;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** Followers waiting for the next write or the end. */
  private waiting: (() => void)[] = [];
  /** Told the file's length after each batch of writes lands. */
  private onStored: ((bytes: number) => void) | undefined;
  /** True once committed, false once given up; a follower ends or fails on it. */
  private outcome: boolean | undefined;

  private constructor(
    private readonly paths: LayoutPaths,
    readonly expected: IngestExpectation,
    /** True when the blob was already in the store: nothing needs writing and commit is a no-op. */
    readonly exists: boolean,
    private readonly partial: string,
    private handle: FileHandle | undefined,
    private readonly releaseLock: () => Promise<void>,
    resumedHash: Hash,
    resumedBytes: number,
  ) {
    this.hash = resumedHash;
    this.written = resumedBytes;
    this.accepted = resumedBytes;
  }

  /** Opens a writer, resuming a partial file left by an earlier attempt. */
  static async open(paths: LayoutPaths, expected: IngestExpectation): Promise<BlobWriter> {
    const { algorithm, hex } = parseDigest(expected.digest);
    const target = blobFile(paths, expected.digest);
    const partial = join(paths.ingest, `${algorithm}-${hex}`);
    await mkdir(paths.ingest, { recursive: true });
    await (await open(partial, 'a')).close();
    const release = await lockIngest(partial);
    try {
      if (await stat(target).catch(ignoreMissing)) {
        await rm(partial, { force: true });
        return new BlobWriter(paths, expected, true, partial, undefined, release, createHash(algorithm), 0);
      }
      const hash = createHash(algorithm);
      let size = (await stat(partial)).size;
      if (expected.size !== undefined && size > expected.size) {
        await rm(partial, { force: true });
        size = 0;
      }
      if (size > 0) await pipeline(createReadStream(partial, { end: size - 1 }), hashInto(hash));
      const handle = await open(partial, 'a');
      return new BlobWriter(paths, expected, false, partial, handle, release, hash, size);
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** Bytes in the file (a process killed now resumes from here); `offset` may be ahead by the queued ones. */
  get stored(): number {
    return this.written;
  }

  /** Calls `listener` with `stored` each time a batch of writes lands (for progress that only counts stored bytes). */
  watchStored(listener: (bytes: number) => void): void {
    this.onStored = listener;
  }

  /** Bytes already held (written or on their way to the file): resume the download from here. */
  get offset(): number {
    return this.accepted;
  }

  /**
   * Appends a chunk; refuses bytes beyond the expected size. The chunk is queued and written with the ones
   * after it: it must not change afterwards. Resolves at once unless the queue is full; a failed write
   * rejects the next call (or `commit`).
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done || !this.handle) throw new BerthError('INTERNAL', 'write after the blob writer finished');
    if (this.failure !== undefined) throw this.failure;
    if (this.expected.size !== undefined && this.offset + chunk.length > this.expected.size) {
      await this.abort({ keep: false });
      throw new BerthError(
        'SIZE_MISMATCH',
        `blob ${this.expected.digest} is larger than the ${this.expected.size} bytes expected`,
        {
          digest: this.expected.digest,
          expected: this.expected.size,
        },
      );
    }
    this.hash.update(chunk);
    this.queue.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
    );
    this.queuedBytes += chunk.length;
    this.accepted += chunk.length;
    this.flushing ??= this.drain(this.handle);
    if (this.queuedBytes >= queuedBytesLimit) {
      await this.flushing;
      this.throwFailure();
    }
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes the queue out, batch after batch, until it is empty. */
  private async drain(handle: FileHandle): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batch = this.queue;
        const bytes = this.queuedBytes;
        this.queue = [];
        this.queuedBytes = 0;
        await writeAll(handle, batch, bytes);
        this.written += bytes;
        this.wake();
        this.onStored?.(this.written);
        this.unsynced += bytes;
        if (this.unsynced >= backgroundSyncBytes && this.syncing === undefined) {
          this.unsynced = 0;
          // A failure here is not lost: the fsync in commit reports it.
          this.syncing = handle
            .datasync()
            .catch(() => undefined)
            .finally(() => {
              this.syncing = undefined;
            });
        }
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * The blob's bytes from byte 0 (a resumed partial file included), read from the file as they are written and
   * past the commit (the descriptor outlives the rename). Ends after the last byte of a committed blob; throws
   * CANCELLED once the writer gave up or the bytes failed their digest. Opened before it returns, so call it
   * before `commit`. Each chunk is a fresh Buffer the consumer may keep.
   */
  async follow(): Promise<AsyncIterable<Buffer>> {
    if (this.done || !this.handle) throw new BerthError('INTERNAL', 'follow after the blob writer finished');
    const file = await open(this.partial, 'r');
    return this.readFollowing(file);
  }

  private async *readFollowing(file: FileHandle): AsyncGenerator<Buffer> {
    let position = 0;
    try {
      for (;;) {
        if (this.outcome === false)
          throw new BerthError('CANCELLED', `blob ${this.expected.digest} was not stored`);
        if (position < this.written) {
          const length = Math.min(followChunkBytes, this.written - position);
          const chunk = Buffer.allocUnsafeSlow(length);
          const { bytesRead } = await file.read(chunk, 0, length, position);
          if (bytesRead === 0)
            throw new BerthError('INTERNAL', `blob ${this.expected.digest} shrank while read`);
          position += bytesRead;
          yield bytesRead === length ? chunk : chunk.subarray(0, bytesRead);
          continue;
        }
        if (this.outcome === true) return;
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      }
    } finally {
      await file.close();
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  private finish(stored: boolean): void {
    this.outcome = stored;
    this.wake();
  }

  /**
   * A Writable that feeds `write`, for `pipeline(response.body, writer.stream())`; `describe` turns a failed
   * write into the error the pipeline rejects with. Cheaper per chunk than `for await` over the body with an
   * `await write` each: a 30 MB layer's transfer took 140–180 ms that way in a fresh process, 80–120 ms so.
   */
  stream(describe: (err: unknown) => unknown = (err) => err): Writable {
    return new Writable({
      // The writer queues up to `queuedBytesLimit` itself; with the default mark of 16 KiB the source would be
      // paused and resumed around every chunk.
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(
          () => callback(),
          (err: unknown) => callback(describe(err) as Error),
        );
      },
    });
  }

  /** Verifies digest and size, fsyncs and renames the blob into `blobs/`. A mismatch deletes the partial. */
  async commit(): Promise<{ digest: string; size: number }> {
    if (this.done) throw new BerthError('INTERNAL', 'the blob writer already finished');
    this.done = true;
    try {
      if (this.exists) {
        const size = (await stat(blobFile(this.paths, this.expected.digest))).size;
        return { digest: this.expected.digest, size };
      }
      await this.flushing;
      const handle = this.handle!;
      this.handle = undefined;
      await this.syncing;
      // The file must hold exactly the bytes that were hashed: a write lost to a full disk must not pass.
      const onDisk = this.failure === undefined ? (await handle.stat()).size : -1;
      if (this.failure === undefined && onDisk !== this.written) {
        this.failure = new BerthError(
          'SIZE_MISMATCH',
          `blob ${this.expected.digest}: the partial file holds ${onDisk} bytes, ${this.written} were written`,
        );
      }
      if (this.failure !== undefined) {
        await handle.close().catch(() => undefined);
        this.finish(false);
        throw this.failure;
      }
      // The bytes go to disk while the checks run.
      const durable = (async () => {
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      })();
      try {
        const { algorithm } = parseDigest(this.expected.digest);
        const actual = `${algorithm}:${this.hash.digest('hex')}`;
        if (this.expected.size !== undefined && this.written !== this.expected.size) {
          throw new BerthError(
            'SIZE_MISMATCH',
            `blob ${this.expected.digest} has ${this.written} bytes, expected ${this.expected.size}`,
            {
              digest: this.expected.digest,
              expected: this.expected.size,
              actual: this.written,
            },
          );
        }
        if (actual !== this.expected.digest) {
          throw new BerthError(
            'DIGEST_MISMATCH',
            `blob content has digest ${actual}, expected ${this.expected.digest}`,
            {
              expected: this.expected.digest,
              actual,
            },
          );
        }
      } catch (err) {
        this.finish(false);
        await durable.catch(() => undefined);
        await rm(this.partial, { force: true });
        throw err;
      }
      // Every byte is written and verified: a follower may read to the end while the fsync runs.
      this.finish(true);
      await durable;
      const target = blobFile(this.paths, this.expected.digest);
      await mkdir(dirname(target), { recursive: true });
      await rename(this.partial, target);
      await syncDir(dirname(target));
      return { digest: this.expected.digest, size: this.written };
    } finally {
      await this.releaseLock();
    }
  }

  /** Stops writing; by default the partial file stays so a later writer resumes from `offset`. */
  async abort(options: { keep?: boolean } = {}): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.finish(false);
    try {
      await this.flushing;
      await this.syncing;
      await this.handle?.close();
      this.handle = undefined;
      if (options.keep === false) await rm(this.partial, { force: true });
    } finally {
      await this.releaseLock();
    }
  }
}

/**
 * Writes every byte of `batch`. A write that stops short (a disk filling up writes what fits and reports no
 * error) is continued from where it stopped, so the error, if any, surfaces instead of a shorter file.
 */
export async function writeAll(
  handle: Pick<FileHandle, 'writev' | 'write'>,
  batch: Buffer[],
  bytes: number,
): Promise<void> {
  let done = (await handle.writev(batch)).bytesWritten;
  if (done === bytes) return;
  const rest = Buffer.concat(batch);
  while (done < bytes) {
    const { bytesWritten } = await handle.write(rest, done, bytes - done);
    if (bytesWritten === 0) throw new BerthError('INTERNAL', 'a write into the store made no progress');
    done += bytesWritten;
  }
}

async function lockIngest(partial: string): Promise<() => Promise<void>> {
  const { default: lockfile } = await loadLockLibrary();
  const deadline = Date.now() + 10 * 60_000;
  for (let pause = 10; ; pause = Math.min(pause * 2, 500)) {
    try {
      const release = await lockfile.lock(partial, {
        stale: 10_000,
        realpath: false,
        onCompromised: () => undefined,
      });
      return () => release().catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED' || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function hashInto(hash: Hash): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
}
