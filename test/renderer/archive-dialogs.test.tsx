import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { LoadedArchive, Outcome } from '../../shared/contract';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

function json(status: number, body: Outcome<unknown>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function setup(host: 'electron' | 'serve') {
  const client = new FakeClient();
  client.app = { ...client.app, host };
  const alpine = fakeImage({
    repoTags: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
  });
  const web = fakeImage({ repoTags: ['docker.io/acme/web:1.0'] });
  const orphan = fakeImage({});
  client.images = [alpine, web, orphan];
  const fetch = vi.fn<typeof globalThis.fetch>();
  const download = vi.fn<(url: string, name: string) => void>();
  const store = createAppStore(client, { archiveHttp: { fetch, download } });
  render(
    <AppStoreProvider client={client} store={store}>
      <AppShell />
    </AppStoreProvider>,
  );
  const row = (id: string) => {
    const found = screen.getAllByTestId('image-row').find((r) => r.dataset.imageId === id);
    if (!found) throw new Error(`no row ${id}`);
    return found;
  };
  return { client, alpine, web, orphan, row, fetch, download };
}

async function openSaveFromMenu(row: HTMLElement) {
  fireEvent.contextMenu(row);
  fireEvent.click(screen.getByRole('menuitem', { name: 'Save…' }));
  return screen.findByTestId('save-archive-dialog');
}

describe('Save and Load with native dialogs (desktop host)', () => {
  it('saves an image with all its names in the chosen format; the host picks the path', async () => {
    const { client, alpine, row } = setup('electron');
    await screen.findAllByTestId('image-row');
    await screen.findByText(/desktop/);
    const dialog = await openSaveFromMenu(row(alpine.id));
    expect(within(dialog).getByRole('list', { name: 'Images to save' }).textContent).toContain(
      'alpine:3.20, alpine:latest',
    );
    fireEvent.click(within(dialog).getByRole('radio', { name: /OCI archive/ }));
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Compress/ }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save…' }));
    await screen.findByText('Saved alpine:3.20, alpine:latest to /home/user/images.tar.gz');
    expect(client.calls.filter((c) => c.name === 'archive:save').map((c) => c.params)).toEqual([
      {
        images: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
        format: 'oci-archive',
        compress: true,
      },
    ]);
    expect(screen.queryByTestId('save-archive-dialog')).toBeNull();
  });

  it('keeps the dialog open on cancel and shows a save error with its code', async () => {
    const { client, web, row } = setup('electron');
    await screen.findAllByTestId('image-row');
    await screen.findByText(/desktop/);
    client.archiveCancelled = true;
    const dialog = await openSaveFromMenu(row(web.id));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save…' }));
    await waitFor(() => expect(client.callsTo('archive:save')).toBe(1));
    await waitFor(() =>
      expect(within(dialog).getByRole('button', { name: 'Save…' })).toHaveProperty('disabled', false),
    );
    expect(screen.getByTestId('save-archive-dialog')).toBeTruthy();
    expect(screen.queryByTestId('archive-error')).toBeNull();
    client.archiveCancelled = false;
    client.failures.set('archive:save', { code: 'NO_SPACE', message: 'no space left on device' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save…' }));
    const error = await screen.findByTestId('archive-error');
    expect(error.textContent).toContain('no space left on device');
    expect(error.textContent).toContain('NO_SPACE');
  });

  it('loads through the host dialog from the toolbar and says what was loaded', async () => {
    const { client } = setup('electron');
    await screen.findAllByTestId('image-row');
    await screen.findByText(/desktop/);
    client.loadedArchive = {
      format: 'oci-archive',
      compression: 'gzip',
      images: [
        { id: `sha256:${'ab'.repeat(32)}`, names: ['docker.io/library/busybox:1'] },
        { id: `sha256:${'cd'.repeat(32)}`, names: [] },
      ],
      skippedNames: [],
    };
    fireEvent.click(screen.getByTestId('load-button'));
    const dialog = await screen.findByTestId('load-archive-dialog');
    expect(within(dialog).queryByLabelText('Archive file')).toBeNull();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Choose archive…' }));
    await screen.findByText('Loaded busybox:1, cdcdcdcdcdcd');
    expect(client.callsTo('archive:load')).toBe(1);
  });
});

describe('Save and Load over HTTP (browser host)', () => {
  it('bulk-saves the selection and hands the one-time download to the browser', async () => {
    const { client, web, orphan, row, fetch, download } = setup('serve');
    await screen.findAllByTestId('image-row');
    await screen.findByText(/browser/);
    fireEvent.click(within(row(web.id)).getByRole('checkbox'));
    fireEvent.click(row(orphan.id), { ctrlKey: true });
    fireEvent.click(within(screen.getByTestId('selection-bar')).getByRole('button', { name: 'Save…' }));
    const dialog = await screen.findByTestId('save-archive-dialog');
    fetch.mockResolvedValueOnce(
      json(200, {
        ok: true,
        value: {
          download: '/archive/download/abc',
          archive: {
            path: 'acme_web_1.0_and_1_more.tar',
            format: 'docker-archive',
            compressed: false,
            images: [
              { id: web.id, names: ['docker.io/acme/web:1.0'] },
              { id: orphan.id, names: [] },
            ],
          },
        },
      }),
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Download' }));
    await screen.findByText(/Saved acme\/web:1.0, .* to acme_web_1.0_and_1_more.tar/);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/archive/save');
    expect(JSON.parse(init?.body as string)).toEqual({
      images: ['docker.io/acme/web:1.0', orphan.id],
      format: 'docker-archive',
      compress: false,
    });
    expect(download).toHaveBeenCalledWith('/archive/download/abc', 'acme_web_1.0_and_1_more.tar');
    expect(client.callsTo('archive:save')).toBe(0);
  });

  it('uploads the picked file to load it, and shows a refused archive as an error', async () => {
    const { fetch } = setup('serve');
    await screen.findAllByTestId('image-row');
    await screen.findByText(/browser/);
    fireEvent.click(screen.getByTestId('load-button'));
    const dialog = await screen.findByTestId('load-archive-dialog');
    const load = within(dialog).getByRole('button', { name: 'Load' });
    expect(load).toHaveProperty('disabled', true);
    const file = new File(['not really a tar'], 'my images.tar');
    fireEvent.change(within(dialog).getByLabelText('Archive file'), { target: { files: [file] } });
    fetch.mockResolvedValueOnce(
      json(400, {
        ok: false,
        error: {
          code: 'DIGEST_MISMATCH',
          message: 'my images.tar: layer l.tar has diff ID sha256:1, its config says sha256:2',
        },
      }),
    );
    fireEvent.click(load);
    const error = await screen.findByTestId('archive-error');
    expect(error.textContent).toContain('DIGEST_MISMATCH');
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/archive/load');
    expect(init?.body).toBe(file);
    expect((init?.headers as Record<string, string>)['x-berth-filename']).toBe('my%20images.tar');
    const loaded: LoadedArchive = {
      format: 'docker-archive',
      compression: 'none',
      images: [{ id: `sha256:${'ef'.repeat(32)}`, names: ['docker.io/library/app:1'] }],
      skippedNames: [],
    };
    fetch.mockResolvedValueOnce(json(200, { ok: true, value: loaded }));
    fireEvent.click(load);
    await screen.findByText('Loaded app:1');
    expect(screen.queryByTestId('load-archive-dialog')).toBeNull();
  });
});
