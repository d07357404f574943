import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../shared/contract';
import { firstImagePage } from '../../shared/image-page';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { selectVisibleImageIds } from '../../renderer/src/state/image-selectors';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

/** Images with clashing, missing and distinct creation times and sizes, in a scrambled store order. */
function manyImages(count: number): ImageSummary[] {
  return Array.from({ length: count }, (_, i) =>
    fakeImage({
      name: `app-${(i * 7919) % count}:1`,
      created: i % 11 === 0 ? undefined : new Date(Date.UTC(2026, 0, 1 + ((i * 37) % 90))).toISOString(),
      size: ((i * 104_729) % 50) * 1000,
    }),
  );
}

describe('first screen before the whole list', () => {
  it('shows the first page with the full count, then every row in the same order once the list arrives', async () => {
    const client = new FakeClient();
    client.images = manyImages(500);
    const store = createAppStore(client);
    client.hold();
    const loading = store.getState().loadImages();
    render(
      <AppStoreProvider client={client} store={store} loading={loading}>
        <AppShell />
      </AppStoreProvider>,
    );
    await waitFor(() => expect(store.getState().images.pending).toBe(300));
    const grid = await screen.findByTestId('images-grid');
    expect(grid.getAttribute('data-total')).toBe('500');
    expect(grid.getAttribute('aria-busy')).toBe('true');
    expect(screen.queryByTestId('image-count')).toBeNull();
    const early = selectVisibleImageIds(store.getState());
    expect(early).toHaveLength(200);
    client.release();
    await loading;
    const all = selectVisibleImageIds(store.getState());
    expect(all).toHaveLength(500);
    expect(all.slice(0, 200)).toEqual(early);
    expect(store.getState().images.pending).toBe(0);
    expect(grid.getAttribute('aria-busy')).toBe('false');
    expect(screen.getByTestId('image-count').textContent).toBe('500 images');
    expect(client.callsTo('images:page')).toBe(1);
    expect(client.callsTo('images:list')).toBe(1);
  });

  it('asks for the whole list only once the table shows the first rows, when the page waits for them', async () => {
    const client = new FakeClient();
    client.images = manyImages(500);
    const store = createAppStore(client, { waitForFirstRows: true });
    const loading = store.getState().loadImages();
    await waitFor(() => expect(store.getState().images.pending).toBe(300));
    // The first page is in the store, but no table has drawn it: the list's megabytes must not come yet.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.callsTo('images:list')).toBe(0);
    render(
      <AppStoreProvider client={client} store={store} loading={loading}>
        <AppShell />
      </AppStoreProvider>,
    );
    await loading;
    expect(client.callsTo('images:list')).toBe(1);
    expect(selectVisibleImageIds(store.getState())).toHaveLength(500);
  });

  it('gives the table’s own first rows for each sort main can reproduce, ties in store order', () => {
    const images = manyImages(300);
    const store = createAppStore(new FakeClient());
    const byId = Object.fromEntries(images.map((image) => [image.id, image]));
    for (const key of ['created', 'size'] as const) {
      for (const descending of [true, false]) {
        store.setState((s) => ({
          images: { ...s.images, byId, order: images.map((image) => image.id), status: 'ready' },
          ui: { ...s.ui, imageSort: { key, descending } },
        }));
        const page = firstImagePage(images, { limit: 50, sort: { key, descending } });
        expect(page.total).toBe(300);
        expect(page.images.map((image) => image.id)).toEqual(
          selectVisibleImageIds(store.getState()).slice(0, 50),
        );
      }
    }
  });

  it('refuses a page limit outside 1 to 1,000 as BAD_REQUEST', () => {
    for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
      let error: unknown;
      try {
        firstImagePage([], { limit });
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'BAD_REQUEST', message: /page limit/ });
    }
  });

  it('asks for no page when sorted by name, and a list that fails after the first page is an error', async () => {
    const client = new FakeClient();
    client.images = manyImages(300);
    const byName = createAppStore(client);
    byName.setState((s) => ({ ui: { ...s.ui, imageSort: { key: 'name', descending: false } } }));
    await byName.getState().loadImages();
    expect(client.callsTo('images:page')).toBe(0);
    expect(byName.getState().images.order).toHaveLength(300);
    const failing = createAppStore(client);
    client.failures.set('images:list', { code: 'INTERNAL', message: 'disk read failed' });
    await failing.getState().loadImages();
    expect(failing.getState().images).toMatchObject({ status: 'error', pending: 100 });
  });
});
