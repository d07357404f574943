import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { createHandlers } from '../../electron/ipc/handlers';
import type { EventName, Handlers, Payload, PullProgress } from '../../shared/contract';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { ProgressLog } from '../support/progress-log';

const mib = 1024 * 1024;

let scratch: string;
let registry: TestRegistry;
let three: FixtureImage;
let large: FixtureImage;
let count = 0;

/** Handlers over a fresh store, recording every `pull:progress` event; `until` resolves on a matching one. */
async function setup(): Promise<{
  handlers: Handlers;
  root: string;
  events: PullProgress[];
  until: (match: (p: PullProgress) => boolean) => Promise<PullProgress>;
}> {
  const root = join(scratch, `store-${count++}`);
  const auth = {
    read: [join(root, '..', `auth-${count}.json`)],
    write: join(root, '..', `auth-${count}.json`),
  };
  await storeCredentials(
    registry.host,
    { username: registry.username ?? '', password: registry.password ?? '' },
    auth,
  );
  const log = new ProgressLog();
  const handlers = createHandlers({
    storePath: root,
    settingsFile: join(root, '..', `settings-${count}.json`),
    host: 'serve',
    version: '0.0.0-test',
    emit: <E extends EventName>(name: E, payload: Payload<E>) => {
      if (name === 'pull:progress') log.record(payload as PullProgress);
    },
    registryEnvironment: { conf: emptyRegistriesConf(), certsDirs: [], auth },
  });
  const until = (match: (p: PullProgress) => boolean): Promise<PullProgress> => log.until(match);
  return { handlers, root, events: log.events, until };
}

const ended = (pullId: string) => (p: PullProgress) =>
  p.pullId === pullId && (p.state === 'complete' || p.state === 'failed' || p.state === 'cancelled');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-pull-handlers-'));
  registry = await startRegistry({ auth: 'token' });
  three = buildImage({
    layers: [0, 1, 2].map((i) => ({
      entries: [{ path: `layer-${i}.bin`, size: 48 * 1024 * (i + 1) }],
      gzipLevel: 1,
    })),
  });
  large = buildImage({ layers: [{ entries: [{ path: 'large.bin', size: 40 * mib }], gzipLevel: 1 }] });
  await pushImage(registry, 'berth/three', '1', three);
  await pushImage(registry, 'berth/large', '1', large);
});

afterAll(async () => {
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('pull handlers', () => {
  it('pull:start returns at once and its pull:progress events end complete with the manifest totals', async () => {
    const { handlers, events, until } = await setup();
    const { pullId } = await handlers['pull:start']({ reference: `${registry.host}/berth/three:1` });
    expect(typeof pullId).toBe('string');
    const last = await until(ended(pullId));
    expect(last.error).toBeUndefined();
    expect(last.state).toBe('complete');
    expect(last.imageId).toBe(three.configDigest);
    expect(last.layers.map((l) => [l.digest, l.total])).toEqual(three.layers.map((l) => [l.digest, l.size]));
    expect(last.total).toBe(three.layers.reduce((s, l) => s + l.size, 0));
    expect(last.done).toBe(last.total);
    expect(events.every((e) => e.pullId === pullId)).toBe(true);
    expect(await handlers['pull:list']({})).toContainEqual(
      expect.objectContaining({ pullId, state: 'complete' }),
    );
    expect(await handlers['pull:cancel']({ pullId })).toEqual({ cancelled: false });
    const listed = await handlers['images:list']({});
    expect(listed.map((i) => i.id)).toContain(three.configDigest);
  });

  it('pull:cancel on a 40 MB pull ends cancelled and leaves index.json as it was', async () => {
    const { handlers, root, until } = await setup();
    await handlers['images:list']({});
    const before = await readFile(join(root, 'index.json'), 'utf8');
    const { pullId } = await handlers['pull:start']({ reference: `${registry.host}/berth/large:1` });
    await until((p) => p.pullId === pullId && (p.layers[0]?.done ?? 0) > 0);
    expect(await handlers['pull:cancel']({ pullId })).toEqual({ cancelled: true });
    const last = await until(ended(pullId));
    expect(last.state).toBe('cancelled');
    expect(last.error?.code).toBe('CANCELLED');
    expect(await readFile(join(root, 'index.json'), 'utf8')).toBe(before);
    expect(await handlers['pull:list']({})).toContainEqual(
      expect.objectContaining({ pullId, state: 'cancelled' }),
    );
  });

  it('refuses a bad reference at once; a missing tag ends failed with MANIFEST_UNKNOWN', async () => {
    const { handlers, until } = await setup();
    await expect(handlers['pull:start']({ reference: 'Foo//bar' })).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
    });
    const { pullId } = await handlers['pull:start']({ reference: `${registry.host}/berth/three:nope` });
    const last = await until(ended(pullId));
    expect(last.state).toBe('failed');
    expect(last.error?.code).toBe('MANIFEST_UNKNOWN');
  });
});
