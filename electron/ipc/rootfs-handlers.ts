import { homedir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import type { Handlers, Params } from '../../shared/contract';
import { quoteInput } from '../../shared/digest';
import { BerthError } from '../../shared/error';
import type { ImageStore } from '../core/store/image-store';

/** Shows the host's native file dialog; resolves undefined when the user cancels. */
export type ChoosePath = (request: Params<'files:choose'>) => Promise<string | undefined>;

/** A path typed in the UI, on the host's disk: absolute, or starting with `~/`. */
export function hostPath(input: string, what: string): string {
  const trimmed = input.trim();
  if (trimmed === '') throw new BerthError('BAD_REQUEST', `${what} is empty`);
  const expanded = trimmed === '~' || trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(1)) : trimmed;
  if (!isAbsolute(expanded))
    throw new BerthError(
      'BAD_REQUEST',
      `${what} ${quoteInput(trimmed)} must be an absolute path on the host`,
    );
  return normalize(expanded);
}

/** The handlers of import, export, squash and the native file dialog (absent in the browser host). */
export function rootfsHandlers(
  images: () => Promise<ImageStore>,
  choosePath: ChoosePath | undefined,
): Pick<Handlers, 'images:import' | 'images:export' | 'images:squash' | 'files:choose'> {
  return {
    'images:import': async ({ path, reference, changes, message, platform }) => {
      const { importRootfsFile } = await import('../core/archive/import-rootfs');
      const result = await importRootfsFile(await images(), hostPath(path, 'tarball path'), {
        ...(reference === undefined || reference.trim() === '' ? {} : { reference }),
        ...(changes === undefined ? {} : { changes }),
        ...(message === undefined || message === '' ? {} : { message }),
        ...(platform === undefined || platform.trim() === '' ? {} : { platform }),
      });
      return { id: result.id, manifestDigest: result.manifestDigest, names: result.names };
    },
    'images:export': async ({ image, path }) => {
      const { exportRootfsToFile } = await import('../core/archive/export-rootfs');
      const result = await exportRootfsToFile(await images(), image, hostPath(path, 'export path'));
      return { id: result.id, path: result.file, entries: result.entries, bytes: result.bytes };
    },
    'images:squash': async ({ image, name }) => {
      const { squashImage } = await import('../core/archive/squash');
      const result = await squashImage(await images(), image, name);
      return { id: result.id, from: result.from, names: result.names, replacedLayers: result.replacedLayers };
    },
    'files:choose': async (request) => {
      if (!choosePath)
        throw new BerthError('UNSUPPORTED', 'this host has no file dialog; type a path on the host instead');
      const path = await choosePath(request);
      return path === undefined ? {} : { path };
    },
  };
}
