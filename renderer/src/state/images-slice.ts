import type { BerthClient, ImageSummary } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import { coalesce, type LoadStatus, type SliceCreator } from './slice';

/** The image list, normalized: rows by image ID and the order the store listed them in. */
export interface ImagesState {
  byId: Record<string, ImageSummary>;
  order: string[];
  status: LoadStatus;
  /** The last load's failure; the list keeps its previous rows when a reload fails. */
  error: WireError | null;
}

/** Images slice: the list and how to (re)load it. */
export interface ImagesSlice {
  images: ImagesState;
  /** Fetches the list; concurrent calls coalesce into one more fetch. */
  loadImages: () => Promise<void>;
}

/** Creates the images slice around `client`. */
export const createImagesSlice =
  (client: BerthClient): SliceCreator<ImagesSlice> =>
  (set, get) => ({
    images: { byId: {}, order: [], status: 'idle', error: null },
    loadImages: coalesce(async () => {
      if (get().images.status !== 'ready') set((s) => ({ images: { ...s.images, status: 'loading' } }));
      try {
        const list = await client.invoke('images:list', {});
        const byId: Record<string, ImageSummary> = {};
        for (const image of list) byId[image.id] = image;
        set({ images: { byId, order: list.map((image) => image.id), status: 'ready', error: null } });
      } catch (err) {
        const error = toWireError(err);
        set((s) => ({
          images: { ...s.images, status: s.images.status === 'ready' ? 'ready' : 'error', error },
        }));
      }
    }),
  });
