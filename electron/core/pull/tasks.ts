import { randomUUID } from 'node:crypto';
import type { PullProgress } from '../../../shared/contract';
import { BerthError, toWireError } from '../../../shared/error';
import { parseReference } from '../../../shared/reference';
import type { Puller, PullRequest } from './pull';

/** Finished pulls kept for `pull:list`, newest last. */
const keepFinished = 20;

interface PullTask {
  controller: AbortController;
  latest: PullProgress;
}

/**
 * Pulls that outlive the call that started them: each gets an id at once, runs in the background, reports
 * every progress snapshot to `emit`, and stays listed (with its final state) after it ends.
 */
export class PullTasks {
  private readonly tasks = new Map<string, PullTask>();

  constructor(
    private readonly puller: () => Promise<Puller>,
    private readonly emit: (progress: PullProgress) => void,
  ) {}

  /** Starts a pull in the background and returns its id; a reference that does not parse throws at once. */
  start(request: Omit<PullRequest, 'signal' | 'onProgress' | 'pullId'>): string {
    parseReference(request.reference);
    return this.run(request.reference, 'pull', async (pullId, signal, onProgress) => {
      const puller = await this.puller();
      await puller.pull({ ...request, pullId, signal, onProgress });
    });
  }

  /**
   * Runs any transfer (a push) as a task of this list: same ids, progress stream, cancel and listing.
   * `work` must report its progress through `onProgress` with the id it is given.
   */
  run(
    reference: string,
    kind: 'pull' | 'push',
    work: (pullId: string, signal: AbortSignal, onProgress: (p: PullProgress) => void) => Promise<void>,
  ): string {
    const pullId = randomUUID();
    const controller = new AbortController();
    const task: PullTask = {
      controller,
      latest: {
        pullId,
        ...(kind === 'push' ? { kind } : {}),
        reference,
        state: 'resolving',
        layers: [],
        done: 0,
        total: 0,
        bytesPerSecond: 0,
      },
    };
    const report = (progress: PullProgress): void => {
      task.latest = progress;
      this.emit(progress);
    };
    void work(pullId, controller.signal, report)
      .catch((err: unknown) => {
        if (task.latest.state !== 'failed' && task.latest.state !== 'cancelled') {
          report({
            ...task.latest,
            state: controller.signal.aborted ? 'cancelled' : 'failed',
            error: toWireError(err),
          });
        }
      })
      .finally(() => this.trim());
    this.tasks.set(pullId, task);
    return pullId;
  }

  /** Aborts a running pull; false when it already ended. */
  cancel(pullId: string): boolean {
    const task = this.tasks.get(pullId);
    if (!task) throw new BerthError('NOT_FOUND', `no pull or push with id ${pullId}`);
    if (!running(task.latest) || task.controller.signal.aborted) return false;
    task.controller.abort();
    return true;
  }

  /** Running and recently finished pulls, oldest first. */
  list(): PullProgress[] {
    return [...this.tasks.values()].map((t) => structuredClone(t.latest));
  }

  private trim(): void {
    const finished = [...this.tasks].filter(([, t]) => !running(t.latest));
    for (const [id] of finished.slice(0, Math.max(0, finished.length - keepFinished))) this.tasks.delete(id);
  }
}

function running(progress: PullProgress): boolean {
  return progress.state === 'resolving' || progress.state === 'running';
}
