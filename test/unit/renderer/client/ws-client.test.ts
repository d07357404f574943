import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { BerthError } from '../../../../shared/error';
import type { ImageSummary } from '../../../../shared/contract';
import { firstImagePageParams } from '../../../../shared/image-page';
import {
  createWsClient,
  type ConnectionState,
  type WsClient,
} from '../../../../renderer/src/client/ws-client';

const alpine: ImageSummary = {
  id: 'sha256:' + 'a'.repeat(64),
  repoTags: ['docker.io/library/alpine:3.20'],
  repoDigests: [],
  digest: 'sha256:' + 'b'.repeat(64),
  size: 3_600_000,
  uncompressedSize: 0,
  platform: { os: 'linux', architecture: 'amd64' },
  labels: {},
  dangling: false,
};

/** A loopback server speaking the `berth serve` wire protocol with a few canned operations. */
class WireServer {
  readonly sockets = new Set<ServerSocket>();
  readonly received: unknown[] = [];
  /** Requests that get no reply until `release()`; lets a test hold a call in flight. */
  hold = false;
  private held: (() => void)[] = [];
  private http: Server = createServer();
  private wss = new WebSocketServer({ noServer: true });

  async start(port = 0): Promise<void> {
    this.http.on('upgrade', (req, socket, head) => {
      if (req.url !== '/ws') return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    await new Promise<void>((resolve) => this.http.listen(port, '127.0.0.1', resolve));
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/ws`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  emit(event: string, payload: unknown): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ event, payload }));
  }

  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: ServerSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (raw) => {
      const request = JSON.parse((raw as Buffer).toString('utf8')) as {
        id: number;
        op: string;
        params: unknown;
      };
      this.received.push(request);
      const reply = () => ws.send(JSON.stringify({ id: request.id, outcome: this.answer(request.op) }));
      if (this.hold) this.held.push(reply);
      else reply();
    });
  }

  private answer(op: string): unknown {
    switch (op) {
      case 'images:list':
        return { ok: true, value: [alpine] };
      case 'images:inspect':
        return {
          ok: false,
          error: { code: 'IMAGE_UNKNOWN', message: 'no such image: nope', detail: { image: 'nope' } },
        };
      case 'images:tag':
        return { ok: false, error: { code: 'NOT_A_CODE', message: 'odd failure' } };
      default:
        return { ok: false, error: { code: 'UNSUPPORTED', message: `${op} is not here` } };
    }
  }
}

function nextState(client: WsClient, wanted: ConnectionState): Promise<void> {
  if (client.getState() === wanted) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = client.subscribeState((state) => {
      if (state === wanted) {
        stop();
        resolve();
      }
    });
  });
}

describe('createWsClient', () => {
  let server: WireServer;
  let client: WsClient | undefined;

  beforeEach(async () => {
    server = new WireServer();
    await server.start();
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server.stop();
  });

  const connect = () => (client = createWsClient({ WebSocket, url: server.url, backoff: () => 20 }));

  it('sends {id, op, params} and resolves with the value of an ok outcome, even when called before open', async () => {
    const c = connect();
    expect(c.getState()).toBe('connecting');
    await expect(c.invoke('images:list', {})).resolves.toEqual([alpine]);
    expect(c.getState()).toBe('open');
    expect(server.received).toEqual([{ id: 1, op: 'images:list', params: {} }]);
  });

  it('answers the first call identical to a preloaded one from the page, once, and sends the rest', async () => {
    const page = { images: [alpine], total: 1 };
    const c = (client = createWsClient({
      WebSocket,
      url: server.url,
      backoff: () => 20,
      preloaded: [
        { op: 'images:page', params: firstImagePageParams, outcome: { ok: true, value: page } },
        {
          op: 'images:inspect',
          params: { image: 'gone' },
          outcome: { ok: false, error: { code: 'IMAGE_UNKNOWN', message: 'no image matches "gone"' } },
        },
      ],
    }));
    await expect(c.invoke('images:page', { ...firstImagePageParams })).resolves.toEqual(page);
    await expect(c.invoke('images:inspect', { image: 'gone' })).rejects.toMatchObject({
      code: 'IMAGE_UNKNOWN',
    });
    expect(server.received).toEqual([]);
    // Used up: the same call again, and a call with other params, go over the socket.
    await c.invoke('images:page', { ...firstImagePageParams }).catch(() => undefined);
    await c.invoke('images:page', { limit: 5 }).catch(() => undefined);
    expect(server.received).toEqual([
      { id: 1, op: 'images:page', params: firstImagePageParams },
      { id: 2, op: 'images:page', params: { limit: 5 } },
    ]);
  });

  it('rejects with a BerthError carrying code, message and detail from an error outcome', async () => {
    const c = connect();
    const error = await c.invoke('images:inspect', { image: 'nope' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BerthError);
    expect(error).toMatchObject({
      code: 'IMAGE_UNKNOWN',
      message: 'no such image: nope',
      detail: { image: 'nope' },
    });
  });

  it('keeps the message but reports INTERNAL when an error carries a code outside the contract', async () => {
    const c = connect();
    await expect(c.invoke('images:tag', { image: 'a', name: 'b' })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'odd failure',
    });
  });

  it('dispatches pushed events to subscribers of that event only, until they unsubscribe', async () => {
    const c = connect();
    await nextState(c, 'open');
    const changes: unknown[] = [];
    const activity: unknown[] = [];
    const stop = c.subscribe('store:changed', (payload) => changes.push(payload));
    c.subscribe('activity:changed', (payload) => activity.push(payload));
    const second = new Promise((resolve) => c.subscribe('activity:changed', resolve));

    server.emit('store:changed', { reason: 'tag', ids: ['x'] });
    server.emit('activity:changed', { time: 't', action: 'tag' });
    await second;
    expect(changes).toEqual([{ reason: 'tag', ids: ['x'] }]);

    stop();
    const third = new Promise((resolve) => c.subscribe('activity:changed', resolve));
    server.emit('store:changed', { reason: 'untag' });
    server.emit('activity:changed', { time: 't2', action: 'untag' });
    await third;
    expect(changes).toHaveLength(1);
    expect(activity).toHaveLength(2);
  });

  it('rejects in-flight calls with NETWORK when the connection drops, then reconnects and keeps subscriptions', async () => {
    const c = connect();
    await nextState(c, 'open');
    const seen: ConnectionState[] = [];
    c.subscribeState((state) => seen.push(state));
    const events: unknown[] = [];
    c.subscribe('store:changed', (payload) => events.push(payload));

    server.hold = true;
    const inFlight = c.invoke('images:list', {});
    await expect.poll(() => server.received.length).toBe(1);
    server.dropAll();
    await expect(inFlight).rejects.toMatchObject({ name: 'BerthError', code: 'NETWORK' });

    await nextState(c, 'open');
    expect(seen).toEqual(['lost', 'open']);
    server.hold = false;
    await expect(c.invoke('images:list', {})).resolves.toEqual([alpine]);

    const delivered = new Promise((resolve) => c.subscribe('store:changed', resolve));
    server.emit('store:changed', { reason: 'external' });
    await delivered;
    expect(events).toEqual([{ reason: 'external' }]);
  });

  it('rejects calls at once while the connection is lost, and recovers when the server comes back', async () => {
    const c = connect();
    await nextState(c, 'open');
    const port = server.port;
    await server.stop();
    await nextState(c, 'lost');
    await expect(c.invoke('images:list', {})).rejects.toMatchObject({ code: 'NETWORK' });

    server = new WireServer();
    await server.start(port);
    await nextState(c, 'open');
    await expect(c.invoke('images:list', {})).resolves.toEqual([alpine]);
  });

  it('fails calls queued during a first dial that cannot connect', async () => {
    const port = server.port;
    await server.stop();
    const c = (client = createWsClient({
      WebSocket,
      url: `ws://127.0.0.1:${port}/ws`,
      backoff: () => 60_000,
    }));
    await expect(c.invoke('images:list', {})).rejects.toMatchObject({ code: 'NETWORK' });
    expect(c.getState()).toBe('lost');
    server = new WireServer();
    await server.start();
  });

  it('stops redialling and fails pending calls on close()', async () => {
    const c = connect();
    await nextState(c, 'open');
    server.hold = true;
    const inFlight = c.invoke('images:list', {});
    await expect.poll(() => server.received.length).toBe(1);
    c.close();
    await expect(inFlight).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(c.invoke('images:list', {})).rejects.toMatchObject({ code: 'NETWORK' });
    await expect.poll(() => server.sockets.size).toBe(0);
  });
});
