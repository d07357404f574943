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
 * The one place the renderer listens to the main process: store changes reload the image list, pull
 * progress and activity fold into their slices, and connection changes are mirrored into the UI slice
 * (with a full reload when a lost connection comes back, since events sent meanwhile were missed).
 * Returns a function that stops listening.
 */
export function subscribeToMain(store: AppStore, client: BerthClient, connection?: Connection): () => void {
  const stops = [
    client.subscribe('store:changed', () => void store.getState().loadImages()),
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
