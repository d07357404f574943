import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCredentials } from '../../electron/core/reference/credentials';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { createHandlers } from '../../electron/ipc/handlers';
import { SealedCredentialStore } from '../../electron/core/reference/sealed-credentials';
import { ImageStore } from '../../electron/core/store/image-store';
import type { EventName, Handlers, Payload, PullProgress } from '../../shared/contract';
import { toWireError } from '../../shared/error';
import { buildImage, pushImage, smallImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type RegistryAuthMode, type TestRegistry } from '../support/registry.js';
import { addImage } from '../unit/store/add-image';
import { fakeKeychain } from '../support/fake-keychain';
import { runCli, type CliRun } from '../support/berth-cli';

let scratch: string;

/** Runs the built CLI on `store` with a private HOME and auth file. */
function cli(store: string, auth: string, args: string[], stdin = ''): Promise<CliRun> {
  return runCli({
    store,
    home: scratch,
    args,
    stdin,
    env: { REGISTRY_AUTH_FILE: auth, CONTAINERS_REGISTRIES_CONF: join(scratch, 'no-registries.conf') },
  });
}

/** Handlers as the app runs them over `root`, recording every event they emit. */
function appHandlers(
  root: string,
  auth: string,
  savedLogins?: SealedCredentialStore,
): {
  handlers: Handlers;
  events: { name: string; payload: unknown }[];
  ended: (id: string) => Promise<PullProgress>;
} {
  const events: { name: string; payload: unknown }[] = [];
  const waiters: { pullId: string; resolve: (p: PullProgress) => void }[] = [];
  const isEnd = (p: PullProgress): boolean =>
    p.state === 'complete' || p.state === 'failed' || p.state === 'cancelled';
  const handlers = createHandlers({
    storePath: root,
    settingsFile: `${root}.settings.json`,
    host: 'electron',
    version: '0.0.0-test',
    emit: <E extends EventName>(name: E, payload: Payload<E>) => {
      events.push({ name, payload });
      if (name !== 'pull:progress') return;
      const progress = payload as PullProgress;
      if (!isEnd(progress)) return;
      for (const w of waiters.splice(0)) {
        if (w.pullId === progress.pullId) w.resolve(progress);
        else waiters.push(w);
      }
    },
    registryEnvironment: { conf: emptyRegistriesConf(), certsDirs: [], auth: { read: [auth], write: auth } },
    ...(savedLogins ? { savedLogins } : {}),
  });
  const ended = (pullId: string): Promise<PullProgress> => {
    const seen = events.find(
      (e) =>
        e.name === 'pull:progress' &&
        (e.payload as PullProgress).pullId === pullId &&
        isEnd(e.payload as PullProgress),
    );
    return seen
      ? Promise.resolve(seen.payload as PullProgress)
      : new Promise((resolve) => waiters.push({ pullId, resolve }));
  };
  return { handlers, events, ended };
}

function layered(name: string, layers: number, size: number): FixtureImage {
  return buildImage({
    layers: Array.from({ length: layers }, (_, i) => ({
      entries: [{ path: `${name}-${i}`, size }],
      gzipLevel: 1,
    })),
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-app-cli-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the app and the CLI on one store at once', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('pulls, tags and removals from both sides all hold, and fsck is clean', async () => {
    const appImage = layered('app', 3, 400_000);
    const cliImage = layered('cli', 3, 400_000);
    await pushImage(registry, 'berth/from-app', '1', appImage);
    await pushImage(registry, 'berth/from-cli', '1', cliImage);
    const root = join(scratch, 'shared');
    const auth = join(scratch, 'shared-auth.json');
    const seed = await ImageStore.open(root);
    const base = await addImage(seed, smallImage('base'), ['base']);
    await addImage(seed, smallImage('gone-app'), ['gone-app']);
    await addImage(seed, smallImage('gone-cli'), ['gone-cli']);
    const { handlers, ended } = appHandlers(root, auth);

    const appSide = async (): Promise<void> => {
      const { pullId } = await handlers['pull:start']({ reference: `${registry.host}/berth/from-app:1` });
      for (let i = 0; i < 12; i++) await handlers['images:tag']({ image: 'base', name: `app-${i}` });
      await handlers['images:untag']({ image: 'base', names: ['docker.io/library/app-0:latest'] });
      await handlers['images:remove']({ image: 'gone-app' });
      const last = await ended(pullId);
      expect(last.error).toBeUndefined();
      expect(last.state).toBe('complete');
    };
    const cliSide = async (): Promise<void> => {
      const results = await Promise.all([
        cli(root, auth, ['pull', `${registry.host}/berth/from-cli:1`]),
        (async () => {
          const out: CliRun[] = [];
          for (let i = 0; i < 4; i++) out.push(await cli(root, auth, ['tag', 'base', `cli-${i}`]));
          out.push(await cli(root, auth, ['rmi', 'gone-cli']));
          return out;
        })(),
      ]);
      for (const r of [results[0], ...results[1]]) expect(r, r.stderr).toMatchObject({ code: 0 });
    };
    await Promise.all([appSide(), cliSide()]);

    const store = await ImageStore.open(root);
    const rows = await store.list();
    const byId = new Map(rows.map((r) => [r.id, r.repoTags]));
    expect(byId.get(appImage.configDigest)).toEqual([`${registry.host}/berth/from-app:1`]);
    expect(byId.get(cliImage.configDigest)).toEqual([`${registry.host}/berth/from-cli:1`]);
    const expected = [
      'docker.io/library/base:latest',
      ...Array.from({ length: 11 }, (_, i) => `docker.io/library/app-${i + 1}:latest`),
      ...Array.from({ length: 4 }, (_, i) => `docker.io/library/cli-${i}:latest`),
    ];
    expect(new Set(byId.get(base.id))).toEqual(new Set(expected));
    expect(rows).toHaveLength(3);
    expect(await store.fsck()).toMatchObject({ clean: true, problems: [] });
  });
});

/** Every form a secret may take in text: as is, in Basic auth's base64, and URL-encoded. */
function secretForms(username: string, password: string): string[] {
  return [password, Buffer.from(`${username}:${password}`).toString('base64'), encodeURIComponent(password)];
}

/** Bearer tokens the test token server signs are JWTs: any `eyJ….eyJ…` run would be one. */
const jwt = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}/;

describe.each<RegistryAuthMode>(['htpasswd', 'token'])(
  'an authenticated pull or push with %s auth leaks no secret',
  (mode) => {
    let registry: TestRegistry;
    const password = `pw-${mode}-Zq7!x`;
    beforeAll(async () => {
      registry = await startRegistry({ auth: mode, users: { berth: password } });
      await pushImage(registry, 'berth/secret', '1', layered('secret', 2, 100_000));
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it('in CLI output, events.jsonl, pull events or error messages, with auth.json (0600) or a keychain-sealed login', async () => {
      const root = join(scratch, `leak-${mode}`);
      const auth = join(scratch, `leak-${mode}-auth.json`);
      const reference = `${registry.host}/berth/secret:1`;
      const texts: string[] = [];
      const keep = (r: CliRun): CliRun => (texts.push(r.stdout, r.stderr), r);

      expect(
        keep(await cli(root, auth, ['login', registry.host, '-u', 'berth', '--password-stdin'], 'wrong')),
      ).toMatchObject({
        code: 1,
      });
      expect(
        keep(await cli(root, auth, ['login', registry.host, '-u', 'berth', '--password-stdin'], password))
          .code,
      ).toBe(0);
      expect((await stat(auth)).mode & 0o777).toBe(0o600);
      expect(keep(await cli(root, auth, ['pull', reference])).code).toBe(0);
      expect(keep(await cli(root, auth, ['--json', 'pull', '--policy', 'always', reference])).code).toBe(0);
      expect(keep(await cli(root, auth, ['--json', 'images'])).code).toBe(0);
      expect(keep(await cli(root, auth, ['--json', 'inspect', reference])).code).toBe(0);
      expect(keep(await cli(root, auth, ['tags', `${registry.host}/berth/secret`])).code).toBe(0);
      expect(keep(await cli(root, auth, ['events'])).code).toBe(0);
      expect(keep(await cli(root, auth, ['pull', `${registry.host}/berth/secret:missing`])).code).toBe(1);
      // Pushes with the same login: plain and --json output, and one with a wrong password.
      const pushedTo = `${registry.host}/berth/pushed:1`;
      expect(keep(await cli(root, auth, ['push', reference, pushedTo])).code).toBe(0);
      expect(
        keep(await cli(root, auth, ['--json', 'push', reference, `${registry.host}/berth/pushed:2`])).code,
      ).toBe(0);
      const wrongPushAuth = join(scratch, `leak-${mode}-wrong-push.json`);
      await storeCredentials(
        registry.host,
        { username: 'berth', password: `${password}-wrong` },
        { read: [wrongPushAuth], write: wrongPushAuth },
      );
      const refusedPush = keep(
        await cli(root, wrongPushAuth, ['push', reference, `${registry.host}/berth/pushed:3`]),
      );
      expect(refusedPush.code).toBe(1);
      expect(refusedPush.stderr).toMatch(/refused the saved credentials/);

      // The app's side: handlers pulling with the saved login, and with a wrong one.
      const { handlers, events, ended } = appHandlers(`${root}-app`, auth);
      const ok = await handlers['pull:start']({ reference });
      expect((await ended(ok.pullId)).state).toBe('complete');
      // The desktop app's own logins: sealed by the keychain (a test cipher here), no auth file at all.
      const sealed = new SealedCredentialStore(join(scratch, `leak-${mode}-sealed.json`), fakeKeychain());
      await sealed.save(registry.host, { kind: 'basic', username: 'berth', password });
      texts.push(await readFile(sealed.file, 'utf8'));
      const app = appHandlers(`${root}-sealed`, join(scratch, 'no-such-auth.json'), sealed);
      const viaKeychain = await app.handlers['pull:start']({ reference });
      expect((await app.ended(viaKeychain.pullId)).state).toBe('complete');
      texts.push(JSON.stringify(app.events));
      const wrongAuth = join(scratch, `leak-${mode}-wrong.json`);
      await storeCredentials(
        registry.host,
        { username: 'berth', password: `${password}-wrong` },
        {
          read: [wrongAuth],
          write: wrongAuth,
        },
      );
      const wrong = appHandlers(`${root}-wrong`, wrongAuth);
      const failed = await wrong.handlers['pull:start']({ reference });
      const failure = await wrong.ended(failed.pullId);
      expect(failure.error?.code).toBe('UNAUTHORIZED');
      await handlers['images:inspect']({ image: reference }).then((d) => texts.push(JSON.stringify(d)));
      const missing = await handlers['images:inspect']({ image: 'nope:1' }).catch((err: unknown) =>
        toWireError(err),
      );
      texts.push(JSON.stringify(missing));

      texts.push(JSON.stringify(events), JSON.stringify(wrong.events));
      for (const dir of [root, `${root}-app`, `${root}-wrong`, `${root}-sealed`]) {
        texts.push(await readFile(join(dir, '.berth', 'events.jsonl'), 'utf8').catch(() => ''));
      }
      const all = texts.join('\n');
      expect(all).toContain(reference); // the collection is real: the pulls are in it
      expect(all).toContain(pushedTo); // and the pushes
      for (const secret of [...secretForms('berth', password), `${password}-wrong`])
        expect(all).not.toContain(secret);
      expect(all).not.toMatch(jwt);
      expect(all).not.toMatch(/bearer\s+\S/i);
      if (mode === 'token') expect(registry.token?.requests().some((r) => r.status === 200)).toBe(true);
    });
  },
);
