import { randomUUID } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Platform, PullProgress } from '../../../shared/contract';
import { BerthError, toWireError, type ErrorCode } from '../../../shared/error';
import { formatReference, repositoryOf } from '../../../shared/reference';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { prestartGunzipWorker, withGunzipWorkerHeld } from '../layers/gunzip-worker';
import type * as IndexFile from '../layers/index-file';
import type * as IndexLayer from '../layers/index-layer';
import type { LayerIndex } from '../layers/layer-entry';
import { parseDigest } from '../../../shared/digest';
import type { RegistriesConf } from '../reference/registries-conf';
import { pullSources, type PullSource } from '../reference/registry-rules';
import { resolveShortName, type ShortNameCandidate } from '../reference/short-name';
import type { FetchedManifest, RateLimit, RegistryClient } from '../registry/client';
import type { Descriptor, ImageIndex, ImageManifest } from '../registry/manifest';
import {
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformsOf,
  selectPlatform,
} from '../registry/platform';
import { backoffDelay, defaultRetryPolicy, type RetryPolicy } from '../registry/retry';
import type { ImageStore } from '../store/image-store';
import type { BlobWriter } from '../store/ingest';
import { loadLockLibrary } from '../store/lock';
import { explainNoSpace, storeWriteError } from '../store/no-space';
import { IndexerPause } from './indexer-pause';
import { PullTracker } from './progress';

/**
 * The layer indexer and the index writer (with a native hash module and a tar parser, ~45 ms to load), loaded
 * on first use: a pull starts loading them before its first request, so they load while it waits on the network.
 */
let indexingModules: Promise<[typeof IndexLayer, typeof IndexFile]>;
function loadIndexing(): typeof indexingModules {
  return (indexingModules ??= Promise.all([import('../layers/index-layer'), import('../layers/index-file')]));
}

/** When a pull goes to the network: `missing` (only if no local image has the name), `always`, or `newer`. */
export type PullPolicy = 'missing' | 'always' | 'newer';

/** One pull as asked for. */
export interface PullRequest {
  reference: string;
  /** `os/arch[/variant]`; the host platform when omitted. */
  platform?: string;
  /** Fetch every platform of an index; the requested (or host) platform gets the name. */
  allPlatforms?: boolean;
  policy?: PullPolicy;
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
  pullId?: string;
}

/** One image a pull stored. */
export interface PulledImage {
  imageId: string;
  manifestDigest: string;
  platform: string;
}

/** What a pull did. */
export interface PullOutcome {
  pullId: string;
  /** The fully qualified reference the image is known by. */
  reference: string;
  /** `pulled`: fetched; `present`: the name was local and the policy allowed that; `up-to-date`: remote unchanged. */
  status: 'pulled' | 'present' | 'up-to-date';
  imageId?: string;
  /** Digest of what the reference points at remotely (an index for a multi-platform tag). */
  digest?: string;
  images: PulledImage[];
  layers: { digest: string; size: number; status: 'downloaded' | 'exists' }[];
  bytesDownloaded: number;
  rateLimit?: RateLimit;
}

/** What the pull engine works with. */
export interface PullerOptions {
  store: ImageStore;
  /** One client per registry host; RegistryPool fits. */
  registries: { get(registry: string): Promise<RegistryClient> };
  conf: RegistriesConf;
  /** Layers downloaded at once (default 3). */
  parallel?: number;
  hostPlatform?: Platform;
  /** Backoff between resumes of a broken layer stream; the clock and sleep are injectable. */
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  progressIntervalMs?: number;
}

interface Located {
  candidate: ShortNameCandidate;
  source: PullSource;
  client: RegistryClient;
  repository: string;
  top: FetchedManifest;
}

interface PlannedImage {
  manifest: FetchedManifest & { parsed: ImageManifest };
  /** The config and what it says; it may still be downloading while the first layers start. */
  config: Promise<ImageConfig>;
}

/** An image a pull committed: whether it was there before, the names it gave it and the ones it moved. */
interface CommittedImage {
  image: PulledImage;
  existed: boolean;
  names: string[];
  movedFrom: Record<string, string>;
}

/** A layer the pull found or brought; `indexed` gives its uncompressed size once its DiffID matched this image's config. */
interface FetchedLayer {
  status: 'downloaded' | 'exists';
  indexed?: Promise<number>;
}

interface ImageConfig {
  bytes: Buffer;
  diffIds: string[];
  platform: Platform;
}

/** Errors after which the next mirror or search registry is worth trying. */
const tryNextSource = new Set<ErrorCode>([
  'MANIFEST_UNKNOWN',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'DENIED',
  'NETWORK',
  'REGISTRY_UNAVAILABLE',
  'TOO_MANY_REQUESTS',
]);

/**
 * The pull engine: reference → resolve (registries.conf) → manifest → plan (skip blobs the store has) →
 * fetch layers in parallel, streamed into the store's ingest area and resumed with Range after a break, each
 * verified against its digest → write manifests and config → commit the name atomically (`stored`: the
 * image is usable) → check every DiffID and write the file indexes, built while the layers downloaded
 * (`complete`). Manifests and the config are written only after every layer arrived, so a failed or
 * cancelled download leaves `blobs/` with at most complete, verified layers and `index.json` untouched; a
 * DiffID that fails takes the image back out (names return where they were). One download per blob across
 * concurrent pulls.
 */
export class Puller {
  /** Downloads under way, by digest, with the indexing each one started. */
  private readonly inflight = new Map<string, Promise<{ indexing: Promise<LayerIndex> }>>();
  private readonly policy: RetryPolicy;

  constructor(private readonly options: PullerOptions) {
    this.policy = defaultRetryPolicy(options.retry);
  }

  /** Pulls one reference; progress snapshots go to `onProgress`, throttled to about ten per second. */
  async pull(request: PullRequest): Promise<PullOutcome> {
    const pullId = request.pullId ?? randomUUID();
    const tracker = new PullTracker(
      pullId,
      request.reference,
      (p) => request.onProgress?.(p),
      this.options.now,
      this.options.progressIntervalMs,
    );
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) controller.abort();
    try {
      const outcome = await withGunzipWorkerHeld(() => this.run(request, pullId, tracker, controller.signal));
      tracker.finish('complete', outcome.imageId === undefined ? {} : { imageId: outcome.imageId });
      return outcome;
    } catch (err) {
      const cancelled = controller.signal.aborted;
      const error = cancelled
        ? new BerthError('CANCELLED', `pull of ${request.reference} was cancelled`)
        : explainNoSpace(err, this.options.store.root, `pull of ${request.reference}`);
      tracker.finish(cancelled ? 'cancelled' : 'failed', { error: toWireError(error) });
      throw error;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(
    request: PullRequest,
    pullId: string,
    tracker: PullTracker,
    signal: AbortSignal,
  ): Promise<PullOutcome> {
    const { store, conf } = this.options;
    const policy = request.policy ?? 'missing';
    const wanted = request.platform === undefined ? undefined : parsePlatform(request.platform);
    const resolution = resolveShortName(conf, request.reference);
    let local: { candidate: ShortNameCandidate; topDigest: string; imageId: string } | undefined;
    for (const candidate of resolution.candidates) {
      const found = await store.resolve(formatReference(candidate.reference)).catch(() => undefined);
      if (found) {
        local = { candidate, topDigest: found.image.top.digest, imageId: found.facts.configDigest };
        // fsck --repair deleted a corrupt blob of this image: the name is here but the pull must bring it back.
        if (policy === 'missing' && (await needsRepull(store, local.imageId))) local = undefined;
        break;
      }
    }
    if (local && policy === 'missing') {
      const reference = formatReference(local.candidate.reference);
      tracker.setReference(reference);
      return {
        pullId,
        reference,
        status: 'present',
        imageId: local.imageId,
        images: [],
        layers: [],
        bytesDownloaded: 0,
      };
    }

    prestartGunzipWorker();
    loadIndexing().catch(() => undefined);
    const located = await this.locate(resolution.candidates, policy === 'newer' ? local : undefined, signal);
    if ('upToDate' in located) {
      const reference = formatReference(located.candidate.reference);
      tracker.setReference(reference);
      return {
        pullId,
        reference,
        status: 'up-to-date',
        imageId: located.imageId,
        digest: located.digest,
        images: [],
        layers: [],
        bytesDownloaded: 0,
      };
    }
    // Something will be written: the lock library loads while the manifests and config are fetched.
    loadLockLibrary().catch(() => undefined);
    const name = located.candidate.reference;
    tracker.setReference(formatReference(name));
    const plan = await this.plan(located, wanted, request.allPlatforms ?? false, signal);

    const layers = uniqueLayers(plan.images);
    tracker.setLayers(layers);
    const results = new Map<string, FetchedLayer>();
    const inner = new AbortController();
    // The configs arrive while the first layers download; a config that fails stops the downloads, and each
    // layer's DiffID is checked against its config once both are known.
    const configs = Promise.all(plan.images.map((image) => image.config));
    configs.catch(() => inner.abort());
    const diffIdOf = new Map<string, Promise<string>>();
    for (const image of plan.images) {
      image.manifest.parsed.layers.forEach((l, i) => {
        const diffId = image.config.then((config) => config.diffIds[i] as string);
        diffId.catch(() => undefined);
        diffIdOf.set(l.digest, diffId);
      });
    }
    const onAbort = (): void => inner.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const pause = new IndexerPause();
    const stopWatching = pause.watch();
    try {
      // Every layer starts at once; `transfers` lets only `parallel` of them move bytes at a time.
      const transfers = pLimit(Math.max(1, this.options.parallel ?? 3));
      let firstFailure: { error: unknown } | undefined;
      await Promise.all(
        layers.map(async (layer) => {
          try {
            results.set(
              layer.digest,
              await this.fetchLayer(
                located,
                layer,
                diffIdOf.get(layer.digest) as Promise<string>,
                tracker,
                pause,
                transfers,
                inner.signal,
              ),
            );
          } catch (err) {
            firstFailure ??= { error: err };
            inner.abort();
          }
        }),
      );
      if (firstFailure) throw firstFailure.error;
    } catch (err) {
      // A config that failed is why the downloads stopped: its error is the one to report.
      if (!signal.aborted) await configs;
      throw err;
    } finally {
      stopWatching();
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
    // The commit is a few short steps, each of which would otherwise queue behind tar parsing on this thread.
    const { images, commits } = await pause.during(async () => {
      const planned = await configs;
      // Independent files, written side by side so their fsyncs overlap; by digest, as two platforms' images
      // can share a config.
      const small = new Map<string, { bytes: Uint8Array; size: number }>();
      if (plan.index) small.set(plan.index.digest, plan.index);
      for (const [i, image] of plan.images.entries()) {
        const { config } = image.manifest.parsed;
        small.set(config.digest, { bytes: (planned[i] as ImageConfig).bytes, size: config.size });
        small.set(image.manifest.digest, image.manifest);
      }
      await Promise.all(
        [...small].map(([digest, { bytes, size }]) => store.putBlob(bytes, { digest, size })),
      );
      const images: PulledImage[] = [];
      const commits: CommittedImage[] = [];
      for (const [i, image] of plan.images.entries()) {
        const config = planned[i] as ImageConfig;
        const existed = await store.resolve(image.manifest.digest).then(
          () => true,
          () => false,
        );
        const named = i === 0 && name.tag !== undefined;
        const committed = await store.commitImage({
          manifestDigest: image.manifest.digest,
          ...(plan.index ? { indexDigest: plan.index.digest } : {}),
          names: named ? [formatReference({ domain: name.domain, path: name.path, tag: name.tag })] : [],
          source: formatReference(name),
          repoDigests: [`${repositoryOf(name)}@${located.top.digest}`],
          action: 'pull',
        });
        const pulled = {
          imageId: committed.id,
          manifestDigest: image.manifest.digest,
          platform: formatPlatform(config.platform),
        };
        images.push(pulled);
        commits.push({ image: pulled, existed, names: committed.names, movedFrom: committed.movedFrom });
      }
      return { images, commits };
    });
    // Usable from here: every blob matched its digest and the name is committed. The DiffIDs and file
    // indexes follow; a layer that fails them takes the image out again and gives its names back.
    tracker.stored(images[0]?.imageId);
    const sizes = new Map<string, number>();
    try {
      await Promise.all(
        [...results].map(async ([digest, fetched]) => {
          if (fetched.indexed) sizes.set(digest, await fetched.indexed);
        }),
      );
    } catch (err) {
      await this.refuse(commits);
      throw err;
    }
    for (const [i, image] of plan.images.entries()) {
      const uncompressedSizes: Record<string, number> = {};
      for (const l of image.manifest.parsed.layers) {
        const size = sizes.get(l.digest);
        if (size !== undefined) uncompressedSizes[l.digest] = size;
      }
      if (Object.keys(uncompressedSizes).length > 0)
        await store.recordUncompressedSizes((images[i] as PulledImage).manifestDigest, uncompressedSizes);
    }
    const outcome: PullOutcome = {
      pullId,
      reference: formatReference(name),
      status: 'pulled',
      digest: located.top.digest,
      images,
      layers: layers.map((l) => ({
        digest: l.digest,
        size: l.size,
        status: results.get(l.digest)?.status ?? 'exists',
      })),
      bytesDownloaded: layers.reduce(
        (sum, l) => sum + (results.get(l.digest)?.status === 'downloaded' ? l.size : 0),
        0,
      ),
    };
    if (images[0]) outcome.imageId = images[0].imageId;
    if (located.top.rateLimit) outcome.rateLimit = located.top.rateLimit;
    return outcome;
  }

  /**
   * Takes back what a pull committed once one of its layers failed its DiffID or could not be indexed: a new
   * image is removed (its blobs go with it unless another image uses them), an image that was already there
   * loses only the names this pull gave it, and every name this pull moved returns to its earlier image.
   */
  private async refuse(commits: CommittedImage[]): Promise<void> {
    const { store } = this.options;
    for (const commit of commits) {
      if (commit.existed) {
        if (commit.names.length > 0) await store.untag(commit.image.manifestDigest, commit.names);
      } else {
        await store.remove(commit.image.manifestDigest, { force: true });
      }
      for (const [moved, from] of Object.entries(commit.movedFrom)) await store.tag(from, moved);
    }
  }

  /** Finds the first candidate and source that has the manifest; with `newer`, a HEAD decides if anything changed. */
  private async locate(
    candidates: ShortNameCandidate[],
    local: { candidate: ShortNameCandidate; topDigest: string; imageId: string } | undefined,
    signal: AbortSignal,
  ): Promise<Located | { upToDate: true; candidate: ShortNameCandidate; digest: string; imageId: string }> {
    let firstError: unknown;
    const tried: string[] = [];
    for (const candidate of local ? [local.candidate] : candidates) {
      for (const source of pullSources(this.options.conf, candidate.reference)) {
        const repository = source.reference.path;
        const ref = source.reference.digest ?? source.reference.tag ?? 'latest';
        tried.push(formatReference(source.reference));
        try {
          const client = await this.options.registries.get(source.registry);
          if (local) {
            const head = await client.headManifest(repository, ref, { signal });
            if (head.digest !== undefined && head.digest === local.topDigest) {
              return { upToDate: true, candidate, digest: head.digest, imageId: local.imageId };
            }
          }
          // One GET by tag, not HEAD then GET by digest: the body is hashed (and checked against the
          // Docker-Content-Digest the registry sent), so everything after is pinned to that digest all the same.
          const top = await client.fetchManifest(repository, ref, { signal });
          return { candidate, source, client, repository, top };
        } catch (err) {
          if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
          if (!(err instanceof BerthError) || !tryNextSource.has(err.code)) throw err;
          firstError ??= err;
        }
      }
    }
    if (firstError instanceof BerthError && tried.length > 1) {
      throw new BerthError(firstError.code, `${firstError.message} (tried ${tried.join(', ')})`, {
        ...firstError.detail,
        tried,
      });
    }
    throw firstError instanceof Error ? firstError : new BerthError('NOT_FOUND', 'nothing to pull');
  }

  /** Picks the platform manifests and fetches their configs (nothing is written yet). */
  private async plan(
    located: Located,
    wanted: Platform | undefined,
    allPlatforms: boolean,
    signal: AbortSignal,
  ): Promise<{ index?: FetchedManifest & { parsed: ImageIndex }; images: PlannedImage[] }> {
    const { client, repository, top } = located;
    const where = formatReference(located.candidate.reference);
    const request = wanted ?? this.options.hostPlatform ?? hostPlatform();
    const manifests: (FetchedManifest & { parsed: ImageManifest })[] = [];
    let index: (FetchedManifest & { parsed: ImageIndex }) | undefined;
    if (top.parsed.kind === 'index') {
      index = top as FetchedManifest & { parsed: ImageIndex };
      const chosen = selectPlatform(index.parsed.manifests, request, where);
      const descriptors = allPlatforms
        ? [
            chosen,
            ...index.parsed.manifests.filter(
              (d) => d !== chosen && d.platform && platformsOf([d]).length > 0,
            ),
          ]
        : [chosen];
      for (const descriptor of descriptors) {
        const child = await client.fetchManifest(repository, descriptor.digest, { signal });
        if (child.parsed.kind !== 'manifest') {
          throw new BerthError('UNSUPPORTED', `${where}: an index inside an index is not supported`);
        }
        if (child.size !== descriptor.size) {
          throw new BerthError(
            'SIZE_MISMATCH',
            `manifest ${descriptor.digest} is ${child.size} bytes, the index says ${descriptor.size}`,
          );
        }
        manifests.push(child as FetchedManifest & { parsed: ImageManifest });
      }
    } else {
      manifests.push(top as FetchedManifest & { parsed: ImageManifest });
    }
    const images: PlannedImage[] = manifests.map((manifest) => {
      const config = this.config(client, repository, manifest.parsed, where, signal);
      // Handled by whoever awaits it (the pull waits for every config); never an unhandled rejection.
      config.catch(() => undefined);
      return { manifest, config };
    });
    // Only the config of a plain manifest can say the image is for another platform than asked: that
    // refusal comes before any layer moves.
    if (!index && wanted) {
      const { platform } = await (images[0] as PlannedImage).config;
      if (!platformMatches(platform, wanted)) {
        throw new BerthError(
          'PLATFORM_UNAVAILABLE',
          `${where} is for ${formatPlatform(platform)}, not ${formatPlatform(normalizePlatform(wanted))}`,
          {
            requested: formatPlatform(normalizePlatform(wanted)),
            available: [formatPlatform(platform)],
          },
        );
      }
    }
    return index ? { index, images } : { images };
  }

  /** An image's config, from the store when it has it, else from the registry, with its DiffIDs and platform. */
  private async config(
    client: RegistryClient,
    repository: string,
    manifest: ImageManifest,
    where: string,
    signal: AbortSignal,
  ): Promise<ImageConfig> {
    const bytes = (await this.options.store.hasBlob(manifest.config.digest))
      ? await this.options.store.readBlob(manifest.config.digest)
      : await client.fetchBlobBytes(repository, manifest.config, { signal });
    const facts = readConfig(bytes, manifest, where);
    return { bytes, diffIds: facts.diffIds, platform: facts.platform };
  }

  /**
   * Brings one layer into the store (or finds it there), sharing a download another pull already started.
   * Resolves once the blob is verified and in `blobs/`; `indexed` follows once its DiffID was checked against
   * this image's config (and, for a layer this pull downloaded, its file index written).
   */
  private async fetchLayer(
    located: Located,
    layer: Descriptor,
    diffId: Promise<string>,
    tracker: PullTracker,
    pause: IndexerPause,
    transfers: LimitFunction,
    signal: AbortSignal,
  ): Promise<FetchedLayer> {
    for (;;) {
      if (await this.options.store.hasBlob(layer.digest)) {
        tracker.layerStatus(layer.digest, 'exists');
        const indexed = this.checkStored(layer, diffId);
        indexed.catch(() => undefined);
        return { status: 'exists', indexed };
      }
      const shared = this.inflight.get(layer.digest);
      if (shared) {
        const other = await shared.catch(() => undefined);
        if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
        if (!other) continue;
        // Another pull brought the bytes; this pull's config still decides whether their DiffID is right.
        tracker.layerStatus(layer.digest, 'exists');
        const indexed = this.finishIndex(layer, other.indexing, diffId, { write: false });
        indexed.catch(() => undefined);
        return { status: 'exists', indexed };
      }
      const download = this.download(located, layer, tracker, pause, transfers, signal);
      this.inflight.set(layer.digest, download);
      let indexing: Promise<LayerIndex>;
      try {
        ({ indexing } = await download);
      } finally {
        this.inflight.delete(layer.digest);
      }
      tracker.layerStatus(layer.digest, 'indexing');
      const indexed = this.finishIndex(layer, indexing, diffId).then((size) => {
        tracker.layerStatus(layer.digest, 'complete');
        return size;
      });
      indexed.catch(() => undefined);
      return { status: 'downloaded', indexed };
    }
  }

  /**
   * Checks a layer the store already holds against this image's config: the DiffID in its index file's header
   * (a read of the file's beginning), or, without a readable index (a crash before it was written, an older
   * format), the stored blob indexed again. Returns the uncompressed size.
   */
  private async checkStored(layer: Descriptor, diffId: Promise<string>): Promise<number> {
    const [{ indexLayer }, { readLayerIndexHeader }] = await loadIndexing();
    const { store } = this.options;
    const file = join(store.paths.layerIndexes, `${parseDigest(layer.digest).hex}.idx`);
    const header = await readLayerIndexHeader(file).catch(() => undefined);
    if (!header) return this.finishIndex(layer, indexLayer(store.openBlob(layer.digest)), diffId);
    const expected = await diffId;
    checkDiffId(layer.digest, header.diffId, expected);
    return header.uncompressedSize;
  }

  /**
   * Checks the index's DiffID against the config's and writes the index file (unless the pull that downloaded
   * the layer writes it); returns the uncompressed size.
   */
  private async finishIndex(
    layer: Descriptor,
    indexing: Promise<LayerIndex>,
    diffId: Promise<string>,
    options: { write?: boolean } = {},
  ): Promise<number> {
    const [index, expected] = await Promise.all([indexing, diffId]).catch((err: unknown) => {
      throw diffIdRefusal(err, layer.digest);
    });
    checkDiffId(layer.digest, index.diffId, expected);
    if (options.write === false) return index.uncompressedSize;
    const { store } = this.options;
    const [, { writeLayerIndex }] = await loadIndexing();
    await mkdir(store.paths.layerIndexes, { recursive: true });
    await writeLayerIndex(join(store.paths.layerIndexes, `${parseDigest(layer.digest).hex}.idx`), index);
    return index.uncompressedSize;
  }

  /**
   * Streams a layer into the ingest area, resuming from the partial file's length with Range after a
   * broken or short stream (a server that ignores Range gets a clean restart), and verifies digest and size
   * (BlobWriter.commit). Resolves once the blob is in `blobs/`, with its indexing under way: the indexer
   * follows the partial file from byte 0 as it grows (through breaks and resumes), so inflating, the DiffID
   * and the file index run alongside the transfer without ever holding it back.
   */
  private async download(
    located: Located,
    layer: Descriptor,
    tracker: PullTracker,
    pause: IndexerPause,
    transfers: LimitFunction,
    signal: AbortSignal,
  ): Promise<{ indexing: Promise<LayerIndex> }> {
    const { store } = this.options;
    const expected = { digest: layer.digest, size: layer.size };
    const [{ indexLayer }] = await loadIndexing();
    let writer: BlobWriter | undefined;
    let indexing: Promise<LayerIndex> | undefined;
    // Wrapped so that awaiting the follower's start does not await its result.
    const follow = async (opened: BlobWriter): Promise<void> => {
      // Progress counts bytes in the file, which is what a resume after a crash starts from.
      opened.watchStored((bytes) => tracker.layerBytes(layer.digest, bytes));
      indexing = indexLayer(pause.through(await opened.follow()), { handOverSource: true });
      indexing.catch(() => undefined);
    };
    try {
      // Only the transfer holds one of the pull's download slots: the flush, fsync and digest check that
      // follow run outside it, so the next layer's transfer starts as soon as this one's last byte arrived.
      const storedMeanwhile = await transfers(async (): Promise<boolean> => {
        if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
        writer = await store.ingest(expected);
        // Another process stored it since the check.
        if (writer.exists) return true;
        await follow(writer);
        await this.transfer(
          located,
          layer,
          tracker,
          () => writer as BlobWriter,
          signal,
          async () => {
            await writer?.abort({ keep: false });
            writer = await store.ingest(expected);
            await follow(writer);
          },
        );
        return false;
      });
      const done = writer as BlobWriter;
      if (storedMeanwhile) {
        await done.commit();
        indexing = indexLayer(store.openBlob(layer.digest));
        indexing.catch(() => undefined);
        return { indexing };
      }
      tracker.layerStatus(layer.digest, 'verifying');
      await done.commit().catch((err: unknown) => {
        // A queued write that failed (a full disk) surfaces here.
        throw err instanceof BerthError
          ? err
          : storeWriteError(err, store.root, `download of layer ${layer.digest}`);
      });
      return { indexing: indexing as Promise<LayerIndex> };
    } catch (err) {
      await writer?.abort({ keep: true });
      // The follower ends with the writer; wait for the indexer to let go of the file.
      await indexing?.catch(() => undefined);
      throw err;
    }
  }

  /**
   * Moves a layer's bytes from the registry into its writer, from the writer's offset on, resuming with Range
   * after a break; `restart` starts the file over when the server ignored the Range.
   */
  private async transfer(
    located: Located,
    layer: Descriptor,
    tracker: PullTracker,
    current: () => BlobWriter,
    signal: AbortSignal,
    restart: () => Promise<void>,
  ): Promise<void> {
    const { store } = this.options;
    let failures = 0;
    while (current().offset < layer.size) {
      const offset = current().offset;
      tracker.layerBytes(layer.digest, current().stored);
      tracker.layerStatus(layer.digest, 'downloading');
      const blob = await located.client.fetchBlob(located.repository, layer.digest, {
        offset,
        signal,
        onRetry: (n) => tracker.layerStatus(layer.digest, 'retrying', Math.ceil(n.delayMs / 1000)),
      });
      if (blob.start !== offset) {
        await restart();
        tracker.layerBytes(layer.digest, 0);
      }
      tracker.layerStatus(layer.digest, 'downloading');
      const writer = current();
      let broken: unknown;
      try {
        await pipeline(
          blob.body,
          writer.stream((err) => storeWriteError(err, store.root, `download of layer ${layer.digest}`)),
        );
      } catch (err) {
        blob.body.destroy();
        if (signal.aborted) throw new BerthError('CANCELLED', 'cancelled');
        if (err instanceof BerthError) throw err;
        broken = err;
      }
      if (writer.offset >= layer.size && broken === undefined) return;
      failures++;
      if (failures >= this.policy.attempts) {
        throw new BerthError(
          'NETWORK',
          `download of layer ${layer.digest} kept breaking off (${failures} times); ${writer.offset} of ${layer.size} bytes are kept for the next try`,
          { digest: layer.digest, offset: writer.offset },
        );
      }
      const delay = backoffDelay(this.policy, failures);
      tracker.layerStatus(layer.digest, 'retrying', Math.ceil(delay / 1000));
      try {
        await this.policy.sleep(delay, signal);
      } catch {
        throw new BerthError('CANCELLED', 'cancelled');
      }
    }
  }
}

/** Refuses layer `digest` unless its DiffID `actual` is the config's `expected`. */
function checkDiffId(digest: string, actual: string, expected: string): void {
  if (actual !== expected)
    throw diffIdRefusal(new BerthError('DIGEST_MISMATCH', 'DiffID mismatch', { expected, actual }), digest);
}

/** Names the layer and the config's DiffID when the indexer found another DiffID; other errors pass as they are. */
function diffIdRefusal(err: unknown, digest: string): unknown {
  if (err instanceof BerthError && err.code === 'DIGEST_MISMATCH') {
    const diffId = String(err.detail?.expected);
    return new BerthError(
      'DIGEST_MISMATCH',
      `layer ${digest} unpacks to ${String(err.detail?.actual)}, but the image config lists ${diffId}; the image is refused`,
      { digest, expected: diffId, actual: err.detail?.actual },
    );
  }
  return err;
}

async function needsRepull(store: ImageStore, imageId: string): Promise<boolean> {
  return (await store.list()).some((summary) => summary.id === imageId && summary.needsRepull === true);
}

function uniqueLayers(images: PlannedImage[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const image of images)
    for (const l of image.manifest.parsed.layers) if (!seen.has(l.digest)) seen.set(l.digest, l);
  return [...seen.values()];
}

function readConfig(
  bytes: Buffer,
  manifest: ImageManifest,
  where: string,
): { diffIds: string[]; platform: Platform } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new BerthError('MANIFEST_INVALID', `the config of ${where} is not a JSON object`);
  }
  const doc = parsed as {
    rootfs?: { diff_ids?: unknown };
    os?: unknown;
    architecture?: unknown;
    variant?: unknown;
  };
  const diffIds = doc.rootfs?.diff_ids;
  if (
    !Array.isArray(diffIds) ||
    !diffIds.every((d) => typeof d === 'string') ||
    diffIds.length !== manifest.layers.length
  ) {
    throw new BerthError(
      'MANIFEST_INVALID',
      `the config of ${where} lists ${Array.isArray(diffIds) ? diffIds.length : 0} diff IDs for ${manifest.layers.length} layers`,
    );
  }
  const platform: Platform = {
    os: typeof doc.os === 'string' ? doc.os : 'unknown',
    architecture: typeof doc.architecture === 'string' ? doc.architecture : 'unknown',
  };
  if (typeof doc.variant === 'string' && doc.variant !== '') platform.variant = doc.variant;
  return { diffIds, platform };
}

function platformMatches(have: Platform, wanted: Platform): boolean {
  const h = normalizePlatform(have);
  return compatiblePlatforms(wanted).some(
    (t) =>
      t.os === h.os &&
      t.architecture === h.architecture &&
      (have.variant === undefined || t.variant === h.variant),
  );
}
