import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import type { PullProgress } from '../../shared/contract';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

async function setup() {
  const client = new FakeClient();
  const web = fakeImage({ repoTags: ['localhost:5000/acme/web:1.0', 'docker.io/acme/web:latest'] });
  client.images = [web];
  render(
    <AppStoreProvider client={client}>
      <AppShell />
    </AppStoreProvider>,
  );
  const [row] = await screen.findAllByTestId('image-row');
  fireEvent.contextMenu(row!);
  fireEvent.click(screen.getByRole('menuitem', { name: 'Push…' }));
  // The dialog's code loads on demand the first time it opens.
  const dialog = await screen.findByTestId('push-dialog');
  const input = within(dialog).getByRole<HTMLInputElement>('combobox', { name: 'Destination' });
  return { client, web, dialog, input };
}

describe('Push dialog', () => {
  it('offers the image names, refuses a bad destination, and starts a push with a good one', async () => {
    const { client, web, dialog, input } = await setup();
    expect(input.value).toBe('localhost:5000/acme/web:1.0');
    const offered = [...within(dialog).getByTestId('push-destination-options').querySelectorAll('option')];
    expect(offered.map((o) => o.value)).toEqual(web.repoTags);
    expect(within(dialog).getByTestId('push-destination-help').textContent).toBe(
      'Pushes to localhost:5000/acme/web:1.0',
    );

    fireEvent.change(input, { target: { value: 'Bad Name:1' } });
    const help = within(dialog).getByTestId('push-destination-help');
    expect(help.getAttribute('role')).toBe('alert');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    fireEvent.submit(dialog);
    expect(client.callsTo('push:start')).toBe(0);
    expect(screen.getByTestId('push-dialog')).toBeTruthy();

    fireEvent.change(input, { target: { value: 'localhost:5000/team/web@sha256:' + 'a'.repeat(64) } });
    expect(within(dialog).getByTestId('push-destination-help').textContent).toMatch(/digest/);
    fireEvent.change(input, { target: { value: 'localhost:5000/team/web:2' } });
    fireEvent.submit(dialog);
    await screen.findByText('Pushing to localhost:5000/team/web:2');
    expect(client.calls.filter((c) => c.name === 'push:start').map((c) => c.params)).toEqual([
      { image: web.id, destination: 'localhost:5000/team/web:2' },
    ]);
    expect(screen.queryByTestId('push-dialog')).toBeNull();
  });

  it('shows why a push could not start', async () => {
    const { client, dialog } = await setup();
    client.failures.set('push:start', {
      code: 'DENIED',
      message: 'cannot push to localhost:5000/acme/web: berth may not push there (no push permission)',
    });
    fireEvent.submit(dialog);
    expect(await screen.findByText(/no push permission/)).toBeTruthy();
    expect(screen.getByText('Could not start the push')).toBeTruthy();
  });

  it('shows push progress in the Pulls panel beside pulls', async () => {
    const { client, dialog } = await setup();
    fireEvent.submit(dialog);
    await screen.findByText('Pushing to localhost:5000/acme/web:1.0');
    const progress: PullProgress = {
      pullId: 'push-1',
      kind: 'push',
      reference: 'localhost:5000/acme/web:1.0',
      state: 'running',
      layers: [
        { digest: `sha256:${'1'.repeat(64)}`, status: 'uploading', done: 512, total: 1024 },
        { digest: `sha256:${'2'.repeat(64)}`, status: 'exists', done: 2048, total: 2048 },
      ],
      done: 2560,
      total: 3072,
      bytesPerSecond: 0,
    };
    act(() => client.emit('pull:progress', progress));
    fireEvent.click(screen.getByTestId('nav-pulls'));
    const card = screen.getByTestId('pull-task');
    expect(card.dataset.kind).toBe('push');
    expect(within(card).getByTestId('pull-state').textContent).toBe('Uploading');
    expect(within(card).getByText('1/2 blobs')).toBeTruthy();
    expect(
      within(card)
        .getByRole('progressbar', { name: /^Progress of / })
        .getAttribute('aria-valuenow'),
    ).toBe('83');
  });
});
