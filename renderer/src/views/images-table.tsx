import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useNow } from '../hooks/use-now';
import { useAppStore } from '../state/app-store-provider';
import { selectVisibleImageIds } from '../state/image-selectors';
import type { ImageSortKey } from '../state/ui-slice';
import { Icon } from '../components/icon';
import { ImageRow } from './image-row';

/** Height of one table row in pixels; rows are fixed-height so 10,000 of them scroll without measuring. */
export const imageRowHeight = 44;
const headerHeight = 34;

const columns: { label: string; sortKey?: ImageSortKey; className: string }[] = [
  { label: 'Name', sortKey: 'name', className: 'cell-name' },
  { label: 'Tags', className: 'cell-tags' },
  { label: 'Image ID', className: 'cell-id' },
  { label: 'Created', sortKey: 'created', className: 'cell-created' },
  { label: 'Size', sortKey: 'size', className: 'cell-size num' },
  { label: 'Platform', className: 'cell-platform' },
];

function SortHeader({ label, sortKey, className }: (typeof columns)[number]) {
  const sort = useAppStore((s) => s.ui.imageSort);
  const toggle = useAppStore((s) => s.toggleImageSort);
  const active = sortKey !== undefined && sort.key === sortKey;
  return (
    <div
      className={`cell ${className}`}
      role="columnheader"
      aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : undefined}
    >
      {sortKey ? (
        <button
          type="button"
          className={active ? 'sort-button active' : 'sort-button'}
          onClick={() => toggle(sortKey)}
        >
          {label}
          {active && <Icon name={sort.descending ? 'sortDown' : 'sortUp'} className="sort-icon" />}
        </button>
      ) : (
        label
      )}
    </div>
  );
}

/** The virtualized image table: a sticky header and only the rows in view rendered. */
export function ImagesTable() {
  const ids = useAppStore(useShallow(selectVisibleImageIds));
  const byId = useAppStore((s) => s.images.byId);
  const total = useAppStore((s) => s.images.order.length);
  const now = useNow();
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- read afresh each render; no compiler memoizes this component
  const virtualizer = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => imageRowHeight,
    getItemKey: (index) => ids[index] ?? index,
    overscan: 12,
    scrollMargin: headerHeight,
  });

  return (
    <div className="table-scroll" ref={scrollRef} tabIndex={0}>
      <div
        className="images-table"
        role="table"
        aria-label="Images"
        aria-rowcount={ids.length + 1}
        data-total={total}
      >
        <div className="table-head" role="rowgroup">
          <div className="image-row header-row" role="row" aria-rowindex={1}>
            {columns.map((column) => (
              <SortHeader key={column.label} {...column} />
            ))}
          </div>
        </div>
        <div className="table-body" role="rowgroup" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const id = ids[item.index];
            const image = id === undefined ? undefined : byId[id];
            if (!image) return null;
            return (
              <ImageRow
                key={item.key}
                image={image}
                rowIndex={item.index + 2}
                now={now}
                top={item.start - headerHeight}
                height={item.size}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}
