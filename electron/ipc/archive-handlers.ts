import type { ArchiveFormat, Handlers } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { familiarName } from '../../shared/reference';
import type { ImageStore } from '../core/store/image-store';

/** A host's own file dialogs; the Electron main process provides them, `berth serve` has none. */
export interface ArchiveFileDialogs {
  /** Asks where to write an archive; undefined when the user cancelled. */
  chooseSavePath(suggestedName: string, format: ArchiveFormat): Promise<string | undefined>;
  /** Asks which archive to load; undefined when the user cancelled. */
  chooseLoadPath(): Promise<string | undefined>;
}

/** A file name that says what an archive holds, e.g. `alpine_3.20.tar.gz` or `web_1.0_and_2_more.tar`. */
export function suggestedArchiveName(images: string[], compress: boolean): string {
  const isId = (query: string) => /^(sha256:)?[0-9a-f]{6,}$/.test(query);
  const label = (query: string) =>
    isId(query) ? query.replace(/^sha256:/, '').slice(0, 12) : familiarName(query);
  const repository = (query: string) => (isId(query) ? query : label(query).replace(/:[^:/]*$/, ''));
  const first = images[0] ?? 'images';
  const others = new Set(images.map(repository));
  others.delete(repository(first));
  const more = others.size > 0 ? `_and_${others.size}_more` : '';
  return `${label(first).replace(/[^A-Za-z0-9._-]+/g, '_')}${more}.tar${compress ? '.gz' : ''}`;
}

/**
 * `archive:save` and `archive:load` for a host with file dialogs: the path is chosen in the main process,
 * never by the renderer. Without dialogs (the browser host) both refuse and point to the HTTP transfer.
 */
export function archiveHandlers(
  images: () => Promise<ImageStore>,
  dialogs: ArchiveFileDialogs | undefined,
): Pick<Handlers, 'archive:save' | 'archive:load'> {
  const needDialogs = (): ArchiveFileDialogs => {
    if (dialogs) return dialogs;
    throw new BerthError(
      'UNSUPPORTED',
      'this host has no file dialogs; archives move as an HTTP download and upload',
    );
  };
  return {
    'archive:save': async ({ images: queries, format, compress }) => {
      if (!Array.isArray(queries) || queries.length === 0)
        throw new BerthError('BAD_REQUEST', 'name at least one image to save');
      const chosenFormat = format ?? 'docker-archive';
      const output = await needDialogs().chooseSavePath(
        suggestedArchiveName(queries, compress === true),
        chosenFormat,
      );
      if (output === undefined) return { cancelled: true };
      const { saveImages } = await import('../core/archive/save');
      const archive = await saveImages(await images(), {
        images: queries,
        output,
        format: chosenFormat,
        compress: compress === true,
      });
      return { cancelled: false, archive };
    },
    'archive:load': async () => {
      const input = await needDialogs().chooseLoadPath();
      if (input === undefined) return { cancelled: true };
      const { loadArchive } = await import('../core/archive/load');
      return { cancelled: false, loaded: await loadArchive(await images(), { path: input }) };
    },
  };
}
