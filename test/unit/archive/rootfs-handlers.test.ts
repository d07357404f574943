import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostPath, rootfsHandlers } from '../../../electron/ipc/rootfs-handlers';
import { buildLayerTar } from '../../support/fixture';
import { tempStore } from '../store/add-image';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('import, export and squash handlers', () => {
  it('take absolute or ~/ paths on the host and refuse relative ones', () => {
    expect(hostPath(' /srv/a/../rootfs.tar ', 'tarball path')).toBe('/srv/rootfs.tar');
    expect(hostPath('~/rootfs.tar', 'tarball path')).toBe(join(homedir(), 'rootfs.tar'));
    expect(() => hostPath('rootfs.tar', 'tarball path')).toThrow(
      /tarball path "rootfs.tar" must be an absolute path on the host/,
    );
    expect(() => hostPath('  ', 'export path')).toThrow(/export path is empty/);
  });

  it('import, squash and export through the contract shapes; without a native dialog files:choose is UNSUPPORTED', async () => {
    const { store, root, cleanup } = await tempStore();
    cleanups.push(cleanup);
    const tarball = join(root, '..', 'rootfs.tar');
    await writeFile(tarball, buildLayerTar([{ path: 'etc/motd', content: 'hello\n' }]));
    const handlers = rootfsHandlers(() => Promise.resolve(store), undefined);
    const imported = await handlers['images:import']({
      path: tarball,
      reference: 'local/base:1',
      changes: ['USER 1000'],
    });
    expect(imported.names).toEqual(['docker.io/local/base:1']);
    expect((await store.inspect('local/base:1')).user).toBe('1000');
    const squashed = await handlers['images:squash']({ image: 'local/base:1', name: 'local/base:flat' });
    expect(squashed).toMatchObject({
      from: imported.id,
      replacedLayers: 1,
      names: ['docker.io/local/base:flat'],
    });
    const out = join(root, '..', 'out.tar');
    expect(await handlers['images:export']({ image: 'local/base:flat', path: out })).toMatchObject({
      path: out,
      entries: 2,
      bytes: 6,
    });
    await expect(handlers['files:choose']({ purpose: 'open' })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
    const chosen = rootfsHandlers(
      () => Promise.resolve(store),
      (request) => Promise.resolve(request.purpose === 'save' ? '/tmp/x.tar' : undefined),
    );
    expect(await chosen['files:choose']({ purpose: 'save' })).toEqual({ path: '/tmp/x.tar' });
    expect(await chosen['files:choose']({ purpose: 'open' })).toEqual({});
  });
});
