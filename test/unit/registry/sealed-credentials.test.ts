import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SealedCredentialStore } from '../../../electron/core/reference/sealed-credentials';
import { BerthError } from '../../../shared/error';
import { fakeKeychain } from '../../support/fake-keychain';

const password = 'hunter2-Sealed!';
let dir: string;
let file: string;

async function refusal(promise: Promise<unknown>): Promise<BerthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(err)}`);
  return err;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-sealed-'));
  file = join(dir, 'app', 'credentials.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SealedCredentialStore', () => {
  it('seals a login into a 0600 file that holds neither the password nor its Basic form, and reads it back', async () => {
    const store = new SealedCredentialStore(file, fakeKeychain());
    await store.save('registry.example:5000', { kind: 'basic', username: 'me', password });
    await store.save('ghcr.io', { kind: 'identity-token', token: 'refresh-token-xyz' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'app'))).mode & 0o777).toBe(0o700);
    const text = await readFile(file, 'utf8');
    for (const secret of [password, Buffer.from(`me:${password}`).toString('base64'), 'refresh-token-xyz'])
      expect(text).not.toContain(secret);
    expect(await store.find('registry.example:5000')).toEqual({ kind: 'basic', username: 'me', password });
    expect(await store.find('ghcr.io')).toEqual({ kind: 'identity-token', token: 'refresh-token-xyz' });
    expect(await store.find('other.example')).toBeUndefined();
    expect(await store.remove('ghcr.io')).toBe(true);
    expect(await store.remove('ghcr.io')).toBe(false);
    expect(await store.find('ghcr.io')).toBeUndefined();
  });

  it('refuses to save when only the basic_text backend exists, saying what to do, and writes nothing', async () => {
    const store = new SealedCredentialStore(file, fakeKeychain('basic_text'));
    const err = await refusal(store.save('registry.example', { kind: 'basic', username: 'me', password }));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain('basic_text');
    expect(err.message).toContain('berth login');
    expect(err.message).not.toContain(password);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses when no encryption is available at all', async () => {
    const store = new SealedCredentialStore(file, fakeKeychain('gnome_libsecret', false));
    const err = await refusal(store.save('registry.example', { kind: 'basic', username: 'me', password }));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.detail).toEqual({ backend: 'gnome_libsecret' });
    expect(err.message).toContain('offers no encryption');
  });

  it('reports a login sealed under another key, or a damaged file, without guessing or echoing secrets', async () => {
    await new SealedCredentialStore(file, fakeKeychain()).save('registry.example', {
      kind: 'basic',
      username: 'me',
      password,
    });
    const err = await refusal(new SealedCredentialStore(file, fakeKeychain()).find('registry.example'));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain('cannot be unsealed');
    expect(err.message).not.toContain(password);
    await writeFile(file, '{"registries": {"a": 1}}');
    expect((await refusal(new SealedCredentialStore(file, fakeKeychain()).find('a'))).code).toBe(
      'BAD_REQUEST',
    );
  });
});
