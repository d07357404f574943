import { connect } from './client/connect';
import { loadEverything } from './state/events';
import { createAppStore } from './state/store';
import './styles/app.css';
import './styles/pulls.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// Open the socket and ask for the first page of images before React is even fetched and compiled: the
// request leaves the moment the socket opens, while the (much larger) React chunk loads in parallel.
const { client, connection } = connect();
const store = createAppStore(client, { waitForFirstRows: true });
const loading = loadEverything(store);
void import('./render-app').then(({ renderApp }) => renderApp(root, { client, connection, store, loading }));
