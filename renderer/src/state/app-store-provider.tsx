import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { BerthClient } from '../../../shared/contract';
import type { Connection } from '../client/ws-client';
import { loadEverything, subscribeToMain } from './events';
import { createAppStore, type AppState, type AppStore } from './store';

const AppStoreContext = createContext<AppStore | null>(null);

/** Props of AppStoreProvider: the client to reach main through and, for WebSocket hosts, its connection. */
export interface AppStoreProviderProps {
  client: BerthClient;
  connection?: Connection;
  /** A ready-made store (tests); by default one is created from `client`. */
  store?: AppStore;
  /**
   * The first `loadEverything` of `store` when the caller already started it (main.tsx does, before the
   * first render, so the requests leave as soon as the socket opens); otherwise the provider starts it.
   */
  loading?: Promise<void>;
  children: ReactNode;
}

/** Creates the app store once, keeps it in sync with main, and provides it to the tree below. */
export function AppStoreProvider({
  client,
  connection,
  store: given,
  loading,
  children,
}: AppStoreProviderProps) {
  const [store] = useState(() => given ?? createAppStore(client));
  useEffect(() => {
    const stop = subscribeToMain(store, client, connection);
    if (!loading) void loadEverything(store);
    return stop;
  }, [store, client, connection, loading]);
  return <AppStoreContext.Provider value={store}>{children}</AppStoreContext.Provider>;
}

/** The store itself, for actions and for code that reads state outside render. */
export function useAppStoreApi(): AppStore {
  const store = useContext(AppStoreContext);
  if (!store) throw new Error('useAppStore must be used inside <AppStoreProvider>');
  return store;
}

/** Reads one atomic piece of app state; wrap derived arrays or objects in `useShallow`. */
export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(useAppStoreApi(), selector);
}
