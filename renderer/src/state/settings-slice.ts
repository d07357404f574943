import type { AppInfo, BerthClient, Settings } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import type { LoadStatus, SliceCreator } from './slice';

/** Settings as main last reported them, and facts about the host. */
export interface SettingsState {
  value: Settings | null;
  status: LoadStatus;
  error: WireError | null;
  app: AppInfo | null;
}

/** Settings slice: read and change `config.json` through main. */
export interface SettingsSlice {
  settings: SettingsState;
  loadSettings: () => Promise<void>;
  /** Sends a partial update; the stored value is whatever main answers with. */
  updateSettings: (patch: Partial<Settings>) => Promise<void>;
}

/** Creates the settings slice around `client`. */
export const createSettingsSlice =
  (client: BerthClient): SliceCreator<SettingsSlice> =>
  (set, get) => ({
    settings: { value: null, status: 'idle', error: null, app: null },
    loadSettings: async () => {
      set((s) => ({ settings: { ...s.settings, status: s.settings.value ? 'ready' : 'loading' } }));
      try {
        const [value, app] = await Promise.all([
          client.invoke('settings:get', {}),
          client.invoke('app:info', {}),
        ]);
        set({ settings: { value, app, status: 'ready', error: null } });
      } catch (err) {
        set((s) => ({
          settings: { ...s.settings, status: s.settings.value ? 'ready' : 'error', error: toWireError(err) },
        }));
      }
    },
    updateSettings: async (patch) => {
      try {
        const value = await client.invoke('settings:update', patch);
        set((s) => ({ settings: { ...s.settings, value, error: null } }));
      } catch (err) {
        get().pushToast({ tone: 'error', title: 'Could not save settings', error: toWireError(err) });
      }
    },
  });
