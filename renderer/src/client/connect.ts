import { clientFromBridge } from '../../../shared/client';
import type { BerthBridge, BerthClient } from '../../../shared/contract';
import { preloadElementId, type PreloadedAnswer } from '../../../shared/image-page';
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
  const client = createWsClient({
    WebSocket,
    url: `${scheme}//${win.location.host}/ws`,
    preloaded: preloadedAnswers(win.document),
  });
  return { client, connection: client };
}

/** The answers `berth serve` put in the page (none when absent or unreadable: the calls then go out). */
export function preloadedAnswers(doc: Document): PreloadedAnswer[] {
  const text = doc.getElementById(preloadElementId)?.textContent;
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed)
      ? parsed.filter(
          (a): a is PreloadedAnswer =>
            typeof a === 'object' && a !== null && typeof (a as PreloadedAnswer).op === 'string',
        )
      : [];
  } catch {
    return [];
  }
}
