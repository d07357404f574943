import { toWireError } from '../../../shared/error';
import type { BerthClient, PullProgress } from '../../../shared/contract';
import type { SliceCreator } from './slice';

/** Pull tasks by pull ID, newest first; they outlive navigation because they live here, not in a view. */
export interface PullsState {
  byId: Record<string, PullProgress>;
  order: string[];
}

/** Pulls slice: live progress of every pull the main process reports. */
export interface PullsSlice {
  pulls: PullsState;
  /** Folds one `pull:progress` snapshot in (a new pull goes to the top). */
  applyPullProgress: (progress: PullProgress) => void;
  /** Replaces the list with the main process's current pulls (on start and after a reconnect). */
  loadPulls: () => Promise<void>;
  /** Asks main to cancel a pull; the outcome arrives as progress. */
  cancelPull: (pullId: string) => Promise<void>;
  /** Starts a push of `image` to `destination`; its progress arrives on the same stream as pulls. */
  startPush: (image: string, destination: string) => Promise<void>;
}

/** Creates the pulls slice around `client`. */
export const createPullsSlice =
  (client: BerthClient): SliceCreator<PullsSlice> =>
  (set, get) => ({
    pulls: { byId: {}, order: [] },
    applyPullProgress: (progress) =>
      set((s) => ({
        pulls: {
          byId: { ...s.pulls.byId, [progress.pullId]: progress },
          order: progress.pullId in s.pulls.byId ? s.pulls.order : [progress.pullId, ...s.pulls.order],
        },
      })),
    loadPulls: async () => {
      try {
        const list = await client.invoke('pull:list', {});
        const byId: Record<string, PullProgress> = {};
        for (const pull of list) byId[pull.pullId] = pull;
        set({ pulls: { byId, order: list.map((pull) => pull.pullId) } });
      } catch (err) {
        get().pushToast({ tone: 'error', title: 'Could not list pulls', error: toWireError(err) });
      }
    },
    cancelPull: async (pullId) => {
      try {
        await client.invoke('pull:cancel', { pullId });
      } catch (err) {
        get().pushToast({ tone: 'error', title: 'Could not cancel the pull', error: toWireError(err) });
      }
    },
    startPush: async (image, destination) => {
      try {
        await client.invoke('push:start', { image, destination });
        get().pushToast({ tone: 'info', title: `Pushing to ${destination}` });
      } catch (err) {
        get().pushToast({ tone: 'error', title: 'Could not start the push', error: toWireError(err) });
      }
    },
  });
