import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Operation, Params, Result } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

/** The fake client, answering import, export, squash and the file dialog the way main does. */
class RootfsClient extends FakeClient {
  chosenPath: string | undefined = '/home/me/picked.tar';
  importError: BerthError | undefined;

  private readonly rootfsAnswers: { [N in Operation]?: (params: Params<N>) => Result<N> } = {
    'images:import': ({ reference }) => {
      if (this.importError) throw this.importError;
      const image = fakeImage(reference === undefined ? {} : { name: reference });
      this.images = [...this.images, image];
      return { id: image.id, manifestDigest: image.digest, names: image.repoTags };
    },
    'images:export': ({ image, path }) => ({ id: image, path, entries: 3, bytes: 100 }),
    'images:squash': ({ image, name }) => {
      const squashed = fakeImage({ name });
      this.images = [...this.images, squashed];
      return { id: squashed.id, from: image, names: squashed.repoTags, replacedLayers: 4 };
    },
    'files:choose': () => (this.chosenPath === undefined ? {} : { path: this.chosenPath }),
  };

  override async invoke<N extends Operation>(name: N, params: Params<N>): Promise<Result<N>> {
    const answer = this.rootfsAnswers[name];
    if (!answer) return super.invoke(name, params);
    this.calls.push({ name, params });
    await Promise.resolve();
    return answer(params);
  }
}

async function setup(host: 'serve' | 'electron' = 'serve') {
  const client = new RootfsClient();
  client.app = { ...client.app, host };
  const web = fakeImage({ name: 'docker.io/acme/web:1.0' });
  const db = fakeImage({ name: 'postgres:16' });
  client.images = [web, db];
  render(
    <AppStoreProvider client={client}>
      <AppShell />
    </AppStoreProvider>,
  );
  await screen.findAllByTestId('image-row');
  const row = (id: string) => {
    const found = screen.getAllByTestId('image-row').find((r) => r.dataset.imageId === id);
    if (!found) throw new Error(`no row ${id}`);
    return found;
  };
  return { client, web, db, row };
}

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

function openMenuItem(row: HTMLElement, item: string) {
  fireEvent.contextMenu(row);
  fireEvent.click(screen.getByRole('menuitem', { name: item }));
}

describe('Import dialog', () => {
  it('checks the path, name and changes as they are typed, then imports and names the image', async () => {
    const { client } = await setup();
    fireEvent.click(screen.getByTestId('import-button'));
    const dialog = screen.getByTestId('import-dialog');
    expect(within(dialog).queryByText('Browse…')).toBeNull();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Import' }));
    expect(screen.getByTestId('import-path-help').textContent).toMatch(/Enter a path/);
    expect(within(dialog).getByRole('button', { name: 'Import' })).toHaveProperty('disabled', true);
    type('Tarball path', 'rootfs.tar');
    expect(screen.getByTestId('import-path-help').textContent).toMatch(/absolute path/);
    type('Tarball path', '/srv/rootfs.tar.gz');
    expect(screen.getByTestId('import-path-help').getAttribute('role')).toBeNull();
    type('Image name', 'Bad Name!');
    expect(screen.getByTestId('import-name-help').getAttribute('role')).toBe('alert');
    type('Image name', 'postgres:16');
    expect(screen.getByTestId('import-name-help').textContent).toMatch(
      /Will be docker\.io\/library\/postgres:16 — moves from/,
    );
    type('Image name', 'mine:1');
    type('Changes', 'ENV A=1\nRUN rm -rf /');
    expect(screen.getByTestId('import-changes-help').textContent).toMatch(
      /Line 2: RUN cannot be used with import/,
    );
    expect(within(dialog).getByRole('button', { name: 'Import' })).toHaveProperty('disabled', true);
    type('Changes', 'ENV A=1\n\n  cmd ["/bin/sh"]  ');
    type('Message', 'by hand');
    type('Platform', 'linux/arm64');
    await act(async () => {
      await Promise.resolve();
      fireEvent.click(within(dialog).getByRole('button', { name: 'Import' }));
    });
    expect(client.paramsOf('images:import')).toEqual([
      {
        path: '/srv/rootfs.tar.gz',
        reference: 'mine:1',
        changes: ['ENV A=1', 'cmd ["/bin/sh"]'],
        message: 'by hand',
        platform: 'linux/arm64',
      },
    ]);
    await waitFor(() => expect(screen.queryByTestId('import-dialog')).toBeNull());
    expect(screen.getByTestId('toast').textContent).toMatch(/Imported mine:1/);
    expect(screen.getAllByTestId('image-row').some((r) => r.textContent?.includes('mine'))).toBe(true);
  });

  it('keeps the dialog open with main’s error when the tarball is refused', async () => {
    const { client } = await setup();
    client.importError = new BerthError(
      'ARCHIVE_INVALID',
      '/srv/evil.tar: entry "../etc/passwd" climbs out of the root filesystem with ".."',
    );
    fireEvent.click(screen.getByTestId('import-button'));
    type('Tarball path', '/srv/evil.tar');
    await act(async () => {
      await Promise.resolve();
      fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    });
    const error = await screen.findByTestId('rootfs-error');
    expect(error.textContent).toMatch(/climbs out of the root filesystem/);
    expect(error.textContent).toMatch(/ARCHIVE_INVALID/);
    expect(screen.getByTestId('import-dialog')).toBeTruthy();
  });

  it('offers the native dialog in the desktop app and fills the path from it', async () => {
    const { client } = await setup('electron');
    fireEvent.click(screen.getByTestId('import-button'));
    await act(async () => {
      await Promise.resolve();
      fireEvent.click(screen.getByRole('button', { name: 'Browse…' }));
    });
    expect(client.paramsOf('files:choose')).toEqual([
      { purpose: 'open', title: 'Choose a root filesystem tarball' },
    ]);
    expect(screen.getByLabelText<HTMLInputElement>('Tarball path').value).toBe('/home/me/picked.tar');
  });
});

describe('Export and Squash from the image menu', () => {
  it('exports to a typed path on the host', async () => {
    const { client, web, row } = await setup();
    openMenuItem(row(web.id), 'Export filesystem…');
    const dialog = screen.getByTestId('export-dialog');
    type('Export path', 'out.tar');
    expect(screen.getByTestId('export-path-help').textContent).toMatch(/absolute path/);
    type('Export path', '~/web-rootfs.tar');
    await act(async () => {
      await Promise.resolve();
      fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    });
    expect(client.paramsOf('images:export')).toEqual([{ image: web.id, path: '~/web-rootfs.tar' }]);
    await waitFor(() => expect(screen.queryByTestId('export-dialog')).toBeNull());
    expect(screen.getByTestId('toast').textContent).toMatch(/Exported .* to ~\/web-rootfs\.tar/);
  });

  it('validates the new name inline and squashes into it', async () => {
    const { client, web, row } = await setup();
    openMenuItem(row(web.id), 'Squash…');
    const dialog = screen.getByTestId('squash-dialog');
    const button = () => within(dialog).getByRole('button', { name: 'Squash' });
    fireEvent.click(button());
    expect(screen.getByTestId('squash-name-help').textContent).toMatch(/Enter a name/);
    expect(button()).toHaveProperty('disabled', true);
    type('New image name', 'UPPER:case');
    expect(screen.getByTestId('squash-name-help').getAttribute('role')).toBe('alert');
    type('New image name', 'acme/web:1.0');
    expect(screen.getByTestId('squash-name-help').textContent).toMatch(
      /moves from this image to the new one/,
    );
    type('New image name', 'acme/web:flat');
    expect(screen.getByTestId('squash-name-help').textContent).toBe('Will be docker.io/acme/web:flat');
    expect(button()).toHaveProperty('disabled', false);
    await act(async () => {
      await Promise.resolve();
      fireEvent.click(button());
    });
    expect(client.paramsOf('images:squash')).toEqual([{ image: web.id, name: 'acme/web:flat' }]);
    await waitFor(() => expect(screen.queryByTestId('squash-dialog')).toBeNull());
    expect(screen.getByTestId('toast').textContent).toMatch(/Squashed 4 layers into acme\/web:flat/);
  });
});
