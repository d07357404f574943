import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName, Handlers, StoreEvent } from '../../../shared/contract';
import { createHandlers } from '../../../electron/ipc/handlers';
import { ImageStore } from '../../../electron/core/store/image-store';
import { smallImage } from '../../support/fixture';
import { addImage, tempStore } from './add-image';

let root: string;
let cleanup: () => Promise<void>;
let handlers: Handlers;
let emitted: { name: EventName; payload: unknown }[];
let onEmit: (() => void) | undefined;

beforeEach(async () => {
  ({ root, cleanup } = await tempStore());
  emitted = [];
  handlers = createHandlers({
    storePath: root,
    settingsFile: `${root}/../config.json`,
    host: 'serve',
    version: 'test',
    emit: (name, payload) => {
      emitted.push({ name, payload });
      onEmit?.();
    },
  });
});
afterEach(async () => {
  await cleanup();
});

describe('image and store handlers', () => {
  it('answer from the store and push activity and store changes', async () => {
    const image = smallImage('h');
    await addImage(await ImageStore.open(root), image, ['h']);
    expect((await handlers['images:list']({})).map((r) => r.id)).toEqual([image.configDigest]);
    expect(await handlers['images:tag']({ image: 'h', name: 'h2' })).toMatchObject({
      id: image.configDigest,
    });
    expect(
      emitted.filter((e) => e.name === 'activity:changed').map((e) => (e.payload as StoreEvent).action),
    ).toEqual(['tag']);
    expect(emitted).toContainEqual({
      name: 'store:changed',
      payload: { reason: 'tag', ids: [image.configDigest] },
    });
    expect((await handlers['images:inspect']({ image: 'h2' })).repoTags).toHaveLength(2);
    expect(await handlers['images:history']({ image: 'h' })).toHaveLength(1);
    expect(await handlers['images:untag']({ image: 'h', names: ['h'] })).toMatchObject({
      removed: ['docker.io/library/h:latest'],
    });
    expect(await handlers['images:tree']({})).toHaveLength(1);
    expect((await handlers['store:df']({})).images).toHaveLength(1);
    expect(await handlers['store:fsck']({})).toMatchObject({ clean: true });
    expect(await handlers['images:prune']({ dryRun: true })).toEqual({ deleted: [], bytesFreed: 0 });
    expect((await handlers['images:remove']({ image: 'h2' })).deleted).toEqual([image.configDigest]);
    expect((await handlers['events:list']({})).map((e) => e.action)).toEqual([
      'pull',
      'tag',
      'untag',
      'remove',
    ]);
  });

  it('report changes another process made as external', async () => {
    await handlers['images:list']({});
    const isExternal = () =>
      emitted.some(
        (e) => e.name === 'store:changed' && (e.payload as { reason: string }).reason === 'external',
      );
    const external = new Promise<void>((resolve) => {
      onEmit = () => isExternal() && resolve();
    });
    await addImage(await ImageStore.open(root), smallImage('x'), ['x']);
    await external;
    expect(emitted.filter((e) => e.name === 'activity:changed')).toEqual([]);
  });
});
