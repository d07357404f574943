import { pullActive } from '../../../shared/contract';
import { formatCount } from '../../../shared/format';
import { useAppStore } from '../state/app-store-provider';
import type { View } from '../state/ui-slice';
import { Icon, type IconName } from './icon';

/** The views in nav order, with their titles and icons. */
export const viewEntries: { view: View; title: string; icon: IconName }[] = [
  { view: 'images', title: 'Images', icon: 'images' },
  { view: 'pulls', title: 'Pulls', icon: 'pulls' },
  { view: 'disk', title: 'Disk usage', icon: 'disk' },
  { view: 'prune', title: 'Prune', icon: 'prune' },
  { view: 'activity', title: 'Activity', icon: 'activity' },
  { view: 'settings', title: 'Settings', icon: 'settings' },
  { view: 'registries', title: 'Registries', icon: 'plug' },
];

function NavCount({ view }: { view: View }) {
  const count = useAppStore((s) =>
    view === 'images'
      ? s.images.order.length + s.images.pending
      : view === 'pulls'
        ? s.pulls.order.filter((id) => pullActive(s.pulls.byId[id])).length
        : 0,
  );
  return count > 0 ? <span className="nav-count">{formatCount(count)}</span> : null;
}

/** The left navigation between the top-level views. */
export function NavSidebar() {
  const current = useAppStore((s) => s.ui.view);
  const setView = useAppStore((s) => s.setView);
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="images" />
        </span>
        <span className="brand-name">Berth</span>
      </div>
      <ul className="nav-list">
        {viewEntries.map((entry) => (
          <li key={entry.view}>
            <button
              type="button"
              className={entry.view === current ? 'nav-item active' : 'nav-item'}
              aria-current={entry.view === current ? 'page' : undefined}
              data-testid={`nav-${entry.view}`}
              onClick={() => setView(entry.view)}
            >
              <Icon name={entry.icon} />
              <span className="nav-title">{entry.title}</span>
              <NavCount view={entry.view} />
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
