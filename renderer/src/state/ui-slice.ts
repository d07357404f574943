import type { WireError } from '../../../shared/error';
import { firstImagePageParams } from '../../../shared/image-page';
import type { ConnectionState } from '../client/ws-client';
import type { SliceCreator } from './slice';

/** The top-level views the left nav switches between. */
export type View = 'images' | 'pulls' | 'disk' | 'prune' | 'activity' | 'settings' | 'registries';

/** Image table columns that can be sorted. */
export type ImageSortKey = 'name' | 'created' | 'size';

/** Sort order of the image table. */
export interface ImageSort {
  key: ImageSortKey;
  descending: boolean;
}

/** Filters of the image table beyond the free-text search. */
export interface ImageFilters {
  /** `only`: just dangling images; `hide`: none of them; `any`: both. */
  dangling: 'any' | 'only' | 'hide';
  /** Only images whose layers another image builds on. */
  inUse: boolean;
  /** `key`, `key=value`, or either with a leading `!` to negate; empty for no label filter. */
  label: string;
}

/** A button on a toast, such as Undo. */
export interface ToastAction {
  label: string;
  run: () => void;
}

/** A transient message in the corner; errors carry their wire error so the code can be shown. */
export interface Toast {
  id: number;
  tone: 'info' | 'success' | 'error';
  title: string;
  error?: WireError;
  action?: ToastAction;
}

/** The tag chip being dragged: the full name and the ID of the image it is on. */
export interface TagDrag {
  name: string;
  from: string;
}

/** A dialog over the Images view. */
export type ImagesDialog =
  | { kind: 'add-tag'; image: string }
  | { kind: 'move-tag'; image: string; name: string; copy: boolean }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'push'; image: string }
  | { kind: 'save-archive'; ids: string[] }
  | { kind: 'load-archive' }
  | { kind: 'import' }
  | { kind: 'export'; image: string }
  | { kind: 'squash'; image: string };

/** An open context menu: where, for which image, and for which of its tags when opened on a chip. */
export interface ImagesMenu {
  x: number;
  y: number;
  image: string;
  name?: string;
}

/** UI slice: navigation, connection, search, sort, filters, selection, details, drag and toasts. */
export interface UiSlice {
  ui: {
    view: View;
    connection: ConnectionState;
    imageQuery: string;
    imageSort: ImageSort;
    imageFilters: ImageFilters;
    groupByRepository: boolean;
    /** IDs of the selected images, in the order they were selected. */
    selection: string[];
    /** The row keyboard focus is on (and Shift-ranges grow from). */
    cursor: string | null;
    /** The image whose details panel is open. */
    detailsId: string | null;
    drag: TagDrag | null;
    dialog: ImagesDialog | null;
    menu: ImagesMenu | null;
    toasts: Toast[];
  };
  setView: (view: View) => void;
  setConnection: (state: ConnectionState) => void;
  setImageQuery: (query: string) => void;
  /** Sorts by `key`; choosing the current key again flips the direction. */
  toggleImageSort: (key: ImageSortKey) => void;
  setImageFilters: (patch: Partial<ImageFilters>) => void;
  toggleGroupByRepository: () => void;
  /** Replaces the selection; the cursor moves to `cursor` when given. */
  setSelection: (ids: string[], cursor?: string | null) => void;
  /** Adds or removes one image from the selection and puts the cursor on it. */
  toggleSelected: (id: string) => void;
  setCursor: (id: string | null) => void;
  openDetails: (id: string | null) => void;
  setDrag: (drag: TagDrag | null) => void;
  openDialog: (dialog: ImagesDialog | null) => void;
  openMenu: (menu: ImagesMenu | null) => void;
  pushToast: (toast: Omit<Toast, 'id'>) => number;
  dismissToast: (id: number) => void;
}

let nextToastId = 1;

/** The filters of a fresh table: everything shown. */
export const noImageFilters: ImageFilters = { dangling: 'any', inUse: false, label: '' };

/** Creates the UI slice. */
export const createUiSlice: SliceCreator<UiSlice> = (set) => ({
  ui: {
    view: 'images',
    connection: 'connecting',
    imageQuery: '',
    imageSort: { ...firstImagePageParams.sort },
    imageFilters: noImageFilters,
    groupByRepository: false,
    selection: [],
    cursor: null,
    detailsId: null,
    drag: null,
    dialog: null,
    menu: null,
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
  setImageFilters: (patch) =>
    set((s) => ({ ui: { ...s.ui, imageFilters: { ...s.ui.imageFilters, ...patch } } })),
  toggleGroupByRepository: () =>
    set((s) => ({ ui: { ...s.ui, groupByRepository: !s.ui.groupByRepository } })),
  setSelection: (selection, cursor) =>
    set((s) => ({ ui: { ...s.ui, selection, cursor: cursor === undefined ? s.ui.cursor : cursor } })),
  toggleSelected: (id) =>
    set((s) => ({
      ui: {
        ...s.ui,
        cursor: id,
        selection: s.ui.selection.includes(id)
          ? s.ui.selection.filter((x) => x !== id)
          : [...s.ui.selection, id],
      },
    })),
  setCursor: (cursor) => set((s) => ({ ui: { ...s.ui, cursor } })),
  openDetails: (detailsId) => set((s) => ({ ui: { ...s.ui, detailsId } })),
  setDrag: (drag) => set((s) => ({ ui: { ...s.ui, drag } })),
  openDialog: (dialog) => set((s) => ({ ui: { ...s.ui, dialog, menu: null } })),
  openMenu: (menu) => set((s) => ({ ui: { ...s.ui, menu } })),
  pushToast: (toast) => {
    const id = nextToastId++;
    set((s) => ({ ui: { ...s.ui, toasts: [...s.ui.toasts, { ...toast, id }].slice(-4) } }));
    return id;
  },
  dismissToast: (id) => set((s) => ({ ui: { ...s.ui, toasts: s.ui.toasts.filter((t) => t.id !== id) } })),
});
