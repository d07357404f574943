import type { BerthClient, ImageSummary } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import { formatBytes } from '../../../shared/format';
import { firstImagePageParams } from '../../../shared/image-page';
import { coalesce, type LoadStatus, type SliceCreator } from './slice';

/** The image list, normalized: rows by image ID and the order the store listed them in. */
export interface ImagesState {
  byId: Record<string, ImageSummary>;
  order: string[];
  status: LoadStatus;
  /** Images the store holds that have not arrived yet: the first screen is shown before the whole list. */
  pending: number;
  /** The last load's failure; the list keeps its previous rows when a reload fails. */
  error: WireError | null;
}

/**
 * Resolves once the frame after now was painted (a task after the next animation frame), so the whole list's
 * megabytes are neither sent nor parsed before the first screen is on it; at once where no frames are drawn.
 */
export function afterNextPaint(): Promise<void> {
  if (typeof requestAnimationFrame !== 'function' || document.visibilityState === 'hidden')
    return Promise.resolve();
  return new Promise((resolve) => {
    // A window hidden meanwhile draws no frames: stop waiting for one then.
    const done = (): void => {
      document.removeEventListener('visibilitychange', done);
      resolve();
    };
    document.addEventListener('visibilitychange', done);
    requestAnimationFrame(() => setTimeout(done, 0));
  });
}

/** Images slice: the list, how to (re)load it, and removing images. */
export interface ImagesSlice {
  images: ImagesState;
  /** Fetches the list; concurrent calls coalesce into one more fetch. Selection of gone images is dropped. */
  loadImages: () => Promise<void>;
  /** Removes images by ID (with all their names), one after another; toasts what happened. */
  removeImages: (ids: string[]) => Promise<void>;
  /** The table calls this once its first rows are on screen; the first whole-list fetch waits for it. */
  firstRowsShown: () => void;
}

/**
 * Longest the first whole-list fetch waits for the table to show the first page: the page may open on
 * another view, or never draw.
 */
const firstRowsWaitMs = 3000;

/** Creates the images slice around `client`. */
export const createImagesSlice =
  (client: BerthClient, options: { waitForFirstRows?: boolean } = {}): SliceCreator<ImagesSlice> =>
  (set, get) => {
    let rowsShown = (): void => undefined;
    // Only a page that renders the table asks for this: on its own, the slice would wait for nothing.
    const firstRows = options.waitForFirstRows
      ? new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, firstRowsWaitMs);
          rowsShown = () => {
            clearTimeout(timer);
            resolve();
          };
        })
      : Promise.resolve();
    /**
     * Shows the table's first screen before the whole list arrives (about 480 bytes per image, megabytes
     * for a big store). Only for the sorts main can reproduce; a failure here just leaves it to the list.
     */
    const showFirstPage = async (): Promise<void> => {
      const { imageSort, groupByRepository } = get().ui;
      if (imageSort.key === 'name' || groupByRepository) return;
      const page = await client
        .invoke('images:page', {
          limit: firstImagePageParams.limit,
          sort: { key: imageSort.key, descending: imageSort.descending },
        })
        .catch(() => undefined);
      if (!page || page.total <= page.images.length || get().images.status === 'ready') return;
      const byId: Record<string, ImageSummary> = {};
      for (const image of page.images) byId[image.id] = image;
      set({
        images: {
          byId,
          order: page.images.map((image) => image.id),
          status: 'ready',
          pending: page.total - page.images.length,
          error: null,
        },
      });
      // The page can arrive before React does (berth serve puts it in index.html): the frame to wait for is
      // the one that shows its rows, not the next frame of an empty page.
      await firstRows;
      await afterNextPaint();
    };
    return {
      images: { byId: {}, order: [], status: 'idle', pending: 0, error: null },
      loadImages: coalesce(async () => {
        const first = get().images.status !== 'ready';
        if (first) set((s) => ({ images: { ...s.images, status: 'loading' } }));
        try {
          if (first) await showFirstPage();
          const list = await client.invoke('images:list', {});
          const byId: Record<string, ImageSummary> = {};
          for (const image of list) byId[image.id] = image;
          set((s) => {
            const selection = s.ui.selection.filter((id) => id in byId);
            const ui =
              selection.length === s.ui.selection.length &&
              (s.ui.cursor === null || s.ui.cursor in byId) &&
              (s.ui.detailsId === null || s.ui.detailsId in byId)
                ? s.ui
                : {
                    ...s.ui,
                    selection,
                    cursor: s.ui.cursor !== null && s.ui.cursor in byId ? s.ui.cursor : null,
                    detailsId: s.ui.detailsId !== null && s.ui.detailsId in byId ? s.ui.detailsId : null,
                  };
            return {
              images: {
                byId,
                order: list.map((image) => image.id),
                status: 'ready',
                pending: 0,
                error: null,
              },
              ui,
            };
          });
        } catch (err) {
          const error = toWireError(err);
          set((s) => ({
            images: {
              ...s.images,
              status: s.images.status === 'ready' && s.images.pending === 0 ? 'ready' : 'error',
              error,
            },
          }));
        }
      }),
      firstRowsShown: () => rowsShown(),
      removeImages: async (ids) => {
        let removed = 0;
        let bytesFreed = 0;
        for (const id of ids) {
          try {
            const result = await client.invoke('images:remove', { image: id, force: true });
            removed += result.deleted.length;
            bytesFreed += result.bytesFreed;
          } catch (err) {
            get().pushToast({ tone: 'error', title: 'Could not remove an image', error: toWireError(err) });
          }
        }
        await get().loadImages();
        if (removed > 0) {
          get().pushToast({
            tone: 'success',
            title: `Removed ${removed} ${removed === 1 ? 'image' : 'images'}${bytesFreed > 0 ? ` · ${formatBytes(bytesFreed)} freed` : ''}`,
          });
        }
      },
    };
  };
