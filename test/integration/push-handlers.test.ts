import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { createHandlers } from '../../electron/ipc/handlers';
import type { EventName, Handlers, Payload, PullProgress, StoreEvent } from '../../shared/contract';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { ProgressLog } from '../support/progress-log';

let scratch: string;
let registry: TestRegistry;
let three: FixtureImage;

/** Handlers over a fresh store with credentials for the registry, recording progress and store events. */
async function setup(): Promise<{
  handlers: Handlers;
  activity: StoreEvent[];
  until: (match: (p: PullProgress) => boolean) => Promise<PullProgress>;
}> {
  const root = await mkdtemp(join(scratch, 'store-'));
  const auth = { read: [join(root, 'auth.json')], write: join(root, 'auth.json') };
  await storeCredentials(
    registry.host,
    { username: registry.username ?? '', password: registry.password ?? '' },
    auth,
  );
  const log = new ProgressLog();
  const activity: StoreEvent[] = [];
  const handlers = createHandlers({
    storePath: join(root, 'store'),
    settingsFile: join(root, 'settings.json'),
    host: 'serve',
    version: '0.0.0-test',
    emit: <E extends EventName>(name: E, payload: Payload<E>) => {
      if (name === 'activity:changed') activity.push(payload as StoreEvent);
      if (name === 'pull:progress') log.record(payload as PullProgress);
    },
    registryEnvironment: { conf: emptyRegistriesConf(), certsDirs: [], auth },
  });
  const until = (match: (p: PullProgress) => boolean): Promise<PullProgress> => log.until(match);
  return { handlers, activity, until };
}

const ended = (pullId: string) => (p: PullProgress) =>
  p.pullId === pullId && (p.state === 'complete' || p.state === 'failed' || p.state === 'cancelled');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-push-handlers-'));
  registry = await startRegistry({ auth: 'htpasswd' });
  three = buildImage({
    layers: [0, 1, 2].map((i) => ({ entries: [{ path: `layer-${i}.bin`, size: 32 * 1024 * (i + 1) }] })),
  });
  await pushImage(registry, 'berth/three', '1', three);
});

afterAll(async () => {
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('push:start', () => {
  it('runs a push as a task on the pull:progress stream, listed by pull:list, recorded in RepoDigests', async () => {
    const { handlers, activity, until } = await setup();
    const source = `${registry.host}/berth/three:1`;
    const { pullId: pulled } = await handlers['pull:start']({ reference: source });
    expect((await until(ended(pulled))).state).toBe('complete');

    const destination = `${registry.host}/berth/copy:1`;
    const { pullId } = await handlers['push:start']({ image: source, destination });
    const last = await until(ended(pullId));
    expect(last).toMatchObject({
      kind: 'push',
      reference: destination,
      state: 'complete',
      imageId: three.configDigest,
    });
    expect(last.layers.map((l) => l.status).sort()).toEqual(['exists', 'exists', 'exists', 'exists']);
    expect((await handlers['pull:list']({})).find((p) => p.pullId === pullId)?.kind).toBe('push');
    const [image] = await handlers['images:list']({ filter: { reference: [source] } });
    expect(image?.repoDigests).toContain(`${registry.host}/berth/copy@${three.digest}`);
    expect(activity.some((e) => e.action === 'push' && e.id === three.configDigest)).toBe(true);
  });

  it('refuses an unknown image or a digest destination in the call itself', async () => {
    const { handlers, until } = await setup();
    await expect(handlers['push:start']({ image: 'nothing-here:1' })).rejects.toMatchObject({
      code: 'IMAGE_UNKNOWN',
    });
    const source = `${registry.host}/berth/three:1`;
    const { pullId } = await handlers['pull:start']({ reference: source });
    expect((await until(ended(pullId))).state).toBe('complete');
    await expect(
      handlers['push:start']({ image: source, destination: `${registry.host}/x@${three.digest}` }),
    ).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
  });
});
