import { pullActive, type LayerStatus, type PullProgress } from '../../../shared/contract';
import { formatBytes, formatDuration, formatRate } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useAppStore } from '../state/app-store-provider';

const stateLabels: Record<PullProgress['state'], string> = {
  resolving: 'Resolving',
  running: 'Downloading',
  stored: 'Stored · indexing',
  complete: 'Complete',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const layerLabels: Record<LayerStatus, string> = {
  waiting: 'Waiting',
  downloading: 'Downloading',
  uploading: 'Uploading',
  retrying: 'Retrying',
  verifying: 'Verifying',
  indexing: 'Indexing',
  complete: 'Done',
  exists: 'Already stored',
  failed: 'Failed',
};

function LayerBar({ layer }: { layer: PullProgress['layers'][number] }) {
  const percent = layer.total > 0 ? Math.min(100, (layer.done / layer.total) * 100) : 0;
  const short = layer.digest.replace(/^sha256:/, '').slice(0, 12);
  const status =
    layer.status === 'retrying' && layer.retryInSeconds !== undefined
      ? `Retrying in ${formatDuration(layer.retryInSeconds)}`
      : layerLabels[layer.status];
  return (
    <li className={`pull-layer layer-${layer.status}`} data-testid="pull-layer" data-digest={layer.digest}>
      <span className="pull-layer-digest mono">{short}</span>
      <div
        className="progress progress-thin"
        role="progressbar"
        aria-label={`Layer ${short}`}
        aria-valuemin={0}
        aria-valuemax={layer.total}
        aria-valuenow={layer.done}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="pull-layer-bytes">
        {formatBytes(layer.done)} / {formatBytes(layer.total)}
      </span>
      <span className="pull-layer-status" data-testid="pull-layer-status">
        {status}
      </span>
    </li>
  );
}

/** One pull task: overall and per-layer progress, speed and ETA, Cancel while running, Retry after failing. */
export function PullCard({ pullId }: { pullId: string }) {
  const pull = useAppStore((s) => s.pulls.byId[pullId]);
  const cancel = useAppStore((s) => s.cancelPull);
  const retry = useAppStore((s) => s.retryPull);
  const reveal = useAppStore((s) => s.revealImage);
  const setPanel = useAppStore((s) => s.setPullsPanel);
  if (!pull) return null;
  const active = pullActive(pull);
  // A stored image is in the store under its name; only its indexing is left, which is not cancelled.
  const cancellable = active && pull.state !== 'stored';
  const push = pull.kind === 'push';
  const label = push && pull.state === 'running' ? 'Uploading' : stateLabels[pull.state];
  const percent = pull.total > 0 ? Math.min(100, (pull.done / pull.total) * 100) : 0;
  const finishedLayers = pull.layers.filter((l) => l.status === 'complete' || l.status === 'exists').length;
  return (
    <li
      className={`pull-card pull-${pull.state}`}
      data-testid="pull-task"
      data-pull-id={pull.pullId}
      data-kind={pull.kind ?? 'pull'}
      data-state={pull.state}
    >
      <div className="pull-head">
        {push && <span className="badge">Push</span>}
        <span className="pull-reference mono">{pull.reference}</span>
        <span className={`badge badge-${pull.state}`} data-testid="pull-state">
          {label}
        </span>
        <span className="toolbar-spacer" />
        {cancellable && (
          <button type="button" className="button button-small" onClick={() => void cancel(pull.pullId)}>
            Cancel
          </button>
        )}
        {(pull.state === 'failed' || pull.state === 'cancelled') && (
          <button type="button" className="button button-small" onClick={() => void retry(pull.pullId)}>
            <Icon name="retry" />
            Retry
          </button>
        )}
        {pull.state === 'complete' && pull.imageId !== undefined && (
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setPanel(false);
              reveal(pull.imageId ?? '');
            }}
          >
            Show image
          </button>
        )}
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Progress of ${pull.reference}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(percent)}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      {pull.total > 0 && (
        <div className="pull-meta">
          <span data-testid="pull-bytes">
            {formatBytes(pull.done)} of {formatBytes(pull.total)}
          </span>
          <span>
            {finishedLayers}/{pull.layers.length} {push ? 'blobs' : 'layers'}
          </span>
          {active && pull.bytesPerSecond > 0 && <span>{formatRate(pull.bytesPerSecond)}</span>}
          {active && pull.etaSeconds !== undefined && <span>{formatDuration(pull.etaSeconds)} left</span>}
          {pull.state === 'complete' && pull.imageId !== undefined && (
            <span className="mono" data-testid="pull-image-id">
              {pull.imageId.slice(7, 19)}
            </span>
          )}
        </div>
      )}
      {pull.layers.length > 0 && (
        <ul className="pull-layers" aria-label={`Layers of ${pull.reference}`}>
          {pull.layers.map((layer) => (
            <LayerBar key={layer.digest} layer={layer} />
          ))}
        </ul>
      )}
      {pull.error && pull.state !== 'cancelled' && (
        <p className="pull-error" role="alert" data-testid="pull-error">
          {pull.error.message} <code className="error-code">{pull.error.code}</code>
        </p>
      )}
    </li>
  );
}

/** Every pull task, newest first, or an empty state offering to start one. */
export function PullList() {
  const order = useAppStore((s) => s.pulls.order);
  const openDialog = useAppStore((s) => s.openPullDialog);
  if (order.length === 0) {
    return (
      <div className="state-panel" data-testid="pulls-empty">
        <div className="empty-art" aria-hidden="true">
          <Icon name="pulls" />
        </div>
        <h2>No pulls yet</h2>
        <p className="state-detail">Pulls you start show their per-layer progress here.</p>
        <button type="button" className="button button-primary" onClick={() => openDialog()}>
          <Icon name="pulls" />
          Pull an image…
        </button>
      </div>
    );
  }
  return (
    <ul className="pull-list">
      {order.map((id) => (
        <PullCard key={id} pullId={id} />
      ))}
    </ul>
  );
}

/** The Pulls view: every pull task with its progress; tasks live in the store, so they survive navigation. */
export function PullsView() {
  return (
    <section className="view pulls-view" data-testid="pulls-view" aria-labelledby="view-title">
      <PullList />
    </section>
  );
}
