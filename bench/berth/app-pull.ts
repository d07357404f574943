// Pulls through a running `berth serve` with the renderer's own WebSocket client: what a pull costs in the app,
// timed from the `pull:start` request to the pull's `stored` and `complete` progress. The harness bundles this
// file with esbuild and imports it.
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { PullProgress } from '../../shared/contract';
import { createWsClient } from '../../renderer/src/client/ws-client';

/** Seconds from the request to the image stored under its name (usable), and to every layer indexed. */
export interface AppPullTimes {
  usableSeconds: number;
  indexedSeconds: number;
  /** Compressed bytes of the layers the pull fetched (not those it found in the store). */
  bytes: number;
}

/** A contract connection to one running app, for timed pulls and emptying its store between them. */
export interface AppConnection {
  pull(reference: string): Promise<AppPullTimes>;
  /** Removes images by name (with their now unreferenced blobs), so the next pull starts from an empty store. */
  remove(references: string[]): Promise<void>;
  close(): void;
}

/** Connects to the app behind `url` (the `?token=` URL `berth serve` prints). */
export function connectApp(url: string): AppConnection {
  const page = new URL(url);
  const token = page.searchParams.get('token') ?? '';
  const client = createWsClient({
    WebSocket,
    url: `ws://${page.host}/ws?token=${encodeURIComponent(token)}`,
  });
  // Progress can arrive before `pull:start` answers with the pull's ID: every pull's marks are kept by ID.
  const marks = new Map<string, { started: number; stored?: number; final?: PullProgress; at?: number }>();
  const waiters = new Map<string, () => void>();
  let started = 0;
  client.subscribe('pull:progress', (progress) => {
    const now = performance.now();
    const mark = marks.get(progress.pullId) ?? { started };
    marks.set(progress.pullId, mark);
    if (progress.state === 'stored' && mark.stored === undefined) mark.stored = now;
    if (progress.state === 'complete' || progress.state === 'failed' || progress.state === 'cancelled') {
      mark.final = progress;
      mark.at = now;
      waiters.get(progress.pullId)?.();
    }
  });
  return {
    async pull(reference) {
      started = performance.now();
      const { pullId } = await client.invoke('pull:start', { reference, policy: 'missing' });
      const mark = marks.get(pullId) ?? { started };
      marks.set(pullId, mark);
      if (mark.final === undefined) await new Promise<void>((resolve) => waiters.set(pullId, resolve));
      waiters.delete(pullId);
      marks.delete(pullId);
      const final = mark.final as PullProgress;
      if (final.state !== 'complete')
        throw new Error(`the app's pull of ${reference} ended ${final.state}: ${final.error?.message ?? ''}`);
      if (mark.stored === undefined)
        throw new Error(`the app's pull of ${reference} completed without a stored state`);
      return {
        usableSeconds: (mark.stored - mark.started) / 1000,
        indexedSeconds: ((mark.at as number) - mark.started) / 1000,
        bytes: final.layers
          .filter((layer) => layer.status !== 'exists')
          .reduce((sum, layer) => sum + layer.total, 0),
      };
    },
    async remove(references) {
      for (const image of references) await client.invoke('images:remove', { image, force: true });
      const left = await client.invoke('images:list', {});
      if (left.length > 0) throw new Error(`the app's store still lists ${left.length} images after removal`);
    },
    close: () => client.close(),
  };
}
