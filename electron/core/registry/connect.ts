import { homedir } from 'node:os';
import { BerthError } from '../../../shared/error';
import { defaultCertsDirs, findRegistryCertificates } from '../reference/certs';
import {
  defaultAuthFileLocations,
  findCredentials,
  type AuthFileLocations,
  type RegistryCredentials,
} from '../reference/credentials';
import {
  defaultRegistriesConfPaths,
  loadRegistriesConf,
  type RegistriesConf,
} from '../reference/registries-conf';
import { isInsecureRegistry } from '../reference/registry-rules';
import { RegistryClient, type CredentialSource, type RegistryClientOptions } from './client';
import type { ProxySettings } from './transport';

/** Everything on the machine that shapes how registries are reached; each part replaceable in tests. */
export interface RegistryEnvironment {
  conf: RegistriesConf;
  /** certs.d roots, searched in order. */
  certsDirs: string[];
  auth: AuthFileLocations;
  /** Options passed to every client (retry policy, timeouts, user agent, log). */
  client?: Omit<RegistryClientOptions, 'registry' | 'insecure' | 'certificates' | 'credentials'>;
  /** Logins the desktop app sealed with the OS keychain; asked before the auth files, and where it logs in. */
  savedLogins?: SavedLogins;
}

/** Registry logins kept by the host itself (the desktop app's keychain-sealed file). */
export interface SavedLogins {
  /** Where they are kept, for messages. */
  readonly file: string;
  find(registry: string): Promise<RegistryCredentials | undefined>;
  save(registry: string, credentials: RegistryCredentials): Promise<void>;
  /** False when there was none. */
  remove(registry: string): Promise<boolean>;
  /** The registries with a saved login. */
  registries(): Promise<string[]>;
}

/** Reads the user's registries.conf and the usual certs.d and auth-file locations. */
export async function loadRegistryEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): Promise<RegistryEnvironment> {
  const environment: RegistryEnvironment = {
    conf: await loadRegistriesConf(defaultRegistriesConfPaths(env, home)),
    certsDirs: defaultCertsDirs(env, home),
    auth: defaultAuthFileLocations(env, home),
  };
  const proxy = proxyFromEnv(env);
  if (proxy) environment.client = { proxy };
  return environment;
}

/** Proxy settings from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (either case), or undefined when none is set. */
export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): ProxySettings | undefined {
  const pick = (name: string): string | undefined => env[name.toLowerCase()] || env[name] || undefined;
  const httpProxy = pick('HTTP_PROXY');
  const httpsProxy = pick('HTTPS_PROXY');
  if (!httpProxy && !httpsProxy) return undefined;
  const proxy: ProxySettings = {};
  if (httpProxy) proxy.httpProxy = httpProxy;
  if (httpsProxy) proxy.httpsProxy = httpsProxy;
  const noProxy = pick('NO_PROXY');
  if (noProxy) proxy.noProxy = noProxy;
  return proxy;
}

/**
 * Normalizes what a user types as a registry (`https://ghcr.io/`, `index.docker.io`, `LOCALHOST:5000`) to
 * the `host[:port]` used everywhere else; throws BAD_REQUEST for anything that is not one.
 */
export function normalizeRegistryHost(input: string): string {
  let host = input.trim().replace(/^https?:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  if (
    !/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:\d{1,5})?$/.test(
      host,
    )
  ) {
    throw new BerthError(
      'BAD_REQUEST',
      `invalid registry ${JSON.stringify(input)}: expected a host[:port] such as ghcr.io`,
    );
  }
  return host;
}

/**
 * A client for `registry` configured from the environment: insecure per registries.conf and the loopback
 * rule, certificates from certs.d, credentials from the auth files (looked up per repository, lazily).
 * `credentials` replaces that lookup (login uses it to test new credentials).
 */
export async function openRegistry(
  registry: string,
  environment: RegistryEnvironment,
  overrides: { insecure?: boolean; credentials?: CredentialSource | null } = {},
): Promise<RegistryClient> {
  const host = normalizeRegistryHost(registry);
  const options: RegistryClientOptions = {
    ...environment.client,
    registry: host,
    insecure: overrides.insecure ?? isInsecureRegistry(environment.conf, host),
    certificates: await findRegistryCertificates(host, environment.certsDirs),
  };
  if (overrides.credentials !== null) {
    options.credentials =
      overrides.credentials ??
      (async (repository) =>
        (await environment.savedLogins?.find(host)) ??
        (await findCredentials(host, repository, environment.auth))?.credentials);
  }
  return new RegistryClient(options);
}

/** One open client per registry, so connections, pings and tokens are shared across pulls. */
export class RegistryPool {
  private readonly clients = new Map<string, Promise<RegistryClient>>();

  constructor(private readonly environment: RegistryEnvironment) {}

  /** The shared client for `registry`, opened on first use. */
  get(registry: string): Promise<RegistryClient> {
    const host = normalizeRegistryHost(registry);
    let client = this.clients.get(host);
    if (client === undefined) {
      client = openRegistry(host, this.environment);
      this.clients.set(host, client);
      client.catch(() => this.clients.delete(host));
    }
    return client;
  }

  /** Drops a registry's client (after login or logout, so new credentials are read). */
  async forget(registry: string): Promise<void> {
    const host = normalizeRegistryHost(registry);
    const client = this.clients.get(host);
    this.clients.delete(host);
    if (client) await (await client).close();
  }

  /** Closes every client. */
  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map(async (c) => (await c).close()));
  }
}
