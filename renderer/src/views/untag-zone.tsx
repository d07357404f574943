import { useState } from 'react';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { familiar } from '../state/tag-plan';
import { tagDragType } from './image-row';

/** The trash target that appears while a tag chip is dragged; dropping there removes that name. */
export function UntagZone() {
  const store = useAppStoreApi();
  const drag = useAppStore((s) => s.ui.drag);
  const [over, setOver] = useState(false);
  if (!drag) return null;
  const last = store.getState().images.byId[drag.from]?.repoTags.length === 1;
  return (
    <div
      className={over ? 'untag-zone over' : 'untag-zone'}
      data-testid="untag-zone"
      onDragOver={(event) => {
        if (!event.dataTransfer.types.includes(tagDragType)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'move';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        event.preventDefault();
        setOver(false);
        const current = store.getState().ui.drag;
        store.getState().setDrag(null);
        if (current) void store.getState().removeTag(current.from, current.name);
      }}
    >
      <Icon name="trash" />
      <span>
        <strong>Untag</strong> — drop to remove {familiar(drag.name)}
        {last ? ' (its last name: the image stays, as <none>)' : ''}
      </span>
    </div>
  );
}
