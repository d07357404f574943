import type { IpcMainInvokeEvent, Session, WebContents } from 'electron';
import { isAppUrl, type AppOrigin } from './app-origin';
import { isAllowedExternalUrl } from './external-links';

/**
 * The Content-Security-Policy every app page gets. Production allows only the app's own files: no inline
 * or eval'd script, no remote connections (the renderer talks to main over the preload bridge). The dev
 * server additionally needs Vite's inline React-refresh preamble, its injected styles and its HMR socket.
 */
export function contentSecurityPolicy(origin: AppOrigin): string {
  const dev = origin.kind === 'dev-server';
  const hmr = dev ? ` ${new URL(origin.url).origin.replace(/^http/, 'ws')}` : '';
  return [
    "default-src 'none'",
    dev ? "script-src 'self' 'unsafe-inline'" : "script-src 'self'",
    dev ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${hmr}`,
    "manifest-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The part of a Session the hardening touches. */
export type SessionLike = Pick<
  Session,
  'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler' | 'webRequest'
>;

/** Denies every permission (camera, notifications, HID, …) and puts the CSP header on every response. */
export function hardenSession(session: SessionLike, origin: AppOrigin): void {
  const csp = contentSecurityPolicy(origin);
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = Object.fromEntries(
      Object.entries(details.responseHeaders ?? {}).filter(
        ([name]) => name.toLowerCase() !== 'content-security-policy',
      ),
    );
    callback({ responseHeaders: { ...responseHeaders, 'Content-Security-Policy': [csp] } });
  });
}

/** The part of a WebContents the hardening touches. */
export type WebContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * Locks down any web contents: no `<webview>`, no new windows (allow-listed https links go to the system
 * browser instead), and no navigation or redirect of any frame away from the app.
 */
export function hardenWebContents(
  contents: WebContentsLike,
  origin: AppOrigin,
  openExternal: (url: string) => void,
): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) openExternal(url);
    return { action: 'deny' };
  });
  const keepInApp = (event: { preventDefault(): void }, url: string) => {
    if (isAppUrl(url, origin)) return;
    event.preventDefault();
    if (isAllowedExternalUrl(url)) openExternal(url);
  };
  contents.on('will-navigate', (event) => keepInApp(event, event.url));
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame && !isAppUrl(event.url, origin)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => keepInApp(event, event.url));
}

/**
 * Builds the IPC sender check: a call is trusted only from the main frame of one of our windows, while that
 * frame shows an app URL. Subframes, foreign pages and frames already gone are refused.
 */
export function trustedSenderCheck(
  origin: AppOrigin,
  isOwnContents: (contents: WebContents) => boolean,
): (event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>) => boolean {
  return (event) => {
    let frame: IpcMainInvokeEvent['senderFrame'];
    try {
      frame = event.senderFrame;
    } catch {
      return false;
    }
    if (frame === null || frame.parent !== null) return false;
    if (!isOwnContents(event.sender)) return false;
    return isAppUrl(frame.url, origin);
  };
}
