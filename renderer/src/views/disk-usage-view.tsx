import { useEffect, useState } from 'react';
import { formatBytes } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useAppStore } from '../state/app-store-provider';
import { displayId, familiar } from '../state/tag-plan';

const initialRows = 40;

/**
 * The Disk usage view: store totals and a horizontal bar per image, split into the part only that image
 * uses (what removing it frees) and the part it shares with others, largest first.
 */
export function DiskUsageView() {
  const usage = useAppStore((s) => s.disk.usage);
  const status = useAppStore((s) => s.disk.status);
  const error = useAppStore((s) => s.disk.error);
  const load = useAppStore((s) => s.loadDiskUsage);
  const setView = useAppStore((s) => s.setView);
  const [all, setAll] = useState(false);
  useEffect(() => {
    void load();
  }, [load]);

  if (!usage) {
    return (
      <section className="view disk-view" data-testid="disk-view" aria-labelledby="view-title">
        {status === 'error' && error ? (
          <div className="state-panel state-panel-error" role="alert">
            <Icon name="alert" className="state-icon" />
            <h2>Could not measure disk usage</h2>
            <p className="state-detail">
              {error.message} <code className="error-code">{error.code}</code>
            </p>
            <button type="button" className="button" onClick={() => void load()}>
              <Icon name="retry" />
              Retry
            </button>
          </div>
        ) : (
          <div className="state-panel" aria-busy="true">
            <h2>Measuring the store…</h2>
          </div>
        )}
      </section>
    );
  }

  const rows = [...usage.images].sort((a, b) => b.size - a.size || a.id.localeCompare(b.id));
  const shown = all ? rows : rows.slice(0, initialRows);
  const largest = Math.max(1, ...rows.map((row) => row.size));
  const shared = rows.reduce((sum, row) => sum + row.sharedSize, 0);
  const unique = rows.reduce((sum, row) => sum + row.uniqueSize, 0);
  return (
    <section className="view disk-view" data-testid="disk-view" aria-labelledby="view-title">
      <div className="scroll-page">
        <div className="stat-cards">
          <div className="stat-card">
            <span className="stat-label">On disk</span>
            <span className="stat-value" data-testid="disk-total">
              {formatBytes(usage.totalSize)}
            </span>
            <span className="stat-help">
              {rows.length} {rows.length === 1 ? 'image' : 'images'}, shared layers counted once
            </span>
          </div>
          <div className="stat-card">
            <span className="stat-label">Unique</span>
            <span className="stat-value">{formatBytes(unique)}</span>
            <span className="stat-help">used by one image only</span>
          </div>
          <div className="stat-card">
            <span className="stat-label">Shared</span>
            <span className="stat-value">{formatBytes(shared)}</span>
            <span className="stat-help">per-image sum of layers other images use too</span>
          </div>
          <div className="stat-card stat-card-accent">
            <span className="stat-label">Reclaimable</span>
            <span className="stat-value" data-testid="disk-reclaimable">
              {formatBytes(usage.reclaimable)}
            </span>
            <button type="button" className="link-button" onClick={() => setView('prune')}>
              Review in Prune →
            </button>
          </div>
        </div>
        <div className="card chart-card">
          <header className="card-head">
            <h2>Per image</h2>
            <span className="legend">
              <span className="legend-swatch swatch-unique" /> unique
              <span className="legend-swatch swatch-shared" /> shared
            </span>
          </header>
          {rows.length === 0 ? (
            <p className="muted tab-empty">The store is empty.</p>
          ) : (
            <ol className="bar-chart" aria-label="Disk usage per image">
              {shown.map((row) => {
                const name = row.repoTags[0] ? familiar(row.repoTags[0]) : '<none>';
                return (
                  <li
                    key={row.id}
                    className="bar-row"
                    data-testid="disk-bar"
                    aria-label={`${name}: ${formatBytes(row.size)}, ${formatBytes(row.uniqueSize)} unique, ${formatBytes(row.sharedSize)} shared`}
                  >
                    <span className="bar-label" title={row.repoTags.map(familiar).join(', ') || row.id}>
                      {name === '<none>' ? <span className="badge badge-dangling">&lt;none&gt;</span> : name}
                      <span className="mono muted bar-id">{displayId(row.id)}</span>
                    </span>
                    <span className="bar-track">
                      <span
                        className="bar bar-unique"
                        style={{ width: `${(row.uniqueSize / largest) * 100}%` }}
                        title={`${formatBytes(row.uniqueSize)} unique`}
                      />
                      <span
                        className="bar bar-shared"
                        style={{ width: `${(row.sharedSize / largest) * 100}%` }}
                        title={`${formatBytes(row.sharedSize)} shared`}
                      />
                    </span>
                    <span className="bar-value num">{formatBytes(row.size)}</span>
                  </li>
                );
              })}
            </ol>
          )}
          {rows.length > initialRows && (
            <button type="button" className="link-button show-all" onClick={() => setAll(!all)}>
              {all ? 'Show the largest only' : `Show all ${rows.length} images`}
            </button>
          )}
        </div>
      </div>
    </section>
  );
}
