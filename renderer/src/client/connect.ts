import { clientFromBridge } from '../../../shared/client';
import type { BerthBridge, BerthClient } from '../../../shared/contract';
import { createWsClient, type Connection } from './ws-client';

declare global {
  interface Window {
    /** The Electron preload bridge; absent when the renderer runs in a plain browser under `berth serve`. */
    berth?: BerthBridge;
  }
}

/** A client for the renderer and, when it runs over a WebSocket, the connection to watch. */
export interface Transport {
  client: BerthClient;
  connection?: Connection;
}

/**
 * Picks the transport: the preload bridge inside Electron, otherwise a WebSocket to `/ws` on the page's own
 * origin (the `berth serve` host; its HttpOnly cookie authenticates the upgrade, so no token is handled here).
 */
export function connect(win: Window = window): Transport {
  if (win.berth) return { client: clientFromBridge(win.berth) };
  const scheme = win.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = createWsClient({ WebSocket, url: `${scheme}//${win.location.host}/ws` });
  return { client, connection: client };
}
