import { toWireError } from '../../../shared/error';
import { pullActive, type BerthClient, type Params, type PullProgress } from '../../../shared/contract';
import type { SliceCreator } from './slice';

/** Pull tasks by pull ID, newest first; they outlive navigation because they live here, not in a view. */
export interface PullsState {
  byId: Record<string, PullProgress>;
  order: string[];
  /** Pulls started from this window: when one completes, its image is revealed in the table. */
  mine: string[];
  /** Whether the Pulls panel (the drawer reachable from every view) is open. */
  panelOpen: boolean;
  /** Whether the Pull dialog is open, and the reference it opens with. */
  dialog: { reference: string } | null;
  /** An image to scroll into view and select once the table has it; cleared by the table. */
  reveal: string | null;
}

/** Pulls slice: live progress of every pull the main process reports, and starting, retrying, revealing. */
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
  /** Starts a pull and opens the Pulls panel; resolves with its ID, or undefined when main refused (a toast says why). */
  startPull: (request: Params<'pull:start'>) => Promise<string | undefined>;
  /** Runs a failed or cancelled pull again under the same ID. */
  retryPull: (pullId: string) => Promise<void>;
  setPullsPanel: (open: boolean) => void;
  openPullDialog: (reference?: string | null) => void;
  /** Shows an image in the Images view: selected, its details open, scrolled into view. */
  revealImage: (id: string) => void;
  clearReveal: () => void;
}

/** Before `stored` nothing of the image can be shown yet. */
const beforeStored = (p: PullProgress | undefined) => p?.state === 'resolving' || p?.state === 'running';

/** Creates the pulls slice around `client`. */
export const createPullsSlice =
  (client: BerthClient): SliceCreator<PullsSlice> =>
  (set, get) => ({
    pulls: { byId: {}, order: [], mine: [], panelOpen: false, dialog: null, reveal: null },
    applyPullProgress: (progress) => {
      const before = get().pulls.byId[progress.pullId];
      set((s) => ({
        pulls: {
          ...s.pulls,
          byId: { ...s.pulls.byId, [progress.pullId]: progress },
          order: progress.pullId in s.pulls.byId ? s.pulls.order : [progress.pullId, ...s.pulls.order],
        },
      }));
      // Indexing recorded the layers' uncompressed sizes, which the list shows.
      if (progress.state === 'complete' && before?.state === 'stored') void get().loadImages();
      // Revealed as soon as it is usable (`stored`), not once its layers are indexed too.
      const usable =
        (progress.state === 'stored' || progress.state === 'complete') &&
        (before === undefined || beforeStored(before));
      if (usable && progress.imageId !== undefined && get().pulls.mine.includes(progress.pullId)) {
        if (get().ui.view === 'images') {
          const { byId, order } = get().pulls;
          // The panel covers the details: close it, unless other pulls are still worth watching.
          if (!order.some((id) => id !== progress.pullId && pullActive(byId[id]))) get().setPullsPanel(false);
          get().revealImage(progress.imageId);
        }
        get().pushToast({ tone: 'success', title: `Pulled ${progress.reference}` });
      }
    },
    loadPulls: async () => {
      try {
        const list = await client.invoke('pull:list', {});
        const byId: Record<string, PullProgress> = {};
        for (const pull of list) byId[pull.pullId] = pull;
        set((s) => ({
          pulls: { ...s.pulls, byId, order: list.map((pull) => pull.pullId).reverse() },
        }));
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
    startPull: async (request) => {
      try {
        const { pullId } = await client.invoke('pull:start', request);
        set((s) => {
          const known = pullId in s.pulls.byId;
          const placeholder: PullProgress = {
            pullId,
            reference: request.reference,
            state: 'resolving',
            layers: [],
            done: 0,
            total: 0,
            bytesPerSecond: 0,
          };
          return {
            pulls: {
              ...s.pulls,
              byId: known ? s.pulls.byId : { ...s.pulls.byId, [pullId]: placeholder },
              order: known ? s.pulls.order : [pullId, ...s.pulls.order],
              mine: [...s.pulls.mine, pullId],
              panelOpen: true,
            },
          };
        });
        return pullId;
      } catch (err) {
        get().pushToast({ tone: 'error', title: 'Could not start the pull', error: toWireError(err) });
        return undefined;
      }
    },
    retryPull: async (pullId) => {
      try {
        await client.invoke('pull:retry', { pullId });
        set((s) => ({
          pulls: {
            ...s.pulls,
            mine: s.pulls.mine.includes(pullId) ? s.pulls.mine : [...s.pulls.mine, pullId],
          },
        }));
      } catch (err) {
        get().pushToast({ tone: 'error', title: 'Could not retry the pull', error: toWireError(err) });
      }
    },
    setPullsPanel: (panelOpen) => set((s) => ({ pulls: { ...s.pulls, panelOpen } })),
    openPullDialog: (reference) =>
      set((s) => ({
        pulls: { ...s.pulls, dialog: reference === null ? null : { reference: reference ?? '' } },
      })),
    revealImage: (id) => {
      const s = get();
      if (s.ui.view !== 'images') s.setView('images');
      s.setSelection([id], id);
      s.openDetails(id);
      set((state) => ({ pulls: { ...state.pulls, reveal: id } }));
    },
    clearReveal: () => set((s) => ({ pulls: { ...s.pulls, reveal: null } })),
  });
