import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { constants, createGzip, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { bigFileTar } from '../../support/fixture-tar.js';
import { buildLayerTar, type FixtureEntry } from '../../support/fixture-tar.js';
import {
  gunzipOffThread,
  holdGunzipWorker,
  liveGunzipWorkers,
  prestartGunzipWorker,
  withGunzipWorkerHeld,
  type GunzipWorkerOptions,
} from '../../../electron/core/layers/gunzip-worker.js';
import { indexLayer, type IndexLayerOptions } from '../../../electron/core/layers/index-layer.js';
import { chunked } from './layer-fixtures.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Always on the worker, and never: the two ways a gzip layer can be inflated. */
const modes: { name: string; opts: IndexLayerOptions }[] = [
  { name: 'on a worker', opts: { gunzipWorkerFromBytes: 0 } },
  { name: 'inline', opts: { gunzipWorkerFromBytes: Number.POSITIVE_INFINITY } },
];

/** Files of many sizes, some spanning several decoded chunks, and every entry type the index records. */
function mixedLayer(): FixtureEntry[] {
  const entries: FixtureEntry[] = [{ path: 'usr/', type: 'dir' }];
  for (let i = 0; i < 400; i++)
    entries.push({ path: `usr/share/f${String(i).padStart(3, '0')}`, size: i * 97 });
  entries.push({ path: 'usr/lib/big.so', size: 700_000 });
  entries.push({ path: 'usr/lib/huge.bin', size: 3 * 1024 * 1024 + 17 });
  entries.push({ path: 'usr/bin/sh', type: 'symlink', linkname: 'busybox' });
  entries.push({ path: 'usr/bin/ash', type: 'hardlink', linkname: 'usr/lib/big.so' });
  entries.push({ path: 'etc/gone', type: 'whiteout' });
  return entries;
}

/** Polls until no gzip worker is left running, failing after a bound. */
async function noWorkersLeft(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (liveGunzipWorkers() > 0) {
    if (Date.now() > deadline) throw new Error(`${liveGunzipWorkers()} gzip workers still running`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('gzip inflated on a worker thread', () => {
  it('gives the same index, DiffID and content hashes as inflating inline', async () => {
    const tar = buildLayerTar(mixedLayer());
    const blob = gzipSync(tar);
    const [offThread, inline] = await Promise.all(
      modes.map((mode) => indexLayer(chunked(blob, 64 * 1024), mode.opts)),
    );
    expect(offThread).toEqual(inline);
    expect(offThread?.diffId).toBe(`sha256:${sha256(tar)}`);
    expect(offThread?.entries.find((e) => e.path === 'usr/lib/huge.bin')?.size).toBe(3 * 1024 * 1024 + 17);
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('starts a worker only for a blob of the threshold or more', async () => {
    const blob = gzipSync(buildLayerTar(mixedLayer()));
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, liveGunzipWorkers());
    }, 0);
    try {
      await indexLayer(chunked(blob, 4096), { gunzipWorkerFromBytes: blob.length + 1 });
    } finally {
      clearInterval(watch);
    }
    expect(most).toBe(0);
    const download = new PassThrough();
    const pending = indexLayer(download, { gunzipWorkerFromBytes: blob.length });
    download.write(blob);
    const deadline = Date.now() + 10_000;
    while (liveGunzipWorkers() === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(liveGunzipWorkers()).toBe(1);
    download.end();
    expect((await pending).entries.length).toBeGreaterThan(400);
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('runs one worker at a time: layers indexed alongside inflate inline, with the same results', async () => {
    const blob = gzipSync(buildLayerTar(mixedLayer()));
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, liveGunzipWorkers());
    }, 0);
    let indexes;
    try {
      indexes = await Promise.all(
        [1, 2, 3].map(() => indexLayer(chunked(blob, 64 * 1024), { gunzipWorkerFromBytes: 0 })),
      );
    } finally {
      clearInterval(watch);
    }
    expect(most).toBe(1);
    expect(indexes[1]).toEqual(indexes[0]);
    expect(indexes[2]).toEqual(indexes[0]);
    await indexLayer(chunked(blob, 64 * 1024), { gunzipWorkerFromBytes: 0, maxEntries: 3 }).catch(
      () => undefined,
    );
    const download = new PassThrough();
    const pending = indexLayer(download, { gunzipWorkerFromBytes: 0 });
    download.write(blob);
    const deadline = Date.now() + 10_000;
    while (liveGunzipWorkers() === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(liveGunzipWorkers()).toBe(1);
    download.end();
    await pending;
  });

  for (const mode of modes) {
    it(`refuses corrupt and truncated gzip with ARCHIVE_INVALID ${mode.name}`, async () => {
      const blob = gzipSync(buildLayerTar(mixedLayer()));
      const corrupt = Buffer.from(blob);
      corrupt.fill(0xff, 2000, 2400);
      await expect(indexLayer(chunked(corrupt, 8192), mode.opts)).rejects.toMatchObject({
        code: 'ARCHIVE_INVALID',
        message: /gzip stream is corrupt or truncated/,
      });
      const truncated = blob.subarray(0, Math.floor(blob.length / 2));
      await expect(indexLayer(chunked(truncated, 8192), mode.opts)).rejects.toMatchObject({
        code: 'ARCHIVE_INVALID',
        message: /gzip stream is corrupt or truncated/,
      });
      await noWorkersLeft();
    });

    it(`stops a gzip bomb at the size cap and the ratio cap ${mode.name}`, async () => {
      const bomb = gzipSync(buildLayerTar([{ path: 'zeros', content: Buffer.alloc(8 * 1024 * 1024) }]), {
        level: constants.Z_BEST_COMPRESSION,
      });
      await expect(
        indexLayer(chunked(bomb, 1024), { ...mode.opts, maxUncompressedBytes: 1024 * 1024 }),
      ).rejects.toMatchObject({ code: 'TOO_LARGE', message: /uncompressed size/ });
      await expect(
        indexLayer(chunked(bomb, 1024), { ...mode.opts, ratioFloorBytes: 0, maxCompressionRatio: 20 }),
      ).rejects.toMatchObject({ code: 'TOO_LARGE', message: /decompression bomb/ });
      await noWorkersLeft();
    });

    it(`stops at a tar cap and closes the source ${mode.name}`, async () => {
      const blob = gzipSync(buildLayerTar(mixedLayer()));
      const source = chunked(blob, 4096);
      await expect(indexLayer(source, { ...mode.opts, maxEntries: 10 })).rejects.toMatchObject({
        code: 'TOO_LARGE',
      });
      await noWorkersLeft();
      const deadline = Date.now() + 10_000;
      while (!source.destroyed && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      expect(source.destroyed).toBe(true);
    });

    it(`passes on a download that fails midway ${mode.name}`, async () => {
      const blob = gzipSync(buildLayerTar(mixedLayer()));
      const download = new Readable({ read() {} });
      download.push(blob.subarray(0, 50_000));
      download.push(blob.subarray(50_000, 100_000));
      const pending = indexLayer(download, mode.opts);
      setImmediate(() => download.destroy(new Error('connection reset')));
      await expect(pending).rejects.toThrow('connection reset');
      await noWorkersLeft();
    });
  }

  it('hands a slow consumer every chunk in order when the worker sleeps on a full ring and wakes at half', async () => {
    const plain = Buffer.concat([...Array(40).keys()].map((i) => Buffer.alloc(50_000 + i * 1000, i)));
    const source = chunked(gzipSync(plain), 4096)[Symbol.asyncIterator]();
    const generator = gunzipOffThread(source, {
      chunkSize: 16 * 1024,
      credits: 4,
      inputAhead: 8192,
      lend: false,
    });
    const received: Buffer[] = [];
    let next = await generator.next();
    while (next.done !== true) {
      received.push(next.value);
      // A consumer that yields to the event loop per chunk, so the worker often fills the ring and sleeps.
      await new Promise((resolve) => setImmediate(resolve));
      next = await generator.next();
    }
    expect(Buffer.concat(received).equals(plain)).toBe(true);
    expect(received.length).toBeGreaterThan(4 * 4);
    expect(next.value).toBe(sha256(plain));
    await noWorkersLeft();
  });

  it('takes over input chunks that own their whole buffer only when handed over, and copies the rest', async () => {
    // Incompressible, so the blob spans several 50 kB chunks.
    const plain = randomBytes(300_000);
    const blob = gzipSync(plain);
    const pieces = (): Buffer[] => {
      const whole: Buffer[] = [];
      for (let at = 0; at < blob.length; at += 50_000)
        whole.push(Buffer.from(blob.subarray(at, at + 50_000)));
      // One view into a bigger buffer: moving its buffer would take bytes that are not the chunk's.
      const shared = Buffer.concat([whole[1]!, Buffer.from('tail the chunk does not own')]);
      whole[1] = shared.subarray(0, whole[1]!.length);
      return whole;
    };
    const run = async (
      handOver: boolean,
    ): Promise<{ output: Buffer; digest: string; chunks: Buffer[]; owned: boolean[] }> => {
      const chunks = pieces();
      // What each chunk owns before the run (a short last piece comes from Node's shared pool, so not whole).
      const owned = chunks.map((c) => c.byteOffset === 0 && c.byteLength === c.buffer.byteLength);
      const generator = gunzipOffThread(Readable.from(chunks)[Symbol.asyncIterator](), {
        chunkSize: 64 * 1024,
        credits: 4,
        inputAhead: 100_000,
        lend: false,
        handOver,
      });
      const received: Buffer[] = [];
      let next = await generator.next();
      while (next.done !== true) {
        received.push(next.value);
        next = await generator.next();
      }
      return { output: Buffer.concat(received), digest: next.value, chunks, owned };
    };
    const kept = await run(false);
    expect(kept.output.equals(plain)).toBe(true);
    expect(kept.chunks.every((c) => c.byteLength > 0)).toBe(true);
    const given = await run(true);
    expect(given.output.equals(plain)).toBe(true);
    expect(given.digest).toBe(sha256(plain));
    expect(given.owned[1]).toBe(false);
    expect(given.owned.filter(Boolean).length).toBeGreaterThanOrEqual(4);
    // Detached (moved to the worker) exactly when the chunk owned its whole buffer; the others are intact.
    expect(given.chunks.map((c) => c.byteLength === 0)).toEqual(given.owned);
    await noWorkersLeft();
  });

  it('streams a gzip layer of 128 MiB through the worker with bounded memory', async () => {
    const size = 128 * 1024 * 1024;
    const tar = (): AsyncGenerator<Buffer> => bigFileTar(size);
    const gzip = Readable.from(tar(), { objectMode: false }).pipe(createGzip({ level: 1 }));
    const used = (): number => {
      const memory = process.memoryUsage();
      return memory.heapUsed + memory.arrayBuffers;
    };
    global.gc?.();
    const before = used();
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, used());
    }, 5);
    try {
      const index = await indexLayer(gzip, { gunzipWorkerFromBytes: 0 });
      expect(index.entries).toEqual([expect.objectContaining({ path: 'big.bin', size })]);
      expect(index.uncompressedSize).toBe(size + 1536);
    } finally {
      clearInterval(timer);
    }
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
    expect(liveGunzipWorkers()).toBe(0);
  }, 120_000);
});

/** Holds taken by a test, released after it whatever it did, so no test leaves a worker for the next. */
const holds: (() => Promise<void>)[] = [];
/** A hold with a worker prestarted under it, as a pull takes them. */
function hold(): () => Promise<void> {
  const release = holdGunzipWorker();
  holds.push(release);
  prestartGunzipWorker();
  return release;
}

/** Distinct, mostly incompressible-looking content of `size` bytes for `seed`. */
function plainBytes(seed: number, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = (x >>> 16) % 7 === 0 ? x & 0xff : seed;
  }
  return bytes;
}

const ringOptions: GunzipWorkerOptions = { chunkSize: 16 * 1024, credits: 4, inputAhead: 8192, lend: false };

/**
 * Inflates `blob` through `gunzipOffThread`, recording the most workers alive while a chunk was in hand (a worker
 * started beside an idle one would show as two).
 */
async function inflate(
  blob: Buffer,
  options: GunzipWorkerOptions = ringOptions,
): Promise<{ output: Buffer; digest: string; mostLive: number }> {
  const generator = gunzipOffThread(chunked(blob, 4096)[Symbol.asyncIterator](), options);
  const received: Buffer[] = [];
  let mostLive = 0;
  let next = await generator.next();
  while (next.done !== true) {
    mostLive = Math.max(mostLive, liveGunzipWorkers());
    received.push(Buffer.from(next.value));
    next = await generator.next();
  }
  return { output: Buffer.concat(received), digest: next.value, mostLive };
}

describe('a gzip worker started ahead of its first stream', () => {
  afterEach(async () => {
    await Promise.all(holds.splice(0).map((release) => release()));
    await noWorkersLeft();
  });

  it('is adopted by the first stream, which gives the same output and digest', async () => {
    const plain = plainBytes(1, 600_000);
    hold();
    expect(liveGunzipWorkers()).toBe(1);
    const { output, digest, mostLive } = await inflate(gzipSync(plain));
    expect(output.equals(plain)).toBe(true);
    expect(digest).toBe(sha256(plain));
    expect(mostLive).toBe(1);
    const tar = buildLayerTar(mixedLayer());
    const [adopted, inline] = [
      await indexLayer(chunked(gzipSync(tar), 64 * 1024), { gunzipWorkerFromBytes: 0 }),
      await indexLayer(chunked(gzipSync(tar), 64 * 1024), {
        gunzipWorkerFromBytes: Number.POSITIVE_INFINITY,
      }),
    ];
    expect(adopted).toEqual(inline);
    expect(adopted.diffId).toBe(`sha256:${sha256(tar)}`);
  });

  it('is not started without a hold, which alone could end it', async () => {
    prestartGunzipWorker();
    expect(liveGunzipWorkers()).toBe(0);
    const release = holdGunzipWorker();
    holds.push(release);
    expect(liveGunzipWorkers()).toBe(0);
    prestartGunzipWorker();
    expect(liveGunzipWorkers()).toBe(1);
    await release();
    expect(liveGunzipWorkers()).toBe(0);
    prestartGunzipWorker();
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('is never started twice, and the last release of its holds terminates it unused', async () => {
    const first = hold();
    const second = hold();
    expect(liveGunzipWorkers()).toBe(1);
    await first();
    await first();
    expect(liveGunzipWorkers()).toBe(1);
    await second();
    expect(liveGunzipWorkers()).toBe(0);
    const busy = gunzipOffThread(
      chunked(gzipSync(plainBytes(9, 400_000)), 4096)[Symbol.asyncIterator](),
      ringOptions,
    );
    try {
      expect((await busy.next()).done).toBe(false);
      hold();
      expect(liveGunzipWorkers()).toBe(1);
    } finally {
      await busy.return('');
    }
    await Promise.all(holds.splice(0).map((release) => release()));
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('is reused stream after stream while held, with the right digest for each, then released', async () => {
    const release = hold();
    const plains = [plainBytes(2, 900_000), plainBytes(3, 300_000), plainBytes(4, 70_000)];
    const settings: GunzipWorkerOptions[] = [
      ringOptions,
      { chunkSize: 64 * 1024, credits: 2, inputAhead: 65536, lend: true },
      { chunkSize: 4096, credits: 8, inputAhead: 1024, lend: false },
    ];
    for (const [i, plain] of plains.entries()) {
      const { output, digest, mostLive } = await inflate(gzipSync(plain), settings[i]);
      expect(digest).toBe(sha256(plain));
      expect(output.equals(plain)).toBe(true);
      expect(mostLive).toBe(1);
      // Kept idle for the next stream rather than terminated.
      expect(liveGunzipWorkers()).toBe(1);
    }
    await release();
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('is terminated, not kept, after a corrupt stream or a consumer that stops early; the next stream starts afresh', async () => {
    hold();
    const blob = gzipSync(plainBytes(5, 400_000));
    const corrupt = Buffer.from(blob);
    corrupt.fill(0xff, 2000, 2400);
    await expect(inflate(corrupt)).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
    expect(liveGunzipWorkers()).toBe(0);
    await expect(inflate(blob.subarray(0, blob.length >> 1))).rejects.toThrow();
    expect(liveGunzipWorkers()).toBe(0);
    const early = gunzipOffThread(chunked(blob, 4096)[Symbol.asyncIterator](), ringOptions);
    expect((await early.next()).done).toBe(false);
    await early.return('');
    expect(liveGunzipWorkers()).toBe(0);
    const plain = plainBytes(6, 200_000);
    const after = await inflate(gzipSync(plain));
    expect(after.digest).toBe(sha256(plain));
    expect(liveGunzipWorkers()).toBe(1);
  });

  it('is terminated once a stream ends with no hold left, as without a prestart', async () => {
    const release = hold();
    const generator = gunzipOffThread(
      chunked(gzipSync(plainBytes(7, 500_000)), 4096)[Symbol.asyncIterator](),
      {
        ...ringOptions,
        lend: false,
      },
    );
    expect((await generator.next()).done).toBe(false);
    // The hold goes while its worker is busy: the release leaves that worker to its stream.
    await release();
    expect(liveGunzipWorkers()).toBe(1);
    let next = await generator.next();
    while (next.done !== true) next = await generator.next();
    expect(next.value).toBe(sha256(plainBytes(7, 500_000)));
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('leaves no worker when the work it wraps succeeds, fails or uses the worker', async () => {
    const prestarted = async <T>(result: () => Promise<T>): Promise<T> => {
      prestartGunzipWorker();
      expect(liveGunzipWorkers()).toBe(1);
      return result();
    };
    expect(await withGunzipWorkerHeld(() => prestarted(() => Promise.resolve(42)))).toBe(42);
    expect(liveGunzipWorkers()).toBe(0);
    await expect(
      withGunzipWorkerHeld(() => prestarted(() => Promise.reject(new Error('manifest unknown')))),
    ).rejects.toThrow('manifest unknown');
    expect(liveGunzipWorkers()).toBe(0);
    const plain = plainBytes(8, 300_000);
    const used = await withGunzipWorkerHeld(() => prestarted(() => inflate(gzipSync(plain))));
    expect(used.digest).toBe(sha256(plain));
    expect(used.mostLive).toBe(1);
    expect(liveGunzipWorkers()).toBe(0);
  });

  it('never keeps the process alive while idle, before or after a stream', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = await mkdtemp(join(tmpdir(), 'berth-prestart-'));
    try {
      const program = join(dir, 'held.cjs');
      await build({
        stdin: {
          contents: `
            import { gunzipOffThread, holdGunzipWorker, liveGunzipWorkers, prestartGunzipWorker } from './gunzip-worker';
            import { gzipSync } from 'node:zlib';
            holdGunzipWorker();
            prestartGunzipWorker();
            const stream = process.argv[2] === 'stream';
            (async () => {
              if (stream) {
                const input = [gzipSync(Buffer.alloc(300_000, 7))][Symbol.iterator]();
                const source = { next: async () => input.next() };
                const inflating = gunzipOffThread(source, { chunkSize: 65536, credits: 4, inputAhead: 65536, lend: false });
                let next = await inflating.next();
                while (next.done !== true) next = await inflating.next();
              }
              console.log('held', liveGunzipWorkers());
            })();
          `,
          resolveDir: resolve(here, '../../../electron/core/layers'),
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        outfile: program,
        logLevel: 'silent',
      });
      const run = promisify(execFile);
      for (const mode of ['idle', 'stream']) {
        const { stdout } = await run(process.execPath, [program, mode], { timeout: 20_000 });
        expect(stdout.trim()).toBe('held 1');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
