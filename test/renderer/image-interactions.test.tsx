import { act, createEvent, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { tagDragType } from '../../renderer/src/views/image-row';
import { FakeClient, fakeImage } from './fake-client';
import { stubViewportHeight } from './viewport';

stubViewportHeight();

function setup() {
  const client = new FakeClient();
  const alpine = fakeImage({
    repoTags: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
    created: '2026-11-03T00:00:00Z',
  });
  const web = fakeImage({ repoTags: ['docker.io/acme/web:1.0'], created: '2026-11-02T00:00:00Z' });
  const orphan = fakeImage({ created: '2026-11-01T00:00:00Z', size: 777 });
  client.images = [alpine, web, orphan];
  render(
    <AppStoreProvider client={client}>
      <AppShell />
    </AppStoreProvider>,
  );
  const row = (id: string) => {
    const found = screen.getAllByTestId('image-row').find((r) => r.dataset.imageId === id);
    if (!found) throw new Error(`no row ${id}`);
    return found;
  };
  const chips = (id: string) =>
    within(row(id))
      .queryAllByTestId('tag-chip')
      .map((c) => c.querySelector('.chip-label')?.textContent);
  const names = (id: string) => client.images.find((i) => i.id === id)?.repoTags;
  return { client, alpine, web, orphan, row, chips, names };
}

/** A drag event with Alt held (jsdom has no DragEvent, so the generic event gets the key by hand). */
function withAlt(event: Event): Event {
  Object.defineProperty(event, 'altKey', { value: true });
  return event;
}

function dataTransfer() {
  const data = new Map<string, string>();
  return {
    types: [tagDragType, 'text/plain'],
    dropEffect: 'none',
    effectAllowed: 'all',
    setData: (type: string, value: string) => data.set(type, value),
    getData: (type: string) => data.get(type) ?? '',
  };
}

describe('drag a tag chip', () => {
  it('onto another image: the row says it moves from the holder, the drop moves it, Undo moves it back', async () => {
    const { alpine, web, row, chips, names } = setup();
    await screen.findAllByTestId('image-row');
    const chip = within(row(alpine.id)).getAllByTestId('tag-chip')[1]!;
    const transfer = dataTransfer();
    fireEvent.dragStart(chip, { dataTransfer: transfer });
    expect(screen.getByTestId('untag-zone')).toBeTruthy();

    fireEvent.dragOver(row(web.id), { dataTransfer: transfer });
    expect(within(row(web.id)).getByTestId('drop-hint').textContent).toBe(
      `Move alpine:latest here — moves from ${alpine.id.slice(7, 19)}…`,
    );
    expect(transfer.dropEffect).toBe('move');
    fireEvent.drop(row(web.id), { dataTransfer: transfer });

    await screen.findByText(`Moved alpine:latest to ${web.id.slice(7, 19)}`);
    expect(chips(web.id)).toEqual(['1.0', 'alpine:latest']);
    expect(chips(alpine.id)).toEqual(['3.20']);
    expect(screen.queryByTestId('untag-zone')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    await screen.findByText('Undone');
    expect(names(alpine.id)).toContain('docker.io/library/alpine:latest');
    expect(chips(alpine.id)).toEqual(['3.20', 'latest']);
  });

  it('with Alt: the target gets the tag in its own repository and the source keeps it', async () => {
    const { client, alpine, web, row, names } = setup();
    await screen.findAllByTestId('image-row');
    const transfer = dataTransfer();
    fireEvent.dragStart(within(row(alpine.id)).getAllByTestId('tag-chip')[0]!, { dataTransfer: transfer });
    fireEvent(row(web.id), withAlt(createEvent.dragOver(row(web.id), { dataTransfer: transfer })));
    expect(within(row(web.id)).getByTestId('drop-hint').textContent).toBe('Copy as acme/web:3.20');
    expect(transfer.dropEffect).toBe('copy');
    fireEvent(row(web.id), withAlt(createEvent.drop(row(web.id), { dataTransfer: transfer })));
    await screen.findByText('Copied the tag as acme/web:3.20');
    expect(names(web.id)).toEqual(['docker.io/acme/web:1.0', 'docker.io/acme/web:3.20']);
    expect(names(alpine.id)).toContain('docker.io/library/alpine:3.20');
    expect(client.callsTo('images:untag')).toBe(0);
  });

  it('onto its own image: nothing happens', async () => {
    const { client, alpine, row } = setup();
    await screen.findAllByTestId('image-row');
    const transfer = dataTransfer();
    fireEvent.dragStart(within(row(alpine.id)).getAllByTestId('tag-chip')[0]!, { dataTransfer: transfer });
    fireEvent.dragOver(row(alpine.id), { dataTransfer: transfer });
    expect(within(row(alpine.id)).getByTestId('drop-hint').textContent).toBe('The tag is already here');
    fireEvent.drop(row(alpine.id), { dataTransfer: transfer });
    expect(client.callsTo('images:tag')).toBe(0);
  });

  it('onto Untag: its last name goes, the row shows <none>, and Undo restores it', async () => {
    const { web, row, chips, names } = setup();
    await screen.findAllByTestId('image-row');
    const transfer = dataTransfer();
    fireEvent.dragStart(within(row(web.id)).getByTestId('tag-chip'), { dataTransfer: transfer });
    const zone = screen.getByTestId('untag-zone');
    expect(zone.textContent).toContain('its last name');
    fireEvent.dragOver(zone, { dataTransfer: transfer });
    fireEvent.drop(zone, { dataTransfer: transfer });
    await screen.findByText(/Removed acme\/web:1.0 — .* is now <none>/);
    expect(names(web.id)).toEqual([]);
    expect(within(row(web.id)).getByText('<none>')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    await screen.findByText('Undone');
    expect(chips(web.id)).toEqual(['1.0']);
  });
});

describe('keyboard and context menu', () => {
  it('adds a tag from the keyboard with inline validation, then removes it from the row menu', async () => {
    const { web, names } = setup();
    await screen.findAllByTestId('image-row');
    const grid = screen.getByTestId('images-grid');
    act(() => grid.focus());
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(grid.getAttribute('aria-activedescendant')).toContain(web.id.slice(7, 20));
    fireEvent.keyDown(grid, { key: 't' });
    const dialog = screen.getByTestId('add-tag-dialog');
    const input = within(dialog).getByRole('textbox', { name: 'Tag name' });
    expect(document.activeElement).toBe(input);
    fireEvent.change(input, { target: { value: 'Acme/Web' } });
    expect(within(dialog).getByTestId('tag-name-help').getAttribute('role')).toBe('alert');
    fireEvent.change(input, { target: { value: 'alpine:3.20' } });
    expect(within(dialog).getByTestId('tag-name-help').textContent).toMatch(/moves from/);
    fireEvent.change(input, { target: { value: 'acme/web:2.0' } });
    expect(within(dialog).getByTestId('tag-name-help').textContent).toBe('Will be docker.io/acme/web:2.0');
    fireEvent.submit(dialog);
    await screen.findByText(`Tagged ${web.id.slice(7, 19)} as acme/web:2.0`);
    expect(names(web.id)).toEqual(['docker.io/acme/web:1.0', 'docker.io/acme/web:2.0']);

    fireEvent.keyDown(grid, { key: 'F10', shiftKey: true });
    const menu = screen.getByRole('menu');
    expect(
      within(menu)
        .getAllByRole('menuitem')
        .map((i) => i.textContent),
    ).toContain('acme/web:2.0');
    for (let i = 0; i < 10 && menu.querySelector('.menu-item.active')?.textContent !== 'acme/web:2.0'; i++)
      fireEvent.keyDown(menu, { key: 'ArrowDown' });
    fireEvent.keyDown(menu, { key: 'Enter' });
    await screen.findByText('Removed acme/web:2.0');
    expect(names(web.id)).toEqual(['docker.io/acme/web:1.0']);
  });

  it('moves a tag to another image from the chip menu', async () => {
    const { alpine, web, row, names } = setup();
    await screen.findAllByTestId('image-row');
    fireEvent.contextMenu(within(row(alpine.id)).getAllByTestId('tag-chip')[1]!);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Move alpine:latest to…' }));
    const dialog = screen.getByTestId('move-tag-dialog');
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Find the target image' }), {
      target: { value: 'web' },
    });
    expect(within(dialog).getByTestId('move-plan').textContent).toContain('moves from');
    fireEvent.submit(dialog);
    await screen.findByText(`Moved alpine:latest to ${web.id.slice(7, 19)}`);
    expect(names(web.id)).toContain('docker.io/library/alpine:latest');
  });

  it('selects several rows and removes them after confirming', async () => {
    const { client, web, orphan, row } = setup();
    await screen.findAllByTestId('image-row');
    fireEvent.click(within(row(web.id)).getByRole('checkbox'));
    fireEvent.click(row(orphan.id), { ctrlKey: true });
    const bar = screen.getByTestId('selection-bar');
    expect(bar.textContent).toContain('2 selected');
    fireEvent.click(within(bar).getByRole('button', { name: 'Remove' }));
    fireEvent.submit(screen.getByTestId('remove-dialog'));
    await screen.findByText(/Removed 2 images/);
    expect(client.images.map((i) => i.id)).not.toContain(web.id);
    expect(screen.getAllByTestId('image-row')).toHaveLength(1);
  });

  it('groups rows under repository headings and filters by dangling and label', async () => {
    const { orphan } = setup();
    await screen.findAllByTestId('image-row');
    fireEvent.click(screen.getByRole('button', { name: 'Group by repository' }));
    expect(
      screen.getAllByTestId('group-row').map((g) => g.querySelector('.group-name')?.textContent),
    ).toEqual(['acme/web', 'alpine', '<none>']);
    fireEvent.change(screen.getByRole('combobox', { name: 'Dangling images' }), {
      target: { value: 'only' },
    });
    expect(screen.getAllByTestId('image-row').map((r) => r.dataset.imageId)).toEqual([orphan.id]);
    fireEvent.change(screen.getByRole('combobox', { name: 'Dangling images' }), { target: { value: 'any' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Label filter' }), { target: { value: 'nope=1' } });
    expect(screen.getByTestId('images-no-match').textContent).toContain('No images match the filters');
  });
});

describe('image details', () => {
  it('shows summary, history, layers and a searchable inspect document', async () => {
    const { client, web, row } = setup();
    client.details.set(web.id, {
      env: ['APP_ENV=production'],
      entrypoint: ['/web'],
      history: [
        { id: web.id, createdBy: 'COPY dist /srv', size: 2000, comment: '', emptyLayer: false },
        { id: '<missing>', createdBy: '/bin/sh -c #(nop)  ENV A=1', size: 0, comment: '', emptyLayer: true },
      ],
      layers: [
        {
          digest: `sha256:${'c'.repeat(64)}`,
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          size: 2000,
          createdBy: 'COPY dist /srv',
        },
      ],
    });
    await screen.findAllByTestId('image-row');
    fireEvent.click(row(web.id));
    const panel = await screen.findByTestId('image-details');
    expect((await within(panel).findByTestId('details-names')).textContent).toContain('acme/web:1.0');
    expect(within(panel).getByText('APP_ENV')).toBeTruthy();
    expect(within(panel).getByText('["/web"]')).toBeTruthy();

    fireEvent.click(within(panel).getByRole('tab', { name: 'History' }));
    const history = within(panel).getAllByTestId('history-row');
    expect(history).toHaveLength(2);
    const toggle = within(history[1]!).getByRole('button');
    expect(toggle.textContent).toBe('ENV A=1');
    fireEvent.click(toggle);
    expect(toggle.textContent).toBe('/bin/sh -c #(nop)  ENV A=1');

    fireEvent.keyDown(within(panel).getByRole('tab', { name: 'History' }), { key: 'ArrowRight' });
    expect(within(panel).getAllByTestId('layer-row')[0]?.textContent).toContain('COPY dist /srv');

    fireEvent.click(within(panel).getByRole('tab', { name: 'Inspect' }));
    fireEvent.change(within(panel).getByRole('searchbox', { name: 'Search the inspect document' }), {
      target: { value: 'app_env' },
    });
    expect(within(panel).getByTestId('inspect-matches').textContent).toBe('1 match');
    expect(within(panel).getByTestId('inspect-json').querySelector('mark')?.textContent).toBe('APP_ENV');

    fireEvent.click(within(panel).getByRole('button', { name: 'Close details' }));
    expect(screen.queryByTestId('image-details')).toBeNull();
  });
});

describe('disk usage and prune views', () => {
  it('draws a bar per image and previews then runs a prune', async () => {
    const { client, orphan } = setup();
    await screen.findAllByTestId('image-row');
    fireEvent.click(screen.getByTestId('nav-disk'));
    expect(await screen.findAllByTestId('disk-bar')).toHaveLength(3);
    fireEvent.click(screen.getByTestId('nav-prune'));
    const items = await screen.findAllByTestId('prune-item');
    expect(items).toHaveLength(1);
    expect(items[0]?.textContent).toContain(orphan.id.slice(7, 19));
    expect(screen.getByTestId('prune-reclaim').textContent).toBe('reclaims at least 777 B');
    fireEvent.click(screen.getByRole('button', { name: /^Prune 1 image/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Prune now' }));
    await screen.findByText('Pruned 1 image · 777 B reclaimed');
    expect(client.images.map((i) => i.id)).not.toContain(orphan.id);
  });
});
