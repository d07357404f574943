import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { ErrorBoundary } from '../../renderer/src/components/error-boundary';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { FakeClient, FakeConnection, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

// jsdom does no layout; give scroll containers a viewport so the virtualizer has rows to render.
const viewportHeight = 600;
stubViewportHeight(() => viewportHeight);

function renderApp(client: FakeClient, connection?: FakeConnection) {
  return render(
    <AppStoreProvider client={client} connection={connection}>
      <AppShell />
    </AppStoreProvider>,
  );
}

describe('Images view', () => {
  it('renders one row per image with name, tag chips, short ID, size and platform', async () => {
    const client = new FakeClient();
    const alpine = fakeImage({
      repoTags: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
      size: 3_620_000,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      created: '2026-11-01T00:00:00Z',
    });
    const dangling = fakeImage({ size: 1_000 });
    client.images = [alpine, dangling];
    renderApp(client);

    const rows = await screen.findAllByTestId('image-row');
    expect(rows).toHaveLength(2);
    const first = rows.find((row) => row.dataset.imageId === alpine.id);
    if (!first) throw new Error('alpine row missing');
    const cells = within(first).getAllByRole('gridcell').slice(1);
    expect(cells[0]).toHaveProperty('textContent', 'alpine');
    expect(
      within(first)
        .getAllByTestId('tag-chip')
        .map((chip) => chip.textContent),
    ).toEqual(['3.20', 'latest']);
    expect(cells[2]).toHaveProperty('textContent', alpine.id.slice(7, 19));
    expect(cells[3]?.textContent).toMatch(/ago|just now/);
    expect(cells[4]).toHaveProperty('textContent', '3.62 MB');
    expect(cells[5]).toHaveProperty('textContent', 'linux/arm64/v8');

    const none = rows.find((row) => row.dataset.imageId === dangling.id);
    expect(none && within(none).getByText('<none>')).toBeTruthy();
    expect(none && within(none).queryAllByTestId('tag-chip')).toHaveLength(0);

    const status = screen.getByTestId('status-bar');
    expect(within(status).getByTestId('image-count').textContent).toBe('2 images');
    expect(within(status).getByTestId('total-size').textContent).toBe('3.62 MB');
    expect(within(status).getByTestId('connection-state').textContent).toBe('Connected');
  });

  it('renders only the rows in view for a long list', async () => {
    const client = new FakeClient();
    client.images = Array.from({ length: 2000 }, (_, i) => fakeImage({ name: `repo-${i}:latest` }));
    renderApp(client);
    const rows = await screen.findAllByTestId('image-row');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(60);
    // The first screen is painted before the rest of the list arrives; the grid is busy until then.
    const grid = screen.getByRole('grid', { name: 'Images' });
    await waitFor(() => expect(grid.getAttribute('aria-busy')).toBe('false'));
    expect(grid.getAttribute('aria-rowcount')).toBe('2001');
    expect(screen.getAllByTestId('image-row').length).toBeLessThan(60);
  });

  it('shows the empty state when the store has no images', async () => {
    renderApp(new FakeClient());
    const empty = await screen.findByTestId('images-empty');
    expect(empty.textContent).toContain('No images yet — pull one to get started');
    expect(screen.queryAllByTestId('image-row')).toHaveLength(0);
    expect(screen.getByTestId('image-count').textContent).toBe('0 images');
  });

  it('filters rows as the search changes and says when nothing matches', async () => {
    const client = new FakeClient();
    client.images = [
      fakeImage({ name: 'alpine:3.20' }),
      fakeImage({ name: 'nginx:1.27' }),
      fakeImage({ name: 'node:20' }),
    ];
    renderApp(client);
    expect(await screen.findAllByTestId('image-row')).toHaveLength(3);

    const search = screen.getByRole('searchbox', { name: 'Search images' });
    fireEvent.change(search, { target: { value: 'library/n' } });
    expect(
      screen.getAllByTestId('image-row').map((row) => within(row).getAllByRole('gridcell')[1]?.textContent),
    ).toEqual(expect.arrayContaining(['nginx', 'node']));
    expect(screen.getAllByTestId('image-row')).toHaveLength(2);
    expect(screen.getByText('2 of 3')).toBeTruthy();

    fireEvent.change(search, { target: { value: 'nginx' } });
    expect(screen.getAllByTestId('image-row')).toHaveLength(1);

    fireEvent.change(search, { target: { value: 'postgres' } });
    expect(screen.getByTestId('images-no-match').textContent).toContain('No images match “postgres”');
    fireEvent.click(screen.getByRole('button', { name: 'Clear search' }));
    expect(screen.getAllByTestId('image-row')).toHaveLength(3);
  });

  it('shows a load failure in place with its code, and recovers on Retry', async () => {
    const client = new FakeClient();
    client.failures.set('images:list', { code: 'STORE_LOCKED', message: 'the store is locked by pid 42' });
    renderApp(client);
    const error = await screen.findByTestId('images-error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('the store is locked by pid 42');
    expect(error.textContent).toContain('STORE_LOCKED');

    client.failures.clear();
    client.images = [fakeImage({ name: 'alpine' })];
    fireEvent.click(within(error).getByRole('button', { name: 'Retry' }));
    expect(await screen.findAllByTestId('image-row')).toHaveLength(1);
  });

  it('shows an image added in main without being asked to reload', async () => {
    const client = new FakeClient();
    renderApp(client);
    await screen.findByTestId('images-empty');
    const added = fakeImage({ name: 'busybox:1.36' });
    client.images = [added];
    act(() => client.emit('store:changed', { reason: 'pull', ids: [added.id] }));
    const rows = await screen.findAllByTestId('image-row');
    expect(rows.map((row) => row.dataset.imageId)).toEqual([added.id]);
  });

  it('shows a lost connection in the status bar and a banner, and clears both when it is back', async () => {
    const client = new FakeClient();
    const connection = new FakeConnection();
    renderApp(client, connection);
    await screen.findByTestId('images-empty');
    act(() => connection.set('lost'));
    expect(screen.getByTestId('connection-state').dataset.state).toBe('lost');
    expect(screen.getByTestId('connection-state').textContent).toBe('Connection lost, reconnecting…');
    expect(screen.getByTestId('connection-lost')).toBeTruthy();
    act(() => connection.set('open'));
    expect(screen.getByTestId('connection-state').textContent).toBe('Connected');
    expect(screen.queryByTestId('connection-lost')).toBeNull();
  });
});

describe('app shell', () => {
  it('switches views from the left nav', async () => {
    renderApp(new FakeClient());
    await screen.findByTestId('images-view');
    fireEvent.click(screen.getByTestId('nav-pulls'));
    expect(screen.getByTestId('pulls-view')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Pulls');
    fireEvent.click(screen.getByTestId('nav-settings'));
    expect(await screen.findByTestId('store-path')).toHaveProperty('textContent', '/tmp/berth-test/store');
    fireEvent.click(screen.getByTestId('nav-images'));
    expect(screen.getByTestId('images-view')).toBeTruthy();
  });

  it('applies the theme setting to the document and changes it from Settings', async () => {
    const client = new FakeClient();
    client.settings = { parallelDownloads: 4, theme: 'light' };
    renderApp(client);
    fireEvent.click(screen.getByTestId('nav-settings'));
    const dark = await screen.findByRole('radio', { name: 'Dark' });
    expect(document.documentElement.dataset.theme).toBe('light');
    fireEvent.click(dark);
    await screen.findByRole('radio', { name: 'Dark', checked: true });
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(client.settings.theme).toBe('dark');
  });
});

describe('ErrorBoundary', () => {
  function Broken(): never {
    throw new Error('kaboom');
  }

  it('shows what broke instead of a blank screen, and can try again', () => {
    const original = console.error;
    console.error = () => undefined;
    try {
      render(
        <ErrorBoundary scope="the test view">
          <Broken />
        </ErrorBoundary>,
      );
    } finally {
      console.error = original;
    }
    const panel = screen.getByTestId('error-boundary');
    expect(panel.textContent).toContain('Something went wrong in the test view');
    expect(panel.textContent).toContain('kaboom');
    expect(within(panel).getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});

describe('Images table sorting', () => {
  it('sorts by a column when its header is clicked and flips on a second click', async () => {
    const client = new FakeClient();
    client.images = [
      fakeImage({ name: 'beta:1', size: 1 }),
      fakeImage({ name: 'alpha:1', size: 3 }),
      fakeImage({ name: 'gamma:1', size: 2 }),
    ];
    renderApp(client);
    await screen.findAllByTestId('image-row');
    const names = () =>
      screen
        .getAllByTestId('image-row')
        .sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')))
        .map((row) => within(row).getAllByRole('gridcell')[1]?.textContent);

    fireEvent.click(screen.getByRole('button', { name: 'Name' }));
    expect(names()).toEqual(['alpha', 'beta', 'gamma']);
    expect(screen.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('ascending');
    fireEvent.click(screen.getByRole('button', { name: 'Name' }));
    expect(names()).toEqual(['gamma', 'beta', 'alpha']);
    fireEvent.click(screen.getByRole('button', { name: 'Size' }));
    expect(names()).toEqual(['alpha', 'gamma', 'beta']);
    expect(screen.getByRole('columnheader', { name: /Size/ }).getAttribute('aria-sort')).toBe('descending');
  });
});
