import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushOutcome } from '../../electron/core/push/push';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { runCli, type CliRun } from '../support/berth-cli';

let scratch: string;
let registry: TestRegistry;
let two: FixtureImage;

/** Runs the built CLI with a private HOME and auth file; stdout is a pipe, so the plain display is used. */
function cli(args: string[], stdin?: string): Promise<CliRun> {
  return runCli({
    store: join(scratch, 'store'),
    home: scratch,
    args,
    env: {
      REGISTRY_AUTH_FILE: join(scratch, 'auth.json'),
      CONTAINERS_REGISTRIES_CONF: join(scratch, 'registries.conf'),
    },
    ...(stdin === undefined ? {} : { stdin }),
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-push-cli-'));
  registry = await startRegistry({ auth: 'htpasswd' });
  two = buildImage({
    layers: [0, 1].map((i) => ({ entries: [{ path: `layer-${i}.bin`, size: 24 * 1024 * (i + 1) }] })),
  });
  await pushImage(registry, 'berth/two', '1', two);
});

afterAll(async () => {
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('berth push', () => {
  it('says why a push cannot start without credentials, then pushes with per-blob lines and --json', async () => {
    const source = `${registry.host}/berth/two:1`;
    const login = (password: string) =>
      cli(['login', registry.host, '-u', registry.username ?? '', '--password-stdin'], `${password}\n`);
    expect((await login(registry.password ?? '')).code).toBe(0);
    expect((await cli(['pull', source])).code).toBe(0);
    expect((await cli(['logout', registry.host])).code).toBe(0);

    const denied = await cli(['push', source, `${registry.host}/berth/other:1`]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^berth: cannot push to .*berth\/other: no credentials for .*berth login/);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);

    expect((await login(registry.password ?? '')).code).toBe(0);
    const plain = await cli(['push', source, `${registry.host}/berth/other:1`]);
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    for (const digest of [two.configDigest, ...two.layers.map((l) => l.digest)]) {
      expect(plain.stdout).toContain(`${digest.slice(7, 19)}: exists`);
    }
    expect(plain.stdout).toContain(`pushed ${registry.host}/berth/other:1`);
    expect(plain.stdout).toContain('3 mounted');
    expect(plain.stdout).toContain(`digest: ${two.digest}`);

    const json = await cli(['--json', 'push', source, `${registry.host}/berth/other:2`]);
    expect(json.code).toBe(0);
    const outcome = JSON.parse(json.stdout) as PushOutcome;
    expect(outcome).toMatchObject({ reference: `${registry.host}/berth/other:2`, digest: two.digest });
    expect(outcome.blobs.map((b) => b.status)).toEqual(['exists', 'exists', 'exists']);

    const inspect = await cli(['inspect', source]);
    const [details] = JSON.parse(inspect.stdout) as { repoDigests: string[] }[];
    expect(details?.repoDigests).toContain(`${registry.host}/berth/other@${two.digest}`);
  });
});
