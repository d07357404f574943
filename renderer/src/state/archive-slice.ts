import {
  archiveTransferOf,
  type ArchiveSaveRequest,
  type BerthClient,
  type LoadedArchive,
  type SavedArchive,
} from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import { archiveTransferFor, type HttpTransferDeps } from '../client/archive-transfer';
import type { SliceCreator } from './slice';
import { displayId, familiar } from './tag-plan';

/** Where the one archive operation at a time stands; its error stays for the dialog to show. */
export interface ArchiveState {
  busy: 'saving' | 'loading' | null;
  error: WireError | null;
}

/** Archive slice: save images to an archive and load one, through the host's transfer. */
export interface ArchiveSlice {
  archive: ArchiveState;
  /** Saves; resolves true when written (or handed to the browser's download), false on cancel or error. */
  saveArchive: (request: ArchiveSaveRequest) => Promise<boolean>;
  /** Loads `file` (browser host) or asks main to choose one; true when loaded. */
  loadArchive: (file?: File) => Promise<boolean>;
  clearArchiveError: () => void;
}

function namesOf(images: { id: string; names: string[] }[]): string {
  const shown = images.flatMap((i) => (i.names.length > 0 ? i.names.map(familiar) : [displayId(i.id)]));
  return shown.length > 3 ? `${shown.slice(0, 3).join(', ')} and ${shown.length - 3} more` : shown.join(', ');
}

/** Creates the archive slice; the transfer follows the host's capability from `app:info`. */
export const createArchiveSlice =
  (client: BerthClient, deps?: HttpTransferDeps): SliceCreator<ArchiveSlice> =>
  (set, get) => {
    const transfer = () =>
      archiveTransferFor(archiveTransferOf(get().settings.app?.host ?? 'serve'), client, deps);
    const run = async <T extends SavedArchive | LoadedArchive>(
      busy: 'saving' | 'loading',
      work: () => Promise<T | undefined>,
      done: (value: T) => string,
    ): Promise<boolean> => {
      set({ archive: { busy, error: null } });
      try {
        const value = await work();
        set({ archive: { busy: null, error: null } });
        if (value === undefined) return false;
        get().pushToast({ tone: 'success', title: done(value) });
        return true;
      } catch (err) {
        set({ archive: { busy: null, error: toWireError(err) } });
        return false;
      }
    };
    return {
      archive: { busy: null, error: null },
      saveArchive: (request) =>
        run<SavedArchive>(
          'saving',
          () => transfer().save(request),
          (saved) => `Saved ${namesOf(saved.images)} to ${saved.path}`,
        ),
      loadArchive: (file) =>
        run<LoadedArchive>(
          'loading',
          () => transfer().load(file),
          (loaded) => `Loaded ${namesOf(loaded.images)}`,
        ),
      clearArchiveError: () => set((s) => ({ archive: { ...s.archive, error: null } })),
    };
  };
