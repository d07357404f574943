import { Readable } from 'node:stream';
import { digestProblem, isDigest } from '../../../shared/digest';
import { BerthError, type ErrorCode } from '../../../shared/error';
import { isTag, parseReference } from '../../../shared/reference';
import type { RegistryCredentials } from '../reference/credentials';
import { basicAuthorization, pullScope, TokenCache } from './auth';
import {
  digestOf,
  essence,
  manifestAccept,
  parseManifest,
  type Descriptor,
  type ManifestDocument,
} from './manifest';
import {
  defaultRetryPolicy,
  parseRetryAfter,
  TransientError,
  withRetry,
  type RetryNotice,
  type RetryPolicy,
} from './retry';
import {
  contentLength,
  discard,
  headerValue,
  manifestSizeMax,
  readCapped,
  RegistryTransport,
  smallBodyMax,
  type RawResponse,
  type TransportOptions,
} from './transport';
import { findChallenge, parseWwwAuthenticate, type AuthChallenge } from './www-authenticate';

/** Credentials for a client: fixed, or looked up per repository (auth.json may hold `host/namespace` keys). */
export type CredentialSource =
  RegistryCredentials | ((repository: string | undefined) => Promise<RegistryCredentials | undefined>);

/** How to reach one registry. */
export interface RegistryClientOptions extends Omit<TransportOptions, 'insecure'> {
  /** `host[:port]` as references name it; `docker.io` is reached at registry-1.docker.io. */
  registry: string;
  /** May fall back to plain HTTP and skip TLS verification (see isInsecureRegistry). */
  insecure?: boolean;
  credentials?: CredentialSource;
  retry?: Partial<RetryPolicy>;
}

/** Per-call options: cancellation and a hook that hears about each retry before its wait. */
export interface CallOptions {
  signal?: AbortSignal;
  onRetry?: (notice: RetryNotice) => void;
}

/** What `/v2/` said: the scheme in use and how the registry wants clients to authenticate. */
export interface PingResult {
  url: string;
  scheme: 'https' | 'http';
  auth: 'none' | 'basic' | 'bearer';
}

/** Docker Hub style rate-limit headers of a manifest response. */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  windowSeconds?: number;
}

/** A manifest as fetched, with the rate-limit state the registry reported. */
export interface FetchedManifest extends ManifestDocument {
  rateLimit?: RateLimit;
}

/** The answer to a manifest HEAD; its digest is a claim until the body is fetched and hashed. */
export interface ManifestHead {
  digest?: string;
  mediaType?: string;
  size?: number;
  rateLimit?: RateLimit;
}

/** A blob download in progress. The caller must consume or destroy `body`; nothing is buffered. */
export interface BlobResponse {
  body: Readable;
  /** 206 when the server honoured `Range`, 200 when it sent the whole blob. */
  status: 200 | 206;
  /** Offset in the blob of the first byte of `body`. */
  start: number;
  /** Bytes in this response, when declared. */
  contentLength?: number;
  /** Size of the whole blob, when declared. */
  totalSize?: number;
}

/** One call of the push side of the API (see RegistryClient.call). */
export interface ApiCall {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** Makes the body afresh for each attempt (a stream cannot be sent twice). */
  body?: () => string | Buffer | Readable;
  /** Token scope, e.g. pushScope(repository). */
  scope: string;
  /** Statuses handed to `consume` rather than mapped to errors. */
  extraOk?: number[];
  /** False: one attempt; a transient failure is thrown as TransientError for the caller to resume. */
  retry?: boolean;
  /** What the call is about, for messages. */
  what: string;
  repository: string;
}

interface Endpoint {
  base: URL;
  challenges: AuthChallenge[];
}

interface Context {
  what: string;
  repository?: string;
  notFound?: (registryCode: string | undefined) => BerthError;
}

const dockerHubApiHost = 'registry-1.docker.io';
const pageMax = 10_000;

/**
 * A client for one registry (the OCI distribution API, pull side): ping and auth, manifests, blobs, tags
 * and catalog. Every call retries transient failures with backoff, every body that is buffered is capped
 * while streaming, and every digest or name is validated before it becomes part of a URL.
 */
export class RegistryClient {
  readonly registry: string;
  private readonly apiHost: string;
  private readonly insecure: boolean;
  private readonly policy: RetryPolicy;
  private readonly transport: RegistryTransport;
  private readonly tokens: TokenCache;
  private readonly credentialSource: CredentialSource | undefined;
  private readonly credentialCache = new Map<string, Promise<RegistryCredentials | undefined>>();
  private endpoint: Promise<Endpoint> | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.apiHost = options.registry === 'docker.io' ? dockerHubApiHost : options.registry;
    this.insecure = options.insecure ?? false;
    this.policy = defaultRetryPolicy(options.retry);
    this.transport = new RegistryTransport(this.apiHost, { ...options, insecure: this.insecure });
    this.tokens = new TokenCache(this.transport, this.policy.now);
    this.credentialSource = options.credentials;
  }

  /** Pings `/v2/` (https first; plain http only for an insecure registry) and reports how it wants auth. */
  async ping(options: CallOptions = {}): Promise<PingResult> {
    const endpoint = await withRetry(this.policy, () => this.discover(options.signal), options);
    const bearer = findChallenge(endpoint.challenges, 'bearer');
    const basic = findChallenge(endpoint.challenges, 'basic');
    return {
      url: endpoint.base.href,
      scheme: endpoint.base.protocol === 'https:' ? 'https' : 'http',
      auth: bearer ? 'bearer' : basic ? 'basic' : 'none',
    };
  }

  /**
   * Proves `credentials` against the registry without caching anything: a token without scope from the
   * realm (bearer), or `/v2/` with Basic auth. Throws UNAUTHORIZED naming the registry when refused.
   */
  async checkCredentials(credentials: RegistryCredentials, options: CallOptions = {}): Promise<void> {
    await withRetry(
      this.policy,
      async () => {
        const endpoint = await this.discover(options.signal);
        const bearer = findChallenge(endpoint.challenges, 'bearer');
        if (bearer) {
          const probe = new TokenCache(this.transport, this.policy.now);
          await probe.token(this.tokenRequest(endpoint, bearer, undefined, credentials, options.signal));
          return;
        }
        if (credentials.kind !== 'basic') {
          throw new BerthError(
            'UNSUPPORTED',
            `${this.registry} does not use token auth, so an identity token cannot be used`,
          );
        }
        const response = await this.transport.send(new URL('/v2/', endpoint.base), {
          method: 'GET',
          headers: { authorization: basicAuthorization(credentials) },
          authHost: endpoint.base.host,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (response.status === 200) {
          await discard(response.body);
          return;
        }
        if (response.status === 401 || response.status === 403) {
          await discard(response.body);
          throw this.unauthorized(true, undefined);
        }
        throw await this.responseError(response, { what: 'the login check' });
      },
      options,
    );
  }

  /** HEADs a manifest by tag or digest; cheap (Docker Hub does not count it against the pull limit). */
  async headManifest(
    repository: string,
    reference: string,
    options: CallOptions = {},
  ): Promise<ManifestHead> {
    const path = this.manifestPath(repository, reference);
    const where = this.describe(repository, reference);
    return this.request(
      path,
      { method: 'HEAD', headers: { accept: manifestAccept }, scope: pullScope(repository) },
      {
        what: `the manifest of ${where}`,
        repository,
        notFound: (code) => this.manifestUnknown(repository, reference, code),
      },
      options,
      async (response) => {
        await discard(response.body);
        const head: ManifestHead = {};
        const digest = headerValue(response.headers, 'docker-content-digest');
        if (digest !== undefined && digestProblem(digest) === undefined) head.digest = digest;
        const type = essence(headerValue(response.headers, 'content-type'));
        if (type !== undefined) head.mediaType = type;
        const size = contentLength(response.headers);
        if (size !== undefined) head.size = size;
        const rateLimit = parseRateLimit(response);
        if (rateLimit) head.rateLimit = rateLimit;
        return head;
      },
    );
  }

  /**
   * GETs a manifest by tag or digest and verifies it: by digest, the body must hash to it; by tag, to the
   * `Docker-Content-Digest` the registry sent (when it sent one). The body is capped at 4 MiB.
   */
  async fetchManifest(
    repository: string,
    reference: string,
    options: CallOptions = {},
  ): Promise<FetchedManifest> {
    const path = this.manifestPath(repository, reference);
    const where = this.describe(repository, reference);
    return this.request(
      path,
      { method: 'GET', headers: { accept: manifestAccept }, scope: pullScope(repository) },
      {
        what: `the manifest of ${where}`,
        repository,
        notFound: (code) => this.manifestUnknown(repository, reference, code),
      },
      options,
      async (response) => {
        const bytes = await readCapped(response, manifestSizeMax, `the manifest of ${where}`, options.signal);
        const header = headerValue(response.headers, 'docker-content-digest');
        const expected = isDigest(reference)
          ? reference
          : header !== undefined && isDigest(header)
            ? header
            : undefined;
        const digest = digestOf(bytes, expected);
        if (expected !== undefined && digest !== expected) {
          throw new BerthError(
            'DIGEST_MISMATCH',
            `the manifest of ${where} hashes to ${digest}, not ${expected}`,
            {
              expected,
              actual: digest,
            },
          );
        }
        const parsed = parseManifest(bytes, headerValue(response.headers, 'content-type'), where);
        const fetched: FetchedManifest = {
          digest,
          mediaType: parsed.mediaType,
          size: bytes.length,
          bytes,
          parsed,
        };
        const rateLimit = parseRateLimit(response);
        if (rateLimit) fetched.rateLimit = rateLimit;
        return fetched;
      },
    );
  }

  /**
   * Resolves a tag (or digest) to a verified manifest: HEAD for the digest, then GET by that digest and
   * hash the body, so everything after is pinned to one digest. Falls back to GET by tag when HEAD fails
   * or names no digest.
   */
  async resolveManifest(
    repository: string,
    reference: string,
    options: CallOptions = {},
  ): Promise<FetchedManifest> {
    if (isDigest(reference)) return this.fetchManifest(repository, reference, options);
    let head: ManifestHead | undefined;
    try {
      head = await this.headManifest(repository, reference, options);
    } catch (err) {
      const fatal: ErrorCode[] = [
        'CANCELLED',
        'UNAUTHORIZED',
        'DENIED',
        'TOO_MANY_REQUESTS',
        'REGISTRY_BLOCKED',
        'INVALID_REFERENCE',
      ];
      if (!(err instanceof BerthError) || fatal.includes(err.code)) throw err;
    }
    if (head?.digest === undefined) return this.fetchManifest(repository, reference, options);
    const fetched = await this.fetchManifest(repository, head.digest, options);
    if (head.rateLimit && !fetched.rateLimit) fetched.rateLimit = head.rateLimit;
    return fetched;
  }

  /**
   * Starts a blob download, from `offset` when given (`Range: bytes=N-`). A server that ignores the range
   * answers 200 and the stream starts at 0; one that cannot satisfy it (416) is asked again for everything.
   * The body is not verified here: the caller hashes it against the digest as it streams.
   */
  async fetchBlob(
    repository: string,
    digest: string,
    options: CallOptions & { offset?: number } = {},
  ): Promise<BlobResponse> {
    const path = this.blobPath(repository, digest);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new BerthError('BAD_REQUEST', `invalid blob offset ${offset}`);
    const headers: Record<string, string> = {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const result = await this.request(
      path,
      { method: 'GET', headers, scope: pullScope(repository), extraOk: [416] },
      { what: `blob ${digest}`, repository, notFound: () => this.blobUnknown(repository, digest) },
      options,
      async (response): Promise<BlobResponse | undefined> => {
        if (response.status === 416) {
          await discard(response.body);
          return undefined;
        }
        const length = contentLength(response.headers);
        if (response.status === 206) {
          const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(
            headerValue(response.headers, 'content-range') ?? '',
          );
          if (!range || Number(range[1]) !== offset) {
            response.body.destroy();
            throw new BerthError(
              'NETWORK',
              `${this.registry} answered a range request for ${digest} with the wrong range`,
              {
                digest,
                offset,
              },
            );
          }
          const out: BlobResponse = { body: response.body, status: 206, start: offset };
          if (length !== undefined) out.contentLength = length;
          if (range[3] !== '*') out.totalSize = Number(range[3]);
          return out;
        }
        if (response.status !== 200) {
          await discard(response.body);
          throw new BerthError('NETWORK', `${this.registry} answered ${response.status} for blob ${digest}`, {
            digest,
          });
        }
        const out: BlobResponse = { body: response.body, status: 200, start: 0 };
        if (length !== undefined) {
          out.contentLength = length;
          out.totalSize = length;
        }
        return out;
      },
    );
    if (result !== undefined) return result;
    if (offset === 0)
      throw new BerthError('NETWORK', `${this.registry} refused to send blob ${digest} (416)`, { digest });
    const { offset: _ignored, ...rest } = options;
    return this.fetchBlob(repository, digest, rest);
  }

  /** Downloads a small blob (a config) whole, refusing more than 4 MiB, and checks its size and digest. */
  async fetchBlobBytes(
    repository: string,
    descriptor: Descriptor,
    options: CallOptions = {},
  ): Promise<Buffer> {
    if (descriptor.size > manifestSizeMax) {
      throw new BerthError(
        'TOO_LARGE',
        `blob ${descriptor.digest} is ${descriptor.size} bytes, over the 4 MiB limit`,
        {
          digest: descriptor.digest,
        },
      );
    }
    const path = this.blobPath(repository, descriptor.digest);
    return this.request(
      path,
      { method: 'GET', headers: {}, scope: pullScope(repository) },
      {
        what: `blob ${descriptor.digest}`,
        repository,
        notFound: () => this.blobUnknown(repository, descriptor.digest),
      },
      options,
      async (response) => {
        if (response.status !== 200) {
          await discard(response.body);
          throw new BerthError(
            'NETWORK',
            `${this.registry} answered ${response.status} for blob ${descriptor.digest}`,
          );
        }
        const bytes = await readCapped(
          response,
          manifestSizeMax,
          `blob ${descriptor.digest}`,
          options.signal,
        );
        if (bytes.length !== descriptor.size) {
          throw new BerthError(
            'SIZE_MISMATCH',
            `blob ${descriptor.digest} is ${bytes.length} bytes, expected ${descriptor.size}`,
            {
              digest: descriptor.digest,
              expected: descriptor.size,
              actual: bytes.length,
            },
          );
        }
        const actual = digestOf(bytes, descriptor.digest);
        if (actual !== descriptor.digest) {
          throw new BerthError('DIGEST_MISMATCH', `blob ${descriptor.digest} hashes to ${actual}`, {
            expected: descriptor.digest,
            actual,
          });
        }
        return bytes;
      },
    );
  }

  /** Every tag of a repository, following `Link: <…>; rel="next"` pagination. */
  async listTags(repository: string, options: CallOptions & { pageSize?: number } = {}): Promise<string[]> {
    this.checkRepository(repository);
    const first = `/v2/${repository}/tags/list${options.pageSize ? `?n=${options.pageSize}` : ''}`;
    return this.paginate(
      first,
      'tags',
      pullScope(repository),
      {
        what: `the tags of ${this.registry}/${repository}`,
        repository,
        notFound: () =>
          new BerthError('NOT_FOUND', `name unknown: repository ${this.registry}/${repository} not found`, {
            registry: this.registry,
            repository,
          }),
      },
      options,
    );
  }

  /** The registry's catalog of repositories, where the registry allows listing it. */
  async catalog(options: CallOptions & { pageSize?: number } = {}): Promise<string[]> {
    const first = `/v2/_catalog${options.pageSize ? `?n=${options.pageSize}` : ''}`;
    return this.paginate(
      first,
      'repositories',
      'registry:catalog:*',
      {
        what: `the catalog of ${this.registry}`,
        notFound: () => new BerthError('UNSUPPORTED', `${this.registry} does not offer a catalog`),
      },
      options,
    );
  }

  /** Closes the connections this client opened. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  private async paginate(
    first: string,
    key: 'tags' | 'repositories',
    scope: string,
    ctx: Context,
    options: CallOptions,
  ): Promise<string[]> {
    const all: string[] = [];
    let next: string | undefined = first;
    for (let pages = 0; next !== undefined; pages++) {
      if (pages >= pageMax) throw new BerthError('TOO_LARGE', `${ctx.what} has more than ${pageMax} pages`);
      const page: { items: string[]; link: string | undefined; url: URL } = await this.request(
        next,
        { method: 'GET', headers: { accept: 'application/json' }, scope },
        ctx,
        options,
        async (response) => {
          const bytes = await readCapped(response, manifestSizeMax, ctx.what, options.signal);
          let doc: unknown;
          try {
            doc = JSON.parse(bytes.toString('utf8'));
          } catch {
            doc = undefined;
          }
          if (typeof doc !== 'object' || doc === null) {
            throw new BerthError(
              'NETWORK',
              `${ctx.what}: the registry answered something that is not a JSON object`,
            );
          }
          const list = (doc as Record<string, unknown>)[key];
          if (
            list !== null &&
            list !== undefined &&
            (!Array.isArray(list) || !list.every((t) => typeof t === 'string'))
          ) {
            throw new BerthError('NETWORK', `${ctx.what}: "${key}" is not a list of strings`);
          }
          return {
            items: list ?? [],
            link: headerValue(response.headers, 'link'),
            url: response.url,
          };
        },
      );
      all.push(...page.items);
      const target = parseNextLink(page.link);
      if (target === undefined) break;
      const resolved: URL = new URL(target, page.url);
      if (resolved.host !== page.url.host) {
        throw new BerthError(
          'NETWORK',
          `${ctx.what}: the next page points to another host (${resolved.host}); refused`,
        );
      }
      next = resolved.pathname + resolved.search;
    }
    return all;
  }

  /**
   * Sends one call of the push side of the API (uploads, mounts, manifest PUTs) with the same discovery,
   * auth, error mapping and (unless `retry` is false) retries as the pull side. `path` may carry a query
   * and may be an absolute upload URL the registry handed out.
   */
  async call<T>(
    path: string,
    init: ApiCall,
    options: CallOptions,
    consume: (response: RawResponse) => Promise<T>,
  ): Promise<T> {
    return this.request(
      path,
      {
        method: init.method,
        headers: init.headers ?? {},
        scope: init.scope,
        ...(init.body ? { body: init.body } : {}),
        ...(init.extraOk ? { extraOk: init.extraOk } : {}),
        ...(init.retry === false ? { retry: false } : {}),
      },
      { what: init.what, repository: init.repository },
      options,
      consume,
    );
  }

  /** The credentials this client would send for `repository`, if any are configured. */
  async credentialsOf(repository: string): Promise<RegistryCredentials | undefined> {
    return this.credentialsFor(repository);
  }

  /** Runs one API call with discovery, auth (refreshing once on 401), retries and error mapping. */
  private async request<T>(
    path: string,
    init: {
      method: ApiCall['method'];
      headers: Record<string, string>;
      scope?: string;
      extraOk?: number[];
      body?: () => string | Buffer | Readable;
      retry?: boolean;
    },
    ctx: Context,
    options: CallOptions,
    consume: (response: RawResponse) => Promise<T>,
  ): Promise<T> {
    const attempt = async (): Promise<T> => {
      const endpoint = await this.discover(options.signal);
      const url = new URL(path, endpoint.base);
      const creds = await this.credentialsFor(ctx.repository);
      const send = async (fresh: boolean): Promise<RawResponse> => {
        const auth = await this.authorization(endpoint, init.scope, creds, fresh, options.signal);
        const body = init.body?.();
        try {
          return await this.transport.send(url, {
            method: init.method,
            headers: { ...init.headers, ...auth },
            authHost: endpoint.base.host,
            ...(body !== undefined ? { body } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          });
        } finally {
          if (body instanceof Readable && !body.readableEnded) body.destroy();
        }
      };
      let response = await send(false);
      if (response.status === 401) {
        const challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
        await discard(response.body);
        if (challenges.length > 0) endpoint.challenges = challenges;
        response = await send(true);
        if (response.status === 401) {
          await discard(response.body);
          throw this.unauthorized(creds !== undefined, ctx.repository);
        }
      }
      if ((response.status >= 200 && response.status < 300) || init.extraOk?.includes(response.status)) {
        return consume(response);
      }
      throw await this.responseError(response, ctx);
    };
    return init.retry === false ? attempt() : withRetry(this.policy, attempt, options);
  }

  /** The endpoint (scheme and auth challenges), found once by pinging `/v2/` and then shared. */
  private async discover(signal: AbortSignal | undefined): Promise<Endpoint> {
    this.endpoint ??= this.probe().catch((err: unknown) => {
      this.endpoint = undefined;
      throw err;
    });
    if (signal === undefined) return this.endpoint;
    const endpoint = this.endpoint;
    return new Promise<Endpoint>((resolve, reject) => {
      if (signal.aborted) reject(new BerthError('CANCELLED', 'cancelled'));
      const onAbort = (): void => reject(new BerthError('CANCELLED', 'cancelled'));
      signal.addEventListener('abort', onAbort, { once: true });
      endpoint.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async probe(): Promise<Endpoint> {
    const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
    let firstError: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}//${this.apiHost}/`);
      let response: RawResponse;
      try {
        response = await this.transport.send(new URL('/v2/', base), { method: 'GET', authHost: base.host });
      } catch (err) {
        if (scheme === 'https:' && schemes.length > 1) {
          firstError = err;
          continue;
        }
        throw err;
      }
      if (response.status === 200 || response.status === 401) {
        await discard(response.body);
        return { base, challenges: parseWwwAuthenticate(response.headers['www-authenticate']) };
      }
      if (firstError instanceof Error) {
        await discard(response.body);
        throw firstError;
      }
      if (response.status === 404) {
        await discard(response.body);
        throw new BerthError(
          'REGISTRY_UNAVAILABLE',
          `${this.registry} is not a container registry (GET /v2/ answered 404)`,
          {
            registry: this.registry,
          },
        );
      }
      throw await this.responseError(response, { what: 'the registry check (GET /v2/)' });
    }
    throw firstError instanceof Error
      ? firstError
      : new BerthError('NETWORK', `cannot reach ${this.registry}`);
  }

  private async credentialsFor(repository: string | undefined): Promise<RegistryCredentials | undefined> {
    const source = this.credentialSource;
    if (source === undefined) return undefined;
    if (typeof source !== 'function') return source;
    const key = repository ?? '';
    let found = this.credentialCache.get(key);
    if (found === undefined) {
      found = source(repository);
      this.credentialCache.set(key, found);
      found.catch(() => this.credentialCache.delete(key));
    }
    return found;
  }

  private async authorization(
    endpoint: Endpoint,
    scope: string | undefined,
    creds: RegistryCredentials | undefined,
    fresh: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, string>> {
    const bearer = findChallenge(endpoint.challenges, 'bearer');
    if (bearer) {
      const token = await this.tokens.token(this.tokenRequest(endpoint, bearer, scope, creds, signal), fresh);
      return { authorization: `Bearer ${token}` };
    }
    if (findChallenge(endpoint.challenges, 'basic') && creds?.kind === 'basic') {
      return { authorization: basicAuthorization(creds) };
    }
    return {};
  }

  private tokenRequest(
    endpoint: Endpoint,
    challenge: AuthChallenge,
    scope: string | undefined,
    creds: RegistryCredentials | undefined,
    signal: AbortSignal | undefined,
  ): Parameters<TokenCache['token']>[0] {
    return {
      challenge,
      ...(scope !== undefined ? { scope } : {}),
      ...(creds !== undefined ? { credentials: creds } : {}),
      ...(signal !== undefined ? { signal } : {}),
      secureRegistry: endpoint.base.protocol === 'https:',
      registry: this.registry,
    };
  }

  /** Maps a non-success response to a BerthError, or a TransientError for 429 and 5xx. */
  private async responseError(response: RawResponse, ctx: Context): Promise<BerthError | TransientError> {
    const { code: registryCode, message } = await readRegistryError(response);
    const suffix = message ? `: ${message}` : '';
    const status = response.status;
    const detail = { registry: this.registry, status, ...(registryCode ? { registryCode } : {}) };
    if (status === 429) {
      const final = new BerthError(
        'TOO_MANY_REQUESTS',
        `toomanyrequests: ${this.registry} is rate-limiting requests for ${ctx.what}; try again later`,
        detail,
      );
      return new TransientError(final, parseRetryAfter(response.headers['retry-after'], this.policy.now()));
    }
    if (status >= 500) {
      const final = new BerthError(
        'REGISTRY_UNAVAILABLE',
        `${this.registry} answered ${status} for ${ctx.what}${suffix}`,
        detail,
      );
      return new TransientError(final, parseRetryAfter(response.headers['retry-after'], this.policy.now()));
    }
    if (status === 401) return this.unauthorized(false, ctx.repository);
    if (status === 403) {
      return new BerthError(
        'DENIED',
        `denied: ${this.registry} refused access to ${ctx.what}${suffix}`,
        detail,
      );
    }
    if (status === 404 && ctx.notFound) return ctx.notFound(registryCode);
    const mapped: Record<string, ErrorCode> = {
      MANIFEST_INVALID: 'MANIFEST_INVALID',
      NAME_INVALID: 'INVALID_REFERENCE',
      TAG_INVALID: 'INVALID_REFERENCE',
      DIGEST_INVALID: 'INVALID_DIGEST',
      UNSUPPORTED: 'UNSUPPORTED',
    };
    const code = (registryCode && mapped[registryCode]) || (status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST');
    return new BerthError(code, `${this.registry} answered ${status} for ${ctx.what}${suffix}`, detail);
  }

  private unauthorized(withCredentials: boolean, repository: string | undefined): BerthError {
    const detail = { registry: this.registry, ...(repository ? { repository } : {}) };
    if (withCredentials) {
      return new BerthError(
        'UNAUTHORIZED',
        `unauthorized: check your credentials for ${this.registry}`,
        detail,
      );
    }
    const what = repository ? `${this.registry}/${repository}` : this.registry;
    return new BerthError(
      'UNAUTHORIZED',
      `unauthorized: ${what} requires authentication (or does not exist); log in with "berth login ${this.registry}"`,
      detail,
    );
  }

  private manifestUnknown(
    repository: string,
    reference: string,
    registryCode: string | undefined,
  ): BerthError {
    const repo = `${this.registry}/${repository}`;
    const detail = { registry: this.registry, repository, reference };
    if (registryCode === 'NAME_UNKNOWN') {
      return new BerthError('MANIFEST_UNKNOWN', `name unknown: repository ${repo} not found`, detail);
    }
    const what = isDigest(reference) ? `digest ${reference}` : `tag ${reference}`;
    return new BerthError('MANIFEST_UNKNOWN', `manifest unknown: ${what} not found in ${repo}`, detail);
  }

  private blobUnknown(repository: string, digest: string): BerthError {
    return new BerthError(
      'BLOB_UNKNOWN',
      `blob unknown: ${digest} not found in ${this.registry}/${repository}`,
      {
        registry: this.registry,
        repository,
        digest,
      },
    );
  }

  private describe(repository: string, reference: string): string {
    return `${this.registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  private manifestPath(repository: string, reference: string): string {
    this.checkRepository(repository);
    if (reference.includes(':')) {
      const problem = digestProblem(reference);
      if (problem !== undefined) {
        throw new BerthError('INVALID_DIGEST', `invalid digest ${JSON.stringify(reference)}: ${problem}`, {
          problem,
        });
      }
    } else if (!isTag(reference)) {
      throw new BerthError('INVALID_REFERENCE', `invalid tag ${JSON.stringify(reference)}`, {
        tag: reference,
      });
    }
    return `/v2/${repository}/manifests/${reference}`;
  }

  private blobPath(repository: string, digest: string): string {
    this.checkRepository(repository);
    const problem = digestProblem(digest);
    if (problem !== undefined) {
      throw new BerthError('INVALID_DIGEST', `invalid digest ${JSON.stringify(digest)}: ${problem}`, {
        problem,
      });
    }
    return `/v2/${repository}/blobs/${digest}`;
  }

  private checkRepository(repository: string): void {
    let ok = false;
    try {
      ok = parseReference(`localhost/${repository}`).path === repository;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new BerthError('INVALID_REFERENCE', `invalid repository name ${JSON.stringify(repository)}`, {
        repository,
      });
    }
  }
}

/** The target of the `rel="next"` entry of a `Link` header, if there is one. */
export function parseNextLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

/** Reads Docker Hub style `ratelimit-limit` / `ratelimit-remaining` headers (`100;w=21600`). */
export function parseRateLimit(response: Pick<RawResponse, 'headers'>): RateLimit | undefined {
  const read = (name: string): { value: number; window?: number } | undefined => {
    const raw = headerValue(response.headers, name);
    const match = raw === undefined ? null : /^\s*(\d+)(?:\s*;\s*w\s*=\s*(\d+))?/.exec(raw);
    if (!match) return undefined;
    return match[2] === undefined
      ? { value: Number(match[1]) }
      : { value: Number(match[1]), window: Number(match[2]) };
  };
  const limit = read('ratelimit-limit');
  const remaining = read('ratelimit-remaining');
  if (!limit && !remaining) return undefined;
  const out: RateLimit = {};
  if (limit) out.limit = limit.value;
  if (remaining) out.remaining = remaining.value;
  const window = limit?.window ?? remaining?.window;
  if (window !== undefined) out.windowSeconds = window;
  return out;
}

/** The first error of a registry's `{"errors":[…]}` body, read up to 1 MiB and sanitized for messages. */
async function readRegistryError(response: RawResponse): Promise<{ code?: string; message?: string }> {
  if (response.status === 204 || response.status === 304) return {};
  let bytes: Buffer;
  try {
    bytes = await readCapped(response, smallBodyMax, 'an error body');
  } catch {
    return {};
  }
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(doc.errors) ? doc.errors[0] : undefined;
    const out: { code?: string; message?: string } = {};
    if (typeof first?.code === 'string') out.code = first.code;
    if (typeof first?.message === 'string') out.message = sanitize(first.message);
    return out;
  } catch {
    return {};
  }
}

function sanitize(text: string): string {
  let clean = '';
  for (const ch of text) clean += ch < ' ' || ch === '\u007f' ? ' ' : ch;
  clean = clean.replace(/ {2,}/g, ' ').trim();
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}
