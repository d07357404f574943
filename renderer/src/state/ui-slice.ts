import type { WireError } from '../../../shared/error';
import type { ConnectionState } from '../client/ws-client';
import type { SliceCreator } from './slice';

/** The top-level views the left nav switches between. */
export type View = 'images' | 'pulls' | 'activity' | 'settings';

/** Image table columns that can be sorted. */
export type ImageSortKey = 'name' | 'created' | 'size';

/** Sort order of the image table. */
export interface ImageSort {
  key: ImageSortKey;
  descending: boolean;
}

/** A transient message in the corner; errors carry their wire error so the code can be shown. */
export interface Toast {
  id: number;
  tone: 'info' | 'success' | 'error';
  title: string;
  error?: WireError;
}

/** UI slice: navigation, connection, search, sort and toasts. */
export interface UiSlice {
  ui: {
    view: View;
    connection: ConnectionState;
    imageQuery: string;
    imageSort: ImageSort;
    toasts: Toast[];
  };
  setView: (view: View) => void;
  setConnection: (state: ConnectionState) => void;
  setImageQuery: (query: string) => void;
  /** Sorts by `key`; choosing the current key again flips the direction. */
  toggleImageSort: (key: ImageSortKey) => void;
  pushToast: (toast: Omit<Toast, 'id'>) => number;
  dismissToast: (id: number) => void;
}

let nextToastId = 1;

/** Creates the UI slice. */
export const createUiSlice: SliceCreator<UiSlice> = (set) => ({
  ui: {
    view: 'images',
    connection: 'connecting',
    imageQuery: '',
    imageSort: { key: 'created', descending: true },
    toasts: [],
  },
  setView: (view) => set((s) => ({ ui: { ...s.ui, view } })),
  setConnection: (connection) => set((s) => ({ ui: { ...s.ui, connection } })),
  setImageQuery: (imageQuery) => set((s) => ({ ui: { ...s.ui, imageQuery } })),
  toggleImageSort: (key) =>
    set((s) => ({
      ui: {
        ...s.ui,
        imageSort:
          s.ui.imageSort.key === key
            ? { key, descending: !s.ui.imageSort.descending }
            : { key, descending: key !== 'name' },
      },
    })),
  pushToast: (toast) => {
    const id = nextToastId++;
    set((s) => ({ ui: { ...s.ui, toasts: [...s.ui.toasts, { ...toast, id }].slice(-4) } }));
    return id;
  },
  dismissToast: (id) => set((s) => ({ ui: { ...s.ui, toasts: s.ui.toasts.filter((t) => t.id !== id) } })),
});
