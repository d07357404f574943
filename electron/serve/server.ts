import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Emit, Handlers, ImagePage } from '../../shared/contract';
import { firstImagePageParams, preloadElementId, type PreloadedAnswer } from '../../shared/image-page';
import { dispatch } from '../ipc/dispatch';
import type { HttpRoute } from './archive-routes';

/** How to run the browser host. */
export interface ServeOptions {
  host: string;
  port: number;
  /** Folder holding the built renderer (index.html and assets). */
  rendererDir: string;
  /** Builds the handlers once the host can push events. */
  handlers: (emit: Emit) => Handlers;
  /** A fixed token for tests; a random one per launch otherwise. */
  token?: string;
  /** Extra HTTP routes (archive download and upload), asked in order after the token check. */
  routes?: HttpRoute[];
}

/** A running `berth serve`. */
export interface ServeHost {
  /** The URL to open, carrying the launch token. */
  url: string;
  origin: string;
  token: string;
  port: number;
  emit: Emit;
  /**
   * Answers the first page's `images:page` ahead (reading the store on the way), for the page's first load to
   * send at once; any event before that load drops it, and later loads answer afresh.
   */
  prepareFirstPage(): Promise<void>;
  close(): Promise<void>;
}

/** The Content-Security-Policy sent with every page: no inline script, connections only back to this host. */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const maxMessageBytes = 16 * 1024 * 1024;

/** Largest renderer file kept in memory, and most bytes kept in all: a built renderer is well under both. */
const maxAssetBytes = 4 * 1024 * 1024;
const maxAssetsBytes = 32 * 1024 * 1024;

/**
 * Serves the renderer and the contract over WebSocket on loopback. Every request needs the launch token:
 * once in the URL, which is exchanged for an HttpOnly SameSite=Strict cookie, then the cookie. WebSocket
 * upgrades must also come with an allowed Host and, from browsers, this host's own Origin, so neither a
 * DNS-rebinding page nor a cross-site page can reach the contract.
 */
export async function startServe(options: ServeOptions): Promise<ServeHost> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const sockets = new Set<WebSocket>();
  let preparedAnswers: Promise<PreloadedAnswer[]> | undefined;
  const emit: Emit = (name, payload) => {
    preparedAnswers = undefined;
    const message = JSON.stringify({ event: name, payload });
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(message);
  };
  const handlers = options.handlers(emit);
  const rendererDir = resolve(options.rendererDir);
  const indexFile = join(rendererDir, 'index.html');
  // Read while the caller warms the store, before the URL is printed: the first page's files then go out in
  // one write each, with no file-system round trips through libuv's thread pool on a busy machine.
  const assets = readAssets(rendererDir);
  /**
   * The page's first `images:page`, and `images:list` when that page is the whole list (the page then asks for
   * it at once), answered now so the first screen needs no WebSocket round trip.
   */
  const firstAnswers = async (): Promise<PreloadedAnswer[]> => {
    const outcome = await dispatch(handlers, 'images:page', firstImagePageParams);
    if (!outcome.ok) return [];
    const answers: PreloadedAnswer[] = [{ op: 'images:page', params: firstImagePageParams, outcome }];
    const page = outcome.value as ImagePage;
    if (page.total <= page.images.length) {
      const list = await dispatch(handlers, 'images:list', {});
      if (list.ok) answers.push({ op: 'images:list', params: {}, outcome: list });
    }
    return answers;
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes });
  let port = 0;
  const cookieName = () => `berth_token_${port}`;

  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (!hostHeader) return false;
    const allowed = new Set([
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `${options.host}:${port}`,
    ]);
    // Bound to every interface the user chose to be reachable by address; the token still guards it.
    return allowed.has(hostHeader.toLowerCase()) || options.host === '0.0.0.0' || options.host === '::';
  };
  const tokenOf = (req: IncomingMessage): { fromQuery: boolean; value?: string } => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    if (query !== null) return { fromQuery: true, value: query };
    return { fromQuery: false, value: parseCookies(req.headers.cookie)[cookieName()] };
  };
  const tokenValid = (value: string | undefined) => value !== undefined && safeEqual(value, token);

  const server = createServer((req, res) => {
    void serveHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end('internal error');
      else res.destroy();
    });
  });

  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    if (!hostAllowed(req.headers.host)) return void res.writeHead(403).end('forbidden host');
    const presented = tokenOf(req);
    if (!tokenValid(presented.value))
      return void res
        .writeHead(401, { 'content-type': 'text/plain' })
        .end('unauthorized: open the URL berth serve printed');
    const url = new URL(req.url ?? '/', 'http://x');
    if (presented.fromQuery) {
      url.searchParams.delete('token');
      res.writeHead(303, {
        'set-cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname + url.search,
      });
      return void res.end();
    }
    for (const route of options.routes ?? []) if (await route(req, res, url)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.writeHead(405).end('method not allowed');
    const memory = await assets;
    const candidate = rendererPath(rendererDir, url.pathname);
    const file =
      candidate === undefined
        ? undefined
        : memory.has(candidate)
          ? candidate
          : candidate === rendererDir && memory.has(indexFile)
            ? indexFile
            : await staticFile(rendererDir, candidate);
    if (!file) return void res.writeHead(404).end('not found');
    const body = memory.get(file);
    if (file === indexFile && req.method === 'GET') {
      const html = body?.toString('utf8') ?? (await readFile(file, 'utf8'));
      // The head (the app's script, styles and preload) goes out at once, so the browser fetches them while
      // the first page is answered; the answer follows in the rest of the page.
      const split = html.indexOf('</head>');
      res.writeHead(200, { 'content-type': contentTypes['.html'], 'cache-control': 'no-store' });
      if (split > 0) res.write(html.slice(0, split));
      const prepared = preparedAnswers;
      preparedAnswers = undefined;
      const answers = await (prepared ?? firstAnswers()).catch(() => []);
      return void res.end(withPreloadedAnswers(split > 0 ? html.slice(split) : html, answers));
    }
    res.writeHead(200, {
      'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
      ...(body ? { 'content-length': body.length } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    if (body) return void res.end(body);
    createReadStream(file).pipe(res);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostAllowed(req.headers.host)) return refuse(403, 'Forbidden');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`)
      return refuse(403, 'Forbidden');
    if (!tokenValid(tokenOf(req).value)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (raw) => {
      void answer(ws, rawText(raw));
    });
  }

  async function answer(ws: WebSocket, text: string): Promise<void> {
    let id: unknown = null;
    let op: unknown;
    let params: unknown;
    try {
      const message = JSON.parse(text) as { id?: unknown; op?: unknown; params?: unknown };
      ({ id, op, params } = message);
    } catch {
      op = undefined;
    }
    const outcome = await dispatch(handlers, op, params);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, outcome }));
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      done();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = `http://${shownHost}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    emit,
    prepareFirstPage: async () => {
      const answers = firstAnswers();
      preparedAnswers = answers;
      await answers.catch(() => undefined);
    },
    close: async () => {
      for (const socket of sockets) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * Puts `answers` into the page as a JSON data block (never run as script, so the CSP allows it), with `<`
 * escaped so no value can close the element.
 */
export function withPreloadedAnswers(html: string, answers: PreloadedAnswer[]): string {
  if (answers.length === 0) return html;
  const json = JSON.stringify(answers).replace(/</g, '\\u003c');
  const block = `<script id="${preloadElementId}" type="application/json">${json}</script>`;
  return html.includes('</head>') ? html.replace('</head>', () => `${block}</head>`) : block + html;
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return (raw instanceof ArrayBuffer ? Buffer.from(raw) : raw).toString('utf8');
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', contentSecurityPolicy);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  // No Cross-Origin-Opener-Policy: a page with one leaves the browsing context group of a new tab's first
  // document, so Chromium started a second renderer process for every first load (170 ms of first paint on a
  // 2-core host). It would cut an opener's handle on this window; a cross-site opener only ever reaches the 401
  // page (the cookie is SameSite=Strict), a cross-origin handle cannot read the page, and it has no message handler.
  res.setHeader('cross-origin-resource-policy', 'same-origin');
}

/** Maps a URL path to a path inside `root`, never outside it (undefined for a path that would leave it). */
function rendererPath(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const candidate = resolve(root, '.' + normalize('/' + decoded));
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
  return candidate;
}

/**
 * Every file under `root` (the built renderer) by absolute path, read into memory; none when the folder cannot
 * be read (requests then go to the disk and answer as they would). Files past the size limits stay on disk.
 */
async function readAssets(root: string): Promise<Map<string, Buffer>> {
  const assets = new Map<string, Buffer>();
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  let total = 0;
  const files = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const path = join(entry.parentPath, entry.name);
        const info = await stat(path).catch(() => undefined);
        if (!info || info.size > maxAssetBytes) return undefined;
        const body = await readFile(path).catch(() => undefined);
        return body && ([path, body] as const);
      }),
  );
  for (const file of files) {
    if (!file || total + file[1].length > maxAssetsBytes) continue;
    total += file[1].length;
    assets.set(file[0], file[1]);
  }
  return assets;
}

/** The file on disk for `candidate` (from `rendererPath`); unknown extensionless paths fall back to index.html. */
async function staticFile(root: string, candidate: string): Promise<string | undefined> {
  // Client-side routes (no extension) get the app shell; a missing asset stays a 404.
  const files = extname(candidate) === '' ? [candidate, join(root, 'index.html')] : [candidate];
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return file;
  }
  return undefined;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return cookies;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
