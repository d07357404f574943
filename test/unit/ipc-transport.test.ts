import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IpcMainInvokeEvent, IpcRendererEvent, WebContents } from 'electron';
import { clientFromBridge } from '../../shared/client';
import type { BerthClient, Handlers, Operation, PullProgress } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { createHandlers } from '../../electron/ipc/handlers';
import { emitOverIpc, serveOverIpc, type IpcMainLike } from '../../electron/ipc/ipc-server';
import { createBridge, type IpcRendererLike } from '../../electron/preload-bridge';
import { trustedSenderCheck } from '../../electron/window/security';
import type { AppOrigin } from '../../electron/window/app-origin';

type MainListener = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;
type RendererListener = (event: IpcRendererEvent, ...args: unknown[]) => void;

/** Where a fake renderer's calls appear to come from: its web contents and the frame that sent them. */
interface FakeFrame {
  url: string;
  parent: object | null;
}

/**
 * An in-memory ipcMain/ipcRenderer pair for one window. Every payload crosses through `structuredClone`,
 * as Electron's IPC does, so anything that would not survive the real transport fails here too.
 */
class FakeIpc {
  readonly contents = { id: 1 } as unknown as WebContents;
  frame: FakeFrame | null = { url: 'berth://app/index.html', parent: null };
  destroyed = false;
  private readonly handlers = new Map<string, MainListener>();
  private readonly listeners = new Map<string, Set<RendererListener>>();

  readonly main: IpcMainLike = {
    handle: (channel, listener) => {
      if (this.handlers.has(channel))
        throw new Error(`Attempted to register a second handler for '${channel}'`);
      this.handlers.set(channel, listener as MainListener);
    },
    removeHandler: (channel) => {
      this.handlers.delete(channel);
    },
  };

  readonly renderer: IpcRendererLike = {
    invoke: async (channel: string, ...args: unknown[]): Promise<unknown> => {
      const handler = this.handlers.get(channel);
      if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
      const event = { sender: this.contents, senderFrame: this.frame } as unknown as IpcMainInvokeEvent;
      return structuredClone(await handler(event, ...structuredClone(args)));
    },
    on: (channel, listener) => {
      const set = this.listeners.get(channel) ?? new Set<RendererListener>();
      set.add(listener as RendererListener);
      this.listeners.set(channel, set);
      return this.renderer as never;
    },
    removeListener: (channel, listener) => {
      this.listeners.get(channel)?.delete(listener as RendererListener);
      return this.renderer as never;
    },
  };

  /** The `webContents.send` half, delivering to the renderer's listeners. */
  readonly webContents = {
    send: (channel: string, ...args: unknown[]) => {
      for (const listener of this.listeners.get(channel) ?? []) {
        listener({} as IpcRendererEvent, ...structuredClone(args));
      }
    },
    isDestroyed: () => this.destroyed,
  };

  get registeredChannels(): string[] {
    return [...this.handlers.keys()];
  }
}

const origin: AppOrigin = { kind: 'bundle', rendererDir: '/nonexistent/renderer' };

/** Hand-built handlers whose failures the tests choose; only the operations used here do anything. */
function failingHandlers(): Handlers {
  const unused = () => Promise.reject(new Error('not used by this test'));
  return {
    'app:info': unused,
    'settings:get': unused,
    'settings:update': unused,
    'images:list': () => Promise.resolve([]),
    'images:inspect': ({ image }) =>
      Promise.reject(new BerthError('IMAGE_UNKNOWN', `no image ${image}`, { image, candidates: ['a', 'b'] })),
    'images:history': () => Promise.reject(new Error('disk on fire')),
    'images:tag': () => Promise.reject(new TypeError('cannot read properties of undefined')),
    'images:untag': () =>
      Promise.reject(new BerthError('CONFLICT', 'odd detail', { when: new Date(0), fn: undefined })),
    'images:remove': unused,
    'images:prune': unused,
    'images:tree': unused,
    'store:df': unused,
    'store:fsck': unused,
    'events:list': unused,
    'pull:start': unused,
    'pull:cancel': unused,
    'pull:list': unused,
    'push:start': unused,
    'pull:retry': unused,
    'reference:resolve': unused,
    'remote:tags': unused,
    'remote:inspect': unused,
    'registries:list': unused,
    'registries:login': unused,
    'registries:logout': unused,
    'images:check-update': unused,
    'archive:save': unused,
    'archive:load': unused,
    'images:import': unused,
    'images:export': unused,
    'images:squash': unused,
    'files:choose': unused,
    'layers:list': unused,
    'layers:directory': unused,
    'layers:search': unused,
    'layers:efficiency': unused,
    'layers:preview': unused,
    'layers:extract': unused,
    'layers:compare': unused,
    'layers:platforms': unused,
    'images:page': unused,
  };
}

function connect(
  handlers: Handlers,
  ipc = new FakeIpc(),
): { ipc: FakeIpc; client: BerthClient; stop: () => void } {
  const stop = serveOverIpc(
    ipc.main,
    handlers,
    trustedSenderCheck(origin, (contents) => contents === ipc.contents),
  );
  return { ipc, client: clientFromBridge(createBridge(ipc.renderer)), stop };
}

async function rejection(promise: Promise<unknown>): Promise<BerthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(err)}`);
  return err;
}

describe('IPC transport with the real handlers', () => {
  let dir: string;
  let client: BerthClient;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-ipc-'));
    const handlers = createHandlers({
      storePath: join(dir, 'store'),
      settingsFile: join(dir, 'config.json'),
      host: 'electron',
      version: '9.9.9',
      emit: () => undefined,
    });
    ({ client } = connect(handlers));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns a call value across the transport', async () => {
    await expect(client.invoke('app:info', {})).resolves.toMatchObject({
      version: '9.9.9',
      host: 'electron',
      storePath: join(dir, 'store'),
    });
    await expect(client.invoke('images:list', {})).resolves.toEqual([]);
  });

  it('round-trips settings and reports an invalid value as BAD_REQUEST', async () => {
    await expect(client.invoke('settings:update', { parallelDownloads: 5 })).resolves.toMatchObject({
      parallelDownloads: 5,
    });
    const err = await rejection(client.invoke('settings:update', { parallelDownloads: 0 }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/parallelDownloads must be an integer from 1 to 32, got 0/);
    await expect(client.invoke('settings:get', {})).resolves.toMatchObject({ parallelDownloads: 5 });
  });
});

describe('IPC transport errors', () => {
  it('registers exactly one handler per contract operation and removes them all', () => {
    const { ipc, stop } = connect(failingHandlers());
    expect(ipc.registeredChannels.sort()).toEqual(Object.keys(failingHandlers()).sort());
    stop();
    expect(ipc.registeredChannels).toEqual([]);
  });

  it('delivers a BerthError with its code, message and detail', async () => {
    const { client } = connect(failingHandlers());
    const err = await rejection(client.invoke('images:inspect', { image: 'alpine' }));
    expect(err).toBeInstanceOf(BerthError);
    expect(err.code).toBe('IMAGE_UNKNOWN');
    expect(err.message).toBe('no image alpine');
    expect(err.detail).toEqual({ image: 'alpine', candidates: ['a', 'b'] });
  });

  it('turns a plain Error into INTERNAL with the same message', async () => {
    const { client } = connect(failingHandlers());
    const err = await rejection(client.invoke('images:history', { image: 'x' }));
    expect({ code: err.code, message: err.message }).toEqual({ code: 'INTERNAL', message: 'disk on fire' });
    const typeErr = await rejection(client.invoke('images:tag', { image: 'x', name: 'y' }));
    expect({ code: typeErr.code, message: typeErr.message }).toEqual({
      code: 'INTERNAL',
      message: 'cannot read properties of undefined',
    });
  });

  it('reduces a detail to plain JSON values so it survives the clone', async () => {
    const { client } = connect(failingHandlers());
    const err = await rejection(client.invoke('images:untag', { image: 'x' }));
    expect(err.code).toBe('CONFLICT');
    expect(err.detail).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses an operation name outside the contract with BAD_REQUEST before it reaches main', async () => {
    const { client } = connect(failingHandlers());
    const err = await rejection(client.invoke('images:explode' as Operation, {}));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe('unknown operation "images:explode"');
  });

  it('refuses params that are not an object with BAD_REQUEST', async () => {
    const { client } = connect(failingHandlers());
    for (const params of [null, 'alpine', ['alpine']]) {
      const err = await rejection(client.invoke('images:list', params as never));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toBe('params of images:list must be an object');
    }
  });

  it.each<[string, FakeFrame | null]>([
    ['a subframe', { url: 'berth://app/index.html', parent: {} }],
    ['a foreign page', { url: 'https://evil.example/', parent: null }],
    ['a look-alike host', { url: 'berth://app.evil/index.html', parent: null }],
    ['a file URL', { url: 'file:///tmp/index.html', parent: null }],
    ['a frame that is gone', null],
  ])('answers DENIED to %s and runs nothing', async (_name, frame) => {
    let ran = false;
    const handlers = { ...failingHandlers(), 'images:list': () => ((ran = true), Promise.resolve([])) };
    const { ipc, client } = connect(handlers);
    ipc.frame = frame;
    const err = await rejection(client.invoke('images:list', {}));
    expect(err.code).toBe('DENIED');
    expect(err.message).toBe('IPC call images:list from an untrusted frame');
    expect(ran).toBe(false);
  });

  it('answers DENIED to web contents that are not one of our windows', async () => {
    const ipc = new FakeIpc();
    serveOverIpc(
      ipc.main,
      failingHandlers(),
      trustedSenderCheck(origin, () => false),
    );
    const err = await rejection(clientFromBridge(createBridge(ipc.renderer)).invoke('images:list', {}));
    expect(err.code).toBe('DENIED');
  });
});

describe('IPC transport events', () => {
  const progress = (pullId: string): PullProgress => ({
    pullId,
    reference: 'docker.io/library/alpine:3.20',
    state: 'running',
    layers: [{ digest: 'sha256:' + 'a'.repeat(64), status: 'downloading', done: 10, total: 100 }],
    done: 10,
    total: 100,
    bytesPerSecond: 1000,
  });

  it('delivers events to subscribers of that event only, until they unsubscribe', () => {
    const { ipc, client } = connect(failingHandlers());
    const emit = emitOverIpc(() => [ipc.webContents]);
    const pulls: PullProgress[] = [];
    const changes: unknown[] = [];
    const stopPulls = client.subscribe('pull:progress', (p) => pulls.push(p));
    client.subscribe('store:changed', (p) => changes.push(p));

    emit('pull:progress', progress('p1'));
    emit('store:changed', { reason: 'pull', ids: ['sha256:1'] });
    expect(pulls).toEqual([progress('p1')]);
    expect(changes).toEqual([{ reason: 'pull', ids: ['sha256:1'] }]);

    stopPulls();
    emit('pull:progress', progress('p2'));
    emit('store:changed', { reason: 'tag' });
    expect(pulls).toEqual([progress('p1')]);
    expect(changes).toHaveLength(2);
  });

  it('skips destroyed windows', () => {
    const { ipc, client } = connect(failingHandlers());
    const seen: unknown[] = [];
    client.subscribe('activity:changed', (e) => seen.push(e));
    ipc.destroyed = true;
    emitOverIpc(() => [ipc.webContents])('activity:changed', { time: '2026-01-01T00:00:00Z', action: 'gc' });
    expect(seen).toEqual([]);
  });

  it('refuses to subscribe to an event outside the contract', () => {
    const { client } = connect(failingHandlers());
    expect(() => client.subscribe('pull:explode' as 'pull:progress', () => undefined)).toThrow(
      /unknown event/,
    );
  });
});
