import type { PullProgress } from '../../../shared/contract';
import { formatBytes, formatDuration, formatRate } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useAppStore } from '../state/app-store-provider';

const stateLabels: Record<PullProgress['state'], string> = {
  resolving: 'Resolving',
  running: 'Downloading',
  complete: 'Complete',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function PullCard({ pullId }: { pullId: string }) {
  const pull = useAppStore((s) => s.pulls.byId[pullId]);
  const cancel = useAppStore((s) => s.cancelPull);
  if (!pull) return null;
  const active = pull.state === 'resolving' || pull.state === 'running';
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
    >
      <div className="pull-head">
        {push && <span className="badge">Push</span>}
        <span className="pull-reference mono">{pull.reference}</span>
        <span className={`badge badge-${pull.state}`}>{label}</span>
        <span className="toolbar-spacer" />
        {active && (
          <button type="button" className="button button-small" onClick={() => void cancel(pull.pullId)}>
            Cancel
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
          <span>
            {formatBytes(pull.done)} of {formatBytes(pull.total)}
          </span>
          <span>
            {finishedLayers}/{pull.layers.length} {push ? 'blobs' : 'layers'}
          </span>
          {active && pull.bytesPerSecond > 0 && <span>{formatRate(pull.bytesPerSecond)}</span>}
          {active && pull.etaSeconds !== undefined && <span>{formatDuration(pull.etaSeconds)} left</span>}
        </div>
      )}
      {pull.error && (
        <p className="pull-error" role="alert">
          {pull.error.message} <code className="error-code">{pull.error.code}</code>
        </p>
      )}
    </li>
  );
}

/** The Pulls view: every pull task with its progress; tasks live in the store, so they survive navigation. */
export function PullsView() {
  const order = useAppStore((s) => s.pulls.order);
  return (
    <section className="view pulls-view" data-testid="pulls-view" aria-labelledby="view-title">
      {order.length === 0 ? (
        <div className="state-panel" data-testid="pulls-empty">
          <div className="empty-art" aria-hidden="true">
            <Icon name="pulls" />
          </div>
          <h2>No pulls yet</h2>
          <p className="state-detail">Pulls you start show their per-layer progress here.</p>
        </div>
      ) : (
        <ul className="pull-list">
          {order.map((id) => (
            <PullCard key={id} pullId={id} />
          ))}
        </ul>
      )}
    </section>
  );
}
