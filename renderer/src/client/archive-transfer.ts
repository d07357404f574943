import {
  archiveHttpPaths,
  type ArchiveSaveRequest,
  type ArchiveTransferKind,
  type BerthClient,
  type LoadedArchive,
  type Outcome,
  type SavedArchive,
} from '../../../shared/contract';
import { BerthError, isErrorCode } from '../../../shared/error';

/**
 * How this host moves archive files, chosen once from its capability: the renderer has one path per
 * capability and never branches on the host anywhere else. `undefined` answers mean the user cancelled.
 */
export interface ArchiveTransfer {
  kind: ArchiveTransferKind;
  save(request: ArchiveSaveRequest): Promise<SavedArchive | undefined>;
  /** `file` is what the user picked in the page (HTTP); a native-dialog host asks for the file itself. */
  load(file?: File): Promise<LoadedArchive | undefined>;
}

/** What the HTTP transfer needs from the page; tests hand in fakes. */
export interface HttpTransferDeps {
  fetch: typeof fetch;
  /** Starts the browser's own download of `url` (it streams to disk; nothing is held in the page). */
  download: (url: string, fileName: string) => void;
}

/** Electron: main shows the native dialog and does the work; the renderer only asks. */
export function nativeArchiveTransfer(client: BerthClient): ArchiveTransfer {
  return {
    kind: 'native-dialog',
    save: async (request) => {
      const answer = await client.invoke('archive:save', request);
      return answer.cancelled ? undefined : answer.archive;
    },
    load: async () => {
      const answer = await client.invoke('archive:load', {});
      return answer.cancelled ? undefined : answer.loaded;
    },
  };
}

async function outcomeOf<T>(response: Response): Promise<T> {
  let outcome: Outcome<T> | undefined;
  try {
    outcome = (await response.json()) as Outcome<T>;
  } catch {
    outcome = undefined;
  }
  if (outcome?.ok === true) return outcome.value;
  if (outcome?.ok === false && isErrorCode(outcome.error.code)) throw BerthError.fromWire(outcome.error);
  throw new BerthError('INTERNAL', `the host answered ${response.status} ${response.statusText}`.trim());
}

/** A download through a temporary link, so the browser streams the file to disk itself. */
export function anchorDownload(url: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
}

/** `berth serve`: the save is made on the host and downloaded; a load uploads the picked file as the body. */
export function httpArchiveTransfer(deps: HttpTransferDeps): ArchiveTransfer {
  return {
    kind: 'http',
    save: async (request) => {
      const response = await deps.fetch(archiveHttpPaths.save, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        credentials: 'same-origin',
      });
      const { download, archive } = await outcomeOf<{ download: string; archive: SavedArchive }>(response);
      deps.download(download, archive.path);
      return archive;
    },
    load: async (file) => {
      if (!file) throw new BerthError('BAD_REQUEST', 'choose an archive file to load');
      const response = await deps.fetch(archiveHttpPaths.load, {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'x-berth-filename': encodeURIComponent(file.name),
        },
        body: file,
        credentials: 'same-origin',
      });
      return outcomeOf<LoadedArchive>(response);
    },
  };
}

/** The transfer for a capability. */
export function archiveTransferFor(
  kind: ArchiveTransferKind,
  client: BerthClient,
  deps: HttpTransferDeps = { fetch: (...args) => fetch(...args), download: anchorDownload },
): ArchiveTransfer {
  return kind === 'native-dialog' ? nativeArchiveTransfer(client) : httpArchiveTransfer(deps);
}
