import { describe, expect, it } from 'vitest';
import { PullTracker } from '../../../electron/core/pull/progress';
import { PullTasks } from '../../../electron/core/pull/tasks';
import type { PullProgress } from '../../../shared/contract';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

describe('push progress on the pull stream', () => {
  it('marks a push snapshot with kind push and measures upload speed like download speed', () => {
    const events: PullProgress[] = [];
    const clock = { now: 1_000_000 };
    const t = new PullTracker(
      'p1',
      'localhost:5000/app:1',
      (p) => events.push(p),
      () => clock.now,
      0,
      'push',
    );
    t.setLayers([{ digest: d('a'), size: 4000 }]);
    t.layerStatus(d('a'), 'uploading');
    clock.now += 1000;
    t.layerBytes(d('a'), 2000);
    const s = t.snapshot();
    expect(s).toMatchObject({
      kind: 'push',
      state: 'running',
      done: 2000,
      bytesPerSecond: 2000,
      etaSeconds: 1,
    });
    expect(new PullTracker('p2', 'alpine', () => undefined).snapshot().kind).toBeUndefined();
  });

  it('runs a push as a task: listed with its kind, cancellable, its failure reported as progress', async () => {
    const events: PullProgress[] = [];
    const tasks = new PullTasks(
      () => Promise.reject(new Error('no puller in this test')),
      (p) => events.push(p),
    );
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const id = tasks.run('localhost:5000/app:1', 'push', (_id, signal) => {
      started();
      return new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
      );
    });
    await running;
    expect(tasks.list()).toMatchObject([{ pullId: id, kind: 'push', state: 'resolving' }]);
    expect(tasks.cancel(id)).toBe(true);
    await expect.poll(() => events.at(-1)?.state).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ pullId: id, kind: 'push', error: { message: 'aborted' } });
    expect(tasks.cancel(id)).toBe(false);
  });
});
