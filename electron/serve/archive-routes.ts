import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { archiveHttpPaths, type ArchiveSaveRequest, type Outcome } from '../../shared/contract';
import { BerthError, toWireError } from '../../shared/error';
import type { ImageStore } from '../core/store/image-store';
import { suggestedArchiveName } from '../ipc/archive-handlers';

/** An extra HTTP route of `berth serve`, run after the token check; true when it answered the request. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** A saved archive waiting for its one download. */
interface PendingDownload {
  dir: string;
  file: string;
  name: string;
  timer: NodeJS.Timeout;
}

const maxRequestJsonBytes = 1024 * 1024;
/** A save nobody downloads is deleted after this long. */
const downloadLifetimeMs = 10 * 60_000;

const statusOf: Partial<Record<string, number>> = {
  BAD_REQUEST: 400,
  INVALID_REFERENCE: 400,
  ARCHIVE_INVALID: 400,
  DIGEST_MISMATCH: 400,
  SIZE_MISMATCH: 400,
  MANIFEST_INVALID: 400,
  TOO_LARGE: 413,
  IMAGE_UNKNOWN: 404,
  NOT_FOUND: 404,
  AMBIGUOUS_ID: 409,
  CONFLICT: 409,
};

function answer(res: ServerResponse, status: number, outcome: Outcome<unknown>): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(outcome));
}

function fail(res: ServerResponse, err: unknown): void {
  const error = toWireError(err);
  answer(res, statusOf[error.code] ?? 500, { ok: false, error });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > maxRequestJsonBytes) throw new BerthError('TOO_LARGE', 'request body is too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BerthError('BAD_REQUEST', 'request body is not JSON');
  }
}

function saveRequestOf(body: unknown): ArchiveSaveRequest {
  const { images, format, compress } = (body ?? {}) as Record<string, unknown>;
  if (!Array.isArray(images) || images.length === 0 || !images.every((i) => typeof i === 'string'))
    throw new BerthError('BAD_REQUEST', '"images" must be a non-empty list of image names or IDs');
  if (format !== undefined && format !== 'docker-archive' && format !== 'oci-archive')
    throw new BerthError('BAD_REQUEST', `unknown archive format ${JSON.stringify(format)}`);
  if (compress !== undefined && typeof compress !== 'boolean')
    throw new BerthError('BAD_REQUEST', '"compress" must be true or false');
  return { images, format: format ?? 'docker-archive', compress: compress === true };
}

/**
 * The browser host's archive transfer: a save is written to a temp folder and answered with a one-time
 * download path (so a failed save is a clear error, not a broken download); a load streams the request
 * body straight into the loader. POSTs must come from this host's own page (Origin), like the WebSocket.
 */
export function archiveRoutes(images: () => Promise<ImageStore>): {
  route: HttpRoute;
  close: () => Promise<void>;
} {
  const downloads = new Map<string, PendingDownload>();
  const drop = async (id: string) => {
    const pending = downloads.get(id);
    if (!pending) return;
    downloads.delete(id);
    clearTimeout(pending.timer);
    await rm(pending.dir, { recursive: true, force: true });
  };

  const save = async (req: IncomingMessage, res: ServerResponse) => {
    const request = saveRequestOf(await readJson(req));
    const dir = await mkdtemp(join(tmpdir(), 'berth-download-'));
    try {
      const name = suggestedArchiveName(request.images, request.compress === true);
      const { saveImages } = await import('../core/archive/save');
      const archive = await saveImages(await images(), { ...request, output: join(dir, name) });
      const id = randomBytes(16).toString('hex');
      const timer = setTimeout(() => void drop(id), downloadLifetimeMs);
      timer.unref();
      downloads.set(id, { dir, file: archive.path, name, timer });
      answer(res, 200, {
        ok: true,
        value: { download: archiveHttpPaths.download + id, archive: { ...archive, path: name } },
      });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  };

  const download = async (id: string, res: ServerResponse) => {
    const pending = downloads.get(id);
    // Taken out before anything is awaited: each download is fetched once, so a second request gets
    // NOT_FOUND even while the first is still streaming (dropping it on close left that window open).
    downloads.delete(id);
    if (pending) clearTimeout(pending.timer);
    const removeFiles = () =>
      pending ? rm(pending.dir, { recursive: true, force: true }) : Promise.resolve();
    const info = pending && (await stat(pending.file).catch(() => undefined));
    if (!pending || !info) {
      await removeFiles();
      throw new BerthError('NOT_FOUND', 'no such download (each is fetched once, within 10 minutes)');
    }
    res.writeHead(200, {
      'content-type': pending.name.endsWith('.gz') ? 'application/gzip' : 'application/x-tar',
      'content-length': String(info.size),
      'content-disposition': `attachment; filename="${basename(pending.name)}"`,
      'cache-control': 'no-store',
    });
    const stream = createReadStream(pending.file);
    stream.pipe(res);
    res.once('close', () => {
      stream.destroy();
      void removeFiles();
    });
  };

  const load = async (req: IncomingMessage, res: ServerResponse) => {
    const label = req.headers['x-berth-filename'];
    const name =
      typeof label === 'string' && label !== '' ? basename(decodeURIComponent(label)) : 'the upload';
    try {
      const { loadArchive } = await import('../core/archive/load');
      const loaded = await loadArchive(await images(), { stream: req, label: name });
      answer(res, 200, { ok: true, value: loaded });
    } catch (err) {
      // The rest of a refused upload is not read: answer, then close the connection.
      res.setHeader('connection', 'close');
      fail(res, err);
      res.once('finish', () => req.destroy());
    }
  };

  const route: HttpRoute = async (req, res, url) => {
    if (!url.pathname.startsWith('/archive/')) return false;
    const sameOrigin =
      req.headers.origin === undefined || req.headers.origin === `http://${req.headers.host ?? ''}`;
    try {
      if (url.pathname === archiveHttpPaths.save && req.method === 'POST') {
        if (!sameOrigin) throw new BerthError('DENIED', 'archive requests must come from the Berth page');
        await save(req, res);
      } else if (url.pathname === archiveHttpPaths.load && req.method === 'POST') {
        if (!sameOrigin) throw new BerthError('DENIED', 'archive requests must come from the Berth page');
        await load(req, res);
      } else if (url.pathname.startsWith(archiveHttpPaths.download) && req.method === 'GET') {
        await download(url.pathname.slice(archiveHttpPaths.download.length), res);
      } else {
        throw new BerthError('NOT_FOUND', `no archive route ${req.method ?? ''} ${url.pathname}`);
      }
    } catch (err) {
      if (res.headersSent) res.destroy();
      else if (err instanceof BerthError && err.code === 'DENIED')
        answer(res, 403, { ok: false, error: err.toWire() });
      else fail(res, err);
    }
    return true;
  };

  return { route, close: async () => void (await Promise.all([...downloads.keys()].map(drop))) };
}
