import { useCallback } from 'react';
import { ContextMenu, type MenuEntry } from '../components/context-menu';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { displayId, familiar } from '../state/tag-plan';

/**
 * The context menu of an image row or of one of its tag chips: every drag action has an entry here
 * (Add tag…, Move tag to…, Copy tag to…, Remove tag), plus details and removal.
 */
export function ImagesMenu() {
  const store = useAppStoreApi();
  const menu = useAppStore((s) => s.ui.menu);
  const image = useAppStore((s) => (menu ? s.images.byId[menu.image] : undefined));
  const close = useCallback(() => store.getState().openMenu(null), [store]);
  if (!menu || !image) return null;
  const s = () => store.getState();
  const tagEntries = (name: string): MenuEntry[] => [
    {
      label: `Move ${familiar(name)} to…`,
      icon: 'move',
      onSelect: () => s().openDialog({ kind: 'move-tag', image: image.id, name, copy: false }),
    },
    {
      label: `Copy ${familiar(name)} to…`,
      icon: 'copy',
      onSelect: () => s().openDialog({ kind: 'move-tag', image: image.id, name, copy: true }),
    },
    {
      label: `Remove tag ${familiar(name)}`,
      icon: 'close',
      onSelect: () => void s().removeTag(image.id, name),
    },
  ];
  const entries: MenuEntry[] =
    menu.name !== undefined
      ? tagEntries(menu.name)
      : [
          {
            label: 'Show details',
            icon: 'info',
            shortcut: 'Enter',
            onSelect: () => {
              s().setSelection([image.id], image.id);
              s().openDetails(image.id);
            },
          },
          {
            label: 'Add tag…',
            icon: 'plus',
            shortcut: 'T',
            onSelect: () => s().openDialog({ kind: 'add-tag', image: image.id }),
          },
          ...(image.repoTags[0] !== undefined
            ? [
                {
                  label: 'Move tag to…',
                  icon: 'move' as const,
                  onSelect: () =>
                    s().openDialog({
                      kind: 'move-tag',
                      image: image.id,
                      name: image.repoTags[0] ?? '',
                      copy: false,
                    }),
                },
                { kind: 'heading' as const, label: 'Remove tag' },
                ...image.repoTags.map((name) => ({
                  label: familiar(name),
                  icon: 'close' as const,
                  onSelect: () => void s().removeTag(image.id, name),
                })),
              ]
            : []),
          {
            label: 'Push…',
            icon: 'upload',
            onSelect: () => s().openDialog({ kind: 'push', image: image.id }),
          },
          {
            label: 'Save…',
            icon: 'disk',
            onSelect: () => s().openDialog({ kind: 'save-archive', ids: [image.id] }),
          },
          {
            label: 'Export filesystem…',
            icon: 'copy',
            onSelect: () => s().openDialog({ kind: 'export', image: image.id }),
          },
          {
            label: 'Squash…',
            icon: 'layers',
            onSelect: () => s().openDialog({ kind: 'squash', image: image.id }),
          },
          { kind: 'separator' },
          {
            label: 'Remove image…',
            icon: 'trash',
            shortcut: 'Del',
            danger: true,
            onSelect: () => s().openDialog({ kind: 'remove', ids: [image.id] }),
          },
        ];
  return (
    <ContextMenu
      x={menu.x}
      y={menu.y}
      label={menu.name !== undefined ? `Tag ${familiar(menu.name)}` : `Image ${displayId(image.id)}`}
      entries={entries}
      onClose={close}
    />
  );
}
