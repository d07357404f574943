import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { BerthError } from '../../../shared/error';
import type { RegistryCertificates } from '../reference/certs';
import { TransientError } from './retry';
import { Agent, EnvHttpProxyAgent, request } from './undici-parts';

/** Cap on manifests, configs and tag-list pages, read while streaming (4 MiB). */
export const manifestSizeMax = 4 * 1024 * 1024;
/** Cap on token responses and error bodies (1 MiB). */
export const smallBodyMax = 1024 * 1024;

/** A response whose body has not been read yet; `url` is where it came from after redirects. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  url: URL;
}

/** One line for a request log: never headers, never a query string (it may carry an account name). */
export interface RegistryLogEntry {
  method: string;
  url: string;
  status?: number;
  error?: string;
  ms: number;
}

/** Forward proxies, as the `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` variables name them. */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  /** Comma-separated hosts (with optional port, `*.`/`.` suffix match) that bypass the proxy. */
  noProxy?: string;
}

/** Connection settings of one registry endpoint. */
export interface TransportOptions {
  /** Reach registries through forward proxies; none when omitted (the process environment is not read here). */
  proxy?: ProxySettings;
  /** Skip TLS verification for the registry's own host (an insecure registry). */
  insecure: boolean;
  certificates?: RegistryCertificates;
  /** Redirect hops followed before giving up (default 5). */
  maxRedirects?: number;
  /** Milliseconds to wait for response headers (default 30 s). */
  headersTimeoutMs?: number;
  /** Milliseconds a body may stall between chunks (default 60 s). */
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
  userAgent?: string;
  log?: (entry: RegistryLogEntry) => void;
  /** Replaces the dispatcher for every request (tests only). */
  dispatcher?: Dispatcher;
}

/** What one request sends; `authHost` is the only `host[:port]` the Authorization header may reach. */
export interface SendOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** A stream body is sent once: a redirect that would resend it is refused. */
  body?: string | Buffer | Readable;
  authHost?: string;
  signal?: AbortSignal;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

const tlsTrustCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const transientCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * HTTP for one registry endpoint over undici, following redirects itself: `Range` and `Accept` are kept,
 * Authorization is dropped for good once a hop leaves `authHost`, https is never downgraded to http, and
 * hops are bounded. Only the registry's own host gets its certs.d material or skipped verification.
 */
export class RegistryTransport {
  private readonly registryAgent: Dispatcher;
  private readonly otherAgent: Dispatcher;
  private readonly owned: Dispatcher[] = [];

  constructor(
    /** `host[:port]` of the endpoint; requests to it use the registry's TLS settings. */
    readonly host: string,
    private readonly options: TransportOptions,
  ) {
    const timeouts = {
      headersTimeout: options.headersTimeoutMs ?? 30_000,
      bodyTimeout: options.bodyTimeoutMs ?? 60_000,
      connectTimeout: options.connectTimeoutMs ?? 30_000,
    };
    if (options.dispatcher) {
      this.registryAgent = options.dispatcher;
      this.otherAgent = options.dispatcher;
      return;
    }
    // The registry's extra CAs are trusted for its auth realm and redirects too (as docker and podman
    // do); its client certificate and an insecure registry's skipped verification are not.
    const certs = options.certificates;
    const trust: Record<string, unknown> =
      certs && certs.ca.length > 0 ? { ca: [...rootCertificates, ...certs.ca] } : {};
    // Nothing is verified for an insecure registry, so it gets an empty CA list: otherwise its first TLS connect
    // (the https try before plain http) builds the root store, ~50 ms of a small pull.
    const connect: Record<string, unknown> = options.insecure
      ? { ca: [], rejectUnauthorized: false }
      : { ...trust, rejectUnauthorized: true };
    if (certs?.client) {
      connect.cert = certs.client.cert;
      connect.key = certs.client.key;
    }
    const registryAgent = agent(timeouts, connect, options.proxy);
    const otherAgent = agent(timeouts, trust, options.proxy);
    this.owned.push(registryAgent, otherAgent);
    this.registryAgent = registryAgent;
    this.otherAgent = otherAgent;
  }

  /** Sends a request and follows redirects; throws TransientError for connection failures worth retrying. */
  async send(url: URL, init: SendOptions): Promise<RawResponse> {
    const maxRedirects = this.options.maxRedirects ?? 5;
    let current = url;
    let method = init.method;
    let body = init.body;
    const headers: Record<string, string> = { ...init.headers };
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    let authAllowed = true;
    for (let hop = 0; ; hop++) {
      if (current.host !== init.authHost) authAllowed = false;
      const sent = { ...headers };
      if (!authAllowed) delete sent.authorization;
      const started = Date.now();
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current, {
          method,
          headers: sent,
          body: body ?? null,
          dispatcher: current.host === this.host ? this.registryAgent : this.otherAgent,
          signal: init.signal ?? null,
        });
      } catch (err) {
        this.options.log?.({
          method,
          url: loggable(current),
          error: errorCode(err),
          ms: Date.now() - started,
        });
        throw classifyNetworkError(err, current, init.signal);
      }
      this.options.log?.({
        method,
        url: loggable(current),
        status: response.statusCode,
        ms: Date.now() - started,
      });
      const location = response.headers.location;
      if (!redirectStatuses.has(response.statusCode) || typeof location !== 'string') {
        return { status: response.statusCode, headers: response.headers, body: response.body, url: current };
      }
      await discard(response.body);
      if (body instanceof Readable && response.statusCode !== 303) {
        body.destroy();
        throw new BerthError('NETWORK', `${current.host} redirected an upload, which cannot be resent`, {
          url: loggable(current),
        });
      }
      if (hop >= maxRedirects) {
        throw new BerthError(
          'NETWORK',
          `too many redirects (more than ${maxRedirects}) fetching ${loggable(url)}`,
          {
            url: loggable(url),
          },
        );
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new BerthError('NETWORK', `${current.host} sent a malformed redirect`, {
          url: loggable(current),
        });
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new BerthError('NETWORK', `refusing a redirect to a ${next.protocol} URL`, {
          url: loggable(current),
        });
      }
      if (current.protocol === 'https:' && next.protocol === 'http:') {
        throw new BerthError('NETWORK', `refusing a redirect from https to plain http (${next.host})`, {
          from: loggable(current),
          to: loggable(next),
        });
      }
      if (response.statusCode === 303 && method !== 'HEAD') {
        method = 'GET';
        body = undefined;
      }
      current = next;
    }
  }

  /** Closes the connection pools this transport opened. */
  async close(): Promise<void> {
    await Promise.all(this.owned.map((a) => a.close()));
  }
}

/** A connection pool with `connect` TLS settings, tunnelled through the proxies when any are set. */
function agent(
  timeouts: { headersTimeout: number; bodyTimeout: number; connectTimeout: number },
  connect: Record<string, unknown>,
  proxy: ProxySettings | undefined,
): Dispatcher {
  if (!proxy?.httpProxy && !proxy?.httpsProxy) return new Agent({ ...timeouts, connect });
  // Empty strings, not undefined: undici would otherwise fall back to the process environment.
  return new EnvHttpProxyAgent({
    ...timeouts,
    connect,
    requestTls: connect,
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? '',
    noProxy: proxy.noProxy ?? '',
  });
}

/**
 * Reads a whole body but never more than `cap` bytes: a Content-Length over the cap is refused before
 * reading, and a body that grows past it is destroyed mid-stream. Connection errors become TransientError.
 */
export async function readCapped(
  response: RawResponse,
  cap: number,
  what: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const declared = contentLength(response.headers);
  if (declared !== undefined && declared > cap) {
    response.body.destroy();
    throw tooLarge(what, cap, response.url);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > cap) {
        response.body.destroy();
        throw tooLarge(what, cap, response.url);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw classifyNetworkError(err, response.url, signal);
  }
  await connectionReturned();
  return Buffer.concat(chunks, total);
}

/** Drains and discards a body we do not need, so the connection can be reused; errors are ignored. */
export async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    body.destroy();
    return;
  }
  await connectionReturned();
}

/**
 * Resolves once the connection a fully read response came on is free again. undici ends the body first
 * and hands the socket back to its pool on the next turn of the event loop (setImmediate, scheduled
 * before the body's end is seen here): a request sent in between would open a new connection, so every
 * manifest, config and token fetch of a pull did. A setImmediate queued now runs after undici's.
 */
function connectionReturned(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The declared Content-Length, if it is a plain non-negative integer. */
export function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['content-length'];
  return typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** A single header value (the first when repeated). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

/** `scheme://host/path`: a URL without its query, fit for logs and error messages. */
export function loggable(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Turns an undici or socket error into a BerthError: CANCELLED when `signal` aborted, a non-retryable
 * NETWORK error for untrusted certificates and protocol mismatches, else a TransientError (NETWORK).
 */
export function classifyNetworkError(
  err: unknown,
  url: URL,
  signal?: AbortSignal,
): BerthError | TransientError {
  if (err instanceof BerthError || err instanceof TransientError) return err;
  if (signal?.aborted) return new BerthError('CANCELLED', 'cancelled');
  const code = errorCode(err);
  const detail = { host: url.host, cause: code };
  if (tlsTrustCodes.has(code)) {
    return new BerthError(
      'NETWORK',
      `the TLS certificate of ${url.host} is not trusted (${code}); put its CA in a certs.d folder as ${url.host}/ca.crt`,
      detail,
    );
  }
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new BerthError(
      'NETWORK',
      `TLS handshake with ${url.host} failed (${code}); is it a plain-http registry?`,
      detail,
    );
  }
  if (code === 'ENOTFOUND') return new BerthError('NETWORK', `cannot resolve host ${url.hostname}`, detail);
  const final = new BerthError('NETWORK', `connection to ${url.host} failed: ${code}`, detail);
  return transientCodes.has(code) ? new TransientError(final) : final;
}

/** The most telling code an error or its causes carry: a TLS or protocol code wins over a wrapper's. */
export function errorCode(err: unknown): string {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  const telling = codes.find(
    (c) => tlsTrustCodes.has(c) || c === 'EPROTO' || c === 'ERR_SSL_WRONG_VERSION_NUMBER',
  );
  return telling ?? codes[codes.length - 1] ?? 'UNKNOWN';
}

function tooLarge(what: string, cap: number, url: URL): BerthError {
  return new BerthError(
    'TOO_LARGE',
    `${what} from ${url.host} is larger than ${cap / (1024 * 1024)} MiB (refused)`,
    {
      limit: cap,
    },
  );
}
