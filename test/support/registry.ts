import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importPKCS8, SignJWT } from 'jose';
import { Agent, fetch } from 'undici';
import { createSigningKey, createTestCertificates, type TestCertificates } from './tls.js';

const run = promisify(execFile);

/** Where the Debian package puts the CNCF distribution registry. */
export const REGISTRY_BINARY = process.env.BERTH_REGISTRY_BINARY ?? '/usr/bin/docker-registry';

const MISSING = `${REGISTRY_BINARY} not found: install docker-registry (apt-get install docker-registry), or run scripts/test-deps.sh`;

/** How the test registry authenticates clients. */
export type RegistryAuthMode = 'htpasswd' | 'token';

/** Decides which of the requested actions an account gets on a resource; `account` is undefined for anonymous. */
export type TokenPolicy = (
  account: string | undefined,
  resource: { type: string; name: string },
  requested: string[],
) => string[];

/** Options of {@link startRegistry}; every field is optional and defaults to a plain HTTP registry without auth. */
export interface StartRegistryOptions {
  /** Serve HTTPS with a CA generated for this registry. */
  tls?: boolean;
  /** Require htpasswd (Basic) or bearer-token auth. */
  auth?: RegistryAuthMode;
  /** Accounts for auth; defaults to `{ berth: 'berth-secret' }`. */
  users?: Record<string, string>;
  /** With token auth, give anonymous clients pull access (as Docker Hub does for public repositories). */
  anonymousPull?: boolean;
  /** With token auth, replaces the default grant rule (valid users get all they ask, anonymous gets pull if allowed). */
  tokenPolicy?: TokenPolicy;
  /** With token auth, lifetime of issued tokens in seconds (default 300). */
  tokenTtlSeconds?: number;
  /** Milliseconds to wait for the registry to answer `GET /v2/` (default 15000). */
  startTimeoutMs?: number;
}

/** One request the in-process token server answered. */
export interface TokenRequestRecord {
  /** The account from Basic credentials, if any were sent. */
  account: string | undefined;
  /** The `service` query parameter. */
  service: string | null;
  /** Scopes asked for, e.g. `repository:library/alpine:pull,push`. */
  scopes: string[];
  /** Scopes granted, in the same syntax. */
  granted: string[];
  /** HTTP status returned (200, or 401 for bad credentials). */
  status: number;
}

/** The token realm a token-auth registry points clients to. */
export interface TestTokenServer {
  /** Full realm URL (`http(s)://127.0.0.1:PORT/token`). */
  realm: string;
  /** The `service` the registry expects in tokens. */
  service: string;
  /** The `iss` the registry trusts. */
  issuer: string;
  /** Base URL of the token server. */
  issuerUrl: string;
  /** Every token request answered so far, oldest first. */
  requests(): TokenRequestRecord[];
}

/** One line of the registry's access log. */
export interface RegistryRequestRecord {
  method: string;
  /** Path and query, as the registry saw it. */
  uri: string;
  status: number;
}

/** A running docker-registry on loopback, owned by one test file. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, as it appears in image references. */
  host: string;
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  tls: boolean;
  /** CA certificate path (TLS only). */
  caCertPath?: string;
  /** CA certificate PEM (TLS only). */
  caCert?: string;
  /** A certs.d-style directory holding `<certsDir>/<host>/ca.crt` (TLS only). */
  certsDir?: string;
  auth?: RegistryAuthMode;
  /** Credentials of the first configured user (auth only). */
  username?: string;
  password?: string;
  /** All configured accounts (auth only). */
  users: Record<string, string>;
  /** The token server (token auth only). */
  token?: TestTokenServer;
  /** The registry's filesystem storage root. */
  storageDir: string;
  /** An undici dispatcher that trusts this registry's CA; closed by stop(). */
  dispatcher: Agent;
  /** Everything the registry wrote to stdout and stderr so far. */
  logs(): string;
  /** Requests seen by the registry, parsed from its access log. */
  requests(): RegistryRequestRecord[];
  /** Stops the registry (SIGTERM, waits for exit), the token server, and removes the temporary directory. */
  stop(): Promise<void>;
}

/** True when the docker-registry binary is installed and executable. */
export function registryAvailable(): boolean {
  try {
    accessSync(REGISTRY_BINARY, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

const DEFAULT_USERS: Record<string, string> = { berth: 'berth-secret' };

async function htpasswdFile(path: string, users: Record<string, string>): Promise<void> {
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    try {
      const { stdout } = await run('htpasswd', ['-Bbn', user, password], { timeout: 20_000 });
      lines.push(stdout.trim());
    } catch (error) {
      throw new Error('htpasswd failed: install apache2-utils (apt-get install apache2-utils)', {
        cause: error,
      });
    }
  }
  await writeFile(path, lines.join('\n') + '\n');
}

function parseBasic(header: string | undefined): { user: string; password: string } | null | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return null;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== ''),
  };
}

interface TokenServerHandle extends TestTokenServer {
  close(): Promise<void>;
}

async function startTokenServer(
  dir: string,
  options: StartRegistryOptions,
  users: Record<string, string>,
  certificates: TestCertificates | undefined,
): Promise<TokenServerHandle & { rootCertPath: string }> {
  const signing = await createSigningKey(dir);
  const key = await importPKCS8(signing.keyPem, 'ES256');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const ttl = options.tokenTtlSeconds ?? 300;
  const records: TokenRequestRecord[] = [];
  const policy: TokenPolicy =
    options.tokenPolicy ??
    ((account, _resource, requested) => {
      if (account !== undefined) return requested;
      return options.anonymousPull ? requested.filter((a) => a === 'pull') : [];
    });

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (url.pathname !== '/token' || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter((x) => x !== ''));
    const credentials = parseBasic(req.headers.authorization);
    const record: TokenRequestRecord = {
      account: credentials?.user,
      service: url.searchParams.get('service'),
      scopes,
      granted: [],
      status: 200,
    };
    records.push(record);
    if (credentials === null || (credentials && users[credentials.user] !== credentials.password)) {
      record.status = 401;
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] }));
      return;
    }
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (!parsed) continue;
      const actions = policy(credentials?.user, { type: parsed.type, name: parsed.name }, parsed.actions);
      if (actions.length === 0) continue;
      access.push({ type: parsed.type, name: parsed.name, actions });
      record.granted.push(`${parsed.type}:${parsed.name}:${actions.join(',')}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [signing.certDerBase64] })
      .setIssuer(issuer)
      .setAudience(service)
      .setSubject(credentials?.user ?? '')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID());
    jwt.sign(key).then(
      (token) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            token,
            access_token: token,
            expires_in: ttl,
            issued_at: new Date(now * 1000).toISOString(),
          }),
        );
      },
      (error: unknown) => {
        record.status = 500;
        res.writeHead(500).end(String(error));
      },
    );
  };

  const server: Server = certificates
    ? createHttpsServer({ cert: certificates.serverCert, key: certificates.serverKey }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuerUrl = `${certificates ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    realm: `${issuerUrl}/token`,
    service,
    issuer,
    issuerUrl,
    rootCertPath: signing.certPath,
    requests: () => records.slice(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;

/** Starts docker-registry on a free 127.0.0.1 port with temporary filesystem storage; resolves once `/v2/` answers. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  if (!registryAvailable()) throw new Error(MISSING);
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  const storageDir = join(dir, 'storage');
  await mkdir(storageDir);
  const users = options.auth ? (options.users ?? DEFAULT_USERS) : {};
  const [firstUser] = Object.entries(users);
  let certificates: TestCertificates | undefined;
  let tokenServer: (TokenServerHandle & { rootCertPath: string }) | undefined;
  let child: ChildProcess | undefined;
  let dispatcher: Agent | undefined;
  let output = '';

  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await tokenServer?.close();
    await dispatcher?.close();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const config: Record<string, unknown> = {
      version: '0.1',
      log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: storageDir },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: '127.0.0.1:0', secret: randomUUID() },
    };
    if (options.tls) {
      certificates = await createTestCertificates(dir);
      (config.http as Record<string, unknown>).tls = {
        certificate: certificates.serverCertPath,
        key: certificates.serverKeyPath,
      };
    }
    if (options.auth === 'htpasswd') {
      const path = join(dir, 'htpasswd');
      await htpasswdFile(path, users);
      config.auth = { htpasswd: { realm: 'berth-test', path } };
    } else if (options.auth === 'token') {
      tokenServer = await startTokenServer(dir, options, users, certificates);
      config.auth = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.rootCertPath,
        },
      };
    }
    const configPath = join(dir, 'config.yml');
    // YAML is a superset of JSON, so the registry reads this as its YAML config.
    await writeFile(configPath, JSON.stringify(config, null, 2));

    const spawned = spawn(REGISTRY_BINARY, ['serve', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    child = spawned;
    trackChild(spawned);
    const timeoutMs = options.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`docker-registry did not report its address within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      spawned.stdout.on('data', onData);
      spawned.stderr.on('data', onData);
      spawned.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      spawned.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`docker-registry exited early (code ${code}, signal ${signal}):\n${output}`));
      });
    });

    const host = `127.0.0.1:${port}`;
    const url = `${options.tls ? 'https' : 'http'}://${host}`;
    dispatcher = new Agent(certificates ? { connect: { ca: certificates.caCert } } : {});
    for (;;) {
      try {
        const response = await fetch(`${url}/v2/`, { dispatcher, signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        if (response.status === 200 || response.status === 401) break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `docker-registry at ${url} did not answer /v2/ within ${timeoutMs} ms:\n${output}`,
            {
              cause: error,
            },
          );
        }
      }
      if (Date.now() > deadline) throw new Error(`docker-registry at ${url} never became ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    let certsDir: string | undefined;
    if (certificates) {
      certsDir = join(dir, 'certs.d');
      await mkdir(join(certsDir, host), { recursive: true });
      await writeFile(join(certsDir, host, 'ca.crt'), certificates.caCert);
    }
    let stopped: Promise<void> | undefined;
    const registry: TestRegistry = {
      host,
      url,
      tls: Boolean(options.tls),
      users,
      storageDir,
      dispatcher,
      logs: () => output,
      requests: () =>
        output.split('\n').flatMap((line) => {
          const match = ACCESS_LINE.exec(line);
          return match?.[1] && match[2] && match[3]
            ? [{ method: match[1], uri: match[2], status: Number(match[3]) }]
            : [];
        }),
      stop: () => (stopped ??= cleanup()),
    };
    if (certificates && certsDir) {
      registry.caCertPath = certificates.caCertPath;
      registry.caCert = certificates.caCert;
      registry.certsDir = certsDir;
    }
    if (options.auth) registry.auth = options.auth;
    if (firstUser) [registry.username, registry.password] = firstUser;
    if (tokenServer) {
      const { realm, service, issuer, issuerUrl } = tokenServer;
      const server = tokenServer;
      registry.token = { realm, service, issuer, issuerUrl, requests: () => server.requests() };
    }
    return registry;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
