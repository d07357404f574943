import type { BerthClient, Params } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import type { SliceCreator } from './slice';
import { displayId, familiar } from './tag-plan';

/** Which root filesystem operation is running, if any. */
export type RootfsBusy = 'import' | 'export' | 'squash' | null;

/** An operation's answer for a dialog: done, or the error to show beside its fields. */
export type RootfsOutcome = { ok: true } | { ok: false; error: WireError };

/** Import, export and squash from the UI; each announces success in a toast and reloads what changed. */
export interface RootfsSlice {
  rootfs: { busy: RootfsBusy };
  importRootfs: (request: Params<'images:import'>) => Promise<RootfsOutcome>;
  exportRootfs: (image: string, path: string) => Promise<RootfsOutcome>;
  squashImage: (image: string, name: string) => Promise<RootfsOutcome>;
  /** The host's native file dialog; undefined when cancelled or when the host has none. */
  chooseHostPath: (request: Params<'files:choose'>) => Promise<string | undefined>;
}

/** Creates the root filesystem slice around `client`. */
export const createRootfsSlice =
  (client: BerthClient): SliceCreator<RootfsSlice> =>
  (set, get) => {
    const running = async (busy: Exclude<RootfsBusy, null>, body: () => Promise<void>) => {
      set({ rootfs: { busy } });
      try {
        await body();
        return { ok: true } as const;
      } catch (err) {
        return { ok: false, error: toWireError(err) } as const;
      } finally {
        set({ rootfs: { busy: null } });
      }
    };
    return {
      rootfs: { busy: null },
      importRootfs: (request) =>
        running('import', async () => {
          const result = await client.invoke('images:import', request);
          await get().loadImages();
          get().setSelection([result.id], result.id);
          const name = result.names[0];
          get().pushToast({
            tone: 'success',
            title: `Imported ${name === undefined ? `dangling image ${displayId(result.id)}` : familiar(name)}`,
          });
        }),
      exportRootfs: (image, path) =>
        running('export', async () => {
          const result = await client.invoke('images:export', { image, path });
          get().pushToast({ tone: 'success', title: `Exported ${displayId(result.id)} to ${result.path}` });
        }),
      squashImage: (image, name) =>
        running('squash', async () => {
          const result = await client.invoke('images:squash', { image, name });
          await get().loadImages();
          get().setSelection([result.id], result.id);
          get().pushToast({
            tone: 'success',
            title: `Squashed ${result.replacedLayers} ${result.replacedLayers === 1 ? 'layer' : 'layers'} into ${familiar(result.names[0] ?? name)}`,
          });
        }),
      chooseHostPath: async (request) => {
        try {
          return (await client.invoke('files:choose', request)).path;
        } catch (err) {
          get().pushToast({ tone: 'error', title: 'Could not open a file dialog', error: toWireError(err) });
          return undefined;
        }
      },
    };
  };
