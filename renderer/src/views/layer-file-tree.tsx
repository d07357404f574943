import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, type KeyboardEvent } from 'react';
import type { FileEntry } from '../../../shared/contract';
import { formatBytes } from '../../../shared/format';
import { Icon } from '../components/icon';
import type { TreeLine } from '../state/layers-slice';

/** Height of one tree line in pixels; fixed, so a directory of 200,000 files scrolls without measuring. */
export const fileLineHeight = 26;

const changeMark: Record<FileEntry['change'], string> = {
  added: 'A',
  modified: 'M',
  removed: 'D',
  unchanged: '',
};

function linkNote(entry: FileEntry): string | undefined {
  if (entry.linkTarget === undefined) return undefined;
  return entry.type === 'hardlink' ? `link to /${entry.linkTarget}` : `→ ${entry.linkTarget}`;
}

function FileLine({
  line,
  selected,
  onToggle,
  onSelect,
}: {
  line: TreeLine;
  selected: boolean;
  onToggle: (path: string) => void;
  onSelect: (entry: FileEntry) => void;
}) {
  const { entry, depth, expanded } = line;
  const isDir = entry.type === 'dir' && entry.change !== 'removed';
  const c = entry.changes;
  const rollup = c && c.added + c.modified + c.removed > 0 ? c : undefined;
  const flags = (entry.flags ?? []).filter((f) => f.startsWith('link-'));
  const note = linkNote(entry);
  return (
    <div
      role="treeitem"
      aria-level={depth + 1}
      aria-expanded={isDir ? expanded : undefined}
      aria-selected={selected}
      className={`file-line change-${entry.change}${selected ? ' selected' : ''}`}
      data-testid="file-line"
      data-path={entry.path}
      data-change={entry.change}
      style={{ paddingLeft: 8 + depth * 16 }}
      onClick={() => {
        onSelect(entry);
        if (isDir) onToggle(entry.path);
      }}
    >
      <span className="file-twisty" aria-hidden="true">
        {isDir && <Icon name={expanded ? 'chevronDown' : 'chevronRight'} />}
      </span>
      <span className={`file-mark mark-${entry.change}`} title={entry.change}>
        {changeMark[entry.change]}
      </span>
      <span className="file-name mono">
        {entry.name}
        {isDir ? '/' : ''}
      </span>
      {note && <span className="file-link mono muted">{note}</span>}
      {flags.map((flag) => (
        <span key={flag} className="badge badge-warning file-flag" title={flag}>
          {flag === 'link-dangling' ? 'dangling' : 'outside image'}
        </span>
      ))}
      {line.pending === 'loading' && <span className="muted file-pending">loading…</span>}
      {line.pending === 'error' && <span className="file-pending error-text">could not list</span>}
      <span className="toolbar-spacer" />
      {rollup && (
        <span className="file-rollup" title="Changes below">
          {rollup.added > 0 && <span className="mark-added">+{rollup.added}</span>}
          {rollup.modified > 0 && <span className="mark-modified">~{rollup.modified}</span>}
          {rollup.removed > 0 && <span className="mark-removed">−{rollup.removed}</span>}
        </span>
      )}
      <span className="file-size num">
        {entry.change === 'removed' ? `−${formatBytes(entry.removedBytes)}` : formatBytes(entry.size)}
      </span>
    </div>
  );
}

/**
 * The virtualized file tree of one layer view: only the lines in sight are rendered, directories load their
 * children from main when first expanded. Up/Down move, Right/Left open/close, Enter previews.
 */
export function LayerFileTree({
  lines,
  selected,
  onToggle,
  onSelect,
}: {
  lines: TreeLine[];
  selected: string | undefined;
  onToggle: (path: string) => void;
  onSelect: (entry: FileEntry) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- read afresh each render; no compiler memoizes this component
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => fileLineHeight,
    getItemKey: (index) => lines[index]?.entry.path ?? index,
    overscan: 20,
  });
  const at = selected === undefined ? -1 : lines.findIndex((l) => l.entry.path === selected);

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const move = (to: number) => {
      const line = lines[Math.max(0, Math.min(lines.length - 1, to))];
      if (!line) return;
      event.preventDefault();
      onSelect(line.entry);
      virtualizer.scrollToIndex(lines.indexOf(line), { align: 'auto' });
    };
    const current = lines[at];
    switch (event.key) {
      case 'ArrowDown':
        move(at + 1);
        return;
      case 'ArrowUp':
        move(at - 1);
        return;
      case 'ArrowRight':
        if (current?.entry.type === 'dir' && !current.expanded) {
          event.preventDefault();
          onToggle(current.entry.path);
        }
        return;
      case 'ArrowLeft':
        if (current?.expanded) {
          event.preventDefault();
          onToggle(current.entry.path);
        }
        return;
    }
  };

  if (lines.length === 0) return <p className="muted tab-empty">Nothing to show with these filters.</p>;
  return (
    <div
      ref={scrollRef}
      className="file-tree"
      role="tree"
      aria-label="Files"
      tabIndex={0}
      onKeyDown={onKey}
      data-testid="file-tree"
    >
      <div className="file-tree-body" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((item) => {
          const line = lines[item.index];
          if (!line) return null;
          return (
            <div
              key={item.key}
              className="file-line-slot"
              style={{ transform: `translateY(${item.start}px)`, height: fileLineHeight }}
            >
              <FileLine
                line={line}
                selected={line.entry.path === selected}
                onToggle={onToggle}
                onSelect={onSelect}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}
