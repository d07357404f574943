import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { PullProgress } from '../../../shared/contract';
import { BerthError, toWireError } from '../../../shared/error';
import {
  formatReference,
  normalizeReference,
  parseReference,
  repositoryOf,
  type Reference,
} from '../../../shared/reference';
import { PullTracker } from '../pull/progress';
import { pushScope } from '../registry/auth';
import type { RegistryClient } from '../registry/client';
import { parseManifest, type Descriptor } from '../registry/manifest';
import { backoffDelay, defaultRetryPolicy, TransientError, type RetryPolicy } from '../registry/retry';
import { discard, headerValue, type RawResponse } from '../registry/transport';
import type { ImageStore } from '../store/image-store';
import { isIndexMediaType } from '../store/layout';

/** One push as asked for. */
export interface PushRequest {
  /** A local image: name, ID or digest, as `berth inspect` takes it. */
  image: string;
  /** Where to push (`registry/repo[:tag]`); the name the image was asked by (or its first name) when omitted. */
  destination?: string;
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
  /** The task id progress carries; a fresh one when omitted. */
  pushId?: string;
}

/** How one blob reached the registry. */
export type BlobPushStatus = 'exists' | 'mounted' | 'uploaded';

/** What a push did. */
export interface PushOutcome {
  pushId: string;
  /** The destination, fully qualified with its tag. */
  reference: string;
  imageId: string;
  /** Digest of the top document pushed under the tag (the index of a multi-platform image). */
  digest: string;
  /** `repo@digest`, as recorded in the image's RepoDigests. */
  repoDigest: string;
  /** Manifests PUT, children first, the tagged one last. */
  manifests: { digest: string; mediaType: string }[];
  blobs: { digest: string; size: number; status: BlobPushStatus; mountedFrom?: string }[];
  bytesUploaded: number;
  /** The image came from an index whose other platforms are not in the store: only its own manifest went. */
  indexSkipped?: string;
}

/** What the push engine works with. */
export interface PusherOptions {
  store: ImageStore;
  /** One client per registry host; RegistryPool fits. */
  registries: { get(registry: string): Promise<RegistryClient> };
  /** Blobs uploaded at once (default 3). */
  parallel?: number;
  /** Blobs larger than this go up in PATCH chunks (default 64 MiB); smaller ones in one PUT. */
  chunkThreshold?: number;
  /** Size of one PATCH chunk (default 16 MiB). */
  chunkSize?: number;
  /** Backoff between attempts of a failed upload; the clock and sleep are injectable. */
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  progressIntervalMs?: number;
}

interface ManifestToPush {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

interface PushPlan {
  /** Platform manifests pushed by digest before the top one (an index's children). */
  children: ManifestToPush[];
  top: ManifestToPush;
  blobs: { digest: string; size: number }[];
  indexSkipped?: string;
}

interface Target {
  client: RegistryClient;
  repository: string;
  scope: string;
  mountFrom: string | undefined;
  where: string;
}

/** An upload session: where the registry said to send the next bytes, and how many it holds. */
interface Session {
  location: string;
  offset: number;
}

const mib = 1024 * 1024;
/** Registry error codes (or statuses) that mean an upload session is gone or out of step: start a new one. */
const sessionLost = new Set(['BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);

/**
 * The push engine: image → plan (manifests and blobs, all from the store) → check that the destination
 * takes pushes from these credentials → per blob HEAD (skip), cross-repository mount, or upload (one PUT,
 * or PATCH chunks resumed from the registry's `Range` after a failure) in parallel → the platform
 * manifests, then the tagged manifest or index, with their exact bytes and media types → record the
 * pushed `repo@digest` in the image's RepoDigests. Nothing in the store changes until the registry took
 * the tagged manifest.
 */
export class Pusher {
  private readonly policy: RetryPolicy;

  constructor(private readonly options: PusherOptions) {
    this.policy = defaultRetryPolicy(options.retry);
  }

  /** Pushes one image; progress snapshots (`kind: 'push'`) go to `onProgress`, throttled like a pull's. */
  async push(request: PushRequest): Promise<PushOutcome> {
    const pushId = request.pushId ?? randomUUID();
    const tracker = new PullTracker(
      pushId,
      request.destination ?? request.image,
      (p) => request.onProgress?.(p),
      this.options.now,
      this.options.progressIntervalMs,
      'push',
    );
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) controller.abort();
    try {
      const outcome = await this.run(request, pushId, tracker, controller.signal);
      tracker.finish('complete', { imageId: outcome.imageId });
      return outcome;
    } catch (err) {
      const cancelled = controller.signal.aborted;
      const error = cancelled ? new BerthError('CANCELLED', `push of ${request.image} was cancelled`) : err;
      tracker.finish(cancelled ? 'cancelled' : 'failed', { error: toWireError(error) });
      throw error;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(
    request: PushRequest,
    pushId: string,
    tracker: PullTracker,
    signal: AbortSignal,
  ): Promise<PushOutcome> {
    const { store } = this.options;
    const resolved = await store.resolve(request.image);
    const details = await store.inspect(request.image);
    const destination = destinationOf(request, resolved.name ?? resolved.image.names[0]);
    const reference = formatReference(destination);
    tracker.setReference(reference);
    const plan = await this.plan(resolved.image.manifestDigest, resolved.image.top, reference);
    const mountFrom = mountSource([...details.repoDigests, ...details.repoTags], destination);
    const client = await this.options.registries.get(destination.domain);
    const target: Target = {
      client,
      repository: destination.path,
      scope: pushScope(destination.path, mountFrom === undefined ? [] : [mountFrom]),
      mountFrom,
      where: repositoryOf(destination),
    };
    await this.checkAccess(target, signal);

    tracker.setLayers(plan.blobs);
    const limit = pLimit(Math.max(1, this.options.parallel ?? 3));
    const inner = new AbortController();
    const onAbort = (): void => inner.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    // Every upload settles before the push ends; the first failure stops the rest and is what is thrown.
    let firstError: Error | undefined;
    const results = await Promise.all(
      plan.blobs.map((blob) =>
        limit(async (): Promise<BlobPushStatus | undefined> => {
          if (inner.signal.aborted) return undefined;
          try {
            return await this.pushBlob(target, blob, tracker, inner.signal);
          } catch (err) {
            firstError ??= err instanceof Error ? err : new BerthError('INTERNAL', String(err));
            inner.abort();
            return undefined;
          }
        }),
      ),
    ).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
    if (firstError !== undefined) throw firstError;

    for (const child of plan.children) await this.putManifest(target, child.digest, child, signal);
    await this.putManifest(target, destination.tag ?? 'latest', plan.top, signal);

    const repoDigest = `${repositoryOf(destination)}@${plan.top.digest}`;
    const pushedIndex = plan.children.length > 0;
    await store.commitImage({
      manifestDigest: resolved.image.manifestDigest,
      ...(pushedIndex ? { indexDigest: plan.top.digest } : {}),
      names: [],
      repoDigests: [repoDigest],
      action: 'push',
    });
    const outcome: PushOutcome = {
      pushId,
      reference,
      imageId: resolved.facts.configDigest,
      digest: plan.top.digest,
      repoDigest,
      manifests: [...plan.children, plan.top].map((m) => ({ digest: m.digest, mediaType: m.mediaType })),
      blobs: plan.blobs.map((b, i) => {
        const status = results[i] ?? 'uploaded';
        return status === 'mounted' && mountFrom !== undefined
          ? { ...b, status, mountedFrom: mountFrom }
          : { ...b, status };
      }),
      bytesUploaded: plan.blobs.reduce((n, b, i) => n + (results[i] === 'uploaded' ? b.size : 0), 0),
    };
    if (plan.indexSkipped !== undefined) outcome.indexSkipped = plan.indexSkipped;
    return outcome;
  }

  /**
   * What goes up: a multi-platform image whose every platform is in the store pushes them all and its
   * index; otherwise its own platform manifest alone. Every blob must be in the store.
   */
  private async plan(
    manifestDigest: string,
    top: { mediaType: string; digest: string },
    where: string,
  ): Promise<PushPlan> {
    const { store } = this.options;
    const own = await this.manifest(
      manifestDigest,
      isIndexMediaType(top.mediaType) ? undefined : top.mediaType,
    );
    let parts = [own];
    let children: ManifestToPush[] = [];
    let topManifest = own.document;
    let indexSkipped: string | undefined;
    if (isIndexMediaType(top.mediaType)) {
      const bytes = await store.readBlob(top.digest);
      const index = parseManifest(bytes, top.mediaType, where);
      const entries = index.kind === 'index' ? index.manifests : [];
      const present = await Promise.all(entries.map((d) => this.completeInStore(d)));
      if (entries.length > 0 && present.every((p) => p)) {
        parts = await Promise.all(entries.map((d) => this.manifest(d.digest, d.mediaType)));
        children = parts.map((p) => p.document);
        topManifest = { digest: top.digest, mediaType: index.mediaType, bytes };
      } else {
        const entry = entries.find((d) => d.digest === manifestDigest);
        if (entry) own.document.mediaType = entry.mediaType;
        indexSkipped = top.digest;
      }
    }
    const seen = new Map<string, { digest: string; size: number }>();
    for (const part of parts) {
      for (const blob of part.blobs) {
        if (seen.has(blob.digest)) continue;
        if (!(await store.hasBlob(blob.digest))) {
          throw new BerthError(
            'BLOB_UNKNOWN',
            `blob ${blob.digest} of ${where} is missing from the store; run "berth fsck" or pull the image again`,
            { digest: blob.digest },
          );
        }
        seen.set(blob.digest, blob);
      }
    }
    const plan: PushPlan = { children, top: topManifest, blobs: [...seen.values()] };
    if (indexSkipped !== undefined) plan.indexSkipped = indexSkipped;
    return plan;
  }

  /** A stored platform manifest with its exact bytes and media type, and the blobs it names. */
  private async manifest(
    digest: string,
    mediaType: string | undefined,
  ): Promise<{ document: ManifestToPush; blobs: { digest: string; size: number }[] }> {
    const bytes = await this.options.store.readBlob(digest);
    const parsed = parseManifest(bytes, mediaType, digest);
    if (parsed.kind !== 'manifest') {
      throw new BerthError('UNSUPPORTED', `${digest}: an index inside an index cannot be pushed`);
    }
    return {
      document: { digest, mediaType: mediaType ?? parsed.mediaType, bytes },
      blobs: [parsed.config, ...parsed.layers].map((d) => ({ digest: d.digest, size: d.size })),
    };
  }

  /** True when a platform manifest and all of its blobs are in the store. */
  private async completeInStore(entry: Descriptor): Promise<boolean> {
    const { store } = this.options;
    if (!(await store.hasBlob(entry.digest))) return false;
    const { blobs } = await this.manifest(entry.digest, entry.mediaType).catch(() => ({ blobs: undefined }));
    if (!blobs) return false;
    for (const blob of blobs) if (!(await store.hasBlob(blob.digest))) return false;
    return true;
  }

  /**
   * Proves a push can start before any byte goes up: opens an upload session (then cancels it). When the
   * registry refuses, says why: no credentials, credentials refused, or no push permission.
   */
  private async checkAccess(target: Target, signal: AbortSignal): Promise<void> {
    const { client, repository, scope, where } = target;
    const registry = client.registry;
    try {
      const location = await client.call(
        `/v2/${repository}/blobs/uploads/`,
        { method: 'POST', scope, what: `a push to ${where}`, repository },
        { signal },
        async (response) => {
          await discard(response.body);
          return headerValue(response.headers, 'location');
        },
      );
      if (location !== undefined) {
        await client
          .call(
            location,
            {
              method: 'DELETE',
              scope,
              extraOk: [404, 405],
              what: `the probe upload to ${where}`,
              repository,
            },
            { signal },
            (response) => discard(response.body),
          )
          .catch(() => undefined);
      }
    } catch (err) {
      if (!(err instanceof BerthError) || (err.code !== 'UNAUTHORIZED' && err.code !== 'DENIED')) throw err;
      const detail = { registry, repository };
      const credentials = await client.credentialsOf(repository);
      if (credentials === undefined) {
        throw new BerthError(
          'UNAUTHORIZED',
          `cannot push to ${where}: no credentials for ${registry}; log in with "berth login ${registry}"`,
          { ...detail, reason: 'no-credentials' },
        );
      }
      try {
        await client.checkCredentials(credentials, { signal });
      } catch (checkErr) {
        if (checkErr instanceof BerthError && checkErr.code === 'UNAUTHORIZED') {
          throw new BerthError(
            'UNAUTHORIZED',
            `cannot push to ${where}: ${registry} refused the saved credentials; log in again with "berth login ${registry}"`,
            { ...detail, reason: 'credentials-refused' },
          );
        }
        throw checkErr;
      }
      const who = credentials.username ?? 'this account';
      throw new BerthError(
        'DENIED',
        `cannot push to ${where}: ${who} may not push there (no push permission)`,
        { ...detail, reason: 'no-push-permission' },
      );
    }
  }

  /** One blob: skipped when the registry has it, mounted from the source repository, or uploaded. */
  private async pushBlob(
    target: Target,
    blob: { digest: string; size: number },
    tracker: PullTracker,
    signal: AbortSignal,
  ): Promise<BlobPushStatus> {
    const { client, repository, scope } = target;
    const what = `blob ${blob.digest}`;
    const exists = await client.call(
      `/v2/${repository}/blobs/${blob.digest}`,
      { method: 'HEAD', scope, extraOk: [404], what, repository },
      { signal },
      async (response) => {
        await discard(response.body);
        return response.status === 200;
      },
    );
    if (exists) {
      tracker.layerStatus(blob.digest, 'exists');
      return 'exists';
    }
    let session: Session | undefined;
    if (target.mountFrom !== undefined) {
      const query = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(target.mountFrom)}`;
      const answer = await client.call(
        `/v2/${repository}/blobs/uploads/?${query}`,
        { method: 'POST', scope, what: `the mount of ${what}`, repository },
        { signal },
        async (response) => {
          await discard(response.body);
          return { status: response.status, location: headerValue(response.headers, 'location') };
        },
      );
      if (answer.status === 201) {
        tracker.layerStatus(blob.digest, 'exists');
        return 'mounted';
      }
      if (answer.location !== undefined) session = { location: answer.location, offset: 0 };
    }
    tracker.layerStatus(blob.digest, 'uploading');
    await this.upload(target, blob, session, tracker, signal);
    tracker.layerStatus(blob.digest, 'complete');
    return 'uploaded';
  }

  /**
   * Uploads a blob, retrying with backoff: after a failure it asks the registry how much of the session it
   * holds (its `Range`) and goes on from there, or opens a new session when the old one is gone.
   */
  private async upload(
    target: Target,
    blob: { digest: string; size: number },
    first: Session | undefined,
    tracker: PullTracker,
    signal: AbortSignal,
  ): Promise<void> {
    let session = first;
    for (let attempt = 1; ; attempt++) {
      try {
        session ??= await this.startUpload(target, signal);
        await this.send(target, blob, session, tracker, signal);
        return;
      } catch (err) {
        if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
        const lost = err instanceof BerthError && isSessionLost(err);
        if (!(err instanceof TransientError) && !lost) throw err;
        const final = err instanceof TransientError ? err.final : err;
        if (attempt >= this.policy.attempts) throw final;
        const delayMs =
          (err instanceof TransientError ? err.retryAfterMs : undefined) ??
          backoffDelay(this.policy, attempt);
        tracker.layerStatus(blob.digest, 'retrying', Math.ceil(delayMs / 1000));
        try {
          await this.policy.sleep(delayMs, signal);
        } catch {
          throw new BerthError('CANCELLED', 'cancelled');
        }
        session =
          lost || session === undefined ? undefined : await this.uploadStatus(target, session, signal);
        tracker.layerBytes(blob.digest, session?.offset ?? 0);
        tracker.layerStatus(blob.digest, 'uploading');
      }
    }
  }

  /** Opens an upload session (`POST …/blobs/uploads/`). */
  private async startUpload(target: Target, signal: AbortSignal): Promise<Session> {
    const { client, repository, scope, where } = target;
    return client.call(
      `/v2/${repository}/blobs/uploads/`,
      { method: 'POST', scope, what: `an upload to ${where}`, repository },
      { signal },
      async (response) => {
        await discard(response.body);
        const location = headerValue(response.headers, 'location');
        if (location === undefined) {
          throw new BerthError('NETWORK', `${client.registry} opened an upload without a Location`);
        }
        return { location, offset: 0 };
      },
    );
  }

  /** Where an interrupted session stands (`GET` its location); undefined when the registry forgot it. */
  private async uploadStatus(
    target: Target,
    session: Session,
    signal: AbortSignal,
  ): Promise<Session | undefined> {
    const { client, repository, scope } = target;
    try {
      return await client.call(
        session.location,
        { method: 'GET', scope, what: 'an upload status', repository },
        { signal },
        async (response) => {
          await discard(response.body);
          return {
            location: headerValue(response.headers, 'location') ?? session.location,
            offset: rangeEnd(headerValue(response.headers, 'range')),
          };
        },
      );
    } catch {
      if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
      return undefined;
    }
  }

  /**
   * Sends what the session lacks: PATCH chunks for a large blob, then the closing `PUT ?digest=` with
   * whatever is left (everything, for a small blob). `session` advances as the registry acknowledges.
   */
  private async send(
    target: Target,
    blob: { digest: string; size: number },
    session: Session,
    tracker: PullTracker,
    signal: AbortSignal,
  ): Promise<void> {
    const { client, repository, scope } = target;
    const what = `the upload of blob ${blob.digest}`;
    const chunked = blob.size > (this.options.chunkThreshold ?? 64 * mib);
    const chunkSize = Math.max(1, this.options.chunkSize ?? 16 * mib);
    while (chunked && session.offset < blob.size) {
      const start = session.offset;
      const end = Math.min(blob.size, start + chunkSize);
      const answer = await client.call(
        session.location,
        {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(end - start),
            'content-range': `${start}-${end - 1}`,
          },
          body: () => this.blobStream(blob.digest, start, end, tracker),
          scope,
          retry: false,
          what,
          repository,
        },
        { signal },
        async (response) => {
          await discard(response.body);
          return {
            location: headerValue(response.headers, 'location'),
            range: headerValue(response.headers, 'range'),
          };
        },
      );
      session.location = answer.location ?? session.location;
      session.offset = answer.range === undefined ? end : rangeEnd(answer.range);
      if (session.offset !== end) {
        throw new BerthError(
          'NETWORK',
          `${client.registry} holds ${session.offset} bytes of ${blob.digest}, expected ${end}`,
          {
            registryCode: 'BLOB_UPLOAD_INVALID',
          },
        );
      }
    }
    const start = session.offset;
    const separator = session.location.includes('?') ? '&' : '?';
    await client.call(
      `${session.location}${separator}digest=${encodeURIComponent(blob.digest)}`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size - start) },
        ...(start < blob.size ? { body: () => this.blobStream(blob.digest, start, blob.size, tracker) } : {}),
        scope,
        retry: false,
        what,
        repository,
      },
      { signal },
      async (response) => {
        await discard(response.body);
        const digest = headerValue(response.headers, 'docker-content-digest');
        if (digest !== undefined && digest !== blob.digest) {
          throw new BerthError('DIGEST_MISMATCH', `${client.registry} stored ${blob.digest} as ${digest}`, {
            expected: blob.digest,
            actual: digest,
          });
        }
      },
    );
    session.offset = blob.size;
    tracker.layerBytes(blob.digest, blob.size);
  }

  /** Bytes `[start, end)` of a stored blob, reporting progress as they are read. */
  private blobStream(digest: string, start: number, end: number, tracker: PullTracker): Readable {
    let sent = start;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        tracker.layerBytes(digest, sent);
        done(null, chunk);
      },
    });
    const file = createReadStream(this.options.store.blobPath(digest), { start, end: end - 1 });
    file.on('error', (err) => counter.destroy(err));
    return file.pipe(counter);
  }

  /** PUTs a manifest's exact bytes under a tag or its digest, with its exact media type. */
  private async putManifest(
    target: Target,
    reference: string,
    manifest: ManifestToPush,
    signal: AbortSignal,
  ): Promise<void> {
    const { client, repository, scope, where } = target;
    await client.call(
      `/v2/${repository}/manifests/${reference}`,
      {
        method: 'PUT',
        headers: { 'content-type': manifest.mediaType },
        body: () => manifest.bytes,
        scope,
        what: `the manifest ${manifest.digest} for ${where}:${reference}`,
        repository,
      },
      { signal },
      async (response: RawResponse) => {
        await discard(response.body);
        const digest = headerValue(response.headers, 'docker-content-digest');
        if (digest !== undefined && digest !== manifest.digest) {
          throw new BerthError(
            'DIGEST_MISMATCH',
            `${client.registry} stored the manifest ${manifest.digest} as ${digest}`,
            { expected: manifest.digest, actual: digest },
          );
        }
      },
    );
  }
}

/** The destination: as given, else the name the image was asked by; it needs a tag, not a digest. */
function destinationOf(request: PushRequest, name: string | undefined): Reference {
  const text = request.destination ?? name;
  if (text === undefined) {
    throw new BerthError(
      'BAD_REQUEST',
      `${request.image} has no name to push to; give a destination such as registry.example.com/team/app:1.0`,
      { image: request.image },
    );
  }
  const reference = normalizeReference(text.trim());
  if (reference.digest !== undefined) {
    throw new BerthError(
      'INVALID_REFERENCE',
      `cannot push to "${text}": a destination needs a tag, not a digest`,
      {
        destination: text,
      },
    );
  }
  return reference;
}

/** A repository on the destination's registry the image came from or went to (blobs can be mounted from it). */
function mountSource(names: string[], destination: Reference): string | undefined {
  for (const name of names) {
    let reference: Reference;
    try {
      reference = parseReference(name);
    } catch {
      continue;
    }
    if (reference.domain === destination.domain && reference.path !== destination.path) return reference.path;
  }
  return undefined;
}

/** Bytes a session holds, from a `Range: 0-N` header (distribution reports `0-0` for an empty one). */
function rangeEnd(range: string | undefined): number {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  if (!match) return 0;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

function isSessionLost(err: BerthError): boolean {
  const code = err.detail?.registryCode;
  return err.detail?.status === 416 || (typeof code === 'string' && sessionLost.has(code));
}
