import { useEffect } from 'react';
import { useAppStore } from '../state/app-store-provider';
import type { View } from '../state/ui-slice';
import {
  ActivityView,
  DiskUsageView,
  PruneView,
  PullDialogHost,
  RegistriesView,
  SettingsView,
} from '../lazy-views';
import { ImagesView } from '../views/images-view';
import { PullDialogButton, PullsPanel, PullsPanelButton } from '../views/pulls-panel';
import { PullsView } from '../views/pulls-view';
import { ErrorBoundary } from './error-boundary';
import { Icon } from './icon';
import { NavSidebar, viewEntries } from './nav-sidebar';
import { StatusBar } from './status-bar';
import { ToastStack } from './toast-stack';

function CurrentView({ view }: { view: View }) {
  switch (view) {
    case 'images':
      return <ImagesView />;
    case 'pulls':
      return <PullsView />;
    case 'disk':
      return <DiskUsageView />;
    case 'prune':
      return <PruneView />;
    case 'activity':
      return <ActivityView />;
    case 'settings':
      return <SettingsView />;
    case 'registries':
      return <RegistriesView />;
  }
}

function ConnectionBanner() {
  const connection = useAppStore((s) => s.ui.connection);
  if (connection !== 'lost') return null;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-lost">
      <Icon name="plug" />
      Connection to Berth lost — reconnecting… Changes made meanwhile appear once it is back.
    </div>
  );
}

/** Follows the theme setting: `light`/`dark` pin the colour scheme, `system` follows the OS. */
function useThemeAttribute() {
  const theme = useAppStore((s) => s.settings.value?.theme ?? 'system');
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
}

/** The app frame: left nav, a header naming the view, the view itself, a status bar and toasts. */
export function AppShell() {
  const view = useAppStore((s) => s.ui.view);
  // Rendered only when open: rendering the lazy host would fetch its chunk during the first paint.
  const pullDialogOpen = useAppStore((s) => s.pulls.dialog !== null);
  const title = viewEntries.find((entry) => entry.view === view)?.title ?? '';
  useThemeAttribute();
  return (
    <div className="app-shell">
      <NavSidebar />
      <main className="main">
        <header className="header">
          <h1 id="view-title">{title}</h1>
          <span className="toolbar-spacer" />
          <PullDialogButton />
          <PullsPanelButton />
        </header>
        <ConnectionBanner />
        <div className="content">
          <ErrorBoundary key={view} scope={`the ${title} view`}>
            <CurrentView view={view} />
          </ErrorBoundary>
        </div>
      </main>
      <ErrorBoundary scope="the Pulls panel">
        <PullsPanel />
        {pullDialogOpen && <PullDialogHost />}
      </ErrorBoundary>
      <StatusBar />
      <ToastStack />
    </div>
  );
}
