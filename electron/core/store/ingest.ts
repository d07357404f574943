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
 * in `commit` little to write (about 0.5 s less for a 470 MB blob); that final fsync is still what makes the
 * blob durable before the rename.
 */
const backgroundSyncBytes = 32 * 1024 * 1024;

/**
 * Streams one blob into the store. Invariant: a blob becomes visible in `blobs/` only after its bytes were
 * hashed, found equal to the expected digest and size, fsynced, and renamed in. Until then they sit in a
 * partial file under `.berth/ingest/`, named by the expected digest so an interrupted download can resume
 * (ask `offset`, fetch with an HTTP Range from there). One writer per digest at a time, across processes.
 */
export class BlobWriter {
  private hash: Hash;
  private written: number;
  private done = false;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;

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

  /** Bytes already held: resume the download from here. */
  get offset(): number {
    return this.written;
  }

  /** Appends a chunk; refuses bytes beyond the expected size. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done || !this.handle) throw new BerthError('INTERNAL', 'write after the blob writer finished');
    if (this.expected.size !== undefined && this.written + chunk.length > this.expected.size) {
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
    await this.handle.write(chunk);
    this.hash.update(chunk);
    this.written += chunk.length;
    this.unsynced += chunk.length;
    if (this.unsynced >= backgroundSyncBytes && this.syncing === undefined) {
      this.unsynced = 0;
      // A failure here is not lost: the fsync in commit reports it.
      this.syncing = this.handle
        .datasync()
        .catch(() => undefined)
        .finally(() => {
          this.syncing = undefined;
        });
    }
  }

  /** A Writable that feeds `write`, for `pipeline(response.body, writer.stream())`. */
  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
    });
  }

  /**
   * Verifies digest and size, fsyncs and renames the blob into `blobs/`. A mismatch deletes the partial.
   * `beforePublish` runs after the bytes are verified and before the rename; if it throws (a layer whose
   * DiffID is wrong), the partial is deleted and the blob never appears in `blobs/`.
   */
  async commit(
    options: { beforePublish?: () => Promise<void> } = {},
  ): Promise<{ digest: string; size: number }> {
    if (this.done) throw new BerthError('INTERNAL', 'the blob writer already finished');
    this.done = true;
    try {
      if (this.exists) {
        const size = (await stat(blobFile(this.paths, this.expected.digest))).size;
        return { digest: this.expected.digest, size };
      }
      const handle = this.handle!;
      this.handle = undefined;
      await this.syncing;
      // The bytes go to disk while the checks and `beforePublish` run (a pull waits there for its layer index).
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
        await options.beforePublish?.();
      } catch (err) {
        await durable.catch(() => undefined);
        await rm(this.partial, { force: true });
        throw err;
      }
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
    try {
      await this.syncing;
      await this.handle?.close();
      this.handle = undefined;
      if (options.keep === false) await rm(this.partial, { force: true });
    } finally {
      await this.releaseLock();
    }
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
