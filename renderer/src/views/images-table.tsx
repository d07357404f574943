import {
  elementScroll,
  observeElementRect,
  useVirtualizer,
  type Rect,
  type Virtualizer,
} from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatBytes } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useNow } from '../hooks/use-now';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { selectTableLines, selectVisibleImageIds } from '../state/image-selectors';
import { afterNextPaint } from '../state/images-slice';
import type { ImageSortKey } from '../state/ui-slice';
import { ImageRow, rowDomId } from './image-row';

/** Height of one table row in pixels; rows are fixed-height so 10,000 of them scroll without measuring. */
export const imageRowHeight = 44;
const groupRowHeight = 34;
const headerHeight = 34;

const columns: { label: string; sortKey?: ImageSortKey; className: string }[] = [
  { label: 'Name', sortKey: 'name', className: 'cell-name' },
  { label: 'Tags', className: 'cell-tags' },
  { label: 'Image ID', className: 'cell-id' },
  { label: 'Created', sortKey: 'created', className: 'cell-created' },
  { label: 'Size', sortKey: 'size', className: 'cell-size num' },
  { label: 'Platform', className: 'cell-platform' },
];

/**
 * Follows the table's size with a ResizeObserver alone. The library's default also reads `clientHeight` when the
 * table mounts, which forces a layout of the whole page in the middle of the first render and then renders the
 * rows a second time, synchronously; the observer's first report instead comes with the frame's own layout.
 * Until it does, the window's height stands in (`initialRect`), so the first frame already has its rows. A first
 * report that only shrinks that estimate (the usual case: the table sits below a toolbar) waits until the first
 * frame is painted, since the rows already rendered cover the table and trimming the extra ones can wait.
 * Without ResizeObserver (jsdom), the library's default.
 */
function observeTableRect(
  instance: Virtualizer<HTMLDivElement, Element>,
  report: (rect: Rect) => void,
): void | (() => void) {
  const element = instance.scrollElement;
  const view = element?.ownerDocument.defaultView;
  if (!element || !view?.ResizeObserver) return observeElementRect(instance, report);
  let first = true;
  let held = false;
  let stopped = false;
  let latest: Rect = instance.options.initialRect;
  const observer = new view.ResizeObserver(() => {
    latest = { width: Math.round(element.clientWidth), height: Math.round(element.clientHeight) };
    if (held) return;
    if (first && latest.height <= instance.options.initialRect.height) {
      held = true;
      void afterNextPaint().then(() => {
        held = false;
        if (!stopped) report(latest);
      });
    } else {
      report(latest);
    }
    first = false;
  });
  observer.observe(element, { box: 'content-box' });
  return () => {
    stopped = true;
    observer.disconnect();
  };
}

const scrolled = new WeakSet<Element>();

/**
 * Scrolls the table as the library does, except for the write it makes when the table mounts: to the top, where
 * a new element already is, and a write there would force the whole page's layout before the first frame.
 */
function scrollTable(
  offset: number,
  options: { adjustments?: number; behavior?: ScrollBehavior },
  instance: Virtualizer<HTMLDivElement, Element>,
): void {
  const element = instance.scrollElement;
  if (!element) return;
  const first = !scrolled.has(element);
  scrolled.add(element);
  if (first && offset + (options.adjustments ?? 0) === 0) return;
  elementScroll(offset, options, instance);
}

/** Rows rendered beyond those in view, for smooth scrolling, once the table's first frame is on screen. */
const overscanRows = 12;

/** False until the frame after the table mounted was painted: that first frame renders only the rows in view. */
function usePainted(): boolean {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    let mounted = true;
    void afterNextPaint().then(() => mounted && setPainted(true));
    return () => {
      mounted = false;
    };
  }, []);
  return painted;
}

/** The table's size before it is laid out: the window's, which holds it (a few rows too many, never too few). */
const windowRect = (): Rect => ({ width: window.innerWidth, height: window.innerHeight });

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

function SelectAllHeader({ ids }: { ids: string[] }) {
  const selection = useAppStore((s) => s.ui.selection);
  const setSelection = useAppStore((s) => s.setSelection);
  const all = ids.length > 0 && ids.every((id) => selection.includes(id));
  const some = !all && selection.length > 0;
  return (
    <div className="cell cell-select" role="columnheader">
      <input
        type="checkbox"
        className="row-check"
        aria-label="Select all images"
        checked={all}
        ref={(node) => {
          if (node) node.indeterminate = some;
        }}
        onChange={() => setSelection(all ? [] : ids)}
      />
    </div>
  );
}

/**
 * The virtualized image table: a sticky header and only the rows in view rendered. It is one focus stop
 * (a grid with an active row): arrows move, Shift extends, Space selects, Enter opens details, T adds a
 * tag, Delete removes, the context-menu key (or Shift+F10) opens the row menu, Ctrl+A selects all.
 */
export function ImagesTable() {
  const store = useAppStoreApi();
  const lines = useAppStore(useShallow(selectTableLines));
  const ids = useAppStore(useShallow(selectVisibleImageIds));
  const byId = useAppStore((s) => s.images.byId);
  const total = useAppStore((s) => s.images.order.length + s.images.pending);
  const busy = useAppStore((s) => s.images.pending > 0);
  const selection = useAppStore((s) => s.ui.selection);
  const cursor = useAppStore((s) => s.ui.cursor);
  const now = useNow();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [initialRect] = useState(windowRect);
  const painted = usePainted();
  // eslint-disable-next-line react-hooks/incompatible-library -- read afresh each render; no compiler memoizes this component
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => (lines[index]?.kind === 'group' ? groupRowHeight : imageRowHeight),
    getItemKey: (index) => {
      const line = lines[index];
      return line === undefined ? index : line.kind === 'group' ? `group:${line.repository}` : line.id;
    },
    overscan: painted ? overscanRows : 0,
    scrollMargin: headerHeight,
    initialRect,
    observeElementRect: observeTableRect,
    scrollToFn: scrollTable,
  });

  const lineOf = useCallback(
    (id: string) => lines.findIndex((line) => line.kind === 'image' && line.id === id),
    [lines],
  );

  const moveCursor = (id: string, extend: boolean) => {
    const s = store.getState();
    if (extend) {
      const anchor = s.ui.cursor ?? id;
      const from = ids.indexOf(anchor);
      const to = ids.indexOf(id);
      const range = ids.slice(Math.min(from, to), Math.max(from, to) + 1);
      s.setSelection([...new Set([...s.ui.selection, ...range])], id);
    } else {
      s.setCursor(id);
    }
    const index = lineOf(id);
    if (index >= 0) virtualizer.scrollToIndex(index, { align: 'auto' });
  };

  const onRowClick = useCallback(
    (event: MouseEvent, id: string) => {
      const s = store.getState();
      if (event.metaKey || event.ctrlKey) {
        s.toggleSelected(id);
        return;
      }
      if (event.shiftKey && s.ui.cursor) {
        const from = ids.indexOf(s.ui.cursor);
        const to = ids.indexOf(id);
        if (from >= 0 && to >= 0) {
          s.setSelection(ids.slice(Math.min(from, to), Math.max(from, to) + 1), s.ui.cursor);
          return;
        }
      }
      s.setSelection([id], id);
      s.openDetails(id);
      scrollRef.current?.focus({ preventScroll: true });
    },
    [store, ids],
  );

  useEffect(() => {
    const s = store.getState();
    if (s.ui.cursor !== null && !ids.includes(s.ui.cursor)) s.setCursor(null);
  }, [ids, store]);

  const hasRows = lines.length > 0;
  useEffect(() => {
    if (hasRows) store.getState().firstRowsShown();
  }, [hasRows, store]);

  const reveal = useAppStore((s) => s.pulls.reveal);
  useEffect(() => {
    if (reveal === null) return;
    const index = lineOf(reveal);
    if (index < 0) return;
    virtualizer.scrollToIndex(index, { align: 'center' });
    store.getState().clearReveal();
  }, [reveal, lineOf, virtualizer, store]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    const s = store.getState();
    const at = s.ui.cursor === null ? -1 : ids.indexOf(s.ui.cursor);
    const current = at >= 0 ? ids[at] : undefined;
    const go = (index: number) => {
      const id = ids[Math.max(0, Math.min(ids.length - 1, index))];
      if (id !== undefined) moveCursor(id, event.shiftKey);
    };
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / imageRowHeight) - 1);
    const key = event.key;
    if (key === 'ArrowDown') go(at + 1);
    else if (key === 'ArrowUp') go(at < 0 ? 0 : at - 1);
    else if (key === 'Home') go(0);
    else if (key === 'End') go(ids.length - 1);
    else if (key === 'PageDown') go(at + page);
    else if (key === 'PageUp') go(at - page);
    else if (key === ' ' && current) s.toggleSelected(current);
    else if (key === 'Enter' && current) s.openDetails(current);
    else if ((key === 'a' || key === 'A') && (event.ctrlKey || event.metaKey)) s.setSelection(ids);
    else if ((key === 't' || key === 'T') && current && !event.ctrlKey && !event.metaKey)
      s.openDialog({ kind: 'add-tag', image: current });
    else if ((key === 'Delete' || key === 'Backspace') && (s.ui.selection.length > 0 || current))
      s.openDialog({ kind: 'remove', ids: s.ui.selection.length > 0 ? s.ui.selection : [current ?? ''] });
    else if ((key === 'ContextMenu' || (key === 'F10' && event.shiftKey)) && current) {
      const row = document.getElementById(rowDomId(current))?.getBoundingClientRect();
      s.openMenu({ x: (row?.left ?? 0) + 48, y: (row?.bottom ?? 0) - 6, image: current });
    } else if (key === 'Escape') {
      if (s.ui.detailsId !== null) s.openDetails(null);
      else s.setSelection([]);
    } else return;
    event.preventDefault();
  };

  return (
    <div
      className="table-scroll"
      ref={scrollRef}
      tabIndex={0}
      role="grid"
      aria-label="Images"
      aria-multiselectable="true"
      aria-rowcount={lines.length + 1}
      aria-activedescendant={cursor !== null && ids.includes(cursor) ? rowDomId(cursor) : undefined}
      data-total={total}
      aria-busy={busy}
      data-testid="images-grid"
      onKeyDown={onKeyDown}
      onFocus={(event) => {
        if (event.target !== event.currentTarget) return;
        const s = store.getState();
        const first = ids[0];
        if (s.ui.cursor === null && first !== undefined) s.setCursor(first);
      }}
    >
      <div className="images-table">
        <div className="table-head" role="rowgroup">
          <div className="image-row header-row" role="row" aria-rowindex={1}>
            <SelectAllHeader ids={ids} />
            {columns.map((column) => (
              <SortHeader key={column.label} {...column} />
            ))}
          </div>
        </div>
        <div className="table-body" role="rowgroup" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const line = lines[item.index];
            if (!line) return null;
            if (line.kind === 'group') {
              return (
                <div
                  key={item.key}
                  className="group-row"
                  role="row"
                  aria-rowindex={item.index + 2}
                  data-testid="group-row"
                  style={{ transform: `translateY(${item.start - headerHeight}px)`, height: item.size }}
                >
                  <div role="gridcell" className="group-cell">
                    <Icon name="chevronDown" />
                    <span className="group-name">{line.repository}</span>
                    <span className="group-count">
                      {line.count} {line.count === 1 ? 'image' : 'images'} · {formatBytes(line.size)}
                    </span>
                  </div>
                </div>
              );
            }
            const image = byId[line.id];
            if (!image) return null;
            return (
              <ImageRow
                key={item.key}
                image={image}
                rowIndex={item.index + 2}
                now={now}
                top={item.start - headerHeight}
                height={item.size}
                selected={selection.includes(image.id)}
                cursor={cursor === image.id}
                onClick={onRowClick}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}
