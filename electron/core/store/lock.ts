import { open } from 'node:fs/promises';
import { BerthError } from '../../../shared/error';

const importLockLibrary = () => import('proper-lockfile');
let lockLibrary: ReturnType<typeof importLockLibrary> | undefined;

/**
 * proper-lockfile, loaded once with the first write, not with the store: it patches fs (graceful-fs), which
 * costs every process that only reads (`berth serve`'s start, `berth images`) tens of milliseconds. A pull
 * starts loading it while it waits for the registry, so its first layer does not wait for it.
 */
export function loadLockLibrary(): ReturnType<typeof importLockLibrary> {
  lockLibrary ??= importLockLibrary();
  return lockLibrary;
}

/** How long writers wait for the store lock, and when a lock left by a dead process counts as stale. */
export interface LockOptions {
  staleMs?: number;
  waitMs?: number;
}

/**
 * The cross-process writer lock (proper-lockfile's mkdir lock, kept fresh by mtime updates). Within one
 * process, writers are also queued on a promise chain so they never poll against each other.
 */
export class StoreLock {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly staleMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly file: string,
    options: LockOptions = {},
  ) {
    this.staleMs = Math.max(options.staleMs ?? 10_000, 2_000);
    this.waitMs = options.waitMs ?? 60_000;
  }

  /** Runs `body` holding the lock; the lock is released however `body` ends. */
  run<T>(body: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.hold(body));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async hold<T>(body: () => Promise<T>): Promise<T> {
    await (await open(this.file, 'a')).close();
    let compromised: Error | undefined;
    const release = await this.acquire((err) => {
      compromised = err;
    });
    try {
      const result = await body();
      if (compromised)
        throw new BerthError('STORE_LOCKED', `the store lock was lost: ${compromised.message}`);
      return result;
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async acquire(onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
    const { default: lockfile } = await loadLockLibrary();
    const deadline = Date.now() + this.waitMs;
    let pause = 5;
    for (;;) {
      try {
        return await lockfile.lock(this.file, { stale: this.staleMs, realpath: false, onCompromised });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
        if (Date.now() >= deadline) {
          throw new BerthError('STORE_LOCKED', `the store is locked by another process (${this.file}.lock)`);
        }
        await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
        pause = Math.min(pause * 2, 100);
      }
    }
  }
}
