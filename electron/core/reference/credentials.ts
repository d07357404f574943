import { spawn } from 'node:child_process';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BerthError } from '../../../shared/error';

/** What a registry accepts as proof of identity: a username and password, or an OAuth2 identity (refresh) token. */
export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identity-token'; username?: string; token: string };

/** Credentials and where they were found (a file path, or `helper NAME in FILE`), for the UI; never the secret. */
export interface FoundCredentials {
  credentials: RegistryCredentials;
  source: string;
}

/** Auth files read (in order) and the one login writes; every path can be replaced in tests. */
export interface AuthFileLocations {
  read: string[];
  write: string;
  /** `PATH` used to find `docker-credential-<helper>` programs. */
  helperPath?: string;
  /** Milliseconds a credential helper may run (default 30 s). */
  helperTimeoutMs?: number;
}

/**
 * The usual locations: `$REGISTRY_AUTH_FILE` alone when set; else `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `~/.config/containers/auth.json` and docker's `config.json` (`$DOCKER_CONFIG` or `~/.docker`). Login writes
 * the first containers file, as podman does.
 */
export function defaultAuthFileLocations(
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): AuthFileLocations {
  const helperPath = env.PATH;
  const withPath = (l: AuthFileLocations): AuthFileLocations =>
    helperPath === undefined ? l : { ...l, helperPath };
  if (env.REGISTRY_AUTH_FILE)
    return withPath({ read: [env.REGISTRY_AUTH_FILE], write: env.REGISTRY_AUTH_FILE });
  const configHome =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config');
  const user = join(configHome, 'containers', 'auth.json');
  const docker = join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json');
  const runtime = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined;
  return withPath({ read: runtime ? [runtime, user, docker] : [user, docker], write: runtime ?? user });
}

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

const dockerHubHosts = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const dockerHubServerUrl = 'https://index.docker.io/v1/';

/**
 * Finds credentials for `registry` (`host[:port]`), optionally for one repository (`path`, as in
 * `library/alpine`): each file in order, its `credHelpers` entry, then its `auths` entries from the most
 * specific `host/namespace` key to the bare host (docker's `https://host/v1/` keys count as the host), then
 * its `credsStore`. Undefined when nothing matches.
 */
export async function findCredentials(
  registry: string,
  path: string | undefined,
  locations: AuthFileLocations = defaultAuthFileLocations(),
): Promise<FoundCredentials | undefined> {
  const host = canonicalHost(registry);
  for (const file of locations.read) {
    const doc = await readAuthFile(file);
    if (doc === undefined) continue;
    const helper = findHelper(doc.credHelpers, host);
    if (helper !== undefined) {
      const found = await runCredentialHelper(helper, host, locations);
      if (found) return { credentials: found, source: `credential helper ${helper} (${file})` };
    }
    const entry = findAuthEntry(doc.auths, host, path);
    const fromEntry = entry && decodeAuthEntry(entry, file);
    if (fromEntry) return { credentials: fromEntry, source: file };
    if (typeof doc.credsStore === 'string' && doc.credsStore !== '') {
      const found = await runCredentialHelper(doc.credsStore, host, locations);
      if (found) return { credentials: found, source: `credential store ${doc.credsStore} (${file})` };
    }
  }
  return undefined;
}

/** Writes `auths[registry]` into the login file (created 0700/0600; other keys kept); the file stays mode 0600. */
export async function storeCredentials(
  registry: string,
  credentials: { username: string; password: string },
  locations: AuthFileLocations = defaultAuthFileLocations(),
): Promise<string> {
  if (credentials.username.includes(':')) {
    throw new BerthError('BAD_REQUEST', 'a username cannot contain ":"');
  }
  const file = locations.write;
  const doc = (await readAuthFile(file)) ?? {};
  const auths = { ...(doc.auths ?? {}) };
  auths[canonicalHost(registry)] = {
    auth: Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64'),
  };
  await writeAuthFile(file, { ...doc, auths });
  return file;
}

/**
 * Removes `registry`'s entry from the login file. `removed` is false when it held none; `elsewhere` then
 * names another file that still has credentials for it (docker's config is left alone, as podman does).
 */
export async function removeCredentials(
  registry: string,
  locations: AuthFileLocations = defaultAuthFileLocations(),
): Promise<{ removed: boolean; file: string; elsewhere?: string }> {
  const file = locations.write;
  const host = canonicalHost(registry);
  const doc = await readAuthFile(file);
  const auths = { ...(doc?.auths ?? {}) };
  const keys = Object.keys(auths).filter((key) => normalizeAuthKey(key) === host);
  if (doc !== undefined && keys.length > 0) {
    for (const key of keys) delete auths[key];
    await writeAuthFile(file, { ...doc, auths });
    return { removed: true, file };
  }
  for (const other of locations.read) {
    if (other === file) continue;
    const otherDoc = await readAuthFile(other);
    if (otherDoc && findAuthEntry(otherDoc.auths, host, undefined))
      return { removed: false, file, elsewhere: other };
  }
  return { removed: false, file };
}

/** The server URL a credential helper is asked about: docker's legacy URL for Docker Hub, else the host. */
export function credentialHelperServerUrl(registry: string): string {
  return canonicalHost(registry) === 'docker.io' ? dockerHubServerUrl : canonicalHost(registry);
}

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin and reads `{Username, Secret}` from
 * stdout. "credentials not found" (or an empty answer) is undefined; a Username of `<token>` means the
 * Secret is an identity token. The helper's output never enters an error message.
 */
export async function runCredentialHelper(
  helper: string,
  registry: string,
  locations: Pick<AuthFileLocations, 'helperPath' | 'helperTimeoutMs'> = {},
): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
    throw new BerthError('BAD_REQUEST', `invalid credential helper name ${JSON.stringify(helper)}`);
  }
  const program = `docker-credential-${helper}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (locations.helperPath !== undefined) env.PATH = locations.helperPath;
  const { code, stdout, spawnError } = await new Promise<{
    code: number | null;
    stdout: string;
    spawnError?: string;
  }>((resolve) => {
    const child = spawn(program, ['get'], {
      env,
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: locations.helperTimeoutMs ?? 30_000,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1024 * 1024) chunks.push(chunk);
      else child.kill('SIGKILL');
    });
    child.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ code: null, stdout: '', spawnError: err.code ?? err.message }),
    );
    child.once('close', (exitCode) =>
      resolve({ code: exitCode, stdout: Buffer.concat(chunks).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(credentialHelperServerUrl(registry));
  });
  if (spawnError === 'ENOENT') {
    throw new BerthError(
      'UNSUPPORTED',
      `credential helper ${program} is configured but not installed (not found in PATH)`,
      {
        helper,
      },
    );
  }
  if (spawnError !== undefined) {
    throw new BerthError('INTERNAL', `credential helper ${program} could not run: ${spawnError}`, { helper });
  }
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new BerthError(
      'INTERNAL',
      `credential helper ${program} failed (exit ${String(code)}) for ${registry}`,
      { helper },
    );
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
  } catch {
    throw new BerthError('INTERNAL', `credential helper ${program} printed something that is not JSON`, {
      helper,
    });
  }
  if (typeof answer.Secret !== 'string' || answer.Secret === '') return undefined;
  const username = typeof answer.Username === 'string' ? answer.Username : '';
  if (username === '<token>') return { kind: 'identity-token', token: answer.Secret };
  return { kind: 'basic', username, password: answer.Secret };
}

/** `host[:port]` with Docker Hub's aliases folded into `docker.io`. */
function canonicalHost(registry: string): string {
  return dockerHubHosts.has(registry) ? 'docker.io' : registry;
}

/** An auths key as `host[/path]`: scheme and docker's `/v1/`-style paths dropped, Docker Hub aliases folded. */
function normalizeAuthKey(key: string): string {
  let k = key;
  const scheme = /^https?:\/\//i.exec(k);
  if (scheme) {
    k = k.slice(scheme[0].length);
    const slash = k.indexOf('/');
    if (slash >= 0) k = k.slice(0, slash);
  }
  k = k.replace(/\/+$/, '');
  const slash = k.indexOf('/');
  const host = slash < 0 ? k : k.slice(0, slash);
  return canonicalHost(host) + (slash < 0 ? '' : k.slice(slash));
}

function findAuthEntry(
  auths: AuthFile['auths'],
  host: string,
  path: string | undefined,
): AuthEntry | undefined {
  if (auths === undefined || typeof auths !== 'object') return undefined;
  const byKey = new Map<string, AuthEntry>();
  for (const [key, entry] of Object.entries(auths)) {
    const normalized = normalizeAuthKey(key);
    if (!byKey.has(normalized) && typeof entry === 'object' && entry !== null) byKey.set(normalized, entry);
  }
  const wanted: string[] = [];
  if (path !== undefined) {
    const parts = path.split('/');
    for (let n = parts.length; n > 0; n--) wanted.push(`${host}/${parts.slice(0, n).join('/')}`);
  }
  wanted.push(host);
  for (const key of wanted) {
    const entry = byKey.get(key);
    if (entry) return entry;
  }
  return undefined;
}

function findHelper(helpers: AuthFile['credHelpers'], host: string): string | undefined {
  if (helpers === undefined || typeof helpers !== 'object') return undefined;
  for (const [key, helper] of Object.entries(helpers)) {
    if (normalizeAuthKey(key) === host && typeof helper === 'string' && helper !== '') return helper;
  }
  return undefined;
}

function decodeAuthEntry(entry: AuthEntry, file: string): RegistryCredentials | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    const basic = typeof entry.auth === 'string' ? splitBasic(entry.auth) : undefined;
    return basic
      ? { kind: 'identity-token', username: basic.username, token: entry.identitytoken }
      : { kind: 'identity-token', token: entry.identitytoken };
  }
  if (typeof entry.auth !== 'string' || entry.auth === '') return undefined;
  const basic = splitBasic(entry.auth);
  if (!basic)
    throw new BerthError(
      'BAD_REQUEST',
      `${file} has a malformed "auth" entry (expected base64 of user:password)`,
      { file },
    );
  return { kind: 'basic', ...basic };
}

function splitBasic(auth: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readAuthFile(file: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new BerthError('BAD_REQUEST', `${file} is not valid JSON; fix or remove it`, { file });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new BerthError('BAD_REQUEST', `${file} is not an auth file (expected a JSON object)`, { file });
  }
  return doc as AuthFile;
}

function writeAuthFile(file: string, doc: AuthFile): Promise<void> {
  return writeSecretFile(file, JSON.stringify(doc, null, '\t') + '\n');
}

/** Replaces a file that holds secrets: folder 0700, file 0600 from its creation, fsynced, renamed into place. */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/**
 * Which registries have saved credentials, from every auth file in read order (the first file naming a
 * registry wins, as lookups do): the user name from `auths` entries, or the helper that holds them. Never
 * returns a password or token. A malformed file is reported as BAD_REQUEST naming it.
 */
export async function listCredentials(
  locations: AuthFileLocations = defaultAuthFileLocations(),
): Promise<{ registry: string; username?: string; source: string }[]> {
  const found = new Map<string, { registry: string; username?: string; source: string }>();
  for (const file of locations.read) {
    const doc = await readAuthFile(file);
    if (doc === undefined) continue;
    for (const [key, helper] of Object.entries(doc.credHelpers ?? {})) {
      const registry = normalizeAuthKey(key);
      if (typeof helper === 'string' && helper !== '' && !found.has(registry))
        found.set(registry, { registry, source: `credential helper ${helper} (${file})` });
    }
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      const registry = normalizeAuthKey(key);
      if (found.has(registry) || typeof entry !== 'object' || entry === null) continue;
      const credentials = decodeAuthEntry(entry, file);
      if (credentials === undefined) continue;
      found.set(
        registry,
        credentials.username === undefined || credentials.username === ''
          ? { registry, source: file }
          : { registry, username: credentials.username, source: file },
      );
    }
  }
  return [...found.values()].sort((a, b) => a.registry.localeCompare(b.registry));
}
