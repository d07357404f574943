import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRegistryCertificates } from '../../../electron/core/reference/certs';
import {
  credentialHelperServerUrl,
  defaultAuthFileLocations,
  findCredentials,
  removeCredentials,
  runCredentialHelper,
  storeCredentials,
  type AuthFileLocations,
} from '../../../electron/core/reference/credentials';

let dir: string;
let bin: string;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-creds-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  // A real credential helper speaking docker's protocol: server URL on stdin, JSON on stdout.
  await writeFile(
    join(bin, 'docker-credential-berthtest'),
    `#!/bin/sh
read server
[ "$1" = get ] || exit 2
case "$server" in
  helper.example.com) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$server" ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"<token>","Secret":"identity-xyz"}' "$server" ;;
  broken.example.com) echo "leaked-secret-value"; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  await chmod(join(bin, 'docker-credential-berthtest'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function locations(read: string[], write = read[0] as string): AuthFileLocations {
  return { read, write, helperPath: `${bin}:/usr/bin:/bin` };
}

describe('findCredentials', () => {
  it('reads auths entries: bare hosts, docker URLs and namespaced keys, most specific first', async () => {
    const file = join(dir, 'auth-a.json');
    await writeFile(
      file,
      JSON.stringify({
        auths: {
          'registry.example.com': { auth: b64('user:pa:ss') },
          'registry.example.com/team/app': { auth: b64('team:team-pass') },
          'https://index.docker.io/v1/': { auth: b64('hub:hub-pass') },
          'http://legacy.example.com/v1/': { auth: b64('legacy:legacy-pass') },
          'token.example.com': { auth: b64('tok:'), identitytoken: 'refresh-123' },
        },
      }),
    );
    const l = locations([file]);
    expect(await findCredentials('registry.example.com', 'other/app', l)).toEqual({
      credentials: { kind: 'basic', username: 'user', password: 'pa:ss' },
      source: file,
    });
    expect((await findCredentials('registry.example.com', 'team/app', l))?.credentials).toMatchObject({
      username: 'team',
    });
    expect((await findCredentials('docker.io', 'library/alpine', l))?.credentials).toMatchObject({
      username: 'hub',
    });
    expect((await findCredentials('legacy.example.com', undefined, l))?.credentials).toMatchObject({
      username: 'legacy',
    });
    expect((await findCredentials('token.example.com', undefined, l))?.credentials).toEqual({
      kind: 'identity-token',
      username: 'tok',
      token: 'refresh-123',
    });
    expect(await findCredentials('nowhere.example.com', undefined, l)).toBeUndefined();
  });

  it('reads files in order and skips missing ones', async () => {
    const first = join(dir, 'order-1.json');
    const second = join(dir, 'order-2.json');
    await writeFile(first, JSON.stringify({ auths: { 'a.example': { auth: b64('one:1') } } }));
    await writeFile(
      second,
      JSON.stringify({ auths: { 'a.example': { auth: b64('two:2') }, 'b.example': { auth: b64('two:b') } } }),
    );
    const l = locations([join(dir, 'missing.json'), first, second]);
    expect((await findCredentials('a.example', undefined, l))?.credentials).toMatchObject({
      username: 'one',
    });
    expect(await findCredentials('b.example', undefined, l)).toMatchObject({ source: second });
  });

  it('asks credHelpers and credsStore through the docker-credential protocol', async () => {
    const file = join(dir, 'docker-config.json');
    await writeFile(
      file,
      JSON.stringify({
        credHelpers: { 'helper.example.com': 'berthtest' },
        credsStore: 'berthtest',
        auths: { 'file.example.com': { auth: b64('f:g') } },
      }),
    );
    const l = locations([file]);
    expect(await findCredentials('helper.example.com', undefined, l)).toEqual({
      credentials: { kind: 'basic', username: 'helper-user', password: 'helper-secret' },
      source: `credential helper berthtest (${file})`,
    });
    expect((await findCredentials('docker.io', undefined, l))?.credentials).toEqual({
      kind: 'identity-token',
      token: 'identity-xyz',
    });
    expect((await findCredentials('file.example.com', undefined, l))?.credentials).toMatchObject({
      username: 'f',
    });
    expect(await findCredentials('unknown.example.com', undefined, l)).toBeUndefined();
  });

  it('reports helper failures without their output, and a missing helper by name', async () => {
    const error = await runCredentialHelper('berthtest', 'broken.example.com', { helperPath: bin }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'INTERNAL' });
    expect(String((error as Error).message)).not.toContain('leaked-secret-value');
    await expect(runCredentialHelper('absent', 'x.example', { helperPath: bin })).rejects.toThrow(
      /docker-credential-absent is configured but not installed/,
    );
    await expect(runCredentialHelper('../evil', 'x.example', { helperPath: bin })).rejects.toThrow(
      /invalid credential helper/,
    );
    expect(credentialHelperServerUrl('index.docker.io')).toBe('https://index.docker.io/v1/');
  });

  it('names a malformed file instead of guessing', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"auths": ');
    await expect(findCredentials('a.example', undefined, locations([file]))).rejects.toThrow(
      `${file} is not valid JSON`,
    );
  });
});

describe('storeCredentials / removeCredentials', () => {
  it('writes auth.json with mode 0600, keeps other entries, and removes only the registry asked for', async () => {
    const file = join(dir, 'store', 'containers', 'auth.json');
    const docker = join(dir, 'store', 'docker.json');
    await mkdir(join(dir, 'store', 'containers'), { recursive: true });
    await writeFile(file, JSON.stringify({ auths: { 'keep.example': { auth: b64('k:k') } }, extra: true }), {
      mode: 0o644,
    });
    await writeFile(docker, JSON.stringify({ auths: { 'docker-only.example': { auth: b64('d:d') } } }));
    const l = locations([file, docker], file);

    expect(await storeCredentials('new.example:5000', { username: 'u', password: 'p@ss:word' }, l)).toBe(
      file,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(await readFile(file, 'utf8')) as {
      auths: Record<string, { auth: string }>;
      extra: boolean;
    };
    expect(doc.extra).toBe(true);
    expect(Object.keys(doc.auths).sort()).toEqual(['keep.example', 'new.example:5000']);
    expect((await findCredentials('new.example:5000', undefined, l))?.credentials).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p@ss:word',
    });

    expect(await removeCredentials('new.example:5000', l)).toEqual({ removed: true, file });
    expect(await findCredentials('new.example:5000', undefined, l)).toBeUndefined();
    expect((await findCredentials('keep.example', undefined, l))?.credentials).toMatchObject({
      username: 'k',
    });
    expect(await removeCredentials('docker-only.example', l)).toEqual({
      removed: false,
      file,
      elsewhere: docker,
    });
    expect(await removeCredentials('never.example', l)).toEqual({ removed: false, file });
  });

  it('creates the file and folder when absent and refuses usernames with a colon', async () => {
    const file = join(dir, 'fresh', 'nested', 'auth.json');
    const l = locations([file]);
    await storeCredentials('docker.io', { username: 'me', password: 'x' }, l);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await findCredentials('index.docker.io', undefined, l))?.credentials).toMatchObject({
      username: 'me',
    });
    await expect(storeCredentials('a.example', { username: 'a:b', password: 'x' }, l)).rejects.toThrow(
      /cannot contain ":"/,
    );
  });

  it('knows the usual locations', () => {
    expect(defaultAuthFileLocations({ REGISTRY_AUTH_FILE: '/a.json' }, '/home/u')).toEqual({
      read: ['/a.json'],
      write: '/a.json',
    });
    expect(defaultAuthFileLocations({ XDG_RUNTIME_DIR: '/run/user/1', PATH: '/bin' }, '/home/u')).toEqual({
      read: [
        '/run/user/1/containers/auth.json',
        '/home/u/.config/containers/auth.json',
        '/home/u/.docker/config.json',
      ],
      write: '/run/user/1/containers/auth.json',
      helperPath: '/bin',
    });
    expect(defaultAuthFileLocations({ DOCKER_CONFIG: '/dc' }, '/home/u').read).toEqual([
      '/home/u/.config/containers/auth.json',
      '/dc/config.json',
    ]);
  });
});

describe('findRegistryCertificates', () => {
  it('reads CAs and a client pair from the first root that has the host', async () => {
    const first = join(dir, 'certs-1');
    const second = join(dir, 'certs-2');
    await mkdir(join(first, 'other.example'), { recursive: true });
    await mkdir(join(second, 'reg.example:5000'), { recursive: true });
    await writeFile(join(second, 'reg.example:5000', 'ca.crt'), 'CA-1');
    await writeFile(join(second, 'reg.example:5000', 'extra.crt'), 'CA-2');
    await writeFile(join(second, 'reg.example:5000', 'client.cert'), 'CERT');
    await writeFile(join(second, 'reg.example:5000', 'client.key'), 'KEY');
    expect(await findRegistryCertificates('reg.example:5000', [first, second])).toEqual({
      dir: join(second, 'reg.example:5000'),
      ca: ['CA-1', 'CA-2'],
      client: { cert: 'CERT', key: 'KEY' },
    });
    expect(await findRegistryCertificates('none.example', [first, second])).toEqual({ ca: [] });
  });

  it('refuses a certificate without its key and hosts that would escape the folder', async () => {
    const root = join(dir, 'certs-3');
    await mkdir(join(root, 'half.example'), { recursive: true });
    await writeFile(join(root, 'half.example', 'client.cert'), 'CERT');
    await expect(findRegistryCertificates('half.example', [root])).rejects.toThrow(
      /has no matching client.key/,
    );
    await expect(findRegistryCertificates('../etc', [root])).rejects.toThrow(/invalid registry host/);
  });
});
