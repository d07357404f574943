import type {
  BerthClient,
  ReferenceResolution,
  RegistriesOverview,
  RemoteImageSummary,
  UpdateCheck,
} from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import type { LoadStatus, SliceCreator } from './slice';

/** registries.conf and saved logins as main last read them. */
export interface RegistriesState {
  overview: RegistriesOverview | null;
  status: LoadStatus;
  error: WireError | null;
}

/**
 * Registries slice: the Registries view's data, login and logout, and the remote look-ups the Pull dialog
 * and the update check make (those return their answer and keep no state: their views own it).
 */
export interface RegistriesSlice {
  registries: RegistriesState;
  loadRegistries: () => Promise<void>;
  /** Verifies and saves credentials; resolves with the error when the registry refused them. */
  login: (registry: string, username: string, password: string) => Promise<WireError | undefined>;
  logout: (registry: string) => Promise<void>;
  resolveReference: (reference: string) => Promise<ReferenceResolution>;
  listRemoteTags: (repository: string) => Promise<string[]>;
  inspectRemote: (reference: string, platform?: string) => Promise<RemoteImageSummary>;
  checkForUpdate: (image: string, name?: string) => Promise<UpdateCheck>;
}

/** Creates the registries slice around `client`. */
export const createRegistriesSlice =
  (client: BerthClient): SliceCreator<RegistriesSlice> =>
  (set, get) => ({
    registries: { overview: null, status: 'idle', error: null },
    loadRegistries: async () => {
      set((s) => ({ registries: { ...s.registries, status: s.registries.overview ? 'ready' : 'loading' } }));
      try {
        const overview = await client.invoke('registries:list', {});
        set({ registries: { overview, status: 'ready', error: null } });
      } catch (err) {
        set((s) => ({
          registries: {
            ...s.registries,
            status: s.registries.overview ? 'ready' : 'error',
            error: toWireError(err),
          },
        }));
      }
    },
    login: async (registry, username, password) => {
      try {
        const result = await client.invoke('registries:login', { registry, username, password });
        get().pushToast({ tone: 'success', title: `Logged in to ${result.registry}` });
        await get().loadRegistries();
        return undefined;
      } catch (err) {
        return toWireError(err);
      }
    },
    logout: async (registry) => {
      try {
        const result = await client.invoke('registries:logout', { registry });
        get().pushToast(
          result.removed
            ? { tone: 'success', title: `Logged out of ${result.registry}` }
            : {
                tone: 'info',
                title:
                  `No saved login for ${result.registry} in ${result.file}` +
                  (result.elsewhere === undefined ? '' : `; credentials remain in ${result.elsewhere}`),
              },
        );
        await get().loadRegistries();
      } catch (err) {
        get().pushToast({
          tone: 'error',
          title: `Could not log out of ${registry}`,
          error: toWireError(err),
        });
      }
    },
    resolveReference: (reference) => client.invoke('reference:resolve', { reference }),
    listRemoteTags: async (repository) => (await client.invoke('remote:tags', { repository })).tags,
    inspectRemote: (reference, platform) =>
      client.invoke('remote:inspect', platform === undefined ? { reference } : { reference, platform }),
    checkForUpdate: (image, name) =>
      client.invoke('images:check-update', name === undefined ? { image } : { image, name }),
  });
