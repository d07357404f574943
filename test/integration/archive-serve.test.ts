import { createReadStream } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  archiveHttpPaths,
  type EventName,
  type Handlers,
  type LoadedArchive,
  type Outcome,
  type SavedArchive,
} from '../../shared/contract';
import { createHandlers } from '../../electron/ipc/handlers';
import { archiveRoutes } from '../../electron/serve/archive-routes';
import { startServe, type ServeHost } from '../../electron/serve/server';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, smallImage } from '../support/fixture';
import { addImage } from '../unit/store/add-image';

let dir: string;
const hosts: {
  host: ServeHost;
  store: ImageStore;
  handlers: Handlers;
  emitted: EventName[];
  close: () => Promise<void>;
}[] = [];

async function serveStore(name: string) {
  const store = await ImageStore.open(join(dir, name));
  const archives = archiveRoutes(() => Promise.resolve(store));
  const emitted: EventName[] = [];
  let handlers: Handlers | undefined;
  const host = await startServe({
    host: '127.0.0.1',
    port: 0,
    rendererDir: join(dir, 'renderer'),
    handlers: (emit) =>
      (handlers = createHandlers({
        storePath: join(dir, name),
        settingsFile: join(dir, `${name}.json`),
        host: 'serve',
        version: '0.0.0-test',
        emit: (event, payload) => {
          emitted.push(event);
          emit(event, payload);
        },
        imageStore: store,
      })),
    routes: [archives.route],
  });
  const served = { host, store, handlers: handlers!, emitted, close: archives.close };
  hosts.push(served);
  return served;
}

async function cookieFor(host: ServeHost): Promise<string> {
  const reply = await fetch(`${host.origin}/?token=${host.token}`, { redirect: 'manual' });
  return (reply.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-archive-serve-'));
  await mkdir(join(dir, 'renderer'), { recursive: true });
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Berth</title>');
});

afterAll(async () => {
  for (const h of hosts) {
    await h.close();
    await h.host.close();
  }
  await rm(dir, { recursive: true, force: true });
});

describe('archives through berth serve', () => {
  it('saves to a one-time download and loads an upload into another host, with events', async () => {
    const from = await serveStore('from');
    const to = await serveStore('to');
    const one = smallImage('served-one');
    const two = buildImage({ layers: [{ entries: [{ path: 'x', content: 'served two' }] }] });
    await addImage(from.store, one, ['alpine:3.20', 'alpine:latest']);
    await addImage(from.store, two, ['localhost:5000/app:2']);
    const fromCookie = await cookieFor(from.host);

    const saved = await fetch(from.host.origin + archiveHttpPaths.save, {
      method: 'POST',
      headers: { cookie: fromCookie, 'content-type': 'application/json', origin: from.host.origin },
      body: JSON.stringify({
        images: ['alpine:3.20', 'alpine:latest', 'localhost:5000/app:2'],
        compress: true,
      }),
    });
    expect(saved.status).toBe(200);
    const outcome = (await saved.json()) as Outcome<{ download: string; archive: SavedArchive }>;
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect(outcome.value.archive.path).toBe('alpine_3.20_and_1_more.tar.gz');
    expect(outcome.value.archive.images).toHaveLength(2);

    const file = await fetch(from.host.origin + outcome.value.download, { headers: { cookie: fromCookie } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe(
      'attachment; filename="alpine_3.20_and_1_more.tar.gz"',
    );
    const bytes = Buffer.from(await file.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const again = await fetch(from.host.origin + outcome.value.download, { headers: { cookie: fromCookie } });
    expect(again.status).toBe(404);

    const archive = join(dir, 'downloaded.tar.gz');
    await writeFile(archive, bytes);
    await to.handlers['images:list']({});
    const toCookie = await cookieFor(to.host);
    const loaded = await fetch(to.host.origin + archiveHttpPaths.load, {
      method: 'POST',
      headers: { cookie: toCookie, 'x-berth-filename': 'downloaded.tar.gz', origin: to.host.origin },
      body: createReadStream(archive),
      duplex: 'half',
    } as unknown as RequestInit);
    expect(loaded.status).toBe(200);
    const result = (await loaded.json()) as Outcome<LoadedArchive>;
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.compression).toBe('gzip');
    const rows = (await to.store.list()).map((r) => ({ id: r.id, names: [...r.repoTags].sort() }));
    expect(rows.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: one.configDigest, names: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'] },
        { id: two.configDigest, names: ['localhost:5000/app:2'] },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(to.emitted.filter((e) => e === 'store:changed').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses without the token cookie, from a foreign origin, and a bad upload with a typed error', async () => {
    const host = (await serveStore('guarded')).host;
    const noCookie = await fetch(host.origin + archiveHttpPaths.save, {
      method: 'POST',
      body: JSON.stringify({ images: ['x'] }),
    });
    expect(noCookie.status).toBe(401);
    const cookie = await cookieFor(host);
    const foreign = await fetch(host.origin + archiveHttpPaths.load, {
      method: 'POST',
      headers: { cookie, origin: 'http://evil.example' },
      body: 'x',
    });
    expect(foreign.status).toBe(403);
    const junk = await fetch(host.origin + archiveHttpPaths.load, {
      method: 'POST',
      headers: { cookie, origin: host.origin, 'x-berth-filename': 'junk.tar' },
      body: Buffer.from('not an archive'.repeat(100)),
    });
    expect(junk.status).toBe(400);
    const body = (await junk.json()) as Outcome<unknown>;
    expect(body.ok).toBe(false);
    if (!body.ok) {
      expect(body.error.code).toBe('ARCHIVE_INVALID');
      expect(body.error.message).toMatch(/^junk\.tar is not a complete archive/);
    }
    const missing = await fetch(host.origin + archiveHttpPaths.save, {
      method: 'POST',
      headers: { cookie, origin: host.origin },
      body: JSON.stringify({ images: ['nope:1'] }),
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('IMAGE_UNKNOWN');
  });
});
