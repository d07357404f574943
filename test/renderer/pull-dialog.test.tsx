import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { tagQueryOf } from '../../renderer/src/views/pull-dialog';
import { FakeClient } from './fake-client';

afterEach(cleanup);

async function openDialog(client: FakeClient) {
  render(
    <AppStoreProvider client={client}>
      <AppShell />
    </AppStoreProvider>,
  );
  fireEvent.click(screen.getByTestId('header-pull-button'));
  // The dialog's code loads on demand the first time it opens.
  const dialog = await screen.findByTestId('pull-dialog');
  const input = within(dialog).getByRole('combobox', { name: 'Image reference' });
  return { dialog, input: input as HTMLInputElement };
}

const type = (input: HTMLElement, value: string) => fireEvent.change(input, { target: { value } });

describe('tagQueryOf', () => {
  it('splits the repository from a partial tag, ignoring a registry port and digests', () => {
    expect(tagQueryOf('alpine:3')).toEqual({ repository: 'alpine', prefix: '3' });
    expect(tagQueryOf('localhost:5000/app:')).toEqual({ repository: 'localhost:5000/app', prefix: '' });
    expect(tagQueryOf('localhost:5000/app')).toBeUndefined();
    expect(tagQueryOf('alpine@sha256:ab')).toBeUndefined();
    expect(tagQueryOf('alpine')).toBeUndefined();
  });
});

describe('Pull dialog', () => {
  it('validates the reference as it is typed and says how a short name resolves', async () => {
    const client = new FakeClient();
    const { dialog, input } = await openDialog(client);
    type(input, 'Alpine:3.20');
    expect(within(dialog).getByTestId('pull-reference-error').textContent).toMatch(/lowercase|invalid/i);
    expect(input.getAttribute('aria-invalid')).toBe('true');

    fireEvent.submit(dialog);
    expect(client.callsTo('pull:start')).toBe(0);
    expect(screen.getByTestId('pull-dialog')).toBeTruthy();

    type(input, 'alpine:3.20');
    expect(within(dialog).queryByTestId('pull-reference-error')).toBeNull();
    await waitFor(() =>
      expect(within(dialog).getByTestId('pull-resolution').textContent).toBe(
        'alpine:3.20 → docker.io/library/alpine:3.20 (search registry)',
      ),
    );
    expect(client.paramsOf('reference:resolve').at(-1)).toEqual({ reference: 'alpine:3.20' });
  });

  it('offers remote tags after ":", debounced, and picks one with the keyboard', async () => {
    const client = new FakeClient();
    client.remoteTags = { alpine: ['3.19', '3.20', 'edge', 'latest'] };
    const { dialog, input } = await openDialog(client);
    type(input, 'alpine:');
    type(input, 'alpine:3');
    const list = await within(dialog).findByTestId('tag-suggestions');
    expect(
      within(list)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['3.19', '3.20']);
    expect(client.paramsOf('remote:tags')).toEqual([{ repository: 'alpine' }]);

    fireEvent.keyDown(input, { key: 'ArrowDown' });
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    expect(within(list).getAllByRole('option')[1]?.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(input.value).toBe('alpine:3.20');
    expect(within(dialog).queryByTestId('tag-suggestions')).toBeNull();
    expect(client.callsTo('pull:start')).toBe(0);
  });

  it('drops a stale tag answer that arrives after the repository changed', async () => {
    const client = new FakeClient();
    client.remoteTags = { alpine: ['alpine-only'], busybox: ['busybox-only'] };
    client.holdOperation('remote:tags');
    const { dialog, input } = await openDialog(client);
    type(input, 'alpine:');
    await waitFor(() => expect(client.callsTo('remote:tags')).toBe(1));
    type(input, 'busybox:');
    await waitFor(() => expect(client.callsTo('remote:tags')).toBe(2));

    await act(async () => {
      client.releaseOperation('remote:tags', 'newest');
      await Promise.resolve();
    });
    const list = await within(dialog).findByTestId('tag-suggestions');
    expect(
      within(list)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['busybox-only']);

    await act(async () => {
      client.releaseOperation('remote:tags', 'oldest');
      await Promise.resolve();
    });
    const after = within(dialog).getByTestId('tag-suggestions');
    expect(
      within(after)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['busybox-only']);
    expect(within(dialog).queryByText('alpine-only')).toBeNull();
  });

  it('fills the platform list from the remote index and starts the pull with platform and policy', async () => {
    const client = new FakeClient();
    client.remoteTags = { alpine: ['3.20'] };
    client.remotePlatforms = {
      alpine: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ],
    };
    const { dialog, input } = await openDialog(client);
    const platform = within(dialog).getByRole<HTMLSelectElement>('combobox', { name: 'Platform' });
    expect(platform.disabled).toBe(true);
    type(input, 'alpine:3.20');
    await waitFor(() => expect(platform.disabled).toBe(false));
    expect([...platform.options].map((o) => o.value)).toEqual([
      '',
      'linux/amd64',
      'linux/arm64/v8',
      'linux/arm/v7',
    ]);
    expect(within(dialog).getByTestId('pull-remote').textContent).toMatch(/3 platforms/);
    fireEvent.change(platform, { target: { value: 'linux/arm64/v8' } });
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Pull policy' }), {
      target: { value: 'always' },
    });
    fireEvent.submit(dialog);
    await waitFor(() => expect(client.callsTo('pull:start')).toBe(1));
    expect(client.paramsOf('pull:start')[0]).toEqual({
      reference: 'alpine:3.20',
      platform: 'linux/arm64/v8',
      policy: 'always',
    });
    expect(screen.queryByTestId('pull-dialog')).toBeNull();
    expect(await screen.findByTestId('pulls-panel')).toBeTruthy();
  });

  it('says in place when the registry does not know the image', async () => {
    const client = new FakeClient();
    const { dialog, input } = await openDialog(client);
    type(input, 'nosuch:1');
    await waitFor(() =>
      expect(within(dialog).getByTestId('pull-remote').textContent).toMatch(/not found.*MANIFEST_UNKNOWN/),
    );
  });
});
