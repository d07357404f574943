import { randomUUID } from 'node:crypto';
import type { PullProgress } from '../../../shared/contract';
import { BerthError, toWireError } from '../../../shared/error';
import { parseReference } from '../../../shared/reference';
import type { Puller, PullRequest } from './pull';

/** Finished pulls kept for `pull:list`, newest last. */
const keepFinished = 20;

/** What a pull task was asked to do, kept so it can be retried. */
export type PullTaskRequest = Omit<PullRequest, 'signal' | 'onProgress' | 'pullId'>;

interface PullTask {
  controller: AbortController;
  request: PullTaskRequest;
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
  start(request: PullTaskRequest): string {
    parseReference(request.reference);
    const pullId = randomUUID();
    this.run(pullId, request);
    return pullId;
  }

  /**
   * Runs a failed or cancelled pull again under the same id, with the request it was started with; blobs
   * already verified are not fetched again. CONFLICT while it is still running.
   */
  retry(pullId: string): string {
    const task = this.tasks.get(pullId);
    if (!task) throw new BerthError('NOT_FOUND', `no pull with id ${pullId}`);
    if (running(task.latest)) throw new BerthError('CONFLICT', `pull ${pullId} is still running`);
    this.run(pullId, task.request);
    this.emit(structuredClone(this.tasks.get(pullId)?.latest ?? task.latest));
    return pullId;
  }

  private run(pullId: string, request: PullTaskRequest): void {
    const controller = new AbortController();
    const task: PullTask = {
      controller,
      request,
      latest: {
        pullId,
        reference: request.reference,
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
    this.tasks.delete(pullId);
    this.tasks.set(pullId, task);
    void this.puller()
      .then((puller) => puller.pull({ ...request, pullId, signal: controller.signal, onProgress: report }))
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

  /** Aborts a running pull; false when it already ended. */
  cancel(pullId: string): boolean {
    const task = this.tasks.get(pullId);
    if (!task) throw new BerthError('NOT_FOUND', `no pull with id ${pullId}`);
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
