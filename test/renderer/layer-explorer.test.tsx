import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ImageDetails } from '../../shared/contract';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { treeLines } from '../../renderer/src/state/layers-slice';
import { createAppStore, type AppStore } from '../../renderer/src/state/store';
import { LayerExplorer } from '../../renderer/src/views/layer-explorer';
import { fakeImage } from './fake-client';
import { LayersFakeClient } from './layers-fake';
import { stubViewportHeight } from './viewport';

// jsdom does no layout; give scroll containers a viewport so the virtualizer has rows to render.
stubViewportHeight();

const image = fakeImage({ name: 'acme/web:1.0' });
const other = fakeImage({ name: 'acme/api:2.0' });

function paths(store: AppStore): string[] {
  const explorer = store.getState().explorer;
  return explorer ? treeLines(explorer).map((l) => `${'  '.repeat(l.depth)}${l.entry.path}`) : [];
}

describe('layers slice', () => {
  it('opens on the top layer merged and lists one directory per expand, once', async () => {
    const client = new LayersFakeClient();
    const store = createAppStore(client);
    await store.getState().openExplorer(image.id);
    const explorer = store.getState().explorer;
    expect(explorer?.layer).toBe(1);
    expect(explorer?.view).toBe('merged');
    expect(paths(store)).toEqual(['big', 'bin', 'etc', 'link', 'dir']);
    expect(client.callsTo('layers:directory')).toBe(1);

    await store.getState().toggleDirectory('etc');
    expect(paths(store)).toEqual(['big', 'bin', 'etc', '  etc/new.conf', '  etc/os-release', 'link', 'dir']);
    await store.getState().toggleDirectory('etc');
    await store.getState().toggleDirectory('etc');
    expect(client.callsTo('layers:directory')).toBe(2);
  });

  it('switches view and layer, keeping expanded directories, and asks only for what is new', async () => {
    const client = new LayersFakeClient();
    const store = createAppStore(client);
    await store.getState().openExplorer(image.id);
    await store.getState().toggleDirectory('etc');
    await store.getState().toggleLayerView();
    expect(store.getState().explorer?.view).toBe('layer');
    expect(paths(store)).toEqual(['big', 'etc', '  etc/new.conf', 'dir']);
    await store.getState().toggleLayerView();
    expect(client.callsTo('layers:directory')).toBe(4);
    await store.getState().selectLayer(0);
    expect(paths(store)).toEqual(['big', 'dir']);
  });

  it('filters by change kind with directories rolled up, and sorts by size', async () => {
    const client = new LayersFakeClient();
    const store = createAppStore(client);
    await store.getState().openExplorer(image.id);
    await store.getState().toggleDirectory('etc');
    await store.getState().toggleDirectory('bin');
    store.getState().showChangesOnly(true);
    // bin has no change below it; etc stays for the file added inside it.
    expect(paths(store)).toEqual(['big', 'etc', '  etc/new.conf', 'dir']);
    store.getState().setChangeHidden('removed', true);
    expect(paths(store)).toEqual(['big', 'etc', '  etc/new.conf']);
    store.getState().showChangesOnly(false);
    store.getState().setFileSort('size');
    // Removed entries sort by the bytes they hide.
    expect(paths(store).filter((p) => !p.startsWith(' '))).toEqual(['dir', 'big', 'bin', 'etc', 'link']);
  });

  it('keeps a failed directory as an error and asks again on the next expand', async () => {
    const client = new LayersFakeClient();
    const store = createAppStore(client);
    await store.getState().openExplorer(image.id);
    client.failures.set('layers:directory', { code: 'ARCHIVE_INVALID', message: 'layer is corrupt' });
    await store.getState().toggleDirectory('bin');
    expect(treeLines(store.getState().explorer!).find((l) => l.entry.path === 'bin')?.pending).toBe('error');
    client.failures.delete('layers:directory');
    await store.getState().toggleDirectory('bin');
    await store.getState().toggleDirectory('bin');
    expect(paths(store)).toContain('  bin/busybox');
  });
});

function renderExplorer(client: LayersFakeClient, layers = 2) {
  client.images = [image, other];
  const details = {
    ...image,
    layers: client.layerList.slice(0, layers).map((l, i) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      createdBy: i === 0 ? 'ADD base /' : '/bin/sh -c apk add tzdata',
    })),
  } as ImageDetails;
  const store = createAppStore(client);
  render(
    <AppStoreProvider client={client} store={store}>
      <LayerExplorer image={image} details={details} />
    </AppStoreProvider>,
  );
  return store;
}

describe('LayerExplorer', () => {
  it('shows the layer list beside the tree, with flags, and M switches the view', async () => {
    const client = new LayersFakeClient();
    client.layerList[0] = {
      ...client.layerList[0]!,
      problem: { code: 'ARCHIVE_INVALID', message: 'bad gzip' },
    };
    const store = renderExplorer(client);
    const lines = await screen.findAllByTestId('file-line');
    expect(lines.map((l) => l.dataset.path)).toEqual(['big', 'bin', 'etc', 'link', 'dir']);
    expect(within(lines[3]!).getByText('dangling')).toBeTruthy();
    expect(within(lines[4]!).getByText('−700 B')).toBeTruthy();
    const rows = screen.getAllByTestId('layer-row');
    expect(rows[0]?.textContent).toContain('unreadable: bad gzip');
    expect(rows[1]?.getAttribute('aria-current')).toBe('true');
    expect(rows[1]?.textContent).toContain('RUN apk add tzdata');

    fireEvent.keyDown(screen.getByTestId('file-tree'), { key: 'm' });
    await waitFor(() =>
      expect(screen.getAllByTestId('file-line').map((l) => l.dataset.path)).toEqual(['big', 'etc', 'dir']),
    );
    expect(screen.getByRole('button', { name: 'Layer changes' }).getAttribute('aria-pressed')).toBe('true');
    expect(store.getState().explorer?.view).toBe('layer');
  });

  it('expands a directory, previews a file and extracts it to the typed destination', async () => {
    const client = new LayersFakeClient();
    renderExplorer(client);
    const etc = (await screen.findAllByTestId('file-line')).find((l) => l.dataset.path === 'etc')!;
    fireEvent.click(etc);
    const conf = await waitFor(() => {
      const found = screen.getAllByTestId('file-line').find((l) => l.dataset.path === 'etc/new.conf');
      if (!found) throw new Error('not yet');
      return found;
    });
    fireEvent.click(conf);
    expect((await screen.findByTestId('file-preview')).textContent).toBe('contents of etc/new.conf');

    fireEvent.change(screen.getByRole('textbox', { name: 'Destination folder' }), {
      target: { value: '/tmp/out' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Extract' }));
    expect((await screen.findByTestId('extract-status')).textContent).toMatch(
      /Extracted 1 paths .* to \/tmp\/out/,
    );
    expect(client.calls.find((c) => c.name === 'layers:extract')?.params).toEqual({
      image: image.id,
      layer: 1,
      view: 'merged',
      path: '/etc/new.conf',
      destination: '/tmp/out',
    });
  });

  it('searches every layer, shows waste and compares with another image', async () => {
    const client = new LayersFakeClient();
    renderExplorer(client);
    await screen.findAllByTestId('file-line');
    const search = screen.getByRole('searchbox', { name: 'Search paths in every layer' });
    fireEvent.change(search, { target: { value: '*.conf' } });
    await act(async () => {
      fireEvent.submit(search.closest('form')!);
      await Promise.resolve();
    });
    const hit = await screen.findByTestId('search-hit');
    expect(hit.textContent).toContain('/etc/new.conf');
    expect(hit.textContent).toContain('added');
    expect(client.calls.find((c) => c.name === 'layers:search')?.params).toMatchObject({
      pattern: '*.conf',
      syntax: 'glob',
    });

    fireEvent.click(within(hit).getByRole('button', { name: 'layer 2' }));
    await waitFor(() =>
      expect(screen.getAllByTestId('file-line').map((l) => l.dataset.path)).toEqual([
        'big',
        'etc',
        'etc/new.conf',
        'dir',
      ]),
    );
    expect(screen.getByRole('button', { name: 'Layer changes' }).getAttribute('aria-pressed')).toBe('true');
    expect(
      screen
        .getAllByTestId('file-line')
        .find((l) => l.dataset.path === 'etc/new.conf')
        ?.getAttribute('aria-selected'),
    ).toBe('true');

    fireEvent.click(screen.getByRole('button', { name: 'Waste & efficiency' }));
    expect((await screen.findByTestId('efficiency-score')).textContent).toBe('40.0%');

    fireEvent.change(screen.getByRole('combobox', { name: 'Compare with image' }), {
      target: { value: other.id },
    });
    const compared = await screen.findAllByTestId('compare-line');
    expect(compared.map((l) => l.dataset.change)).toEqual(['added', 'removed']);
  });
});

describe('platform choice', () => {
  const armManifest = 'sha256:' + 'f'.repeat(64);
  const armLayer = {
    index: 0,
    digest: 'sha256:' + 'c'.repeat(64),
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    size: 300,
    createdBy: 'ADD arm64 rootfs /',
  };
  const multiPlatform = (client: LayersFakeClient): void => {
    client.platforms = {
      index: 'sha256:' + '1'.repeat(64),
      pullReference: `docker.io/acme/web@sha256:${'1'.repeat(64)}`,
      platforms: [
        {
          platform: { os: 'linux', architecture: 'amd64' },
          manifestDigest: 'sha256:' + 'e'.repeat(64),
          image: image.id,
          current: true,
        },
        {
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          manifestDigest: armManifest,
          image: 'sha256:' + '2'.repeat(64),
          current: false,
        },
        {
          platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
          manifestDigest: 'sha256:' + '3'.repeat(64),
          current: false,
        },
      ],
    };
    client.layerLists[armManifest] = [armLayer];
  };

  it('shows nothing for a single-platform image', async () => {
    renderExplorer(new LayersFakeClient());
    await screen.findAllByTestId('file-line');
    expect(screen.queryByTestId('layer-platforms')).toBeNull();
  });

  it('lists stored platforms, switches the explorer to a sibling, and pulls one that is not stored', async () => {
    const client = new LayersFakeClient();
    multiPlatform(client);
    const store = renderExplorer(client);
    const select = await screen.findByRole<HTMLSelectElement>('combobox', { name: 'Platform' });
    expect([...select.options].map((o) => o.textContent)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(select.value).toBe(image.id);
    const missing = screen.getByTestId('missing-platform');
    expect(missing.textContent).toContain('linux/arm/v7');

    fireEvent.change(select, { target: { value: armManifest } });
    await waitFor(() => expect(screen.getAllByTestId('layer-row')).toHaveLength(1));
    expect(screen.getByTestId('layer-row').textContent).toContain('ADD arm64 rootfs /');
    expect(store.getState().explorer).toMatchObject({ image: armManifest, origin: image.id, layer: 0 });
    expect(client.calls.filter((c) => c.name === 'layers:directory').at(-1)?.params).toEqual({
      image: armManifest,
      layer: 0,
      view: 'merged',
      path: '',
    });

    fireEvent.click(within(missing).getByRole('button', { name: 'Pull linux/arm/v7' }));
    await waitFor(() =>
      expect(client.calls.find((c) => c.name === 'pull:start')?.params).toEqual({
        reference: `docker.io/acme/web@sha256:${'1'.repeat(64)}`,
        platform: 'linux/arm/v7',
      }),
    );

    fireEvent.change(select, { target: { value: image.id } });
    await waitFor(() => expect(screen.getAllByTestId('layer-row')).toHaveLength(2));
    expect(store.getState().explorer?.image).toBe(image.id);
  });
});
