import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BerthClient } from '../../../shared/contract';
import { createActivitySlice, type ActivitySlice } from './activity-slice';
import { createDetailsSlice, type DetailsSlice } from './details-slice';
import { createDiskSlice, type DiskSlice } from './disk-slice';
import { createImagesSlice, type ImagesSlice } from './images-slice';
import { createPullsSlice, type PullsSlice } from './pulls-slice';
import { createRegistriesSlice, type RegistriesSlice } from './registries-slice';
import { createSettingsSlice, type SettingsSlice } from './settings-slice';
import { createTagsSlice, type TagsSlice } from './tags-slice';
import { createUiSlice, type UiSlice } from './ui-slice';
import { createArchiveSlice, type ArchiveSlice } from './archive-slice';
import type { HttpTransferDeps } from '../client/archive-transfer';
import { createRootfsSlice, type RootfsSlice } from './rootfs-slice';
import { createLayersSlice, type LayersSlice } from './layers-slice';

/** The whole renderer state: every slice's fields and actions side by side. */
export type AppState = ImagesSlice &
  TagsSlice &
  DetailsSlice &
  DiskSlice &
  PullsSlice &
  SettingsSlice &
  ActivitySlice &
  UiSlice &
  RegistriesSlice &
  ArchiveSlice &
  RootfsSlice &
  LayersSlice;

/** The vanilla store the React context hands out. */
export type AppStore = StoreApi<AppState>;

/** What the page offers besides the client (tests pass fakes); the browser's own by default. */
export interface AppStoreOptions {
  /** How the browser host's archive download and upload reach the server. */
  archiveHttp?: HttpTransferDeps;
  /** The first whole-list fetch waits until the images table shows its first rows (the page sets this). */
  waitForFirstRows?: boolean;
}

/** Builds the one app store from its slices; the client is the only way out, so tests pass a fake. */
export function createAppStore(client: BerthClient, options: AppStoreOptions = {}): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createImagesSlice(client, { waitForFirstRows: options.waitForFirstRows === true })(...a),
    ...createTagsSlice(client)(...a),
    ...createDetailsSlice(client)(...a),
    ...createDiskSlice(client)(...a),
    ...createPullsSlice(client)(...a),
    ...createSettingsSlice(client)(...a),
    ...createActivitySlice(client)(...a),
    ...createUiSlice(...a),
    ...createRegistriesSlice(client)(...a),
    ...createArchiveSlice(client, options.archiveHttp)(...a),
    ...createRootfsSlice(client)(...a),
    ...createLayersSlice(client)(...a),
  }));
}
