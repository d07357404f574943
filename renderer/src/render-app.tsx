import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { Transport } from './client/connect';
import { AppShell } from './components/app-shell';
import { ErrorBoundary } from './components/error-boundary';
import { preloadLazyViews } from './lazy-views';
import { AppStoreProvider } from './state/app-store-provider';
import type { AppStore } from './state/store';

/** What the bootstrap started before React loaded: the client, its connection, the store and the first load. */
export interface Started extends Transport {
  store: AppStore;
  loading: Promise<void>;
}

/** Renders the app into `root` over what the bootstrap started; the other views' chunks load once the list is in. */
export function renderApp(root: HTMLElement, { client, connection, store, loading }: Started): void {
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary scope="Berth">
        <AppStoreProvider client={client} connection={connection} store={store} loading={loading}>
          <AppShell />
        </AppStoreProvider>
      </ErrorBoundary>
    </StrictMode>,
  );
  void loading.finally(preloadLazyViews);
}
