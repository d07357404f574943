import { BerthError } from '../../../shared/error';
import type { RegistryCredentials } from '../reference/credentials';
import { TransientError } from './retry';
import { discard, loggable, readCapped, smallBodyMax, type RegistryTransport } from './transport';
import type { AuthChallenge } from './www-authenticate';

/** Shortest lifetime a token is assumed to have when the server says less or nothing (distribution's rule). */
const minimumTokenSeconds = 60;
/** A token is renewed this long before it expires, so it does not lapse mid-request. */
const expiryMarginMs = 10_000;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Where a bearer token is asked for and what it must cover. */
export interface TokenRequest {
  challenge: AuthChallenge;
  /** `repository:NAME:pull` and the like, several separated by spaces; undefined for a bare login check. */
  scope?: string;
  credentials?: RegistryCredentials;
  /** The registry was reached over https, so an http realm is refused. */
  secureRegistry: boolean;
  /** Registry `host[:port]`, for messages. */
  registry: string;
  signal?: AbortSignal;
}

/**
 * Bearer tokens per realm, service, scope and identity, kept until shortly before they expire. Credentials
 * go only to the realm the registry named, and never over plain http when the registry itself is https.
 */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly transport: RegistryTransport,
    private readonly now: () => number,
  ) {}

  /** A valid token for `req`, from the cache unless `fresh` (then any cached one is replaced). */
  async token(req: TokenRequest, fresh = false): Promise<string> {
    const key = cacheKey(req);
    const cached = this.tokens.get(key);
    if (!fresh && cached && cached.expiresAt > this.now()) return cached.token;
    this.tokens.delete(key);
    const got = await this.fetchToken(req);
    this.tokens.set(key, got);
    return got.token;
  }

  /** Forgets every cached token (after a login or logout). */
  clear(): void {
    this.tokens.clear();
  }

  private async fetchToken(req: TokenRequest): Promise<CachedToken> {
    const realmText = req.challenge.params.realm;
    if (!realmText)
      throw new BerthError('NETWORK', `${req.registry} asked for a bearer token but named no realm`);
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new BerthError('NETWORK', `${req.registry} named a malformed auth realm`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new BerthError('UNSUPPORTED', `${req.registry} named an auth realm that is not http(s)`);
    }
    if (req.secureRegistry && realm.protocol === 'http:') {
      throw new BerthError(
        'UNSUPPORTED',
        `refusing the plain-http auth realm ${loggable(realm)} of the https registry ${req.registry}: credentials and tokens would travel unencrypted`,
        { registry: req.registry },
      );
    }
    const service = req.challenge.params.service;
    const scopes = req.scope === undefined ? [] : req.scope.split(' ').filter((s) => s !== '');
    const creds = req.credentials;
    const headers: Record<string, string> = { accept: 'application/json' };
    let response;
    if (creds?.kind === 'identity-token') {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.token,
        client_id: 'berth',
      });
      if (service) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      headers['content-type'] = 'application/x-www-form-urlencoded';
      response = await this.transport.send(realm, {
        method: 'POST',
        headers,
        body: form.toString(),
        authHost: realm.host,
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (creds?.kind === 'basic') {
        headers.authorization = basicAuthorization(creds);
      }
      response = await this.transport.send(url, {
        method: 'GET',
        headers,
        authHost: realm.host,
        ...(req.signal ? { signal: req.signal } : {}),
      });
    }
    if (response.status === 401 || response.status === 403) {
      await discard(response.body);
      throw creds
        ? new BerthError('UNAUTHORIZED', `unauthorized: check your credentials for ${req.registry}`, {
            registry: req.registry,
          })
        : new BerthError(
            'UNAUTHORIZED',
            `unauthorized: ${req.registry} refused an anonymous token; log in first`,
            {
              registry: req.registry,
            },
          );
    }
    if (response.status === 429 || response.status >= 500) {
      await discard(response.body);
      throw new TransientError(
        new BerthError(
          'REGISTRY_UNAVAILABLE',
          `the auth server of ${req.registry} answered ${response.status}`,
          {
            registry: req.registry,
            status: response.status,
          },
        ),
      );
    }
    if (response.status !== 200) {
      await discard(response.body);
      throw new BerthError('NETWORK', `the auth server of ${req.registry} answered ${response.status}`, {
        registry: req.registry,
        status: response.status,
      });
    }
    const body = await readCapped(response, smallBodyMax, 'a token response', req.signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new BerthError(
        'NETWORK',
        `the auth server of ${req.registry} sent a token response that is not a JSON object`,
      );
    }
    const doc = parsed as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
      issued_at?: unknown;
    };
    const token = typeof doc.token === 'string' && doc.token !== '' ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new BerthError('NETWORK', `the auth server of ${req.registry} sent no token`);
    }
    const seconds =
      typeof doc.expires_in === 'number' && doc.expires_in > minimumTokenSeconds
        ? doc.expires_in
        : minimumTokenSeconds;
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : NaN;
    const now = this.now();
    const start = Number.isNaN(issued) || issued > now ? now : issued;
    return { token, expiresAt: start + seconds * 1000 - expiryMarginMs };
  }
}

/** Scope for pulling from a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** Scope for pushing to a repository, plus pulling from each repository blobs may be mounted from. */
export function pushScope(repository: string, mountFrom: string[] = []): string {
  return [`repository:${repository}:pull,push`, ...mountFrom.map(pullScope)].join(' ');
}

function cacheKey(req: TokenRequest): string {
  const c = req.credentials;
  const who =
    c === undefined
      ? 'anonymous'
      : c.kind === 'basic'
        ? `basic:${c.username}`
        : `identity:${c.username ?? ''}`;
  return JSON.stringify([req.challenge.params.realm, req.challenge.params.service, req.scope ?? '', who]);
}

/** The `Authorization` value for Basic credentials. */
export function basicAuthorization(creds: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
}
