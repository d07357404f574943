import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, fakeImage } from './fake-client';

async function setup() {
  const client = new FakeClient();
  const alpine = fakeImage({
    repoTags: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
  });
  const web = fakeImage({ repoTags: ['docker.io/acme/web:1.0'] });
  client.images = [alpine, web];
  const store = createAppStore(client);
  await store.getState().loadImages();
  const names = (id: string) => client.images.find((i) => i.id === id)?.repoTags;
  const lastToast = () => store.getState().ui.toasts.at(-1);
  return { client, store, alpine, web, names, lastToast };
}

describe('tags slice', () => {
  it('moves a name and undoes the move by giving it back to its old image', async () => {
    const { store, alpine, web, names, lastToast } = await setup();
    const ok = await store.getState().applyTagPlan({
      kind: 'tag',
      name: 'docker.io/library/alpine:latest',
      image: web.id,
      movesFrom: alpine.id,
      copy: false,
    });
    expect(ok).toBe(true);
    expect(names(web.id)).toContain('docker.io/library/alpine:latest');
    expect(store.getState().images.byId[alpine.id]?.repoTags).toEqual(['docker.io/library/alpine:3.20']);
    expect(lastToast()).toMatchObject({
      tone: 'success',
      title: `Moved alpine:latest to ${web.id.slice(7, 19)}`,
    });

    lastToast()?.action?.run();
    await expect.poll(() => names(alpine.id)).toContain('docker.io/library/alpine:latest');
    expect(names(web.id)).toEqual(['docker.io/acme/web:1.0']);
    await expect.poll(() => lastToast()?.title).toBe('Undone');
    expect(lastToast()?.action).toBeUndefined();
  });

  it('undoes an added name by removing it, and a removed last name by adding it back', async () => {
    const { store, web, names, lastToast } = await setup();
    await store.getState().addTag(web.id, 'docker.io/acme/web:2.0');
    expect(names(web.id)).toEqual(['docker.io/acme/web:1.0', 'docker.io/acme/web:2.0']);
    lastToast()?.action?.run();
    await expect.poll(() => names(web.id)).toEqual(['docker.io/acme/web:1.0']);

    await store.getState().removeTag(web.id, 'docker.io/acme/web:1.0');
    expect(store.getState().images.byId[web.id]?.dangling).toBe(true);
    expect(lastToast()?.title).toContain('is now <none>');
    lastToast()?.action?.run();
    await expect.poll(() => names(web.id)).toEqual(['docker.io/acme/web:1.0']);
  });

  it('skips a tag the image already has, so Undo cannot turn it into a removal', async () => {
    const { client, store, web, lastToast } = await setup();
    await store.getState().addTag(web.id, 'docker.io/acme/web:1.0');
    expect(client.callsTo('images:tag')).toBe(0);
    expect(lastToast()?.action).toBeUndefined();
  });

  it('toasts a failure with its code and changes nothing', async () => {
    const { client, store, web, lastToast } = await setup();
    client.failures.set('images:tag', { code: 'STORE_LOCKED', message: 'locked' });
    expect(await store.getState().addTag(web.id, 'docker.io/acme/web:2.0')).toBe(false);
    expect(lastToast()).toMatchObject({ tone: 'error', error: { code: 'STORE_LOCKED' } });
    expect(lastToast()?.action).toBeUndefined();
  });
});

describe('disk slice', () => {
  it('previews a prune with a dry run and estimates the space from unique sizes', async () => {
    const client = new FakeClient();
    const kept = fakeImage({ name: 'keep:1', size: 10 });
    const gone = fakeImage({ size: 1234 });
    client.images = [kept, gone];
    const store = createAppStore(client);
    await store.getState().loadImages();
    await store.getState().previewPrune({ all: false });
    expect(store.getState().disk.preview).toEqual({
      options: { all: false },
      ids: [gone.id],
      reclaimable: 1234,
    });
    expect(client.images).toHaveLength(2);

    await store.getState().runPrune();
    expect(client.images.map((i) => i.id)).toEqual([kept.id]);
    expect(store.getState().ui.toasts.at(-1)?.title).toBe('Pruned 1 image · 1.23 kB reclaimed');
    expect(store.getState().disk.preview?.ids).toEqual([]);
  });
});
