import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../shared/format';
import { buildImage, pushImage, type FixtureImage } from '../support/fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { berthBin, runCli, type CliRun } from '../support/berth-cli';

const run = promisify(execFile);

let scratch: string;
let registry: TestRegistry;
let three: FixtureImage;

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
  scratch = await mkdtemp(join(tmpdir(), 'berth-pull-cli-'));
  registry = await startRegistry({ auth: 'htpasswd' });
  three = buildImage({
    layers: [0, 1, 2].map((i) => ({
      entries: [{ path: `layer-${i}.bin`, size: 32 * 1024 * (i + 1) }],
      gzipLevel: 1,
    })),
  });
  await pushImage(registry, 'berth/three', '1', three);
});

afterAll(async () => {
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('berth login, pull, tags and inspect --remote against the real registry', () => {
  it('refuses wrong credentials and saves right ones to a 0600 auth.json', async () => {
    const wrong = await cli(['login', registry.host, '-u', 'berth', '--password-stdin'], 'nope\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^berth: .*unauthorized/i);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).not.toContain('nope');

    const right = await cli(
      ['login', registry.host, '-u', registry.username ?? '', '--password-stdin'],
      `${registry.password ?? ''}\n`,
    );
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
    expect(right.stdout).toContain('Login succeeded');
    const file = join(scratch, 'auth.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain(registry.host);
  });

  it('pulls a 3-layer image with plain progress lines that images --json and skopeo agree on', async () => {
    const name = `${registry.host}/berth/three:1`;
    const pulled = await cli(['pull', name]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    const lines = pulled.stdout.trim().split('\n');
    for (const layer of three.layers) {
      const short = layer.digest.slice('sha256:'.length, 'sha256:'.length + 12);
      const states = lines.filter((l) => l.startsWith(`${short}: `));
      expect(states.at(-1)).toBe(`${short}: complete ${formatBytes(layer.size)}`);
      expect(new Set(states).size).toBe(states.length);
    }
    expect(lines).toContain(`image ID: ${three.configDigest}`);
    expect(lines.at(-1)).toBe(`digest: ${three.digest}`);
    // The moment the image became usable under its name, before the summary.
    const stored = lines.indexOf(`stored ${name} as ${three.configDigest}; indexing its layers`);
    expect(stored).toBeGreaterThan(-1);
    expect(stored).toBeLessThan(lines.indexOf(`image ID: ${three.configDigest}`));

    const images = await cli(['--json', 'images']);
    expect(images.code).toBe(0);
    const listed = JSON.parse(images.stdout) as { id: string }[];
    expect(listed.map((i) => i.id)).toContain(three.configDigest);

    const { stdout: skopeo } = await run('skopeo', ['inspect', `oci:${join(scratch, 'store')}:${name}`]);
    expect((JSON.parse(skopeo) as { Digest: string }).Digest).toBe(three.digest);

    const again = await cli(['--json', 'pull', name]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'present', imageId: three.configDigest });
  });

  it('draws live per-layer bars on a terminal', async () => {
    const store = join(scratch, 'tty-store');
    const command = [process.execPath, berthBin, '--store', store, 'pull', `${registry.host}/berth/three:1`]
      .map((a) => `'${a}'`)
      .join(' ');
    const { stdout } = await run('script', ['-qec', command, '/dev/null'], {
      env: {
        PATH: process.env.PATH,
        HOME: scratch,
        TERM: 'xterm',
        REGISTRY_AUTH_FILE: join(scratch, 'auth.json'),
        CONTAINERS_REGISTRIES_CONF: join(scratch, 'registries.conf'),
      },
      timeout: 60_000,
    });
    for (const layer of three.layers) {
      expect(stdout).toContain(layer.digest.slice('sha256:'.length, 'sha256:'.length + 12));
    }
    expect(stdout).toContain('\u2588');
    expect(stdout).toContain(
      `stored ${registry.host}/berth/three:1 as ${three.configDigest}; indexing its layers`,
    );
    expect(stdout).toContain(`digest: ${three.digest}`);
  });

  it('lists tags and inspects a remote image without pulling it', async () => {
    const tags = await cli(['tags', `${registry.host}/berth/three`]);
    expect(tags.code).toBe(0);
    expect(tags.stdout.trim().split('\n')).toEqual(['1']);
    const remote = await cli(['inspect', '--remote', `${registry.host}/berth/three:1`]);
    expect(remote.code).toBe(0);
    const [inspected] = JSON.parse(remote.stdout) as { digest: string; layers: { digest: string }[] }[];
    expect(inspected?.digest).toBe(three.digest);
    expect(inspected?.layers.map((l) => l.digest)).toEqual(three.layers.map((l) => l.digest));
  });

  it('explains a bad reference, a missing tag and a bad policy in one line each', async () => {
    const bad = await cli(['pull', 'Foo//bar']);
    expect(bad.code).toBe(2); // a malformed reference is bad usage, like any other bad argument
    expect(bad.stderr).toMatch(/^berth: invalid reference "Foo\/\/bar": .+\n$/);

    const missing = await cli(['pull', `${registry.host}/berth/three:nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/manifest unknown/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    const policy = await cli(['pull', '--policy', 'sometimes', `${registry.host}/berth/three:1`]);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain('--policy must be one of missing, always, newer');
  });

  it('logs out', async () => {
    const out = await cli(['logout', registry.host]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Removed login credentials for ${registry.host}`);
    expect(await readFile(join(scratch, 'auth.json'), 'utf8')).not.toContain(registry.host);
  });
});
