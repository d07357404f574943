import { Worker } from 'node:worker_threads';

/**
 * The worker's program, run with `eval` so it needs no file of its own beside whichever bundle loaded this module
 * (the Electron main bundle, the CLI, the bench workloads, or the sources under test). It boots idle and inflates
 * one stream per `start` message (a fresh gunzip and hash each time, so a worker is reused layer after layer). It
 * asks for compressed input while less than `inputAhead` bytes of it are queued (so zlib does not wait for the
 * main thread to read the next chunk), inflates it, hashes the output for the DiffID, and copies each output chunk
 * into the next slot of the stream's shared ring. When every slot holds a chunk the other side has not taken, it
 * sleeps until half the ring is free: one wake-up per half ring, not per chunk, as each wake-up is a trip through
 * the scheduler. Every message names its stream, so nothing of one stream is taken for the next.
 */
const workerProgram = `
const { parentPort } = require('node:worker_threads');
const { createGunzip } = require('node:zlib');
const { createHash } = require('node:crypto');
const { Readable } = require('node:stream');
let current = 0;
let input;
parentPort.on('message', (message) => {
  if (message.kind === 'start') {
    current = message.id;
    input = inflate(message);
  } else if (message.id !== current) return;
  else if (message.kind === 'input') input.push(Buffer.from(message.chunk));
  else input.push(null);
});
function inflate({ id, chunkSize, credits, inputAhead, ring: ringBuffer, taken: takenBuffer }) {
  const ring = new Uint8Array(ringBuffer);
  const taken = new Int32Array(takenBuffer);
  const refill = Math.max(1, credits >> 1);
  const hash = createHash('sha256');
  const source = new Readable({ highWaterMark: inputAhead, read() { parentPort.postMessage({ kind: 'need', id }); } });
  const gunzip = createGunzip({ chunkSize });
  source.pipe(gunzip);
  (async () => {
    let sent = 0;
    try {
      for await (const output of gunzip) {
        hash.update(output);
        for (let at = 0; at < output.length; at += chunkSize) {
          const chunk = output.subarray(at, at + chunkSize);
          for (;;) {
            let done = Atomics.load(taken, 0);
            if (sent - done < credits) break;
            const wanted = sent - credits + refill;
            Atomics.store(taken, 1, wanted);
            done = Atomics.load(taken, 0);
            if (done < wanted) {
              const wait = Atomics.waitAsync(taken, 0, done);
              if (wait.async) await wait.value;
            }
            Atomics.store(taken, 1, 0);
          }
          const slot = sent % credits;
          ring.set(chunk, slot * chunkSize);
          parentPort.postMessage({ kind: 'output', id, slot, length: chunk.length });
          sent += 1;
        }
      }
      parentPort.postMessage({ kind: 'done', id, digest: hash.digest('hex') });
    } catch (err) {
      parentPort.postMessage({ kind: 'error', id, message: String(err && err.message), code: err && err.code });
    }
  })();
  return source;
}
`;

let liveWorkers = 0;

/**
 * Gzip workers one process runs at once. Each costs a V8 isolate and the zlib buffers it has yet to collect (tens
 * of MB), so layers decoded alongside (a pull indexes up to three) inflate inline instead.
 */
const maxWorkers = 1;
let claimedWorkers = 0;

/** Reserves one of the process's gzip workers; false when all are taken. Pair with `releaseGunzipWorker`. */
export function claimGunzipWorker(): boolean {
  if (claimedWorkers >= maxWorkers) return false;
  claimedWorkers += 1;
  return true;
}

/** Returns a gzip worker reserved with `claimGunzipWorker`. */
export function releaseGunzipWorker(): void {
  claimedWorkers -= 1;
}

/**
 * How many gzip workers are running now, idle or busy. A busy one ends with the generator that adopted it, unless
 * a hold from `holdGunzipWorker` keeps it idle for the next stream; the last hold's release ends an idle one.
 */
export function liveGunzipWorkers(): number {
  return liveWorkers;
}

/**
 * The worker waiting for its next stream, booted ahead or kept from the last one. It is unref'd, so it never keeps
 * the process alive, and exists only while a hold is open.
 */
let idleWorker: Worker | undefined;
let holds = 0;
let lastStreamId = 0;

function startWorker(): Worker {
  const worker = new Worker(workerProgram, {
    eval: true,
    // The worker holds a stream and a hash; small heaps keep its share of the process's memory small too.
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 },
  });
  liveWorkers += 1;
  // A stream that has the worker hears of its errors through its own listener; an idle worker's error is
  // followed by 'exit', which drops it.
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    liveWorkers -= 1;
    if (idleWorker === worker) idleWorker = undefined;
  });
  return worker;
}

/**
 * Declares a user of the process's gzip worker, such as a pull: while any hold is open, a worker whose stream ran
 * cleanly stays idle for the next layer instead of being terminated, and `prestartGunzipWorker` may boot one.
 * Returns the release (idempotent), which ends the idle worker once no other hold remains and resolves when it
 * has exited.
 */
export function holdGunzipWorker(): () => Promise<void> {
  holds += 1;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    holds -= 1;
    const idle = idleWorker;
    if (holds > 0 || idle === undefined) return;
    idleWorker = undefined;
    await idle.terminate();
  };
}

/** Runs `work` (a pull) under a hold from `holdGunzipWorker`, released (ending an idle worker) once it settles. */
export async function withGunzipWorkerHeld<T>(work: () => Promise<T>): Promise<T> {
  const release = holdGunzipWorker();
  try {
    return await work();
  } finally {
    await release();
  }
}

/**
 * Boots a gzip worker now, while a pull's manifest round trips run, so the first large gzip layer finds it ready
 * instead of stalling its download for the worker's start-up (tens of ms). Does so only under a hold (nothing
 * else would end an unused worker) and when no worker is running, idle or busy. A pull calls it once it knows it
 * must reach the registry, not before: booting and ending an unused worker costs an image already present
 * 10 to 25 ms.
 */
export function prestartGunzipWorker(): void {
  if (holds === 0 || idleWorker !== undefined || liveWorkers > 0) return;
  idleWorker = startWorker();
  idleWorker.unref();
}

type FromWorker =
  | { kind: 'need'; id: number }
  | { kind: 'output'; id: number; slot: number; length: number }
  | { kind: 'done'; id: number; digest: string }
  | { kind: 'error'; id: number; message: string; code: unknown };

/** Tuning for `gunzipOffThread`. */
export interface GunzipWorkerOptions {
  /** Output chunk size of zlib in the worker. */
  chunkSize: number;
  /** Slots in the ring of decoded chunks shared with the worker: memory is bounded at credits × chunkSize. */
  credits: number;
  /** Compressed bytes the worker keeps queued ahead of zlib (one more source chunk may be in flight). */
  inputAhead: number;
  /**
   * Yield views of the shared ring instead of private copies. Only for a consumer that keeps no reference to a
   * chunk once it asks for the next one: the worker refills the slot after that.
   */
  lend: boolean;
  /**
   * The source's chunks are the caller's to give away: one that spans its whole ArrayBuffer moves to the worker
   * (it is detached here) instead of being copied, which for a pull is most network reads.
   */
  handOver?: boolean;
}

/** A gzip stream ended or failed inside the worker; `code` is zlib's (`Z_DATA_ERROR`, `Z_BUF_ERROR` ...). */
export class GunzipWorkerError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Decompresses gzip on a worker thread, which also computes the sha256 of the output (the DiffID), so the
 * caller's thread only handles the decoded chunks. Yields each decoded chunk and returns the hex digest once the
 * stream ends. Backpressure holds both ways: input is read from `source` only while the worker holds less than
 * `inputAhead` bytes of it, and the worker stops after `credits` chunks the consumer has not taken. Adopts the idle
 * worker if there is one (see `prestartGunzipWorker`), else starts one. A stream that ends cleanly while a hold
 * remains leaves its worker idle for the next; otherwise (done without a hold, error, or the consumer stopping
 * early) the worker is terminated. Either way `source` is closed.
 */
export async function* gunzipOffThread(
  source: AsyncIterator<Buffer>,
  options: GunzipWorkerOptions,
): AsyncGenerator<Buffer, string, undefined> {
  const { chunkSize, credits } = options;
  const ring = Buffer.from(new SharedArrayBuffer(chunkSize * credits));
  // [chunks taken, the count the worker sleeps until (0 while it runs)]: the consumer wakes it only on reaching that.
  const taken = new Int32Array(new SharedArrayBuffer(8));
  const worker = idleWorker ?? startWorker();
  idleWorker = undefined;
  worker.ref();
  lastStreamId += 1;
  const id = lastStreamId;
  const queue: FromWorker[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let stopped = false;
  let feeding: Promise<void> = Promise.resolve();
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    notify();
  };
  const feed = async (): Promise<void> => {
    try {
      const next = await source.next();
      if (stopped) return;
      if (next.done === true) {
        worker.postMessage({ kind: 'end', id });
        return;
      }
      const chunk = next.value;
      // Copying each chunk would allocate as many fresh ArrayBuffers as the blob is big (470 MB for the 1 GB
      // pull), and the main heap runs a major GC for about every 10 MB of them.
      const own = chunk.buffer;
      const whole =
        options.handOver === true &&
        own instanceof ArrayBuffer &&
        chunk.byteOffset === 0 &&
        chunk.byteLength === own.byteLength;
      const copy = whole ? undefined : new Uint8Array(chunk);
      worker.postMessage({ kind: 'input', id, chunk: copy ?? chunk }, [copy?.buffer ?? (own as ArrayBuffer)]);
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const onMessage = (message: FromWorker): void => {
    if (message.id !== id) return;
    if (message.kind === 'need') feeding = feeding.then(feed);
    else {
      queue.push(message);
      notify();
    }
  };
  const onError = (err: Error): void => fail(err);
  const onExit = (code: number): void => {
    if (!stopped) fail(new Error(`the gzip worker exited early (code ${code})`));
  };
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.once('exit', onExit);
  worker.postMessage({
    kind: 'start',
    id,
    chunkSize,
    credits,
    inputAhead: options.inputAhead,
    ring: ring.buffer,
    taken: taken.buffer,
  });
  const release = (): void => {
    const done = Atomics.add(taken, 0, 1) + 1;
    const wanted = Atomics.load(taken, 1);
    if (wanted !== 0 && done >= wanted) Atomics.notify(taken, 0);
  };
  let finished = false;
  try {
    for (;;) {
      const message = queue.shift();
      if (message === undefined) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (message.kind === 'done') {
        finished = true;
        return message.digest;
      }
      if (message.kind === 'error') {
        throw new GunzipWorkerError(
          message.message,
          typeof message.code === 'string' ? message.code : undefined,
        );
      }
      if (message.kind === 'output') {
        const from = message.slot * chunkSize;
        if (options.lend) {
          yield ring.subarray(from, from + message.length);
          release();
        } else {
          // A private copy, so the worker can refill the slot while the consumer still holds views of this chunk.
          const chunk = Buffer.allocUnsafe(message.length);
          ring.copy(chunk, 0, from, from + message.length);
          release();
          yield chunk;
        }
      }
    }
  } finally {
    stopped = true;
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    // Only a worker whose stream ran to its end is clean to reuse: after anything else it may still hold input.
    if (finished && failure === undefined && holds > 0 && idleWorker === undefined) {
      worker.unref();
      idleWorker = worker;
    } else await worker.terminate();
    // A read still pending on a stalled source must not hold up an error: the source closes once it settles.
    const closing = feeding.then(() => source.return?.());
    if (finished) await closing;
    else closing.catch(() => undefined);
  }
}
