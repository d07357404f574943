import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { PullProgress } from '../../shared/contract';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { createAppStore } from '../../renderer/src/state/store';
import { subscribeToMain } from '../../renderer/src/state/events';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

const viewportHeight = 600;
stubViewportHeight(() => viewportHeight);

const layerA = `sha256:${'a'.repeat(64)}`;
const layerB = `sha256:${'b'.repeat(64)}`;

function progress(pullId: string, patch: Partial<PullProgress> = {}): PullProgress {
  return {
    pullId,
    reference: 'docker.io/library/alpine:3.20',
    state: 'running',
    layers: [
      { digest: layerA, status: 'downloading', done: 0, total: 1000 },
      { digest: layerB, status: 'waiting', done: 0, total: 3000 },
    ],
    done: 0,
    total: 4000,
    bytesPerSecond: 0,
    ...patch,
  };
}

/** Renders the app and waits until its first load of the pull list has landed. */
async function renderApp(client: FakeClient) {
  const store = createAppStore(client);
  render(
    <AppStoreProvider client={client} store={store}>
      <AppShell />
    </AppStoreProvider>,
  );
  await waitFor(() => expect(store.getState().settings.status).toBe('ready'));
  await act(() => Promise.resolve());
  return store;
}

describe('pulls slice', () => {
  it('starts a pull, shows it at once in the opened panel, and lists main’s pulls newest first', async () => {
    const client = new FakeClient();
    client.pulls = [progress('old-1', { state: 'complete' }), progress('old-2', { state: 'failed' })];
    const store = createAppStore(client);
    await store.getState().loadPulls();
    expect(store.getState().pulls.order).toEqual(['old-2', 'old-1']);

    const id = await store.getState().startPull({ reference: 'alpine:3.20', policy: 'missing' });
    expect(id).toBe('pull-1');
    expect(client.paramsOf('pull:start')).toEqual([{ reference: 'alpine:3.20', policy: 'missing' }]);
    const { pulls } = store.getState();
    expect(pulls.order[0]).toBe('pull-1');
    expect(pulls.byId['pull-1']).toMatchObject({ state: 'resolving', reference: 'alpine:3.20' });
    expect(pulls.panelOpen).toBe(true);
  });

  it('says why a pull could not start, in a toast with the error code', async () => {
    const client = new FakeClient();
    client.failures.set('pull:start', { code: 'INVALID_REFERENCE', message: 'invalid reference "A"' });
    const store = createAppStore(client);
    expect(await store.getState().startPull({ reference: 'A' })).toBeUndefined();
    expect(store.getState().ui.toasts.at(-1)).toMatchObject({
      tone: 'error',
      title: 'Could not start the pull',
      error: { code: 'INVALID_REFERENCE' },
    });
    expect(store.getState().pulls.order).toEqual([]);
  });

  it('moves per-layer bars and overall bytes as progress arrives, in the panel over any view', async () => {
    const client = new FakeClient();
    const store = await renderApp(client);
    fireEvent.click(screen.getByTestId('nav-settings'));
    fireEvent.click(screen.getByTestId('pulls-panel-button'));
    act(() => client.emit('pull:progress', progress('p1')));
    const panel = await screen.findByTestId('pulls-panel');
    expect(
      within(screen.getByTestId('pulls-panel-button')).getByTestId('pulls-active-count').textContent,
    ).toBe('1');
    const bar = () =>
      within(within(panel).getAllByTestId('pull-layer')[0] as HTMLElement).getByRole('progressbar');
    expect(bar().getAttribute('aria-valuenow')).toBe('0');

    act(() =>
      client.emit(
        'pull:progress',
        progress('p1', {
          layers: [
            { digest: layerA, status: 'downloading', done: 400, total: 1000 },
            { digest: layerB, status: 'waiting', done: 0, total: 3000 },
          ],
          done: 400,
          bytesPerSecond: 2_000_000,
          etaSeconds: 3,
        }),
      ),
    );
    expect(bar().getAttribute('aria-valuenow')).toBe('400');
    expect(within(panel).getByTestId('pull-bytes').textContent).toBe('400 B of 4.00 kB');
    expect(within(panel).getByText('3s left')).toBeTruthy();

    fireEvent.click(screen.getByTestId('nav-activity'));
    expect(screen.getByTestId('pulls-panel')).toBeTruthy();
    expect(store.getState().pulls.byId.p1?.done).toBe(400);
  });

  it('shows a failed pull’s error text and retries it under the same ID', async () => {
    const client = new FakeClient();
    const store = await renderApp(client);
    store.getState().setPullsPanel(true);
    act(() =>
      client.emit(
        'pull:progress',
        progress('p1', {
          state: 'failed',
          error: { code: 'NETWORK', message: 'connection reset while reading blob sha256:aaaa' },
        }),
      ),
    );
    const card = await screen.findByTestId('pull-task');
    expect(within(card).getByTestId('pull-error').textContent).toBe(
      'connection reset while reading blob sha256:aaaa NETWORK',
    );
    fireEvent.click(within(card).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(client.paramsOf('pull:retry')).toEqual([{ pullId: 'p1' }]));

    act(() => client.emit('pull:progress', progress('p1', { state: 'resolving', layers: [], total: 0 })));
    expect(within(card).queryByTestId('pull-error')).toBeNull();
    expect(within(card).queryByRole('button', { name: 'Retry' })).toBeNull();
    expect(within(card).getByRole('button', { name: 'Cancel' })).toBeTruthy();
    expect(store.getState().pulls.order).toEqual(['p1']);
  });

  it('reveals the new image when a pull started here completes: selected, details open', async () => {
    const client = new FakeClient();
    const image = fakeImage({ name: 'alpine:3.20' });
    const others = Array.from({ length: 80 }, (_, i) => fakeImage({ name: `other-${i}:1` }));
    client.images = others;
    const store = await renderApp(client);
    await screen.findAllByTestId('image-row');
    const id = await act(() => store.getState().startPull({ reference: 'alpine:3.20' }));
    if (id === undefined) throw new Error('no pull id');
    act(() => client.emit('pull:progress', progress(id)));
    client.images = [...others, image];
    act(() => {
      client.emit('pull:progress', progress(id, { state: 'complete', imageId: image.id, done: 4000 }));
      client.emit('store:changed', { reason: 'pull', ids: [image.id] });
    });
    await waitFor(() => expect(store.getState().ui.selection).toEqual([image.id]));
    expect(store.getState().ui.detailsId).toBe(image.id);
    await waitFor(() => expect(store.getState().pulls.reveal).toBeNull());
    expect(screen.getByTestId('toast').textContent).toMatch(/Pulled docker.io\/library\/alpine:3.20/);
  });

  it('reveals the image once it is stored, while its layers are indexed, without offering Cancel', async () => {
    const client = new FakeClient();
    const image = fakeImage({ name: 'alpine:3.20' });
    client.images = [fakeImage({ name: 'other:1' })];
    const store = await renderApp(client);
    const id = await act(() => store.getState().startPull({ reference: 'alpine:3.20' }));
    if (id === undefined) throw new Error('no pull id');
    act(() => client.emit('pull:progress', progress(id)));
    const card = async () =>
      (await screen.findAllByTestId('pull-task')).find((c) => c.dataset.pullId === id) as HTMLElement;
    expect(within(await card()).getByRole('button', { name: 'Cancel' })).toBeTruthy();
    client.images = [...client.images, image];
    act(() => {
      client.emit('pull:progress', progress(id, { state: 'stored', imageId: image.id, done: 4000 }));
      client.emit('store:changed', { reason: 'pull', ids: [image.id] });
    });
    await waitFor(() => expect(store.getState().ui.selection).toEqual([image.id]));
    // Revealing closed the panel over the details; open it again to see the pull.
    if (!store.getState().pulls.panelOpen) fireEvent.click(screen.getByTestId('pulls-panel-button'));
    expect(within(await card()).getByTestId('pull-state').textContent).toBe('Stored · indexing');
    expect(within(await card()).queryByRole('button', { name: 'Cancel' })).toBeNull();
    act(() =>
      client.emit('pull:progress', progress(id, { state: 'complete', imageId: image.id, done: 4000 })),
    );
    expect(screen.getAllByTestId('toast').filter((t) => /Pulled/.test(t.textContent ?? ''))).toHaveLength(1);
  });

  it('does not reveal images of pulls started elsewhere (the CLI)', () => {
    const client = new FakeClient();
    const store = createAppStore(client);
    subscribeToMain(store, client);
    client.emit('pull:progress', progress('cli', { state: 'running' }));
    client.emit('pull:progress', progress('cli', { state: 'complete', imageId: 'sha256:x' }));
    expect(store.getState().ui.selection).toEqual([]);
    expect(store.getState().pulls.reveal).toBeNull();
  });

  it('a panel that fails to render shows what broke in place; the rest of the app keeps working', async () => {
    const client = new FakeClient();
    const store = await renderApp(client);
    store.getState().setPullsPanel(true);
    const quiet = console.error;
    console.error = () => undefined;
    try {
      act(() => client.emit('pull:progress', { ...progress('bad'), layers: undefined as never }));
      const boundary = await screen.findByTestId('error-boundary');
      expect(boundary.textContent).toContain('Something went wrong in the Pulls panel');
    } finally {
      console.error = quiet;
    }
    fireEvent.click(screen.getByTestId('nav-settings'));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Settings');
  });
});
