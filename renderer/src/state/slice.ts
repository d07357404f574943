import type { StateCreator } from 'zustand/vanilla';
import type { AppState } from './store';

/** A slice creator over the full app state, so one slice's actions may read another's fields. */
export type SliceCreator<S> = StateCreator<AppState, [], [], S>;

/** Where a remote list stands: never asked, first load running, loaded, or first load failed. */
export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/**
 * Wraps a loader so that at most one run is in flight: calls during a run mark the result stale and cause
 * exactly one more run after it, so a burst of change events costs two round trips, not one per event.
 */
export function coalesce(run: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | undefined;
  let again = false;
  const loop = async () => {
    try {
      do {
        again = false;
        await run();
      } while (again);
    } finally {
      current = undefined;
    }
  };
  return () => {
    if (current) {
      again = true;
      return current;
    }
    current = loop();
    return current;
  };
}
