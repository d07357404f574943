import { useEffect, useMemo, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { FileChange, ImageDetails, ImageSummary, LayerSummary } from '../../../shared/contract';
import { formatBytes } from '../../../shared/format';
import { CopyButton } from '../components/copy-button';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { directoryKey, treeLines, type ExplorerState } from '../state/layers-slice';
import { displayId, familiar } from '../state/tag-plan';
import { dockerfileLine } from './image-details-tabs';
import { LayerCompare } from './layer-compare';
import { LayerFileTree } from './layer-file-tree';
import { LayerPlatforms } from './layer-platforms';

const changeKinds: FileChange[] = ['added', 'modified', 'removed', 'unchanged'];

function LayerList({ details, explorer }: { details: ImageDetails; explorer: ExplorerState }) {
  const store = useAppStoreApi();
  const listed = explorer.layers.status === 'ready' ? explorer.layers.value : [];
  // Another platform of the image has its own layers; the explorer lists them with the same facts.
  const rows: LayerSummary[] = explorer.image === explorer.origin ? details.layers : listed;
  return (
    <ol className="layer-list explorer-layers" aria-label="Layers">
      {rows.map((layer, index) => {
        const problem = listed[index]?.problem;
        const current = explorer.layer === index;
        return (
          <li
            key={`${layer.digest}-${index}`}
            className={current ? 'layer-item explorer-layer current' : 'layer-item explorer-layer'}
            data-testid="layer-row"
            aria-current={current ? 'true' : undefined}
          >
            <button
              type="button"
              className="layer-select"
              onClick={() => void store.getState().selectLayer(index)}
              aria-label={`Layer ${index + 1}`}
            >
              <span className="layer-index">{index + 1}</span>
              <code className="mono layer-command" title={layer.createdBy}>
                {layer.createdBy === undefined ? 'no history entry' : dockerfileLine(layer.createdBy)}
              </code>
            </button>
            <div className="layer-meta">
              <code className="mono digest-text" title={layer.digest}>
                {layer.digest}
              </code>
              <CopyButton text={layer.digest} label={`layer ${index + 1} digest`} />
            </div>
            <div className="layer-meta muted">
              <span>{formatBytes(layer.size)}</span>
              {layer.uncompressedSize !== undefined && (
                <span>{formatBytes(layer.uncompressedSize)} unpacked</span>
              )}
              {listed[index]?.entryCount !== undefined && (
                <span>
                  {listed[index]?.entryCount} {listed[index]?.entryCount === 1 ? 'path' : 'paths'}
                </span>
              )}
              {layer.diffId !== undefined && (
                <span className="mono" title={`DiffID ${layer.diffId}`}>
                  diff {displayId(layer.diffId)}
                </span>
              )}
            </div>
            {problem && (
              <div className="badge badge-danger layer-problem" role="status" title={problem.message}>
                {problem.code === 'BLOB_UNKNOWN' ? 'missing' : 'unreadable'}: {problem.message}
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function SearchResults({ explorer }: { explorer: ExplorerState }) {
  const store = useAppStoreApi();
  const search = explorer.search;
  if (!search) return null;
  const result = search.result;
  return (
    <section className="explorer-panel" aria-label="Search results" data-testid="layer-search-results">
      <header className="explorer-panel-head">
        <h4>
          Search <code className="mono">{search.pattern}</code>
        </h4>
        <button
          type="button"
          className="icon-button"
          aria-label="Close search"
          onClick={() => store.getState().clearSearch()}
        >
          <Icon name="close" />
        </button>
      </header>
      {result.status === 'loading' && <p className="muted">Searching every layer…</p>}
      {result.status === 'error' && <p className="error-text">{result.error.message}</p>}
      {result.status === 'ready' &&
        (result.value.hits.length === 0 ? (
          <p className="muted">No layer touched a matching path.</p>
        ) : (
          <ul className="search-hits">
            {result.value.hits.map((hit) => (
              <li key={`${hit.layer} ${hit.path}`} data-testid="search-hit">
                <button
                  type="button"
                  className="link-button"
                  title="Show this change in the tree"
                  onClick={() => void store.getState().revealPath(hit.layer, hit.path)}
                >
                  layer {hit.layer + 1}
                </button>
                <span className={`mark-${hit.change}`}>{hit.change}</span>
                <code className="mono">/{hit.path}</code>
                <span className="num muted">{formatBytes(hit.size)}</span>
              </li>
            ))}
            {result.value.truncated && <li className="muted">More matches were cut off.</li>}
          </ul>
        ))}
    </section>
  );
}

function EfficiencyPanel({ explorer }: { explorer: ExplorerState }) {
  const efficiency = explorer.efficiency;
  if (!efficiency) return null;
  if (efficiency.status === 'loading') return <p className="muted">Measuring waste…</p>;
  if (efficiency.status === 'error') return <p className="error-text">{efficiency.error.message}</p>;
  const report = efficiency.value;
  return (
    <section className="explorer-panel" aria-label="Waste and efficiency" data-testid="layer-efficiency">
      <header className="explorer-panel-head">
        <h4>
          Efficiency <strong data-testid="efficiency-score">{(report.efficiency * 100).toFixed(1)}%</strong>
        </h4>
        <span className="muted">
          {formatBytes(report.wastedBytes)} wasted of {formatBytes(report.totalBytes)} in layers
        </span>
      </header>
      {report.paths.length === 0 ? (
        <p className="muted">No layer overwrites or deletes another&apos;s files.</p>
      ) : (
        <table className="details-table waste-table">
          <thead>
            <tr>
              <th>Path</th>
              <th>Written in</th>
              <th>Removed in</th>
              <th className="num">Wasted</th>
            </tr>
          </thead>
          <tbody>
            {report.paths.map((p) => (
              <tr key={p.path}>
                <td className="mono">/{p.path}</td>
                <td>{p.addedIn.map((l) => l + 1).join(', ')}</td>
                <td>{p.removedIn.map((l) => l + 1).join(', ')}</td>
                <td className="num">{formatBytes(p.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.pathCount > report.paths.length && (
        <p className="muted">and {report.pathCount - report.paths.length} smaller paths</p>
      )}
    </section>
  );
}

function PreviewPane({
  explorer,
  host,
}: {
  explorer: ExplorerState;
  host: 'electron' | 'serve' | undefined;
}) {
  const store = useAppStoreApi();
  const [destination, setDestination] = useState('');
  const target = explorer.selected ?? '';
  const preview = explorer.preview;
  const extract = explorer.extract;
  const onExtract = (event: FormEvent) => {
    event.preventDefault();
    void store
      .getState()
      .extractPath(`/${target}`, host === 'electron' && destination === '' ? undefined : destination);
  };
  return (
    <section className="explorer-panel preview-pane" aria-label="Preview" data-testid="layer-preview">
      <form className="extract-form" onSubmit={onExtract}>
        <span className="mono extract-target" title={`/${target}`}>
          {target === ''
            ? `Layer ${explorer.layer + 1} (${explorer.view === 'merged' ? 'merged' : 'changes'})`
            : `/${target}`}
        </span>
        {host !== 'electron' && (
          <input
            type="text"
            className="text-input"
            aria-label="Destination folder"
            placeholder="/absolute/destination/folder"
            value={destination}
            spellCheck={false}
            onChange={(event) => setDestination(event.target.value)}
          />
        )}
        <button
          type="submit"
          className="button button-small"
          disabled={host !== 'electron' && destination.trim() === ''}
        >
          {host === 'electron' ? 'Extract…' : 'Extract'}
        </button>
      </form>
      {extract && (
        <p className="extract-status" role="status" data-testid="extract-status">
          {extract.result.status === 'loading' && 'Extracting…'}
          {extract.result.status === 'error' && (
            <span className="error-text">Could not extract: {extract.result.error.message}</span>
          )}
          {extract.result.status === 'ready' &&
            (extract.result.value.done
              ? `Extracted ${extract.result.value.written} paths (${formatBytes(extract.result.value.bytes)}) to ${extract.result.value.destination}` +
                (extract.result.value.skipped.length > 0
                  ? `; skipped ${extract.result.value.skipped.length}`
                  : '')
              : 'Extraction cancelled')}
        </p>
      )}
      {preview?.result.status === 'loading' && <p className="muted">Reading…</p>}
      {preview?.result.status === 'error' && <p className="error-text">{preview.result.error.message}</p>}
      {preview?.result.status === 'ready' &&
        (preview.result.value.type === 'symlink' ? (
          <p className="mono">→ {preview.result.value.linkTarget}</p>
        ) : preview.result.value.binary ? (
          <p className="muted">Binary file, {formatBytes(preview.result.value.size)}.</p>
        ) : (
          <>
            <pre className="json mono file-preview" data-testid="file-preview">
              {preview.result.value.text}
            </pre>
            {preview.result.value.truncated && (
              <p className="muted">First 64 KiB of {formatBytes(preview.result.value.size)}.</p>
            )}
          </>
        ))}
    </section>
  );
}

/**
 * The Layers tab: the layer list beside a virtualized file tree of the chosen layer, either what it changed or
 * the filesystem after it (the M key switches), with change filters, sort, search across layers, waste and
 * efficiency, a preview pane, extraction, and a comparison with another image.
 */
export function LayerExplorer({ image, details }: { image: ImageSummary; details: ImageDetails }) {
  const store = useAppStoreApi();
  const explorer = useAppStore((s) => (s.explorer?.origin === image.id ? s.explorer : undefined));
  const host = useAppStore((s) => s.settings.app?.host);
  const others = useAppStore(
    useShallow((s) =>
      s.images.order
        .filter((id) => id !== image.id)
        .map((id) => s.images.byId[id])
        .filter((i): i is ImageSummary => i !== undefined),
    ),
  );
  const [pattern, setPattern] = useState('');
  const [regex, setRegex] = useState(false);
  useEffect(() => {
    void store.getState().openExplorer(image.id);
  }, [store, image.id]);
  const lines = useMemo(() => (explorer ? treeLines(explorer) : []), [explorer]);

  if (details.layers.length === 0) return <p className="muted tab-empty">This image has no layers.</p>;
  if (!explorer) return <p className="muted tab-empty">Opening layers…</p>;
  const root = explorer.directories[directoryKey(explorer.layer, explorer.view, '')];
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    if (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA') return;
    if (event.key === 'm' || event.key === 'M') {
      event.preventDefault();
      void store.getState().toggleLayerView();
    }
  };
  const changesOnly =
    explorer.hidden.unchanged &&
    !explorer.hidden.added &&
    !explorer.hidden.modified &&
    !explorer.hidden.removed;

  return (
    <div className="layer-explorer" onKeyDown={onKey} data-testid="layer-explorer">
      <LayerList details={details} explorer={explorer} />
      <div className="explorer-main">
        <LayerPlatforms explorer={explorer} />
        <div className="explorer-toolbar">
          <div className="segmented" role="group" aria-label="View (M switches)">
            <button
              type="button"
              aria-pressed={explorer.view === 'layer'}
              className={explorer.view === 'layer' ? 'segment active' : 'segment'}
              onClick={() => void store.getState().setLayerView('layer')}
            >
              Layer changes
            </button>
            <button
              type="button"
              aria-pressed={explorer.view === 'merged'}
              className={explorer.view === 'merged' ? 'segment active' : 'segment'}
              onClick={() => void store.getState().setLayerView('merged')}
            >
              Merged
            </button>
          </div>
          <button
            type="button"
            className={changesOnly ? 'button button-small active' : 'button button-small'}
            aria-pressed={changesOnly}
            onClick={() => store.getState().showChangesOnly(!changesOnly)}
          >
            Changes only
          </button>
          <label className="select-field">
            Sort
            <select
              aria-label="Sort files"
              value={explorer.sort}
              onChange={(event) =>
                store.getState().setFileSort(event.target.value === 'size' ? 'size' : 'name')
              }
            >
              <option value="name">Name</option>
              <option value="size">Size</option>
            </select>
          </label>
        </div>
        <div className="explorer-toolbar">
          {changeKinds.map((kind) => (
            <label key={kind} className={`check-field mark-${kind}`}>
              <input
                type="checkbox"
                aria-label={`Show ${kind}`}
                checked={!explorer.hidden[kind]}
                onChange={(event) => store.getState().setChangeHidden(kind, !event.target.checked)}
              />
              {kind}
            </label>
          ))}
        </div>
        <div className="explorer-toolbar">
          <form
            className="search-field explorer-search"
            role="search"
            onSubmit={(event) => {
              event.preventDefault();
              void store.getState().searchFiles(pattern.trim(), regex ? 'regex' : 'glob');
            }}
          >
            <Icon name="search" />
            <input
              type="search"
              aria-label="Search paths in every layer"
              placeholder="Search all layers: libssl*, usr/lib/**"
              value={pattern}
              spellCheck={false}
              onChange={(event) => setPattern(event.target.value)}
            />
          </form>
          <label className="check-field">
            <input type="checkbox" checked={regex} onChange={(event) => setRegex(event.target.checked)} />
            Regex
          </label>
          <button
            type="button"
            className="button button-small"
            onClick={() => void store.getState().loadEfficiency()}
          >
            Waste &amp; efficiency
          </button>
          <label className="select-field">
            Compare with
            <select
              aria-label="Compare with image"
              value={explorer.compare?.other ?? ''}
              onChange={(event) =>
                event.target.value === ''
                  ? store.getState().closeCompare()
                  : void store.getState().openCompare(event.target.value)
              }
            >
              <option value="">—</option>
              {others.map((other) => (
                <option key={other.id} value={other.id}>
                  {other.repoTags[0] ? familiar(other.repoTags[0]) : displayId(other.id)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <SearchResults explorer={explorer} />
        <EfficiencyPanel explorer={explorer} />
        {explorer.compare ? (
          <LayerCompare explorer={explorer} />
        ) : (
          <>
            <div className="explorer-summary muted" data-testid="tree-summary">
              {root?.status === 'ready' && (
                <>
                  {explorer.view === 'merged' ? 'Filesystem after' : 'Changes of'} layer {explorer.layer + 1}:{' '}
                  {formatBytes(root.value.directory.size)}
                  {root.value.directory.changes && (
                    <>
                      {' · '}
                      <span className="mark-added">+{root.value.directory.changes.added}</span>{' '}
                      <span className="mark-modified">~{root.value.directory.changes.modified}</span>{' '}
                      <span className="mark-removed">−{root.value.directory.changes.removed}</span>
                    </>
                  )}
                  {root.value.directory.removedBytes > 0 && (
                    <> · {formatBytes(root.value.directory.removedBytes)} removed</>
                  )}
                </>
              )}
              {root?.status === 'loading' && 'Loading files…'}
            </div>
            {root?.status === 'error' ? (
              <p className="error-text" role="alert">
                Could not list files: {root.error.message}
              </p>
            ) : (
              <LayerFileTree
                lines={lines}
                selected={explorer.selected}
                onToggle={(path) => void store.getState().toggleDirectory(path)}
                onSelect={(entry) => void store.getState().selectFile(entry)}
              />
            )}
            <PreviewPane explorer={explorer} host={host} />
          </>
        )}
      </div>
    </div>
  );
}
