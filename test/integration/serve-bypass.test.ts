import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHandlers } from '../../electron/ipc/handlers';
import { startServe, type ServeHost } from '../../electron/serve/server';

// serve.test.ts covers no token, a wrong token, the cookie exchange, a foreign Host and the basic WebSocket
// refusals; these are the remaining ways around the token, Origin and Host checks.
let dir: string;
let host: ServeHost;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-serve-bypass-'));
  await mkdir(join(dir, 'renderer'), { recursive: true });
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Berth</title>');
  host = await startServe({
    host: '127.0.0.1',
    port: 0,
    rendererDir: join(dir, 'renderer'),
    handlers: (emit) =>
      createHandlers({
        storePath: join(dir, 'store'),
        settingsFile: join(dir, 'config.json'),
        host: 'serve',
        version: '0.0.0-test',
        emit,
      }),
  });
});

afterAll(async () => {
  await host?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function send(
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, headers, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

const cookie = (): string => `berth_token_${host.port}=${host.token}`;
const ownHost = (): string => `127.0.0.1:${host.port}`;

/** The status a WebSocket upgrade gets (101 when accepted; the socket is closed again). */
function upgrade(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(`ws://127.0.0.1:${host.port}${path}`, { headers });
    socket.once('open', () => {
      socket.close();
      done(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      done(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (err) => {
      if (socket.readyState !== WebSocket.CLOSED) fail(err);
    });
  });
}

describe('berth serve: bypass attempts', () => {
  it('accepts its own page (the control case every refusal below differs from in one header)', async () => {
    expect(await upgrade('/ws', { origin: `http://${ownHost()}`, cookie: cookie() })).toBe(101);
    expect((await send('/', { cookie: cookie() })).status).toBe(200);
  });

  it('refuses the token in the WebSocket URL from a foreign Origin', async () => {
    expect(await upgrade(`/ws?token=${host.token}`, { origin: 'http://evil.example' })).toBe(403);
  });

  it('refuses Origin null (sandboxed frames, file:) and a sibling loopback origin', async () => {
    expect(await upgrade('/ws', { origin: 'null', cookie: cookie() })).toBe(403);
    expect(await upgrade('/ws', { origin: `http://localhost:${host.port}`, cookie: cookie() })).toBe(403);
    expect(await upgrade('/ws', { origin: `https://${ownHost()}`, cookie: cookie() })).toBe(403);
  });

  it('refuses a WebSocket with a wrong cookie, another port’s cookie, or a token prefix', async () => {
    const origin = `http://${ownHost()}`;
    expect(await upgrade('/ws', { origin, cookie: `berth_token_${host.port}=wrong` })).toBe(401);
    expect(await upgrade('/ws', { origin, cookie: `berth_token_1=${host.token}` })).toBe(401);
    expect(
      await upgrade('/ws', { origin, cookie: `berth_token_${host.port}=${host.token.slice(0, -1)}` }),
    ).toBe(401);
    expect(await upgrade('/ws', { origin })).toBe(401);
  });

  it('refuses rebinding Host names that only start or end like loopback', async () => {
    for (const name of [
      `127.0.0.1.evil.example:${host.port}`,
      `evil.example`,
      `127.0.0.1:${host.port}.evil.example`,
      `127.0.0.1:${host.port + 1}`,
      `0.0.0.0:${host.port}`,
    ]) {
      expect((await send(`/?token=${host.token}`, { host: name })).status, name).toBe(403);
      expect(await upgrade('/ws', { host: name, cookie: cookie() }), name).toBe(403);
    }
  });

  it('sets no cookie for a wrong token and serves nothing but GET and HEAD', async () => {
    const wrong = await send('/?token=wrong', {});
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toEqual([]);
    for (const method of ['POST', 'PUT', 'DELETE'])
      expect((await send('/', { cookie: cookie(), origin: 'http://evil.example' }, method)).status).toBe(405);
  });

  it('binds to loopback unless told otherwise', async () => {
    const berth = join(import.meta.dirname, '..', '..', 'bin', 'berth');
    const child = execFile(process.execPath, [berth, '--store', join(dir, 'cli-store'), 'serve'], {
      env: { PATH: process.env.PATH, HOME: dir },
    });
    try {
      const line = await new Promise<string>((done, fail) => {
        createInterface({ input: child.stdout! }).once('line', done);
        child.once('exit', (code) => fail(new Error(`berth serve exited with ${String(code)}`)));
      });
      expect(line).toMatch(/ at http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
