import type { AppInfo, Emit, Handlers } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { readSettings, updateSettings } from '../core/settings';

/** What the handlers need from the host: where things live and how to reach the UIs. */
export interface HandlerContext {
  storePath: string;
  settingsFile: string;
  host: AppInfo['host'];
  version: string;
  emit: Emit;
}

const notYet = (what: string) => () =>
  Promise.reject(new BerthError('UNSUPPORTED', `${what} is not available in this build yet`));

/** Builds the one handler object for every contract operation; thin translations onto the core. */
export function createHandlers(ctx: HandlerContext): Handlers {
  return {
    'app:info': () =>
      Promise.resolve({
        version: ctx.version,
        storePath: ctx.storePath,
        host: ctx.host,
        platform: { os: process.platform === 'win32' ? 'windows' : process.platform, architecture: goArch(process.arch) },
      }),
    'settings:get': () => readSettings(ctx.settingsFile),
    'settings:update': (patch) => updateSettings(ctx.settingsFile, patch),
    'images:list': () => Promise.resolve([]),
    'images:inspect': notYet('inspect'),
    'images:history': notYet('history'),
    'images:tag': notYet('tag'),
    'images:untag': notYet('untag'),
    'images:remove': notYet('remove'),
    'images:prune': notYet('prune'),
    'images:tree': notYet('the layer tree'),
    'store:df': notYet('disk usage'),
    'store:fsck': notYet('fsck'),
    'events:list': () => Promise.resolve([]),
    'pull:start': notYet('pulling'),
    'pull:cancel': notYet('pulling'),
    'pull:list': () => Promise.resolve([]),
  };
}

/** Node's arch names mapped to the OCI/Go names registries use. */
export function goArch(arch: string): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return map[arch] ?? arch;
}
