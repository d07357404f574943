import { describe, expect, it } from 'vitest';
import { PullTracker } from '../../../electron/core/pull/progress';
import type { PullProgress } from '../../../shared/contract';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

function tracker(interval = 100): { t: PullTracker; events: PullProgress[]; clock: { now: number } } {
  const events: PullProgress[] = [];
  const clock = { now: 1_000_000 };
  const t = new PullTracker(
    'p1',
    'alpine',
    (p) => events.push(p),
    () => clock.now,
    interval,
  );
  return { t, events, clock };
}

describe('PullTracker', () => {
  it('totals layers, counts exists as done, and measures speed and ETA', () => {
    const { t, clock } = tracker(0);
    t.setLayers([
      { digest: d('a'), size: 1000 },
      { digest: d('b'), size: 3000 },
    ]);
    t.layerStatus(d('a'), 'exists');
    t.layerStatus(d('b'), 'downloading');
    clock.now += 1000;
    t.layerBytes(d('b'), 1000);
    const s = t.snapshot();
    expect(s).toMatchObject({ state: 'running', done: 2000, total: 4000 });
    expect(s.layers.map((l) => [l.status, l.done])).toEqual([
      ['exists', 1000],
      ['downloading', 1000],
    ]);
    expect(s.bytesPerSecond).toBe(1000);
    expect(s.etaSeconds).toBe(2);
  });

  it('emits at most once per interval while bytes move, and the final state at once', () => {
    const { t, events, clock } = tracker(100);
    t.setLayers([{ digest: d('a'), size: 100_000 }]);
    for (let i = 1; i <= 100; i++) {
      clock.now += 5;
      t.layerBytes(d('a'), i * 1000);
    }
    expect(events.length).toBeLessThanOrEqual(6);
    t.layerStatus(d('a'), 'complete');
    t.finish('complete', { imageId: d('c') });
    const last = events.at(-1) as PullProgress;
    expect(last).toMatchObject({ state: 'complete', imageId: d('c'), done: 100_000, bytesPerSecond: 0 });
    const count = events.length;
    t.layerBytes(d('a'), 1);
    t.finish('failed');
    expect(events.length).toBe(count);
  });

  it('marks unfinished layers failed when the pull fails or is cancelled', () => {
    const { t, events } = tracker(0);
    t.setLayers([
      { digest: d('a'), size: 10 },
      { digest: d('b'), size: 10 },
    ]);
    t.layerStatus(d('a'), 'complete');
    t.layerStatus(d('b'), 'retrying', 3);
    expect(t.snapshot().layers[1]).toMatchObject({ status: 'retrying', retryInSeconds: 3 });
    t.finish('cancelled', { error: { code: 'CANCELLED', message: 'cancelled' } });
    expect(events.at(-1)?.layers.map((l) => l.status)).toEqual(['complete', 'failed']);
    expect(events.at(-1)?.error?.code).toBe('CANCELLED');
  });
});
