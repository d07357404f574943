import { fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import type { FixtureImage, FixtureIndex } from './fixture.js';

/** Where to push: a TestRegistry fits, as does any `{ url }` with an optional dispatcher and default credentials. */
export interface PushTarget {
  url: string;
  dispatcher?: Dispatcher;
  username?: string;
  password?: string;
}

/** Credentials for a push: explicit ones, or 'anonymous' to send none even when the target has defaults. */
export type PushAuth = { username: string; password: string } | 'anonymous';

/** A registry answered a fixture push with an unexpected status. */
export class FixturePushError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${message}: HTTP ${status} ${body.slice(0, 500)}`);
    this.name = 'FixturePushError';
  }
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    if (m[1] && m[2] !== undefined) params[m[1]] = m[2];
  }
  return { scheme, params };
}

const sessions = new WeakMap<PushTarget, Map<string, string>>();

function credentialsOf(
  target: PushTarget,
  auth: PushAuth | undefined,
): { username: string; password: string } | undefined {
  if (auth === 'anonymous') return undefined;
  if (auth) return auth;
  if (target.username !== undefined && target.password !== undefined) {
    return { username: target.username, password: target.password };
  }
  return undefined;
}

function basic(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

async function authorize(
  target: PushTarget,
  challenge: Challenge,
  scope: string,
  auth: PushAuth | undefined,
): Promise<string> {
  const credentials = credentialsOf(target, auth);
  if (challenge.scheme === 'basic') {
    if (!credentials) throw new FixturePushError('registry wants Basic credentials, none given', 401, '');
    return basic(credentials);
  }
  const realm = challenge.params.realm;
  if (challenge.scheme !== 'bearer' || !realm) {
    throw new FixturePushError(`unsupported auth challenge ${challenge.scheme}`, 401, '');
  }
  const tokenUrl = new URL(realm);
  if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
  tokenUrl.searchParams.append('scope', scope);
  if (challenge.params.scope && challenge.params.scope !== scope) {
    tokenUrl.searchParams.append('scope', challenge.params.scope);
  }
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = basic(credentials);
  const init: RequestInit = { headers };
  if (target.dispatcher) init.dispatcher = target.dispatcher;
  const response = await fetch(tokenUrl, init);
  const text = await response.text();
  if (!response.ok) throw new FixturePushError('token request refused', response.status, text);
  const json = JSON.parse(text) as { token?: string; access_token?: string };
  const token = json.token ?? json.access_token;
  if (!token) throw new FixturePushError('token response without a token', response.status, text);
  return `Bearer ${token}`;
}

/** Sends one request to `<target.url><path>` for `repo`, answering Basic or Bearer challenges once. */
export async function registryRequest(
  target: PushTarget,
  repo: string,
  path: string,
  init: { method: string; headers?: Record<string, string>; body?: Buffer },
  auth?: PushAuth,
): Promise<Response> {
  let cache = sessions.get(target);
  if (!cache) {
    cache = new Map();
    sessions.set(target, cache);
  }
  const key = `${repo}\0${auth === undefined ? '' : JSON.stringify(auth)}`;
  const url = new URL(path, target.url);
  const send = (authorization: string | undefined): Promise<Response> => {
    const headers: Record<string, string> = { ...init.headers };
    if (authorization) headers.authorization = authorization;
    const request: RequestInit = { method: init.method, headers, redirect: 'manual' };
    if (init.body) request.body = init.body;
    if (target.dispatcher) request.dispatcher = target.dispatcher;
    return fetch(url, request);
  };
  let response = await send(cache.get(key));
  if (response.status !== 401) return response;
  const challenge = parseChallenge(response.headers.get('www-authenticate'));
  const body = await response.text();
  if (!challenge) throw new FixturePushError(`${init.method} ${url.pathname} refused`, 401, body);
  const authorization = await authorize(target, challenge, `repository:${repo}:pull,push`, auth);
  cache.set(key, authorization);
  response = await send(authorization);
  return response;
}

async function expect(response: Response, statuses: number[], what: string): Promise<Response> {
  if (statuses.includes(response.status)) return response;
  throw new FixturePushError(what, response.status, await response.text());
}

/** Uploads one blob (monolithic POST + PUT) unless the registry already has it. */
export async function pushBlob(
  target: PushTarget,
  repo: string,
  digest: string,
  bytes: Buffer,
  auth?: PushAuth,
): Promise<void> {
  const head = await registryRequest(target, repo, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' }, auth);
  await head.body?.cancel();
  if (head.status === 200) return;
  const start = await expect(
    await registryRequest(target, repo, `/v2/${repo}/blobs/uploads/`, { method: 'POST' }, auth),
    [202],
    `start upload of ${digest}`,
  );
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (!location) throw new FixturePushError('upload without Location', start.status, '');
  const upload = new URL(location, target.url);
  upload.searchParams.set('digest', digest);
  const put = await expect(
    await registryRequest(
      target,
      repo,
      upload.pathname + upload.search,
      { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes },
      auth,
    ),
    [201],
    `finish upload of ${digest}`,
  );
  await put.body?.cancel();
}

/** PUTs manifest bytes under a tag or digest with the exact Content-Type. */
export async function pushManifest(
  target: PushTarget,
  repo: string,
  reference: string,
  mediaType: string,
  bytes: Buffer,
  auth?: PushAuth,
): Promise<void> {
  const response = await expect(
    await registryRequest(
      target,
      repo,
      `/v2/${repo}/manifests/${reference}`,
      { method: 'PUT', headers: { 'content-type': mediaType }, body: bytes },
      auth,
    ),
    [201],
    `put manifest ${repo}:${reference}`,
  );
  await response.body?.cancel();
}

/** Pushes an image's blobs and its manifest under `reference` (a tag, or its digest when omitted). */
export async function pushImage(
  target: PushTarget,
  repo: string,
  reference: string | undefined,
  image: FixtureImage,
  auth?: PushAuth,
): Promise<void> {
  for (const [digest, bytes] of image.blobs()) await pushBlob(target, repo, digest, bytes, auth);
  await pushManifest(target, repo, reference ?? image.digest, image.mediaType, image.manifest, auth);
}

/** Pushes every child image by digest, then the index under `reference` (a tag, or its digest when omitted). */
export async function pushIndex(
  target: PushTarget,
  repo: string,
  reference: string | undefined,
  index: FixtureIndex,
  auth?: PushAuth,
): Promise<void> {
  for (const child of index.children) await pushImage(target, repo, undefined, child, auth);
  await pushManifest(target, repo, reference ?? index.digest, index.mediaType, index.manifest, auth);
}
