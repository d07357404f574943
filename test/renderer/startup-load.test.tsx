import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { loadEverything } from '../../renderer/src/state/events';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

describe('startup load', () => {
  it('a load started before the first render (as main.tsx does) is the only images:list', async () => {
    const client = new FakeClient();
    client.images = [fakeImage({ repoTags: ['docker.io/library/early:1'] })];
    const store = createAppStore(client);
    const loading = loadEverything(store);
    // The first screen's request leaves before React renders; the whole list follows it.
    expect(client.callsTo('images:page')).toBe(1);
    render(
      <AppStoreProvider client={client} store={store} loading={loading}>
        <AppShell />
      </AppStoreProvider>,
    );
    expect(await screen.findAllByTestId('image-row')).toHaveLength(1);
    await loading;
    expect(client.callsTo('images:list')).toBe(1);
  });

  it('without one, the provider starts the load itself', async () => {
    const client = new FakeClient();
    client.images = [fakeImage({ repoTags: ['docker.io/library/late:1'] })];
    render(
      <AppStoreProvider client={client}>
        <AppShell />
      </AppStoreProvider>,
    );
    expect(await screen.findAllByTestId('image-row')).toHaveLength(1);
    expect(client.callsTo('images:list')).toBe(1);
  });
});
