import { BerthError } from '../../shared/error';
import { normalizeReference } from '../../shared/reference';
import type { PullTasks } from '../core/pull/tasks';
import type { Pusher } from '../core/push/push';
import type { RegistryEnvironment, SavedLogins } from '../core/registry/connect';
import { readSettings } from '../core/settings';
import type { ImageStore } from '../core/store/image-store';
import { registryEnvironmentFor } from './registry-handlers';

/** What starting a push needs from the handler context. */
export interface PushContext {
  settingsFile: string;
  registryEnvironment?: RegistryEnvironment;
  savedLogins?: SavedLogins;
}

/**
 * Starts pushes as tasks of the shared transfer list, so they are listed, cancelled and reported on
 * `pull:progress` beside pulls (`kind: 'push'`). The image and destination are checked before the task
 * starts, so a typo fails the call itself; the Pusher is made on the first push.
 */
export function pushStarter(
  ctx: PushContext,
  images: () => Promise<ImageStore>,
  tasks: PullTasks,
): (image: string, destination?: string) => Promise<string> {
  let making: Promise<Pusher> | undefined;
  const make = async (): Promise<Pusher> => {
    const [store, environment, settings, { Pusher }, { RegistryPool }] = await Promise.all([
      images(),
      registryEnvironmentFor(ctx),
      readSettings(ctx.settingsFile),
      import('../core/push/push'),
      import('../core/registry/connect'),
    ]);
    return new Pusher({
      store,
      registries: new RegistryPool(environment),
      parallel: settings.parallelDownloads,
    });
  };
  const pusher = (): Promise<Pusher> =>
    (making ??= make().catch((err: unknown) => {
      making = undefined;
      throw err;
    }));
  return async (image, destination) => {
    const store = await images();
    const found = await store.resolve(image);
    const target = destination?.trim() || found.name || found.image.names[0];
    if (target === undefined || target === '') {
      throw new BerthError('BAD_REQUEST', `${image} has no name to push to; give a destination`, { image });
    }
    const reference = normalizeReference(target);
    if (reference.digest !== undefined) {
      throw new BerthError(
        'INVALID_REFERENCE',
        `cannot push to "${target}": a destination needs a tag, not a digest`,
      );
    }
    return tasks.run(target, 'push', async (pushId, signal, onProgress) => {
      await (await pusher()).push({ image, destination: target, pushId, signal, onProgress });
    });
  };
}
