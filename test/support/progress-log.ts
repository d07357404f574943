import type { PullProgress } from '../../shared/contract';

/** Every `pull:progress` a test's handlers emitted, and a way to wait for the first that matches. */
export class ProgressLog {
  readonly events: PullProgress[] = [];
  private readonly waiters: { match: (p: PullProgress) => boolean; resolve: (p: PullProgress) => void }[] =
    [];

  /** Records one progress event and wakes the waiters it satisfies. */
  record(progress: PullProgress): void {
    this.events.push(progress);
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.match(progress)) waiter.resolve(progress);
      else this.waiters.push(waiter);
    }
  }

  /** Resolves with the first recorded or future event that `match` accepts. */
  until(match: (p: PullProgress) => boolean): Promise<PullProgress> {
    const seen = this.events.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}
