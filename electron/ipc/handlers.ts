import { hostPlatform } from '../core/registry/platform';
import type { AppInfo, Emit, Handlers } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import type { Puller } from '../core/pull/pull';
import { PullTasks } from '../core/pull/tasks';
import type { RegistryEnvironment, SavedLogins } from '../core/registry/connect';
import { readSettings, updateSettings } from '../core/settings';
import { ImageStore } from '../core/store/image-store';
import { pushStarter } from './push-tasks';
import { createRegistryHandlers, registryEnvironmentFor } from './registry-handlers';
import { archiveHandlers, type ArchiveFileDialogs } from './archive-handlers';
import { rootfsHandlers, type ChoosePath } from './rootfs-handlers';
import type { ImageLayers } from '../core/layers/image-layers';
import { imagePlatforms } from '../core/layers/image-platforms';
import { firstImagePage } from '../../shared/image-page';

/** What the handlers need from the host: where things live and how to reach the UIs. */
export interface HandlerContext {
  storePath: string;
  settingsFile: string;
  host: AppInfo['host'];
  version: string;
  emit: Emit;
  /** The image store; when absent the handlers open the one at `storePath` on first use. */
  imageStore?: ImageStore;
  /** How registries are reached; when absent the user's registries.conf, certs.d and auth files are read. */
  registryEnvironment?: RegistryEnvironment;
  /** The desktop app's keychain-sealed logins, asked before the auth files. */
  savedLogins?: SavedLogins;
  /** The host's file dialogs for saving and loading archives (Electron's main process); none in `berth serve`. */
  fileDialogs?: ArchiveFileDialogs;
  /** The native open/save dialog (Electron); the browser host has none and the UI asks for a typed path. */
  choosePath?: ChoosePath;
  /** Asks the user for a folder (Electron's native dialog); undefined when they cancel. Absent on `berth serve`. */
  chooseDirectory?: (title: string) => Promise<string | undefined>;
}

/** Builds the one handler object for every contract operation; thin translations onto the core. */
export function createHandlers(ctx: HandlerContext): Handlers {
  const images = storeFor(ctx);
  const pulls = pullsFor(ctx, images);
  const startPush = pushStarter(ctx, images, pulls);
  const layers = layersFor(images);
  return {
    'app:info': () =>
      Promise.resolve({
        version: ctx.version,
        storePath: ctx.storePath,
        host: ctx.host,
        platform: hostPlatform(),
      }),
    'settings:get': () => readSettings(ctx.settingsFile),
    'settings:update': (patch) => updateSettings(ctx.settingsFile, patch),
    'images:list': async ({ filter }) => (await images()).list(filter),
    'images:inspect': async ({ image }) => (await images()).inspect(image),
    'images:history': async ({ image }) => (await images()).history(image),
    'images:tag': async ({ image, name }) => (await images()).tag(image, name),
    'images:untag': async ({ image, names }) => (await images()).untag(image, names),
    'images:remove': async ({ image, force }) =>
      (await images()).remove(image, force === undefined ? {} : { force }),
    'images:prune': async (params) => (await images()).prune(params),
    'images:tree': async () => (await images()).tree(),
    'store:df': async () => (await images()).df(),
    'store:fsck': async ({ repair }) => (await images()).fsck(repair === undefined ? {} : { repair }),
    'events:list': async (params) => (await images()).events(params),
    'pull:start': ({ reference, platform, policy }) =>
      new Promise((resolve) =>
        resolve({
          pullId: pulls.start({
            reference,
            ...(platform === undefined ? {} : { platform }),
            ...(policy === undefined ? {} : { policy }),
          }),
        }),
      ),
    'pull:cancel': ({ pullId }) => Promise.resolve({ cancelled: pulls.cancel(pullId) }),
    'pull:list': () => Promise.resolve(pulls.list()),
    'push:start': async ({ image, destination }) => ({ pullId: await startPush(image, destination) }),
    'pull:retry': ({ pullId }) => new Promise((resolve) => resolve({ pullId: pulls.retry(pullId) })),
    ...createRegistryHandlers(() => registryEnvironmentFor(ctx), images),
    ...archiveHandlers(images, ctx.fileDialogs),
    ...rootfsHandlers(images, ctx.choosePath),
    'layers:list': async ({ image }) => (await layers()).list(image),
    'layers:directory': async ({ image, layer, view, path }) =>
      (await layers()).directory(image, layer, view, path),
    'layers:search': async ({ image, pattern, syntax, limit }) =>
      (await layers()).search(image, pattern, syntax, limit),
    'layers:efficiency': async ({ image, limit }) => (await layers()).efficiency(image, limit),
    'layers:preview': async ({ image, layer, view, path }) =>
      (await layers()).preview(image, layer, view, path),
    'layers:extract': async ({ image, layer, view, path, destination }) => {
      const chosen = destination ?? (await ctx.chooseDirectory?.('Extract to folder'));
      if (chosen === undefined && !ctx.chooseDirectory) {
        throw new BerthError('BAD_REQUEST', 'a destination folder is needed to extract on this host');
      }
      if (chosen === undefined) return { destination: '', written: 0, bytes: 0, skipped: [], done: false };
      return (await layers()).extract(image, layer, view, path, chosen);
    },
    'layers:compare': async ({ image, other, path }) => (await layers()).compare(image, other, path),
    'layers:platforms': async ({ image }) => imagePlatforms(await images(), image),
    'images:page': async (params) => firstImagePage(await (await images()).list(), params),
  };
}

/**
 * The store the handlers use, opened once on first use. Its changes reach every UI: this process's own as
 * `activity:changed` plus `store:changed` with the action, other processes' (the CLI) as `store:changed`
 * with reason `external`.
 */
function storeFor(ctx: HandlerContext): () => Promise<ImageStore> {
  let opening: Promise<ImageStore> | undefined;
  return () =>
    (opening ??= (ctx.imageStore ? Promise.resolve(ctx.imageStore) : ImageStore.open(ctx.storePath)).then(
      (store) => {
        store.subscribe((event) => {
          ctx.emit('activity:changed', event);
          ctx.emit(
            'store:changed',
            event.id === undefined ? { reason: event.action } : { reason: event.action, ids: [event.id] },
          );
        });
        store.watch(() => ctx.emit('store:changed', { reason: 'external' }));
        return store;
      },
      (err: unknown) => {
        opening = undefined;
        throw err;
      },
    ));
}

/**
 * The context's background pulls. The Puller and its RegistryPool are made on the first pull, with the
 * settings' `parallelDownloads` of that moment; each progress snapshot goes out as `pull:progress`.
 */
function pullsFor(ctx: HandlerContext, images: () => Promise<ImageStore>): PullTasks {
  let making: Promise<Puller> | undefined;
  const make = async (): Promise<Puller> => {
    const [store, environment, settings, { Puller }, { RegistryPool }] = await Promise.all([
      images(),
      registryEnvironmentFor(ctx),
      readSettings(ctx.settingsFile),
      import('../core/pull/pull'),
      import('../core/registry/connect'),
    ]);
    return new Puller({
      store,
      registries: new RegistryPool(environment),
      conf: environment.conf,
      parallel: settings.parallelDownloads,
    });
  };
  return new PullTasks(
    () =>
      (making ??= make().catch((err: unknown) => {
        making = undefined;
        throw err;
      })),
    (progress) => ctx.emit('pull:progress', progress),
  );
}

/** The layer explorer over the handlers' store, made (and its module loaded) on first use, kept for its caches. */
function layersFor(images: () => Promise<ImageStore>): () => Promise<ImageLayers> {
  let explorer: Promise<ImageLayers> | undefined;
  return () =>
    (explorer ??= Promise.all([images(), import('../core/layers/image-layers')]).then(
      ([store, { ImageLayers }]) => new ImageLayers(store),
      (err: unknown) => {
        explorer = undefined;
        throw err;
      },
    ));
}
