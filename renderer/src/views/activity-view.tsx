import { shortId } from '../../../shared/digest';
import { formatRelativeTime } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useNow } from '../hooks/use-now';
import { useAppStore } from '../state/app-store-provider';

function shortImage(id: string): string {
  try {
    return shortId(id);
  } catch {
    return id;
  }
}

/** The Activity view: the store's events log, newest first, extended live as main reports changes. */
export function ActivityView() {
  const entries = useAppStore((s) => s.activity.entries);
  const status = useAppStore((s) => s.activity.status);
  const error = useAppStore((s) => s.activity.error);
  const now = useNow();
  return (
    <section className="view activity-view" data-testid="activity-view" aria-labelledby="view-title">
      {status === 'error' && error ? (
        <div className="state-panel state-panel-error" role="alert">
          <Icon name="alert" className="state-icon" />
          <h2>Could not load activity</h2>
          <p className="state-detail">{error.message}</p>
        </div>
      ) : entries.length === 0 ? (
        <div className="state-panel" data-testid="activity-empty">
          <div className="empty-art" aria-hidden="true">
            <Icon name="activity" />
          </div>
          <h2>{status === 'ready' ? 'Nothing has happened yet' : 'Loading activity…'}</h2>
          <p className="state-detail">
            Pulls, tags, removals and other changes to the store are logged here.
          </p>
        </div>
      ) : (
        <ol className="activity-list">
          {entries.map((event, i) => (
            <li key={`${event.time}-${i}`} className="activity-item" data-testid="activity-item">
              <span className={`badge badge-action badge-${event.action}`}>{event.action}</span>
              <span className="activity-subject">
                {event.names?.join(', ') ||
                  (event.id ? <span className="mono">{shortImage(event.id)}</span> : '—')}
              </span>
              <time className="activity-time" dateTime={event.time} title={event.time}>
                {formatRelativeTime(event.time, now)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
