import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCredentials } from '../../../electron/core/reference/credentials';

let dir: string;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cred-list-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('listCredentials', () => {
  it('lists each registry once (first file wins) with user name and source, and never a secret', async () => {
    const first = join(dir, 'auth.json');
    const second = join(dir, 'docker-config.json');
    await writeFile(
      first,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:hub-password') },
          'localhost:5000': { auth: b64('local:local-password') },
        },
        credHelpers: { 'ghcr.io': 'secretservice' },
      }),
    );
    await writeFile(
      second,
      JSON.stringify({
        auths: {
          'docker.io': { auth: b64('shadowed:other-password') },
          'quay.io': { identitytoken: 'quay-identity-token' },
          'empty.example.com': {},
        },
      }),
    );
    const listed = await listCredentials({ read: [join(dir, 'missing.json'), first, second], write: first });
    expect(listed).toEqual([
      { registry: 'docker.io', username: 'hubuser', source: first },
      { registry: 'ghcr.io', source: `credential helper secretservice (${first})` },
      { registry: 'localhost:5000', username: 'local', source: first },
      { registry: 'quay.io', source: second },
    ]);
    const text = JSON.stringify(listed);
    for (const secret of ['hub-password', 'local-password', 'other-password', 'quay-identity-token'])
      expect(text).not.toContain(secret);
  });

  it('names a malformed auth file instead of guessing', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    await expect(listCredentials({ read: [bad], write: bad })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining(bad) as unknown as string,
    });
  });
});
