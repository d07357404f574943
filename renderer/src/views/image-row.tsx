import { memo, useState, type DragEvent, type MouseEvent } from 'react';
import type { ImageSummary } from '../../../shared/contract';
import { formatBytes, formatCount, formatPlatform, formatRelativeTime } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { imageNames, type TagChip } from '../state/image-names';
import { describePlan, displayId, planDrop, type DropPlan } from '../state/tag-plan';

/** The MIME type a dragged tag chip carries; other drags (files, text) are ignored by drop targets. */
export const tagDragType = 'application/x-berth-tag';

/** The DOM id of an image's row, for `aria-activedescendant`. */
export function rowDomId(id: string): string {
  return `image-row-${id.replace(/[^a-z0-9]/gi, '-')}`;
}

interface ImageRowProps {
  image: ImageSummary;
  /** 1-based position among all rows, header included, for `aria-rowindex`. */
  rowIndex: number;
  now: number;
  /** Vertical offset inside the virtual body. */
  top: number;
  height: number;
  selected: boolean;
  cursor: boolean;
  onClick: (event: MouseEvent, id: string) => void;
}

function Chip({ image, tag }: { image: ImageSummary; tag: TagChip }) {
  const store = useAppStoreApi();
  const dragging = useAppStore((s) => s.ui.drag?.name === tag.name);
  return (
    <span
      className={dragging ? 'chip chip-draggable dragging' : 'chip chip-draggable'}
      title={`${tag.name}\nDrag onto another image to move it (hold Alt to copy), or onto Untag to remove it`}
      data-testid="tag-chip"
      data-name={tag.name}
      draggable
      onDragStart={(event) => {
        event.stopPropagation();
        event.dataTransfer.setData(tagDragType, tag.name);
        event.dataTransfer.setData('text/plain', tag.name);
        event.dataTransfer.effectAllowed = 'copyMove';
        store.getState().setDrag({ name: tag.name, from: image.id });
      }}
      onDragEnd={() => store.getState().setDrag(null)}
      onContextMenu={(event) => {
        event.preventDefault();
        event.stopPropagation();
        store.getState().openMenu({ x: event.clientX, y: event.clientY, image: image.id, name: tag.name });
      }}
    >
      <Icon name="tag" className="chip-icon" />
      <span className="chip-label">{tag.label}</span>
      <button
        type="button"
        className="chip-remove"
        tabIndex={-1}
        aria-label={`Remove tag ${tag.label}`}
        onClick={(event) => {
          event.stopPropagation();
          void store.getState().removeTag(image.id, tag.name);
        }}
      >
        <Icon name="close" />
      </button>
    </span>
  );
}

/**
 * One image in the table: selection box, name, draggable tag chips, short ID, age, size, platform and the
 * `<none>` badge. While a tag chip is dragged over it, the row says what a drop would do.
 */
export const ImageRow = memo(function ImageRow({
  image,
  rowIndex,
  now,
  top,
  height,
  selected,
  cursor,
  onClick,
}: ImageRowProps) {
  const store = useAppStoreApi();
  const names = imageNames(image);
  const [hover, setHover] = useState<DropPlan | null>(null);
  const dragging = useAppStore((s) => s.ui.drag !== null);
  const plan = (event: DragEvent): DropPlan | null => {
    const { drag } = store.getState().ui;
    if (!drag || !event.dataTransfer.types.includes(tagDragType)) return null;
    return planDrop(drag, image, store.getState().images.byId, event.altKey);
  };
  const className = [
    'image-row',
    selected ? 'selected' : '',
    cursor ? 'cursor' : '',
    hover ? (hover.kind === 'tag' ? 'drop-ok' : 'drop-no') : '',
  ].join(' ');
  return (
    <div
      id={rowDomId(image.id)}
      className={className}
      role="row"
      aria-rowindex={rowIndex}
      aria-selected={selected}
      data-testid="image-row"
      data-image-id={image.id}
      style={{ transform: `translateY(${top}px)`, height }}
      onClick={(event) => onClick(event, image.id)}
      onContextMenu={(event) => {
        event.preventDefault();
        store.getState().setCursor(image.id);
        store.getState().openMenu({ x: event.clientX, y: event.clientY, image: image.id });
      }}
      onDragOver={(event) => {
        const next = plan(event);
        if (!next) return;
        if (next.kind === 'tag') {
          event.preventDefault();
          event.dataTransfer.dropEffect = next.copy ? 'copy' : 'move';
        } else {
          event.dataTransfer.dropEffect = 'none';
        }
        if (hover === null || describePlan(hover) !== describePlan(next)) setHover(next);
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setHover(null);
      }}
      onDrop={(event) => {
        const next = plan(event);
        setHover(null);
        store.getState().setDrag(null);
        if (!next || next.kind !== 'tag') return;
        event.preventDefault();
        void store.getState().applyTagPlan(next);
      }}
    >
      <div className="cell cell-select" role="gridcell">
        <input
          type="checkbox"
          className="row-check"
          tabIndex={-1}
          checked={selected}
          aria-label={`Select ${names.primary}`}
          onClick={(event) => event.stopPropagation()}
          onChange={() => store.getState().toggleSelected(image.id)}
        />
      </div>
      <div className="cell cell-name" role="gridcell">
        {image.dangling || names.repository === '<none>' ? (
          <span className="badge badge-dangling" title="Dangling: no name points at this image">
            &lt;none&gt;
          </span>
        ) : (
          <span className="image-name" title={names.repository}>
            {names.repository}
          </span>
        )}
        {image.inUse && (
          <span className="badge badge-in-use" title="Another image is built on this one's layers">
            base
          </span>
        )}
        {image.needsRepull && (
          <span
            className="badge badge-failed"
            title="A blob of this image is corrupt or missing: pull it again"
          >
            needs re-pull
          </span>
        )}
      </div>
      <div className="cell cell-tags" role="gridcell">
        {names.tags.map((tag) => (
          <Chip key={tag.name} image={image} tag={tag} />
        ))}
      </div>
      <div className="cell cell-id mono" role="gridcell" title={image.id}>
        {displayId(image.id)}
      </div>
      <div className="cell cell-created" role="gridcell" title={image.created}>
        {formatRelativeTime(image.created, now)}
      </div>
      <div className="cell cell-size num" role="gridcell" title={`${formatCount(image.size)} bytes`}>
        {formatBytes(image.size)}
      </div>
      <div className="cell cell-platform" role="gridcell">
        {formatPlatform(image.platform)}
      </div>
      {hover && dragging && (
        <div className={`drop-hint ${hover.kind === 'tag' ? '' : 'drop-hint-no'}`} data-testid="drop-hint">
          <Icon name={hover.kind === 'tag' ? (hover.copy ? 'copy' : 'move') : 'alert'} />
          {describePlan(hover)}
        </div>
      )}
    </div>
  );
});
