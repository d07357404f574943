import { formatBytes, formatCount } from '../../../shared/format';
import type { ConnectionState } from '../client/ws-client';
import { useAppStore } from '../state/app-store-provider';
import { selectImageCount, selectTotalSize } from '../state/image-selectors';

const connectionLabels: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Connected',
  lost: 'Connection lost, reconnecting…',
};

/** The bottom bar: image count, total size and the state of the connection to main. */
export function StatusBar() {
  const count = useAppStore(selectImageCount);
  const size = useAppStore(selectTotalSize);
  const ready = useAppStore((s) => s.images.status === 'ready' && s.images.pending === 0);
  const connection = useAppStore((s) => s.ui.connection);
  const app = useAppStore((s) => s.settings.app);
  return (
    <footer className="status-bar" data-testid="status-bar">
      <span className="status-item" data-testid="connection-state" data-state={connection} role="status">
        <span className={`status-dot status-${connection}`} aria-hidden="true" />
        {connectionLabels[connection]}
      </span>
      {ready && (
        <>
          <span className="status-item" data-testid="image-count">
            {formatCount(count)} {count === 1 ? 'image' : 'images'}
          </span>
          <span className="status-item" data-testid="total-size">
            {formatBytes(size)}
          </span>
        </>
      )}
      <span className="toolbar-spacer" />
      {app && (
        <span className="status-item status-muted">
          Berth {app.version} · {app.host === 'serve' ? 'browser' : 'desktop'}
        </span>
      )}
    </footer>
  );
}
