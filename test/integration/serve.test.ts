import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Handlers } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { createHandlers } from '../../electron/ipc/handlers';
import { startServe, withPreloadedAnswers, type ServeHost } from '../../electron/serve/server';
import { firstImagePageParams, preloadElementId, type PreloadedAnswer } from '../../shared/image-page';

let dir: string;
let host: ServeHost;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-serve-'));
  await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Berth</title>');
  await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'renderer', 'assets', 'kept.js'), 'console.log("kept")');
  await writeFile(join(dir, 'secret.txt'), 'outside the renderer');
  host = await startServe({
    host: '127.0.0.1',
    port: 0,
    rendererDir: join(dir, 'renderer'),
    handlers: (emit): Handlers => ({
      ...createHandlers({
        storePath: join(dir, 'store'),
        settingsFile: join(dir, 'config.json'),
        host: 'serve',
        version: '0.0.0-test',
        emit,
      }),
      'images:inspect': ({ image }) =>
        Promise.reject(new BerthError('IMAGE_UNKNOWN', `no image matches "${image}"`, { image })),
      'images:history': () => Promise.reject(new Error('plain failure')),
    }),
  });
});

afterAll(async () => {
  await host.close();
  await rm(dir, { recursive: true, force: true });
});

/** The real handlers on the test's store, their events going nowhere: for hosts that wrap some of them. */
function quietHandlers(): Handlers {
  return createHandlers({
    storePath: join(dir, 'store'),
    settingsFile: join(dir, 'config.json'),
    host: 'serve',
    version: '0.0.0-test',
    emit: () => undefined,
  });
}

/** A second host on the test's store and renderer under a fixed token, with some handlers replaced. */
function startHostWith(token: string, replace: (base: Handlers) => Partial<Handlers>): Promise<ServeHost> {
  const base = quietHandlers();
  return startServe({
    host: '127.0.0.1',
    port: 0,
    rendererDir: join(dir, 'renderer'),
    token,
    handlers: (): Handlers => ({ ...base, ...replace(base) }),
  });
}

/**
 * Loads the page from `other`: with no cookie, its token URL (answering the cookie it sets); with one, the
 * page itself.
 */
function loadFrom(other: ServeHost, cookie?: string): Promise<{ cookie: string; body: string }> {
  return new Promise((done, fail) => {
    const path = cookie === undefined ? `/?token=${other.token}` : '/';
    request({ host: '127.0.0.1', port: other.port, path, headers: cookie ? { cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ cookie: (res.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '', body }));
    })
      .on('error', fail)
      .end();
  });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

async function cookie(): Promise<string> {
  const reply = await get(`/?token=${host.token}`);
  const setCookie = reply.headers['set-cookie']?.[0] ?? '';
  return setCookie.split(';')[0] ?? '';
}

/** Opens a socket and resolves with the HTTP status the upgrade was refused with, or 101. */
function upgrade(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(`ws://127.0.0.1:${host.port}${path}`, { headers });
    socket.once('open', () => done({ status: 101, socket }));
    socket.once('unexpected-response', (_req, res) => {
      done({ status: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('error', (err) => {
      if (socket.readyState !== WebSocket.CLOSED) fail(err);
    });
  });
}

function call(socket: WebSocket, id: number, op: string, params: unknown): Promise<unknown> {
  return new Promise((done) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const message = JSON.parse((raw as Buffer).toString('utf8')) as { id?: number; outcome?: unknown };
      if (message.id === id) {
        socket.off('message', onMessage);
        done(message.outcome);
      }
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, op, params }));
  });
}

describe('berth serve: who may talk to it', () => {
  it('refuses an HTTP request without the token', async () => {
    const reply = await get('/');
    expect(reply.status).toBe(401);
    expect(reply.body).not.toContain('Berth</title>');
  });

  it('refuses a wrong token', async () => {
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { cookie: `berth_token_${host.port}=wrong` })).status).toBe(401);
  });

  it('trades the URL token for an HttpOnly SameSite=Strict cookie and then serves with a strict CSP', async () => {
    const first = await get(`/?token=${host.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const page = await get('/', { cookie: await cookie() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Berth</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain("unsafe-inline'; script");
    // A COOP header would make a browser start a second renderer process for the page (see securityHeaders).
    expect(page.headers['cross-origin-opener-policy']).toBeUndefined();
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const reply = await get(`/?token=${host.token}`, { host: `evil.example:${host.port}` });
    expect(reply.status).toBe(403);
  });

  it('never serves a file outside the renderer folder', async () => {
    const c = await cookie();
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const reply = await get(path, { cookie: c });
      expect(reply.body).not.toContain('outside the renderer');
    }
    expect((await get('/assets/missing.js', { cookie: c })).status).toBe(404);
    expect((await get('/assets/app.js', { cookie: c })).headers['content-type']).toMatch(/javascript/);
  });

  it('serves the renderer from what it read at start, and files added since from the disk', async () => {
    const c = await cookie();
    await rm(join(dir, 'renderer', 'assets', 'kept.js'));
    const kept = await get('/assets/kept.js', { cookie: c });
    expect(kept.status).toBe(200);
    expect(kept.body).toBe('console.log("kept")');
    expect(kept.headers['content-length']).toBe(String('console.log("kept")'.length));
    expect(kept.headers['content-type']).toMatch(/javascript/);

    await writeFile(join(dir, 'renderer', 'assets', 'later.js'), 'console.log("later")');
    const later = await get('/assets/later.js', { cookie: c });
    expect(later.status).toBe(200);
    expect(later.body).toBe('console.log("later")');
    expect((await get('/', { cookie: c })).body).toContain('<title>Berth</title>');
    expect((await get('/images/some-route', { cookie: c })).body).toContain('<title>Berth</title>');
  });

  it('refuses a WebSocket upgrade without the token', async () => {
    const { status } = await upgrade('/ws', { origin: host.origin });
    expect(status).toBe(401);
  });

  it('refuses a WebSocket upgrade from a foreign Origin even with the token', async () => {
    const { status } = await upgrade('/ws', { origin: 'http://evil.example', cookie: await cookie() });
    expect(status).toBe(403);
  });

  it('refuses a WebSocket upgrade with a foreign Host even with the token', async () => {
    const { status } = await upgrade('/ws', {
      host: `evil.example:${host.port}`,
      origin: `http://evil.example:${host.port}`,
      cookie: await cookie(),
    });
    expect(status).toBe(403);
  });
});

describe('berth serve: the first screen in the page', () => {
  it('puts the answers to the first images:page (and images:list, for a store that fits in it) in index.html, the same the WebSocket gives, and only behind the token', async () => {
    const page = await get('/', { cookie: await cookie() });
    const block = new RegExp(`<script id="${preloadElementId}" type="application/json">(.*?)</script>`).exec(
      page.body,
    );
    expect(block).not.toBeNull();
    const answers = JSON.parse(block![1]!) as PreloadedAnswer[];
    const { socket } = await upgrade('/ws', {
      origin: `http://127.0.0.1:${host.port}`,
      cookie: await cookie(),
    });
    try {
      // The test's store is empty: its first page is the whole list, which the page asks for next.
      expect(answers).toEqual([
        {
          op: 'images:page',
          params: firstImagePageParams,
          outcome: await call(socket!, 1, 'images:page', firstImagePageParams),
        },
        { op: 'images:list', params: {}, outcome: await call(socket!, 2, 'images:list', {}) },
      ]);
    } finally {
      socket!.terminate();
    }
    expect(page.body).toContain('<title>Berth</title>');
    expect((await get('/')).body).not.toContain(preloadElementId);
  });

  it('leaves images:list to the page when the store holds more images than the first page', async () => {
    let listed = 0;
    const big = await startHostWith('big-token', (base) => ({
      'images:page': async (params) => ({ ...(await base['images:page'](params)), total: 5000 }),
      'images:list': (params) => {
        listed += 1;
        return base['images:list'](params);
      },
    }));
    try {
      await big.prepareFirstPage();
      const { body } = await loadFrom(big, (await loadFrom(big)).cookie);
      const block = new RegExp(
        `<script id="${preloadElementId}" type="application/json">(.*?)</script>`,
      ).exec(body);
      const answers = JSON.parse(block![1]!) as PreloadedAnswer[];
      expect(answers.map((answer) => answer.op)).toEqual(['images:page']);
      expect(listed).toBe(0);
    } finally {
      await big.close();
    }
  });

  it('sends the page head before the first page is answered, and the answer in the rest of the page', async () => {
    const root = join(dir, 'streamed');
    await mkdir(root, { recursive: true });
    await writeFile(
      join(root, 'index.html'),
      '<!doctype html><html><head><script type="module" src="./assets/app.js"></script></head><body></body></html>',
    );
    let release = (): void => undefined;
    const answered = new Promise<void>((done) => (release = done));
    const base = quietHandlers();
    const gated = await startServe({
      host: '127.0.0.1',
      port: 0,
      rendererDir: root,
      token: 'streamed-token',
      handlers: (): Handlers => ({
        ...base,
        'images:page': async (params) => {
          await answered;
          return base['images:page'](params);
        },
      }),
    });
    try {
      const login = await new Promise<string>((done, fail) => {
        request({ host: '127.0.0.1', port: gated.port, path: '/?token=streamed-token' }, (res) => {
          res.resume();
          done((res.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '');
        })
          .on('error', fail)
          .end();
      });
      const body = await new Promise<{ head: string; whole: string }>((done, fail) => {
        request({ host: '127.0.0.1', port: gated.port, path: '/', headers: { cookie: login } }, (res) => {
          res.setEncoding('utf8');
          let whole = '';
          let head: string | undefined;
          res.on('data', (chunk: string) => {
            whole += chunk;
            if (head === undefined) {
              // The answer is still held back: what came so far is what the page sent without it.
              head = whole;
              release();
            }
          });
          res.on('end', () => done({ head: head ?? '', whole }));
        })
          .on('error', fail)
          .end();
      });
      expect(body.head).toContain('<script type="module" src="./assets/app.js"></script>');
      expect(body.head).not.toContain(preloadElementId);
      expect(body.whole).toMatch(
        new RegExp(`<script id="${preloadElementId}" type="application/json">.*</script></head><body>`),
      );
    } finally {
      await gated.close();
    }
  });

  it('sends a first page answered ahead once, and answers afresh after an event or on the next load', async () => {
    let answered = 0;
    const counted = await startHostWith('ahead-token', (base) => ({
      'images:page': (params) => {
        answered += 1;
        return base['images:page'](params);
      },
    }));
    const load = (cookie?: string) => loadFrom(counted, cookie);
    try {
      const { cookie } = await load();
      await counted.prepareFirstPage();
      expect(answered).toBe(1);
      const first = await load(cookie);
      expect(first.body).toContain(preloadElementId);
      expect(answered, 'the first load sends the answer made ahead').toBe(1);
      await load(cookie);
      expect(answered, 'a second load answers afresh').toBe(2);
      await counted.prepareFirstPage();
      counted.emit('store:changed', { reason: 'external' });
      const afterEvent = await load(cookie);
      expect(afterEvent.body).toContain(preloadElementId);
      expect(answered, 'an event drops the answer made ahead').toBe(4);
    } finally {
      await counted.close();
    }
  });

  it('escapes every < in the answers, so no value can end the block, and copies them as they are', () => {
    const hostile = [
      {
        op: 'images:page',
        params: {},
        outcome: { ok: true, value: "</script><script>x()</script> $& $' $`" },
      },
    ];
    const html = withPreloadedAnswers('<html><head></head><body></body></html>', hostile);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    const json = /type="application\/json">(.*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual(hostile);
  });
});

describe('berth serve: the contract over WebSocket', () => {
  it('answers calls, carries typed errors, pushes events', async () => {
    const { status, socket } = await upgrade('/ws', {
      origin: `http://127.0.0.1:${host.port}`,
      cookie: await cookie(),
    });
    expect(status).toBe(101);
    const ws = socket!;
    try {
      expect(await call(ws, 1, 'app:info', {})).toMatchObject({
        ok: true,
        value: { host: 'serve', version: '0.0.0-test' },
      });
      expect(await call(ws, 2, 'images:inspect', { image: 'nope' })).toEqual({
        ok: false,
        error: { code: 'IMAGE_UNKNOWN', message: 'no image matches "nope"', detail: { image: 'nope' } },
      });
      expect(await call(ws, 3, 'images:history', { image: 'x' })).toEqual({
        ok: false,
        error: { code: 'INTERNAL', message: 'plain failure' },
      });
      expect(await call(ws, 4, 'settings:update', { parallelDownloads: 0 })).toMatchObject({
        ok: false,
        error: { code: 'BAD_REQUEST', message: expect.stringContaining('parallelDownloads') as string },
      });
      expect(await call(ws, 5, 'no:such', {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(await call(ws, 6, 'app:info', 'not an object')).toMatchObject({
        ok: false,
        error: { code: 'BAD_REQUEST' },
      });

      const event = new Promise<unknown>((done) =>
        ws.once('message', (raw) => done(JSON.parse((raw as Buffer).toString('utf8')))),
      );
      host.emit('store:changed', { reason: 'tag', ids: ['sha256:abc'] });
      expect(await event).toEqual({
        event: 'store:changed',
        payload: { reason: 'tag', ids: ['sha256:abc'] },
      });
    } finally {
      ws.close();
    }
  });
});
