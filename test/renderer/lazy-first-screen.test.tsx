import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { renderApp } from '../../renderer/src/render-app';
import { loadEverything } from '../../renderer/src/state/events';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

// Records which lazy chunks were imported: the factory runs when a module is first imported.
const imported = vi.hoisted(() => new Set<string>());
vi.mock('../../renderer/src/views/image-details', async (original) => {
  imported.add('image-details');
  return original();
});
vi.mock('../../renderer/src/views/pull-dialog', async (original) => {
  imported.add('pull-dialog');
  return original();
});
vi.mock('../../renderer/src/views/settings-view', async (original) => {
  imported.add('settings-view');
  return original();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

stubViewportHeight();

describe('first screen', () => {
  it('loads the details panel and the Pull dialog chunks when they open, not while the table first paints', async () => {
    const client = new FakeClient();
    client.images = [fakeImage({ repoTags: ['docker.io/library/first:1'] })];
    const store = createAppStore(client);
    const loading = loadEverything(store);
    render(
      <AppStoreProvider client={client} store={store} loading={loading}>
        <AppShell />
      </AppStoreProvider>,
    );
    expect(await screen.findAllByTestId('image-row')).toHaveLength(1);
    await act(() => loading);
    expect([...imported]).toEqual([]);

    const id = store.getState().images.order[0] ?? '';
    act(() => store.getState().openDetails(id));
    expect(await screen.findByTestId('image-details')).toBeTruthy();
    expect(imported).toContain('image-details');

    fireEvent.click(screen.getByTestId('header-pull-button'));
    expect(await screen.findByTestId('pull-dialog')).toBeTruthy();
    expect(imported).toContain('pull-dialog');
  });

  it('loads the other views’ chunks only once the first screen is painted, even when the first load settled before React rendered', async () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
    const client = new FakeClient();
    client.images = [fakeImage({ repoTags: ['docker.io/library/small:1'] })];
    const store = createAppStore(client);
    // A small store's answers all come with the page: its first load settles before React's first render.
    const loading = loadEverything(store);
    await loading;
    const element = document.createElement('div');
    document.body.append(element);
    let root: ReturnType<typeof renderApp> | undefined;
    try {
      await act(async () => {
        root = renderApp(element, { client, store, loading });
        await Promise.resolve();
      });
      expect(await screen.findAllByTestId('image-row')).toHaveLength(1);
      await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
      expect(imported.has('settings-view'), 'nothing loads before the first frame is painted').toBe(false);

      await act(async () => {
        for (const callback of frames.splice(0)) callback(performance.now());
        await new Promise((resolve) => setTimeout(resolve, 0));
      });
      await waitFor(() => expect(imported).toContain('settings-view'));
    } finally {
      act(() => root?.unmount());
      element.remove();
    }
  });
});
