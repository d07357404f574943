import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { createAppStore } from '../../renderer/src/state/store';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

function renderApp(client: FakeClient) {
  const store = createAppStore(client);
  render(
    <AppStoreProvider client={client} store={store}>
      <AppShell />
    </AppStoreProvider>,
  );
  return store;
}

describe('Registries view', () => {
  it('shows registries.conf read-only: search order, aliases, blocked, insecure and mirrors', async () => {
    const client = new FakeClient();
    client.registries = {
      ...client.registries,
      sources: ['/etc/containers/registries.conf'],
      searchRegistries: ['registry.fedoraproject.org', 'docker.io'],
      aliases: { alpine: 'docker.io/library/alpine' },
      registries: [
        {
          prefix: 'docker.io',
          location: 'docker.io',
          insecure: false,
          blocked: false,
          mirrors: [{ location: 'mirror.local:5000', insecure: true, pullFromMirror: 'all' }],
        },
        {
          prefix: 'bad.example.com',
          location: 'bad.example.com',
          insecure: true,
          blocked: true,
          mirrors: [],
        },
      ],
      insecureRegistries: ['10.0.0.0/8'],
    };
    renderApp(client);
    fireEvent.click(screen.getByTestId('nav-registries'));
    const view = await screen.findByTestId('registries-view');
    expect((await within(view).findByTestId('search-registries')).textContent).toBe(
      '1. registry.fedoraproject.org2. docker.io',
    );
    expect(within(view).getByTestId('aliases').textContent).toBe('alpine → docker.io/library/alpine');
    const rows = within(view).getAllByTestId('registry-entry');
    expect(rows.map((r) => r.dataset.prefix)).toEqual(['docker.io', 'bad.example.com', '10.0.0.0/8']);
    expect(rows[0]?.textContent).toContain('mirror.local:5000 (insecure)');
    expect(rows[1]?.textContent).toContain('blocked');
    expect(rows[1]?.textContent).toContain('insecure');
    expect(within(view).queryByRole('button', { name: /edit|save/i })).toBeNull();
  });

  it('logs in after verification, shows the error in place on refusal, and logs out', async () => {
    const client = new FakeClient();
    client.passwords = { 'ghcr.io': 's3cret-token' };
    renderApp(client);
    fireEvent.click(screen.getByTestId('nav-registries'));
    const form = await screen.findByTestId('login-form');
    fireEvent.change(within(form).getByRole('textbox', { name: 'Registry' }), {
      target: { value: 'ghcr.io' },
    });
    fireEvent.change(within(form).getByRole('textbox', { name: 'User name' }), { target: { value: 'octo' } });
    const password = within(form).getByLabelText('Password');
    fireEvent.change(password, { target: { value: 'wrong' } });
    fireEvent.submit(form);
    expect((await within(form).findByTestId('login-error')).textContent).toContain('UNAUTHORIZED');
    expect(screen.getByTestId('credentials-empty')).toBeTruthy();
    expect((password as HTMLInputElement).value).toBe('');

    fireEvent.change(password, { target: { value: 's3cret-token' } });
    fireEvent.submit(form);
    const entry = await screen.findByTestId('credential');
    expect(entry.textContent).toContain('ghcr.io');
    expect(entry.textContent).toContain('as octo');
    expect(screen.getByTestId('registries-view').textContent).not.toContain('s3cret-token');
    expect(client.paramsOf('registries:login').at(-1)).toEqual({
      registry: 'ghcr.io',
      username: 'octo',
      password: 's3cret-token',
    });

    fireEvent.click(within(entry).getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(screen.queryByTestId('credential')).toBeNull());
    expect(client.paramsOf('registries:logout')).toEqual([{ registry: 'ghcr.io' }]);
  });

  it('shows a failure to read the configuration in place, with Retry', async () => {
    const client = new FakeClient();
    client.failures.set('registries:list', {
      code: 'BAD_REQUEST',
      message: '/etc/containers/registries.conf: bad TOML',
    });
    renderApp(client);
    fireEvent.click(screen.getByTestId('nav-registries'));
    const error = await screen.findByTestId('registries-error');
    expect(error.textContent).toContain('bad TOML');
    client.failures.delete('registries:list');
    fireEvent.click(within(error).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByTestId('search-registries')).toBeTruthy();
  });
});

describe('Check for update', () => {
  it('says up to date, or offers to pull the newer image', async () => {
    const client = new FakeClient();
    const image = fakeImage({ name: 'alpine:3.20' });
    client.images = [image];
    const store = renderApp(client);
    await screen.findAllByTestId('image-row');
    act(() => store.getState().openDetails(image.id));
    const check = await screen.findByTestId('update-check');
    fireEvent.click(within(check).getByRole('button', { name: 'Check for update' }));
    expect((await within(check).findByTestId('update-result')).textContent).toBe('alpine:3.20 is up to date');
    expect(client.paramsOf('images:check-update')).toEqual([
      { image: image.id, name: 'docker.io/library/alpine:3.20' },
    ]);

    client.remoteDigests = { 'docker.io/library/alpine:3.20': `sha256:${'f'.repeat(64)}` };
    fireEvent.click(within(check).getByRole('button', { name: 'Check for update' }));
    await waitFor(() =>
      expect(within(check).getByTestId('update-result').textContent).toMatch(
        /^Newer image available for alpine:3.20/,
      ),
    );
    fireEvent.click(within(check).getByRole('button', { name: 'Pull' }));
    await waitFor(() =>
      expect(client.paramsOf('pull:start')).toEqual([
        { reference: 'docker.io/library/alpine:3.20', policy: 'always' },
      ]),
    );
    expect(store.getState().pulls.panelOpen).toBe(true);
  });

  it('shows why a check failed, in place', async () => {
    const client = new FakeClient();
    const image = fakeImage({ name: 'alpine:3.20' });
    client.images = [image];
    client.failures.set('images:check-update', {
      code: 'NETWORK',
      message: 'connect ECONNREFUSED 127.0.0.1:443',
    });
    const store = renderApp(client);
    await screen.findAllByTestId('image-row');
    act(() => store.getState().openDetails(image.id));
    const check = await screen.findByTestId('update-check');
    fireEvent.click(within(check).getByRole('button', { name: 'Check for update' }));
    expect((await within(check).findByTestId('update-result')).textContent).toBe(
      'Could not check: connect ECONNREFUSED 127.0.0.1:443 NETWORK',
    );
  });
});
