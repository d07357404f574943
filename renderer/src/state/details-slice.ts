import type { BerthClient, ImageDetails } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import type { SliceCreator } from './slice';

/** One image's inspect result as the details panel needs it. */
export type DetailsEntry =
  { status: 'loading' } | { status: 'ready'; value: ImageDetails } | { status: 'error'; error: WireError };

/** Details slice: `images:inspect` results by image ID. */
export interface DetailsSlice {
  /**
   * An image's content never changes under its ID (the ID is the config digest), so an entry stays valid;
   * only its names change, and the panel reads those from the live list.
   */
  details: Record<string, DetailsEntry>;
  /** Inspects the image unless it is loaded or loading (`force` asks again, e.g. after an error). */
  loadDetails: (id: string, force?: boolean) => Promise<void>;
}

/** Creates the details slice around `client`. */
export const createDetailsSlice =
  (client: BerthClient): SliceCreator<DetailsSlice> =>
  (set, get) => ({
    details: {},
    loadDetails: async (id, force = false) => {
      const current = get().details[id];
      if (!force && current && current.status !== 'error') return;
      set((s) => ({ details: { ...s.details, [id]: { status: 'loading' } } }));
      try {
        const value = await client.invoke('images:inspect', { image: id });
        set((s) => ({ details: { ...s.details, [id]: { status: 'ready', value } } }));
      } catch (err) {
        set((s) => ({ details: { ...s.details, [id]: { status: 'error', error: toWireError(err) } } }));
      }
    },
  });
