import { randomUUID } from 'node:crypto';
import { pullActive, type PullProgress } from '../../../shared/contract';
import { BerthError, toWireError } from '../../../shared/error';
import { parseReference } from '../../../shared/reference';
import type { Puller, PullRequest } from './pull';

/** Finished pulls kept for `pull:list`, newest last. */
const keepFinished = 20;

/** What a pull task was asked to do. */
export type PullTaskRequest = Omit<PullRequest, 'signal' | 'onProgress' | 'pullId'>;

/** The body of a transfer task: reports progress through `onProgress` with the id it is given. */
export type TransferWork = (
  pullId: string,
  signal: AbortSignal,
  onProgress: (progress: PullProgress) => void,
) => Promise<void>;

interface PullTask {
  controller: AbortController;
  reference: string;
  kind: 'pull' | 'push';
  /** Kept so a failed or cancelled task can run again. */
  work: TransferWork;
  latest: PullProgress;
}

/**
 * Pulls (and pushes) that outlive the call that started them: each gets an id at once, runs in the
 * background, reports every progress snapshot to `emit`, and stays listed (with its final state) after it ends.
 */
export class PullTasks {
  private readonly tasks = new Map<string, PullTask>();

  constructor(
    private readonly puller: () => Promise<Puller>,
    private readonly emit: (progress: PullProgress) => void,
  ) {}

  /** Starts a pull in the background and returns its id; a reference that does not parse throws at once. */
  start(request: PullTaskRequest): string {
    parseReference(request.reference);
    return this.run(request.reference, 'pull', async (pullId, signal, onProgress) => {
      const puller = await this.puller();
      await puller.pull({ ...request, pullId, signal, onProgress });
    });
  }

  /**
   * Runs any transfer (a push) as a task of this list: same ids, progress stream, cancel, retry and listing.
   * `work` must report its progress through `onProgress` with the id it is given.
   */
  run(reference: string, kind: 'pull' | 'push', work: TransferWork): string {
    const pullId = randomUUID();
    this.launch(pullId, reference, kind, work);
    return pullId;
  }

  /**
   * Runs a failed or cancelled task again under the same id, with the work it was started with; blobs
   * already verified are not transferred again. CONFLICT while it is still running.
   */
  retry(pullId: string): string {
    const task = this.tasks.get(pullId);
    if (!task) throw new BerthError('NOT_FOUND', `no pull or push with id ${pullId}`);
    if (pullActive(task.latest)) throw new BerthError('CONFLICT', `${task.kind} ${pullId} is still running`);
    this.launch(pullId, task.reference, task.kind, task.work);
    this.emit(structuredClone(this.tasks.get(pullId)?.latest ?? task.latest));
    return pullId;
  }

  /** Aborts a running task; false when it already ended or its image is stored (only indexing is left). */
  cancel(pullId: string): boolean {
    const task = this.tasks.get(pullId);
    if (!task) throw new BerthError('NOT_FOUND', `no pull or push with id ${pullId}`);
    if (!pullActive(task.latest) || task.latest.state === 'stored' || task.controller.signal.aborted)
      return false;
    task.controller.abort();
    return true;
  }

  /** Running and recently finished tasks, oldest first. */
  list(): PullProgress[] {
    return [...this.tasks.values()].map((t) => structuredClone(t.latest));
  }

  private launch(pullId: string, reference: string, kind: 'pull' | 'push', work: TransferWork): void {
    const controller = new AbortController();
    const task: PullTask = {
      controller,
      reference,
      kind,
      work,
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
    // A retried task moves to the end: the list stays in start order.
    this.tasks.delete(pullId);
    this.tasks.set(pullId, task);
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
  }

  private trim(): void {
    const finished = [...this.tasks].filter(([, t]) => !pullActive(t.latest));
    for (const [id] of finished.slice(0, Math.max(0, finished.length - keepFinished))) this.tasks.delete(id);
  }
}
