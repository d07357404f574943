import type { BerthClient } from '../../../shared/contract';
import type { Connection } from '../client/ws-client';
import type { AppStore } from './store';

/** Everything the renderer shows from main, fetched afresh: on start and after a lost connection returns. */
export function loadEverything(store: AppStore): Promise<void> {
  const s = store.getState();
  return Promise.all([s.loadImages(), s.loadPulls(), s.loadSettings(), s.loadActivity()]).then(
    () => undefined,
  );
}

/**
 * Refreshes what a store change can affect: the image list always; disk usage and a prune preview when a
 * view has asked for them; the activity log when another process (the CLI) made the change, since main
 * sends `activity:changed` only for its own changes; the open layer explorer's platforms (a pull may add one).
 */
function onStoreChanged(store: AppStore, reason: string): void {
  const s = store.getState();
  void s.loadImages();
  if (s.disk.status !== 'idle') void s.loadDiskUsage();
  if (s.disk.preview && !s.disk.pruning) void s.previewPrune(s.disk.preview.options);
  if (reason === 'external' && s.activity.status !== 'idle') void s.loadActivity();
  if (s.explorer?.platforms) void s.loadPlatforms();
}

/**
 * The one place the renderer listens to the main process: store changes reload what they affect, pull
 * progress and activity fold into their slices, and connection changes are mirrored into the UI slice
 * (with a full reload when a lost connection comes back, since events sent meanwhile were missed).
 * Returns a function that stops listening.
 */
export function subscribeToMain(store: AppStore, client: BerthClient, connection?: Connection): () => void {
  const stops = [
    client.subscribe('store:changed', ({ reason }) => onStoreChanged(store, reason)),
    client.subscribe('pull:progress', (progress) => store.getState().applyPullProgress(progress)),
    client.subscribe('activity:changed', (event) => store.getState().appendActivity(event)),
  ];
  if (connection) {
    store.getState().setConnection(connection.getState());
    stops.push(
      connection.subscribeState((state) => {
        const was = store.getState().ui.connection;
        store.getState().setConnection(state);
        if (state === 'open' && was === 'lost') void loadEverything(store);
      }),
    );
  } else {
    store.getState().setConnection('open');
  }
  return () => {
    for (const stop of stops) stop();
  };
}
