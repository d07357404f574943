import type { CompareEntry } from '../../../shared/contract';
import { formatBytes } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useAppStoreApi } from '../state/app-store-provider';
import type { ExplorerState } from '../state/layers-slice';

interface CompareLine {
  entry: CompareEntry;
  depth: number;
  expanded: boolean;
}

/** The comparison flattened to visible lines: expanded directories' children, unchanged ones hidden if asked. */
export function compareLines(explorer: ExplorerState): CompareLine[] {
  const compare = explorer.compare;
  const lines: CompareLine[] = [];
  if (!compare) return lines;
  const visit = (path: string, depth: number): void => {
    const listing = compare.directories[path];
    if (listing?.status !== 'ready') return;
    for (const entry of listing.value.entries) {
      if (explorer.hidden[entry.change]) continue;
      const expanded = entry.childCount !== undefined && compare.expanded[entry.path] === true;
      lines.push({ entry, depth, expanded });
      if (expanded) visit(entry.path, depth + 1);
    }
  };
  visit('', 0);
  return lines;
}

function size(bytes: number | undefined): string {
  return bytes === undefined ? '—' : formatBytes(bytes);
}

/** Two images' final filesystems side by side: each path with its size in both and how it changed. */
export function LayerCompare({ explorer }: { explorer: ExplorerState }) {
  const store = useAppStoreApi();
  const root = explorer.compare?.directories[''];
  if (!root || root.status === 'loading') return <p className="muted">Comparing…</p>;
  if (root.status === 'error')
    return (
      <p className="error-text" role="alert">
        Could not compare: {root.error.message}
      </p>
    );
  const lines = compareLines(explorer);
  const c = root.value.directory.changes;
  return (
    <section className="explorer-panel compare-view" aria-label="Comparison" data-testid="layer-compare">
      <p className="muted">
        This image → the other: {c ? `+${c.added} ~${c.modified} −${c.removed}` : 'identical'} ·{' '}
        {size(root.value.directory.sizeBefore)} → {size(root.value.directory.sizeAfter)}
      </p>
      <div className="compare-lines" role="tree" aria-label="Compared files">
        {lines.map(({ entry, depth, expanded }) => (
          <div
            key={entry.path}
            role="treeitem"
            aria-level={depth + 1}
            aria-expanded={entry.childCount !== undefined ? expanded : undefined}
            aria-selected={false}
            className={`file-line change-${entry.change}`}
            data-testid="compare-line"
            data-change={entry.change}
            style={{ paddingLeft: 8 + depth * 16 }}
            onClick={() => {
              if (entry.childCount !== undefined) void store.getState().toggleCompareDirectory(entry.path);
            }}
          >
            <span className="file-twisty" aria-hidden="true">
              {entry.childCount !== undefined && <Icon name={expanded ? 'chevronDown' : 'chevronRight'} />}
            </span>
            <span className={`file-mark mark-${entry.change}`}>
              {entry.change === 'unchanged' ? '' : entry.change[0]?.toUpperCase()}
            </span>
            <span className="file-name mono">
              {entry.name}
              {entry.childCount !== undefined ? '/' : ''}
            </span>
            <span className="toolbar-spacer" />
            <span className="file-size num">{size(entry.sizeBefore)}</span>
            <span className="file-size num">{size(entry.sizeAfter)}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
