import { waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { subscribeToMain } from '../../renderer/src/state/events';
import { selectTotalSize, selectVisibleImageIds } from '../../renderer/src/state/image-selectors';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, FakeConnection, fakeImage } from './fake-client';

const pull = (pullId: string, state: 'running' | 'complete' = 'running') => ({
  pullId,
  reference: `docker.io/library/${pullId}:latest`,
  state,
  layers: [],
  done: 10,
  total: 100,
  bytesPerSecond: 5,
});

describe('images slice', () => {
  it('loads the list into byId and order, going through loading to ready', async () => {
    const client = new FakeClient();
    const alpine = fakeImage({ name: 'alpine:3.20' });
    const busybox = fakeImage({ name: 'busybox:1.36', size: 2_000_000 });
    client.images = [alpine, busybox];
    const store = createAppStore(client);
    expect(store.getState().images.status).toBe('idle');

    const loading = store.getState().loadImages();
    expect(store.getState().images.status).toBe('loading');
    await loading;

    const { images } = store.getState();
    expect(images.status).toBe('ready');
    expect(images.order).toEqual([alpine.id, busybox.id]);
    expect(images.byId[busybox.id]?.repoTags).toEqual(['docker.io/library/busybox:1.36']);
    expect(selectTotalSize(store.getState())).toBe(7_000_000);
  });

  it('turns a failed first load into an error state with the code and message', async () => {
    const client = new FakeClient();
    client.failures.set('images:list', { code: 'STORE_LOCKED', message: 'the store is locked' });
    const store = createAppStore(client);
    await store.getState().loadImages();
    expect(store.getState().images).toMatchObject({
      status: 'error',
      error: { code: 'STORE_LOCKED', message: 'the store is locked' },
      order: [],
    });

    client.failures.clear();
    client.images = [fakeImage({ name: 'alpine' })];
    await store.getState().loadImages();
    expect(store.getState().images.status).toBe('ready');
    expect(store.getState().images.error).toBeNull();
    expect(store.getState().images.order).toHaveLength(1);
  });

  it('keeps the rows it has when a reload fails, and reports the error beside them', async () => {
    const client = new FakeClient();
    client.images = [fakeImage({ name: 'alpine' })];
    const store = createAppStore(client);
    await store.getState().loadImages();
    client.failures.set('images:list', { code: 'INTERNAL', message: 'disk read failed' });
    await store.getState().loadImages();
    expect(store.getState().images.status).toBe('ready');
    expect(store.getState().images.order).toHaveLength(1);
    expect(store.getState().images.error?.message).toBe('disk read failed');
  });

  it('coalesces a burst of reloads into the one in flight plus one more', async () => {
    const client = new FakeClient();
    const store = createAppStore(client);
    client.hold();
    const first = store.getState().loadImages();
    const rest = [1, 2, 3, 4, 5].map(() => store.getState().loadImages());
    await waitFor(() => expect(client.callsTo('images:list')).toBe(1));
    client.images = [fakeImage({ name: 'late' })];
    client.release();
    await Promise.all([first, ...rest]);
    expect(client.callsTo('images:list')).toBe(2);
    expect(store.getState().images.order).toHaveLength(1);
  });
});

describe('events from main', () => {
  it('reloads the image list on store:changed', async () => {
    const client = new FakeClient();
    const store = createAppStore(client);
    const stop = subscribeToMain(store, client);
    await store.getState().loadImages();
    expect(store.getState().images.order).toEqual([]);

    const tagged = fakeImage({ name: 'alpine:edge' });
    client.images = [tagged];
    client.emit('store:changed', { reason: 'tag', ids: [tagged.id] });
    await waitFor(() => expect(store.getState().images.order).toEqual([tagged.id]));

    stop();
    expect(client.listenerCount('store:changed')).toBe(0);
  });

  it('folds pull:progress into the pulls slice, newest pull first, updating in place', () => {
    const client = new FakeClient();
    const store = createAppStore(client);
    subscribeToMain(store, client);
    client.emit('pull:progress', pull('a'));
    client.emit('pull:progress', pull('b'));
    client.emit('pull:progress', { ...pull('a', 'complete'), done: 100 });
    const { pulls } = store.getState();
    expect(pulls.order).toEqual(['b', 'a']);
    expect(pulls.byId.a).toMatchObject({ state: 'complete', done: 100 });
  });

  it('puts activity:changed events on top of the activity log', async () => {
    const client = new FakeClient();
    client.events = [{ time: '2026-11-01T10:00:00Z', action: 'pull', names: ['alpine'] }];
    const store = createAppStore(client);
    subscribeToMain(store, client);
    await store.getState().loadActivity();
    client.emit('activity:changed', { time: '2026-11-02T10:00:00Z', action: 'tag', names: ['alpine:x'] });
    expect(store.getState().activity.entries.map((e) => e.action)).toEqual(['tag', 'pull']);
  });

  it('mirrors the connection state and reloads everything when a lost connection comes back', async () => {
    const client = new FakeClient();
    const connection = new FakeConnection();
    const store = createAppStore(client);
    subscribeToMain(store, client, connection);
    expect(store.getState().ui.connection).toBe('open');

    connection.set('lost');
    expect(store.getState().ui.connection).toBe('lost');
    client.images = [fakeImage({ name: 'made-while-away' })];
    connection.set('open');
    expect(store.getState().ui.connection).toBe('open');
    await waitFor(() => expect(store.getState().images.order).toHaveLength(1));
    expect(client.callsTo('pull:list')).toBe(1);
    expect(client.callsTo('settings:get')).toBe(1);
  });
});

describe('settings slice', () => {
  it('loads settings and app info, and stores what main answers to an update', async () => {
    const client = new FakeClient();
    const store = createAppStore(client);
    await store.getState().loadSettings();
    expect(store.getState().settings).toMatchObject({
      status: 'ready',
      value: { theme: 'system' },
      app: client.app,
    });
    await store.getState().updateSettings({ theme: 'dark' });
    expect(store.getState().settings.value?.theme).toBe('dark');
    expect(client.calls.at(-1)).toEqual({ name: 'settings:update', params: { theme: 'dark' } });
  });

  it('shows a failed update as an error toast', async () => {
    const client = new FakeClient();
    client.failures.set('settings:update', {
      code: 'BAD_REQUEST',
      message: 'parallelDownloads must be 1–16',
    });
    const store = createAppStore(client);
    await store.getState().updateSettings({ parallelDownloads: 99 });
    expect(store.getState().ui.toasts).toMatchObject([
      { tone: 'error', title: 'Could not save settings', error: { code: 'BAD_REQUEST' } },
    ]);
  });
});

describe('selectVisibleImageIds', () => {
  const setup = async () => {
    const client = new FakeClient();
    const alpine = fakeImage({ name: 'alpine:3.20', created: '2026-01-01T00:00:00Z', size: 3 });
    const nginx = fakeImage({
      name: 'ghcr.io/acme/nginx:1.27',
      created: '2026-03-01T00:00:00Z',
      size: 9,
      labels: { 'org.opencontainers.image.vendor': 'Acme' },
    });
    const dangling = fakeImage({ created: '2026-02-01T00:00:00Z', size: 5 });
    client.images = [alpine, nginx, dangling];
    const store = createAppStore(client);
    await store.getState().loadImages();
    return { store, alpine, nginx, dangling };
  };

  it('sorts newest first by default and by name or size on request', async () => {
    const { store, alpine, nginx, dangling } = await setup();
    expect(selectVisibleImageIds(store.getState())).toEqual([nginx.id, dangling.id, alpine.id]);
    store.getState().toggleImageSort('name');
    expect(selectVisibleImageIds(store.getState())).toEqual([alpine.id, nginx.id, dangling.id]);
    store.getState().toggleImageSort('size');
    expect(selectVisibleImageIds(store.getState())).toEqual([nginx.id, dangling.id, alpine.id]);
    store.getState().toggleImageSort('size');
    expect(selectVisibleImageIds(store.getState())).toEqual([alpine.id, dangling.id, nginx.id]);
  });

  it('matches every term against names and labels anywhere, and IDs by prefix', async () => {
    const { store, alpine, nginx, dangling } = await setup();
    const search = (query: string) => {
      store.getState().setImageQuery(query);
      return selectVisibleImageIds(store.getState());
    };
    expect(search('ALP')).toEqual([alpine.id]);
    expect(search('acme 1.27')).toEqual([nginx.id]);
    expect(search('vendor=acme')).toEqual([nginx.id]);
    expect(search('<none>')).toEqual([dangling.id]);
    expect(search(alpine.id.slice(7, 14))).toEqual([alpine.id]);
    expect(search(alpine.id.slice(20, 30))).toEqual([]);
    expect(search('alpine nginx')).toEqual([]);
    expect(search('  ')).toHaveLength(3);
  });

  it('returns the same array while its inputs are unchanged', async () => {
    const { store } = await setup();
    const first = selectVisibleImageIds(store.getState());
    store.getState().setView('pulls');
    expect(selectVisibleImageIds(store.getState())).toBe(first);
  });
});
