import { StrictMode, useEffect } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import type { Transport } from './client/connect';
import { AppShell } from './components/app-shell';
import { ErrorBoundary } from './components/error-boundary';
import { preloadLazyViews } from './lazy-views';
import { AppStoreProvider } from './state/app-store-provider';
import { afterNextPaint } from './state/images-slice';
import type { AppStore } from './state/store';

/** What the bootstrap started before React loaded: the client, its connection, the store and the first load. */
export interface Started extends Transport {
  store: AppStore;
  loading: Promise<void>;
}

/** Calls `painted` once the frame after the app's first commit was painted. */
function FirstPaint({ painted }: { painted: () => void }) {
  useEffect(() => {
    void afterNextPaint().then(painted);
  }, [painted]);
  return null;
}

/**
 * Renders the app into `element` over what the bootstrap started. The other views' chunks load once the first
 * load settled and the first screen is painted: a small store's load can settle before React's first render,
 * and their download and compile would then delay that render.
 */
export function renderApp(element: HTMLElement, { client, connection, store, loading }: Started): Root {
  let painted = (): void => undefined;
  const firstPaint = new Promise<void>((resolve) => (painted = resolve));
  const root = createRoot(element);
  root.render(
    <StrictMode>
      <FirstPaint painted={painted} />
      <ErrorBoundary scope="Berth">
        <AppStoreProvider client={client} connection={connection} store={store} loading={loading}>
          <AppShell />
        </AppStoreProvider>
      </ErrorBoundary>
    </StrictMode>,
  );
  void Promise.all([loading.catch(() => undefined), firstPaint]).then(preloadLazyViews);
  return root;
}
