import { BerthError } from '../../../shared/error';
import { removeCredentials, storeCredentials } from '../reference/credentials';
import { normalizeRegistryHost, openRegistry, type RegistryEnvironment } from './connect';

/** What `login` needs; the password is used for the check and the auth file only, never logged or echoed. */
export interface LoginRequest {
  registry: string;
  username: string;
  password: string;
  signal?: AbortSignal;
}

/**
 * Verifies credentials against the registry (a token from its realm, or `/v2/` with Basic auth), then saves
 * them: to the host's sealed logins when it has them (the desktop app), else to the login auth file (mode
 * 0600). Wrong credentials: UNAUTHORIZED and nothing is written.
 */
export async function login(
  request: LoginRequest,
  environment: RegistryEnvironment,
): Promise<{ registry: string; file: string }> {
  const registry = normalizeRegistryHost(request.registry);
  if (request.username === '') throw new BerthError('BAD_REQUEST', 'a username is required');
  if (request.password === '') throw new BerthError('BAD_REQUEST', 'a password is required');
  const credentials = { kind: 'basic' as const, username: request.username, password: request.password };
  const client = await openRegistry(registry, environment, { credentials: null });
  try {
    await client.checkCredentials(credentials, request.signal ? { signal: request.signal } : {});
  } finally {
    await client.close();
  }
  if (environment.savedLogins) {
    await environment.savedLogins.save(registry, credentials);
    return { registry, file: environment.savedLogins.file };
  }
  const file = await storeCredentials(registry, credentials, environment.auth);
  return { registry, file };
}

/** Removes saved credentials for a registry; says where others remain when the login file had none. */
export async function logout(
  registry: string,
  environment: RegistryEnvironment,
): Promise<{ registry: string; removed: boolean; file: string; elsewhere?: string }> {
  const host = normalizeRegistryHost(registry);
  const sealed = (await environment.savedLogins?.remove(host)) ?? false;
  const files = await removeCredentials(host, environment.auth);
  if (sealed && environment.savedLogins)
    return { registry: host, removed: true, file: environment.savedLogins.file };
  return { registry: host, ...files };
}
