import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './client/connect';
import { AppShell } from './components/app-shell';
import { ErrorBoundary } from './components/error-boundary';
import { preloadLazyViews } from './lazy-views';
import { AppStoreProvider } from './state/app-store-provider';
import { loadEverything } from './state/events';
import { createAppStore } from './state/store';
import './styles/app.css';
import './styles/pulls.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
const { client, connection } = connect();
// Ask for the image list before React's first render: the request leaves the moment the socket opens.
const store = createAppStore(client);
const loading = loadEverything(store);
// The other views' chunks load once the whole list is in, off the first screen's path.
void Promise.resolve(loading).finally(preloadLazyViews);

createRoot(root).render(
  <StrictMode>
    <ErrorBoundary scope="Berth">
      <AppStoreProvider client={client} connection={connection} store={store} loading={loading}>
        <AppShell />
      </AppStoreProvider>
    </ErrorBoundary>
  </StrictMode>,
);
