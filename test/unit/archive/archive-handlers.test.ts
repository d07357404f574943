import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventName } from '../../../shared/contract';
import { createHandlers } from '../../../electron/ipc/handlers';
import { suggestedArchiveName, type ArchiveFileDialogs } from '../../../electron/ipc/archive-handlers';
import { smallImage } from '../../support/fixture';
import { addImage, tempStore } from '../store/add-image';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

async function setup(dialogs?: ArchiveFileDialogs) {
  const made = await tempStore();
  cleanups.push(made.cleanup);
  const emitted: { name: EventName; reason?: string }[] = [];
  const handlers = createHandlers({
    storePath: made.root,
    settingsFile: join(made.root, '..', 'config.json'),
    host: 'electron',
    version: '0.0.0-test',
    emit: (name, payload) => emitted.push({ name, reason: (payload as { reason?: string }).reason }),
    imageStore: made.store,
    ...(dialogs ? { fileDialogs: dialogs } : {}),
  });
  return { ...made, handlers, emitted };
}

describe('archive:save and archive:load with host dialogs', () => {
  it('saves where the dialog says, loads what it picks, and reports cancel and a host without dialogs', async () => {
    const asked: string[] = [];
    let answer: string | undefined;
    const dialogs: ArchiveFileDialogs = {
      chooseSavePath: (name, format) => {
        asked.push(`${name} ${format}`);
        return Promise.resolve(answer);
      },
      chooseLoadPath: () => Promise.resolve(answer),
    };
    const from = await setup(dialogs);
    const image = smallImage('handlers');
    await addImage(from.store, image, ['alpine:3.20']);
    await from.handlers['images:list']({});

    answer = undefined;
    expect(await from.handlers['archive:save']({ images: ['alpine:3.20'] })).toEqual({ cancelled: true });
    answer = join(from.root, '..', 'chosen.tar.gz');
    const saved = await from.handlers['archive:save']({ images: ['alpine:3.20'], compress: true });
    expect(saved).toMatchObject({ cancelled: false, archive: { path: answer, compressed: true } });
    expect((await stat(answer)).size).toBeGreaterThan(0);
    expect(asked).toEqual(['alpine_3.20.tar docker-archive', 'alpine_3.20.tar.gz docker-archive']);
    expect(from.emitted).toContainEqual({ name: 'store:changed', reason: 'save' });

    const to = await setup(dialogs);
    await to.handlers['images:list']({});
    const loaded = await to.handlers['archive:load']({});
    expect(loaded).toMatchObject({
      cancelled: false,
      loaded: {
        compression: 'gzip',
        images: [{ id: image.configDigest, names: ['docker.io/library/alpine:3.20'] }],
      },
    });
    expect(to.emitted).toContainEqual({ name: 'store:changed', reason: 'load' });

    const none = await setup();
    await expect(none.handlers['archive:load']({})).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(none.handlers['archive:save']({ images: [] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('suggests a file name from what is saved', () => {
    expect(suggestedArchiveName(['docker.io/library/alpine:3.20'], false)).toBe('alpine_3.20.tar');
    expect(suggestedArchiveName(['quay.io/a/b:1', 'c:2'], true)).toBe('quay.io_a_b_1_and_1_more.tar.gz');
    expect(suggestedArchiveName([`sha256:${'ab'.repeat(32)}`], false)).toBe('abababababab.tar');
    expect(suggestedArchiveName(['alpine:3.20', 'docker.io/library/alpine:latest'], true)).toBe(
      'alpine_3.20.tar.gz',
    );
  });
});
