import { extname, resolve, sep } from 'node:path';

/** The custom scheme the packaged renderer is served on (`berth://app/index.html`), instead of `file://`. */
export const appScheme = 'berth';
/** The one host of `appScheme`; every app URL has it. */
export const appHost = 'app';

/**
 * Where the renderer comes from: the built files behind `berth://app/` in production, or the electron-vite
 * dev server (`ELECTRON_RENDERER_URL`) in development.
 */
export type AppOrigin = { kind: 'bundle'; rendererDir: string } | { kind: 'dev-server'; url: string };

/** Picks the renderer origin from the environment electron-vite sets in development. */
export function appOriginFrom(env: NodeJS.ProcessEnv, rendererDir: string, packaged: boolean): AppOrigin {
  const devUrl = env.ELECTRON_RENDERER_URL;
  if (
    !packaged &&
    devUrl !== undefined &&
    /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\/?$/.test(devUrl)
  ) {
    return { kind: 'dev-server', url: devUrl };
  }
  return { kind: 'bundle', rendererDir };
}

/** The URL the main window loads first. */
export function appEntryUrl(origin: AppOrigin): string {
  return origin.kind === 'bundle' ? `${appScheme}://${appHost}/index.html` : origin.url;
}

/**
 * True when `url` belongs to the app itself. Compared by scheme, host and port, never by prefix
 * (`berth://app.evil/` or `http://localhost:5173@evil/` must not pass).
 */
export function isAppUrl(url: string, origin: AppOrigin): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return false;
  if (origin.kind === 'bundle') {
    return parsed.protocol === `${appScheme}:` && parsed.host.toLowerCase() === appHost;
  }
  return parsed.origin === new URL(origin.url).origin;
}

/**
 * Maps a `berth://app/…` request to a file inside `rendererDir`, or undefined when the URL is not an app
 * URL or its path would leave that folder. `/` serves `index.html`.
 */
export function rendererFileFor(requestUrl: string, rendererDir: string): string | undefined {
  if (!isAppUrl(requestUrl, { kind: 'bundle', rendererDir })) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(requestUrl).pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return undefined;
  const root = resolve(rendererDir);
  const file = resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname));
  return file.startsWith(root + sep) ? file : undefined;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The Content-Type for a renderer file; module scripts are refused by Chromium without a JavaScript type. */
export function contentTypeFor(file: string): string {
  return contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
}
