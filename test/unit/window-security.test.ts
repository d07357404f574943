import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions, OnHeadersReceivedListenerDetails, WebContents } from 'electron';
import type { AppOrigin } from '../../electron/window/app-origin';
import { isAllowedExternalUrl, projectUrl, specUrls } from '../../electron/window/external-links';
import { menuTemplate } from '../../electron/window/menu';
import {
  contentSecurityPolicy,
  hardenSession,
  hardenWebContents,
  type SessionLike,
  type WebContentsLike,
} from '../../electron/window/security';

const bundle: AppOrigin = { kind: 'bundle', rendererDir: '/r' };
const dev: AppOrigin = { kind: 'dev-server', url: 'http://localhost:5173/' };

const directives = (csp: string) =>
  new Map(
    csp.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );

describe('contentSecurityPolicy', () => {
  it('allows only the app’s own files in production: no inline or eval’d script, no remote connections', () => {
    const csp = directives(contentSecurityPolicy(bundle));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    // No worker of its own: default-src 'none' refuses them.
    expect(csp.has('worker-src')).toBe(false);
    expect(contentSecurityPolicy(bundle)).not.toMatch(/unsafe-(inline|eval)|\*|https?:/);
  });

  it('lets the dev server add its inline preamble and HMR socket, and nothing remote', () => {
    const csp = directives(contentSecurityPolicy(dev));
    expect(csp.get('script-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp.get('connect-src')).toEqual(["'self'", 'ws://localhost:5173']);
    expect(contentSecurityPolicy(dev)).not.toMatch(/unsafe-eval|\*/);
  });
});

describe('isAllowedExternalUrl', () => {
  it.each([
    ['https://github.com/opencontainers/image-spec', true],
    ['https://hub.docker.com/_/alpine', true],
    ['http://github.com/', false],
    ['https://github.com.evil.example/', false],
    ['https://evil.example/github.com', false],
    ['https://user@github.com/', false],
    ['https://github.com:8443/', false],
    ['file:///etc/passwd', false],
    ['smb://server/share', false],
    ['javascript:alert(1)', false],
    ['berth://app/index.html', false],
    ['', false],
  ])('%s → %s', (url, expected) => {
    expect(isAllowedExternalUrl(url)).toBe(expected);
  });

  it('allows every link the app itself offers', () => {
    for (const url of [projectUrl, ...Object.values(specUrls)]) expect(isAllowedExternalUrl(url)).toBe(true);
  });
});

describe('hardenSession', () => {
  function fakeSession() {
    const seen: {
      request?: Parameters<SessionLike['setPermissionRequestHandler']>[0];
      check?: Parameters<SessionLike['setPermissionCheckHandler']>[0];
      device?: Parameters<SessionLike['setDevicePermissionHandler']>[0];
      headers?: (details: OnHeadersReceivedListenerDetails, callback: (r: unknown) => void) => void;
    } = {};
    const session = {
      setPermissionRequestHandler: (h) => void (seen.request = h),
      setPermissionCheckHandler: (h) => void (seen.check = h),
      setDevicePermissionHandler: (h) => void (seen.device = h),
      webRequest: { onHeadersReceived: (h: typeof seen.headers) => void (seen.headers = h) },
    } as SessionLike;
    return { session, seen };
  }

  it('denies every permission request and check', () => {
    const { session, seen } = fakeSession();
    hardenSession(session, bundle);
    for (const permission of [
      'media',
      'notifications',
      'geolocation',
      'clipboard-read',
      'openExternal',
    ] as const) {
      let granted: boolean | undefined;
      seen.request?.({} as WebContents, permission, (g) => (granted = g), {} as never);
      expect(granted).toBe(false);
      expect(seen.check?.(null, permission, 'berth://app', {} as never)).toBe(false);
    }
    expect(seen.device?.({} as never)).toBe(false);
  });

  it('replaces any Content-Security-Policy header, whatever its case, with the app’s own', () => {
    const { session, seen } = fakeSession();
    hardenSession(session, dev);
    let result: unknown;
    seen.headers?.(
      {
        url: 'http://localhost:5173/',
        responseHeaders: { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] },
      } as unknown as OnHeadersReceivedListenerDetails,
      (r) => (result = r),
    );
    expect(result).toEqual({
      responseHeaders: {
        'Content-Type': ['text/html'],
        'Content-Security-Policy': [contentSecurityPolicy(dev)],
      },
    });
  });
});

describe('hardenWebContents', () => {
  type Handler = Parameters<WebContentsLike['setWindowOpenHandler']>[0];

  function harden(origin: AppOrigin) {
    const emitter = new EventEmitter();
    const opened: string[] = [];
    let openHandler: Handler | undefined;
    const contents = {
      on: (name: string, listener: (...args: unknown[]) => void) => emitter.on(name, listener),
      setWindowOpenHandler: (h: Handler) => void (openHandler = h),
    } as unknown as WebContentsLike;
    hardenWebContents(contents, origin, (url) => opened.push(url));
    const fire = (name: string, details: Record<string, unknown>) => {
      let prevented = false;
      emitter.emit(name, { ...details, preventDefault: () => (prevented = true) });
      return prevented;
    };
    const open = (url: string) => openHandler?.({ url } as Parameters<Handler>[0]);
    return { fire, open, opened };
  }

  it('refuses every new window, handing allow-listed https links to the browser', () => {
    const { open, opened } = harden(bundle);
    expect(open('https://github.com/opencontainers/image-spec')).toEqual({ action: 'deny' });
    expect(open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(open('berth://app/index.html')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://github.com/opencontainers/image-spec']);
  });

  it('blocks navigation and redirects away from the app', () => {
    const { fire, opened } = harden(bundle);
    expect(fire('will-navigate', { url: 'berth://app/index.html' })).toBe(false);
    expect(fire('will-navigate', { url: 'https://evil.example/' })).toBe(true);
    expect(fire('will-navigate', { url: 'file:///etc/passwd' })).toBe(true);
    expect(fire('will-redirect', { url: 'https://evil.example/' })).toBe(true);
    expect(fire('will-navigate', { url: 'https://hub.docker.com/_/alpine' })).toBe(true);
    expect(opened).toEqual(['https://hub.docker.com/_/alpine']);
  });

  it('blocks subframes from leaving the app, and leaves main-frame checks to will-navigate', () => {
    const { fire, opened } = harden(dev);
    expect(fire('will-frame-navigate', { url: 'https://evil.example/', isMainFrame: false })).toBe(true);
    expect(fire('will-frame-navigate', { url: 'http://localhost:5173/x', isMainFrame: false })).toBe(false);
    expect(fire('will-frame-navigate', { url: 'https://github.com/', isMainFrame: true })).toBe(false);
    expect(opened).toEqual([]);
  });

  it('refuses to attach any webview', () => {
    const { fire } = harden(bundle);
    expect(fire('will-attach-webview', {})).toBe(true);
  });
});

describe('menuTemplate', () => {
  const roles = (items: MenuItemConstructorOptions[]): string[] =>
    items.flatMap((item) => [
      ...(item.role === undefined ? [] : [item.role]),
      ...(Array.isArray(item.submenu) ? roles(item.submenu) : []),
    ]);

  it('has the standard role-based items, and devtools only in development', () => {
    const opened: string[] = [];
    const linux = menuTemplate({
      appName: 'Berth',
      platform: 'linux',
      devTools: false,
      openLink: (u) => opened.push(u),
    });
    expect(linux.map((m) => m.label ?? m.role)).toEqual(['&File', '&Edit', '&View', 'windowMenu', 'help']);
    expect(roles(linux)).toEqual(
      expect.arrayContaining([
        'quit',
        'undo',
        'redo',
        'cut',
        'copy',
        'paste',
        'selectAll',
        'reload',
        'zoomIn',
        'togglefullscreen',
      ]),
    );
    expect(roles(linux)).not.toContain('toggleDevTools');
    expect(
      roles(menuTemplate({ appName: 'Berth', platform: 'linux', devTools: true, openLink: () => undefined })),
    ).toContain('toggleDevTools');

    const help = linux.at(-1)?.submenu as MenuItemConstructorOptions[];
    help[0]?.click?.({} as never, undefined, {});
    expect(opened).toEqual([projectUrl]);
  });

  it('adds the app menu on macOS and closes the window from File instead of quitting', () => {
    const mac = menuTemplate({
      appName: 'Berth',
      platform: 'darwin',
      devTools: false,
      openLink: () => undefined,
    });
    expect(mac[0]?.label).toBe('Berth');
    expect(roles([mac[0] ?? {}])).toEqual(['about', 'services', 'hide', 'hideOthers', 'unhide', 'quit']);
    expect(mac.map((m) => m.label ?? m.role)).toEqual([
      'Berth',
      'File',
      'Edit',
      'View',
      'windowMenu',
      'help',
    ]);
    expect(roles([mac[1] ?? {}])).toEqual(['close']);
  });
});
