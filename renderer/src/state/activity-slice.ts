import type { BerthClient, StoreEvent } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import type { LoadStatus, SliceCreator } from './slice';

/** How many events the Activity view keeps in memory. */
export const activityLimit = 500;

/** The events log, newest first. */
export interface ActivityState {
  entries: StoreEvent[];
  status: LoadStatus;
  error: WireError | null;
}

/** Activity slice: the store's events log, loaded once and then extended live. */
export interface ActivitySlice {
  activity: ActivityState;
  loadActivity: () => Promise<void>;
  /** Puts one live `activity:changed` event on top. */
  appendActivity: (event: StoreEvent) => void;
}

/** Creates the activity slice around `client`. */
export const createActivitySlice =
  (client: BerthClient): SliceCreator<ActivitySlice> =>
  (set) => ({
    activity: { entries: [], status: 'idle', error: null },
    loadActivity: async () => {
      set((s) => ({
        activity: { ...s.activity, status: s.activity.status === 'ready' ? 'ready' : 'loading' },
      }));
      try {
        const list = await client.invoke('events:list', { limit: activityLimit });
        const entries = [...list].sort((a, b) => b.time.localeCompare(a.time));
        set({ activity: { entries, status: 'ready', error: null } });
      } catch (err) {
        set((s) => ({
          activity: {
            ...s.activity,
            status: s.activity.status === 'ready' ? 'ready' : 'error',
            error: toWireError(err),
          },
        }));
      }
    },
    appendActivity: (event) =>
      set((s) => ({
        activity: { ...s.activity, entries: [event, ...s.activity.entries].slice(0, activityLimit) },
      })),
  });
