import { createHash } from 'node:crypto';
import { createReadStream, watch as watchFs, type ReadStream } from 'node:fs';
import { readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type {
  DiskUsage,
  HistoryEntry,
  ImageDetails,
  ImageFilter,
  ImageSummary,
  LayerChain,
  LayerSummary,
  Platform,
  StoreEvent,
} from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { digestAlgorithms, isDigest, parseDigest, shortId } from '../../../shared/digest';
import {
  familiarName,
  formatReference,
  normalizeReference,
  parseReference,
  repositoryOf,
  type Reference,
} from '../../../shared/reference';
import { Catalog, directManifestOf, type CatalogImage } from './catalog';
import { appendEvent, parseTimeBound, readEvents } from './events-log';
import { historyOf } from './history';
import { globPattern, labelMatcher, nameForms } from './image-filter';
import {
  factsOf,
  imageBlobs,
  parseConfig,
  parseIndexBlob,
  parseManifest,
  type ImageFacts,
  type IndexBlob,
} from './image-facts';
import { BlobWriter, type IngestExpectation } from './ingest';
import { explainNoSpace } from './no-space';
import { hostPlatform } from '../registry/platform';
import {
  blobFile,
  ignoreMissing,
  initLayout,
  isIndexMediaType,
  layoutPaths,
  mediaTypes,
  parseJson,
  readIndex,
  serializeIndex,
  writeAtomic,
  type Descriptor,
  type IndexDocument,
  type LayoutPaths,
} from './layout';
import { diskUsage, layerTree, type TreeImage } from './layer-tree';
import { StoreLock, type LockOptions } from './lock';
import { appendOp, applyOps, diffOp, readJournal, removeJournal } from './name-journal';

/** How a store is opened. */
export interface ImageStoreOptions {
  /** Called after every change this process makes (the host turns it into `store:changed`/`activity:changed`). */
  onEvent?: (event: StoreEvent) => void;
  lock?: LockOptions;
  /** The platform preferred when an index entry does not say which of its manifests is the image. */
  platform?: Platform;
  /**
   * Tag and untag append to the name journal instead of rewriting `index.json` (default true). One-shot
   * processes such as the CLI turn it off: they would compact before exiting anyway.
   */
  journal?: boolean;
  /** How long the journal waits without new lines before it is folded into `index.json` (default 250 ms). */
  compactAfterMs?: number;
}

/** What `commitImage` records. */
export interface CommitRequest {
  /** The platform manifest; it, its config and layers must already be in the store. */
  manifestDigest: string;
  /** The index the manifest was chosen from, when the reference named one; it must be in the store too. */
  indexDigest?: string;
  /** Names to give the image (short forms are normalized); each one moves here from any other image. */
  names: string[];
  /** Where it came from, e.g. the reference pulled. */
  source?: string;
  /** `repo@digest` names to record; by default one per repository of `names`, at the index or manifest digest. */
  repoDigests?: string[];
  /** Uncompressed size per layer digest, when the caller measured it. */
  uncompressedSizes?: Record<string, number>;
  action?: StoreEvent['action'];
}

/** What `commitImage` did. */
export interface CommitResult {
  id: string;
  manifestDigest: string;
  names: string[];
  /** For each name that was on another image before: that image's ID. */
  movedFrom: Record<string, string>;
}

/** A resolved lookup: which image, and whether the user named it by a name (which matters to `remove`). */
export interface ResolvedImage {
  image: CatalogImage;
  facts: ImageFacts;
  /** The name the query matched, when it matched by name. */
  name?: string;
}

/** Result of `fsck`. */
export interface FsckReport {
  clean: boolean;
  problems: string[];
  /** Blobs no entry reaches (not a problem; `gc` deletes them). */
  unreferenced: number;
  /** What `repair` did. */
  repaired: string[];
}

/** Per-image facts Berth records beside the layout. */
interface ImageRecord {
  added: string;
  source?: string;
  repoDigests: string[];
  needsRepull?: boolean;
  uncompressedSizes?: Record<string, number>;
}

interface RecordsDocument {
  version: 1;
  images: Record<string, ImageRecord>;
}

interface SummaryCacheDocument {
  version: 1;
  manifests: Record<string, ImageFacts>;
  indexes: Record<string, IndexBlob>;
}

/** One consistent reading of the store. */
interface Snapshot {
  key: string;
  /** `catalog.doc` is `index.json` with these journal lines applied. */
  journalOps: number;
  journalBytes: number;
  catalog: Catalog;
  facts: Map<string, ImageFacts>;
  records: RecordsDocument;
  /** Memoized by `summariesOf`. */
  summaries?: ImageSummary[];
}

/** A change computed under the lock. */
interface Change<T> {
  doc?: IndexDocument;
  records?: RecordsDocument;
  /** Images whose blobs may now be unreferenced. */
  removed?: ImageFacts[];
  removedTops?: string[];
  events?: StoreEvent[];
  result: T;
}

/** The ID shown for a digest: 12 hex characters. */
export const displayId = shortId;

/**
 * The image store: an OCI image layout with Docker/Podman naming on top. Every reader sees one whole
 * `index.json` (it is only ever replaced by rename) plus the complete lines of the name journal; every
 * writer checks both under the cross-process lock, so no update is lost. Order of effects makes crashes
 * harmless: blobs are in place before an entry references them, and entries are gone before the blobs they
 * referenced are deleted.
 *
 * Foreign tools (skopeo, umoci) read `index.json` only. It holds every name once the journal is compacted:
 * after `compactAfterMs` without a tag or untag, at `flush()`, before any other change, and when the
 * journal grows past a bound. A process that exits normally compacts before exiting (the compaction timer
 * keeps it alive); a killed one leaves the journal for the next Berth process to fold in.
 */
export class ImageStore {
  private readonly lock: StoreLock;
  private snapshotCache: Snapshot | undefined;
  private reading: { key: string; promise: Promise<Snapshot> } | undefined;
  private summaryCache: SummaryCacheDocument | undefined;
  private summaryDirty = false;
  private ownIndexKey: string | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private readonly platform: Platform;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  private constructor(
    readonly paths: LayoutPaths,
    private readonly options: ImageStoreOptions,
  ) {
    this.lock = new StoreLock(paths.lock, options.lock);
    this.platform = options.platform ?? { os: 'linux', architecture: hostPlatform().architecture };
  }

  /** Opens the store at `root`, creating a layout there if none exists (an existing layout is adopted). */
  static async open(root: string, options: ImageStoreOptions = {}): Promise<ImageStore> {
    const paths = layoutPaths(root);
    await initLayout(paths);
    return new ImageStore(paths, options);
  }

  /** The store folder. */
  get root(): string {
    return this.paths.root;
  }

  /** True when a verified blob is in the store. */
  async hasBlob(digest: string): Promise<boolean> {
    return (await stat(blobFile(this.paths, digest)).catch(ignoreMissing)) !== undefined;
  }

  /** A blob's bytes; BLOB_UNKNOWN when absent. */
  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(blobFile(this.paths, digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new BerthError('BLOB_UNKNOWN', `blob ${digest} is not in the store`);
      throw err;
    }
  }

  /** A stream of a blob's bytes. */
  openBlob(digest: string, options: { start?: number } = {}): ReadStream {
    return createReadStream(blobFile(this.paths, digest), options);
  }

  /** The file a blob lives in (for tools that need a path). */
  blobPath(digest: string): string {
    return blobFile(this.paths, digest);
  }

  /** Starts (or resumes) writing one blob; see BlobWriter for the crash-safety rules. */
  ingest(expected: IngestExpectation): Promise<BlobWriter> {
    return BlobWriter.open(this.paths, expected);
  }

  /** Writes a whole blob held in memory; the digest is computed when not given. */
  async putBlob(
    bytes: Uint8Array,
    expected: Partial<IngestExpectation> = {},
  ): Promise<{ digest: string; size: number }> {
    const digest = expected.digest ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const writer = await this.ingest({ digest, size: expected.size ?? bytes.length });
    if (!writer.exists) await writer.write(bytes.subarray(writer.offset));
    return writer.commit();
  }

  /** Adds an image whose blobs are all in the store, under `names`, atomically. */
  async commitImage(request: CommitRequest): Promise<CommitResult> {
    const names = request.names.map(normalizeName);
    const manifestBytes = await this.readBlob(request.manifestDigest);
    const manifest = parseManifest(manifestBytes, request.manifestDigest);
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!(await this.hasBlob(d.digest)))
        throw new BerthError(
          'BLOB_UNKNOWN',
          `blob ${d.digest} of ${request.manifestDigest} is not in the store`,
        );
    }
    const facts = factsOf(request.manifestDigest, manifestBytes, await this.readBlob(manifest.config.digest));
    let top: Descriptor = {
      mediaType: manifest.mediaType ?? mediaTypes.ociManifest,
      digest: request.manifestDigest,
      size: manifestBytes.length,
    };
    if (request.indexDigest !== undefined) {
      const indexBytes = await this.readBlob(request.indexDigest);
      const index = parseIndexBlob(indexBytes, request.indexDigest);
      if (!index.manifests.some((m) => m.digest === request.manifestDigest)) {
        throw new BerthError(
          'MANIFEST_INVALID',
          `index ${request.indexDigest} does not list ${request.manifestDigest}`,
        );
      }
      top = {
        mediaType: index.mediaType ?? mediaTypes.ociIndex,
        digest: request.indexDigest,
        size: indexBytes.length,
      };
    }
    // Loaded first: remembering into an empty cache would hide (and the save below drop) the cached facts.
    await this.loadSummaryCache();
    this.rememberFacts(facts);
    const committed = await this.mutate(async (snap) => {
      for (const d of [manifest.config, ...manifest.layers]) {
        if (!(await this.hasBlob(d.digest)))
          throw new BerthError('BLOB_UNKNOWN', `blob ${d.digest} was deleted while the image was committed`);
      }
      const existing = snap.catalog.images.get(request.manifestDigest);
      const image: CatalogImage = existing ?? { manifestDigest: request.manifestDigest, top, names: [] };
      const { doc, movedFrom } = snap.catalog.withImage(image, names);
      const records = cloneRecords(snap.records);
      const record = records.images[request.manifestDigest] ?? {
        added: new Date().toISOString(),
        repoDigests: [],
      };
      const repoDigests = request.repoDigests ?? [
        ...new Set(names.map((n) => `${repositoryOf(parseReference(n))}@${image.top.digest}`)),
      ];
      record.repoDigests = [...new Set([...record.repoDigests, ...repoDigests])];
      if (request.source !== undefined) record.source = request.source;
      if (request.uncompressedSizes)
        record.uncompressedSizes = { ...record.uncompressedSizes, ...request.uncompressedSizes };
      delete record.needsRepull;
      records.images[request.manifestDigest] = record;
      const moved: Record<string, string> = {};
      for (const [name, from] of Object.entries(movedFrom))
        moved[name] = snap.facts.get(from)?.configDigest ?? from;
      return {
        doc,
        records,
        events: [
          {
            time: now(),
            action: request.action ?? 'pull',
            id: facts.configDigest,
            names,
            detail: {
              digest: image.top.digest,
              ...(Object.keys(moved).length > 0 ? { movedFrom: moved } : {}),
            },
          },
        ],
        result: { id: facts.configDigest, manifestDigest: request.manifestDigest, names, movedFrom: moved },
      };
    });
    // The next process lists the new image from the cache instead of reading its manifest and config again.
    await this.saveSummaryCache();
    return committed;
  }

  /** Records layers' uncompressed sizes (known once a pull indexed them) on an image; unknown images are skipped. */
  async recordUncompressedSizes(manifestDigest: string, sizes: Record<string, number>): Promise<void> {
    await this.mutate((snap) => {
      const record = snap.records.images[manifestDigest];
      if (!record) return Promise.resolve({ result: undefined });
      const records = cloneRecords(snap.records);
      records.images[manifestDigest] = {
        ...record,
        uncompressedSizes: { ...record.uncompressedSizes, ...sizes },
      };
      return Promise.resolve({ records, result: undefined });
    });
  }

  /** Every image, newest first, filtered like `podman images --filter`. Served from cached facts. */
  async list(filter: ImageFilter = {}): Promise<ImageSummary[]> {
    const snap = await this.snapshot();
    let rows = this.summariesOf(snap).slice();
    if (filter.dangling !== undefined) rows = rows.filter((r) => r.dangling === filter.dangling);
    if (filter.reference?.length) {
      const patterns = filter.reference.map(globPattern);
      rows = rows.filter((r) =>
        r.repoTags.some((name) => nameForms(name).some((form) => patterns.some((p) => p.test(form)))),
      );
    }
    if (filter.label?.length) {
      const matchers = filter.label.map(labelMatcher);
      rows = rows.filter((r) => matchers.every((m) => m(r.labels)));
    }
    if (filter.before !== undefined || filter.since !== undefined) {
      const created = (query: string) => Date.parse(this.resolveIn(snap, query).facts.created ?? '');
      const before = filter.before === undefined ? undefined : created(filter.before);
      const since = filter.since === undefined ? undefined : created(filter.since);
      rows = rows.filter((r) => {
        const t = Date.parse(r.created ?? '');
        return (before === undefined || t < before) && (since === undefined || t > since);
      });
    }
    return rows;
  }

  /** Every image's summary, newest first; computed once per snapshot so a warm list costs one stat. */
  private summariesOf(snap: Snapshot): ImageSummary[] {
    if (snap.summaries) return snap.summaries;
    const inner = innerChains(snap);
    const rows = [...snap.catalog.images.values()].flatMap((image) => {
      const facts = snap.facts.get(image.manifestDigest);
      return facts ? [this.summaryOf(snap, image, facts, inner)] : [];
    });
    const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    rows.sort(
      (a, b) =>
        order(b.created ?? '', a.created ?? '') ||
        order(a.repoTags[0] ?? '~', b.repoTags[0] ?? '~') ||
        order(a.id, b.id),
    );
    snap.summaries = rows;
    return rows;
  }

  /** Finds one image by name, short name, `repo@digest`, ID or ID prefix (see `resolveIn`). */
  async resolve(query: string): Promise<ResolvedImage> {
    return this.resolveIn(await this.snapshot(), query);
  }

  /** Everything known about one image, reading its config and manifest. */
  async inspect(query: string): Promise<ImageDetails> {
    const snap = await this.snapshot();
    const { image, facts } = this.resolveIn(snap, query);
    const manifestBytes = await this.readBlob(image.manifestDigest);
    const manifest = parseManifest(manifestBytes, image.manifestDigest);
    const config = parseConfig(await this.readBlob(facts.configDigest), facts.configDigest);
    const record = snap.records.images[image.manifestDigest];
    const history = this.historyIn(snap, image, facts, config.history ?? []);
    const nonEmpty = (config.history ?? []).filter((h) => h.empty_layer !== true);
    const layers: LayerSummary[] = manifest.layers.map((l, i) => {
      const layer: LayerSummary = { digest: l.digest, mediaType: l.mediaType, size: l.size };
      const diffId = facts.diffIds[i];
      if (diffId !== undefined) layer.diffId = diffId;
      const uncompressed = record?.uncompressedSizes?.[l.digest];
      if (uncompressed !== undefined) layer.uncompressedSize = uncompressed;
      const createdBy = nonEmpty[i]?.created_by;
      if (createdBy !== undefined) layer.createdBy = createdBy;
      return layer;
    });
    const c = config.config ?? {};
    const details: ImageDetails = {
      ...this.summaryOf(snap, image, facts, innerChains(snap)),
      manifestMediaType: facts.manifestMediaType,
      env: c.Env ?? [],
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      annotations: manifest.annotations ?? {},
      layers,
      diffIds: facts.diffIds,
      history,
      config,
      manifest,
    };
    if (facts.user !== undefined) details.user = facts.user;
    if (c.Entrypoint) details.entrypoint = c.Entrypoint;
    if (c.Cmd) details.cmd = c.Cmd;
    if (c.WorkingDir) details.workingDir = c.WorkingDir;
    if (record?.source !== undefined) details.source = record.source;
    return details;
  }

  /** `docker history` rows, newest first. */
  async history(query: string): Promise<HistoryEntry[]> {
    const snap = await this.snapshot();
    const { image, facts } = this.resolveIn(snap, query);
    const config = parseConfig(await this.readBlob(facts.configDigest), facts.configDigest);
    return this.historyIn(snap, image, facts, config.history ?? []);
  }

  /** The layer hierarchy across all images. */
  async tree(): Promise<LayerChain[]> {
    return layerTree(this.treeImages(await this.snapshot()));
  }

  /** Disk usage per image and for the store. */
  async df(): Promise<DiskUsage> {
    const snap = await this.snapshot();
    const reachable = this.reachable(snap);
    let orphanBytes = 0;
    for (const blob of await this.listBlobs()) if (!reachable.has(blob.digest)) orphanBytes += blob.size;
    return diskUsage(this.treeImages(snap), orphanBytes);
  }

  /** The events log, oldest first. */
  events(options: { since?: string; limit?: number } = {}): Promise<StoreEvent[]> {
    return readEvents(this.paths.events, options);
  }

  /** Gives the image `name`; a name held by another image moves (the result says from which). */
  async tag(query: string, name: string): Promise<{ id: string; name: string; movedFrom?: string }> {
    const full = normalizeName(name);
    return this.mutate((snap) => {
      const { image, facts } = this.resolveIn(snap, query);
      const { doc, movedFrom } = snap.catalog.withName(image.manifestDigest, full);
      const from =
        movedFrom === undefined ? undefined : (snap.facts.get(movedFrom)?.configDigest ?? movedFrom);
      const result =
        from === undefined
          ? { id: facts.configDigest, name: full }
          : { id: facts.configDigest, name: full, movedFrom: from };
      if (doc === snap.catalog.doc) return Promise.resolve({ result });
      return Promise.resolve({
        doc,
        events: [
          {
            time: now(),
            action: 'tag',
            id: facts.configDigest,
            names: [full],
            ...(from ? { detail: { movedFrom: from } } : {}),
          },
        ],
        result,
      });
    });
  }

  /** Removes names (all when none given); an image losing its last name stays, dangling. */
  async untag(query: string, names?: string[]): Promise<{ id: string; removed: string[] }> {
    return this.mutate((snap) => {
      const { image, facts } = this.resolveIn(snap, query);
      const drop = names?.length ? names.map(normalizeName) : [...image.names];
      for (const name of drop) {
        if (!image.names.includes(name)) {
          throw new BerthError(
            'NOT_FOUND',
            `image ${displayId(facts.configDigest)} is not named ${familiarName(name)}`,
            { id: facts.configDigest, name },
          );
        }
      }
      if (drop.length === 0) return Promise.resolve({ result: { id: facts.configDigest, removed: [] } });
      return Promise.resolve({
        doc: snap.catalog.withoutNames(image.manifestDigest, drop),
        events: [{ time: now(), action: 'untag', id: facts.configDigest, names: drop }],
        result: { id: facts.configDigest, removed: drop },
      });
    });
  }

  /**
   * `rmi`: by name, removes that name and deletes the image only when no name remains; by ID or digest,
   * deletes the image, refusing one with several names unless `force`. Blobs other images use are kept.
   */
  async remove(
    query: string,
    options: { force?: boolean } = {},
  ): Promise<{ untagged: string[]; deleted: string[]; bytesFreed: number }> {
    return this.mutate((snap) => {
      const { image, facts, name } = this.resolveIn(snap, query);
      if (name !== undefined && image.names.length > 1) {
        return Promise.resolve({
          doc: snap.catalog.withoutNames(image.manifestDigest, [name]),
          events: [{ time: now(), action: 'untag', id: facts.configDigest, names: [name] }],
          result: { untagged: [name], deleted: [], bytesFreed: 0 },
        });
      }
      if (name === undefined && image.names.length > 1 && options.force !== true) {
        throw new BerthError(
          'CONFLICT',
          `image ${displayId(facts.configDigest)} has ${image.names.length} names (${image.names.map((n) => familiarName(n)).join(', ')}); use --force`,
          { id: facts.configDigest, names: image.names },
        );
      }
      const records = cloneRecords(snap.records);
      delete records.images[image.manifestDigest];
      return Promise.resolve({
        doc: snap.catalog.withoutImages([image.manifestDigest]),
        records,
        removed: [facts],
        removedTops: [image.top.digest],
        events: [{ time: now(), action: 'remove', id: facts.configDigest, names: image.names }],
        result: { untagged: image.names, deleted: [facts.configDigest], bytesFreed: 0 },
      });
    });
  }

  /** Deletes dangling images (or all with `all`), optionally only those older than `until` or matching labels. */
  async prune(
    options: { all?: boolean; filter?: { until?: string; label?: string[] }; dryRun?: boolean } = {},
  ): Promise<{ deleted: string[]; bytesFreed: number }> {
    const until = options.filter?.until === undefined ? undefined : parseTimeBound(options.filter.until);
    const matchers = (options.filter?.label ?? []).map(labelMatcher);
    return this.mutate((snap) => {
      const victims = [...snap.catalog.images.values()].filter((image) => {
        const facts = snap.facts.get(image.manifestDigest);
        if (!facts || (!options.all && image.names.length > 0)) return false;
        if (until !== undefined && !(Date.parse(facts.created ?? '') < until)) return false;
        return matchers.every((m) => m(facts.labels));
      });
      const removed = victims.flatMap((v) => snap.facts.get(v.manifestDigest) ?? []);
      const deleted = removed.map((f) => f.configDigest);
      if (options.dryRun === true || victims.length === 0)
        return Promise.resolve({ result: { deleted, bytesFreed: 0 } });
      const records = cloneRecords(snap.records);
      for (const v of victims) delete records.images[v.manifestDigest];
      return Promise.resolve({
        doc: snap.catalog.withoutImages(victims.map((v) => v.manifestDigest)),
        records,
        removed,
        removedTops: victims.map((v) => v.top.digest),
        events: [
          { time: now(), action: 'prune', names: victims.flatMap((v) => v.names), detail: { deleted } },
        ],
        result: { deleted, bytesFreed: 0 },
      });
    });
  }

  /**
   * Deletes blobs no entry reaches, under the lock. Blobs younger than `graceMs` are kept: a pull may
   * have ingested them and not committed its image yet.
   */
  async gc(
    options: { graceMs?: number; ingestGraceMs?: number } = {},
  ): Promise<{ deleted: string[]; bytesFreed: number }> {
    const grace = options.graceMs ?? 60 * 60_000;
    // Partial downloads stay resumable for a day; a writer touches its file as it goes, so live ones are fresh.
    const ingestGrace = options.ingestGraceMs ?? 24 * 60 * 60_000;
    return this.mutate(async (snap) => {
      const reachable = this.reachable(snap);
      const deleted: string[] = [];
      let bytesFreed = 0;
      for (const blob of await this.listBlobs()) {
        if (reachable.has(blob.digest) || blob.mtimeMs > Date.now() - grace) continue;
        bytesFreed += await this.deleteBlob(blob.digest);
        deleted.push(blob.digest);
      }
      bytesFreed += await this.sweepDerived(Date.now() - ingestGrace);
      return {
        events:
          deleted.length > 0
            ? [{ time: now(), action: 'gc' as const, detail: { blobs: deleted.length, bytesFreed } }]
            : [],
        result: { deleted, bytesFreed },
      };
    });
  }

  /**
   * Verifies every blob's digest and that every blob an entry needs exists. `repair` deletes corrupt
   * blobs and marks the images that needed them as needing a re-pull. Without repair no lock is taken: the
   * check is repeated when `index.json` changed under it, so a concurrent writer never yields a false alarm.
   */
  async fsck(options: { repair?: boolean } = {}): Promise<FsckReport> {
    if (options.repair === true) {
      return this.mutate(async (snap) => {
        const report = await this.check(snap.catalog.doc);
        const corrupt = report.corrupt;
        const repaired: string[] = [];
        for (const digest of corrupt) {
          await this.deleteBlob(digest);
          repaired.push(`deleted corrupt blob ${digest}`);
        }
        const records = cloneRecords(snap.records);
        for (const manifestDigest of report.affected) {
          const facts = snap.facts.get(manifestDigest);
          const record = records.images[manifestDigest] ?? { added: now(), repoDigests: [] };
          record.needsRepull = true;
          records.images[manifestDigest] = record;
          repaired.push(`image ${facts ? displayId(facts.configDigest) : manifestDigest} needs a re-pull`);
        }
        return {
          records,
          events:
            repaired.length > 0 ? [{ time: now(), action: 'repair' as const, detail: { repaired } }] : [],
          result: {
            clean: report.problems.length === 0,
            problems: report.problems,
            unreferenced: report.unreferenced,
            repaired,
          },
        };
      });
    }
    for (let attempt = 0; ; attempt++) {
      const before = await this.storeKey();
      let doc: IndexDocument;
      try {
        const journal = await readJournal(this.paths.journal);
        doc = applyOps(await readIndex(this.paths), journal.ops);
      } catch (err) {
        return { clean: false, problems: [(err as Error).message], unreferenced: 0, repaired: [] };
      }
      const report = await this.check(doc);
      if (report.problems.length === 0 || attempt >= 3 || (await this.storeKey()) === before) {
        return {
          clean: report.problems.length === 0,
          problems: report.problems,
          unreferenced: report.unreferenced,
          repaired: [],
        };
      }
    }
  }

  /**
   * Calls `onChange` when another process changes `index.json`, the name journal or the image records (a
   * push's RepoDigests, a repair's flags) (fs.watch on the store folder and `.berth/`, debounced). Changes this instance made itself are reported through `onEvent`
   * instead. Returns a stop function.
   */
  watch(onChange: () => void, debounceMs = 50): () => void {
    let timer: NodeJS.Timeout | undefined;
    let last: string | undefined;
    void this.storeKey().then((k) => (last ??= k));
    const check = async () => {
      const key = await this.storeKey();
      if (key === last) return;
      last = key;
      if (key !== this.ownIndexKey) onChange();
    };
    const watchFor = (dir: string, name: string) => {
      const watcher = watchFs(dir, (_type, file) => {
        if (file !== name) return;
        clearTimeout(timer);
        timer = setTimeout(() => void check().catch(() => undefined), debounceMs);
      });
      watcher.unref();
      return watcher;
    };
    const watchers = [
      watchFor(this.paths.root, 'index.json'),
      watchFor(this.paths.berth, basename(this.paths.journal)),
      watchFor(this.paths.berth, basename(this.paths.images)),
    ];
    return () => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    };
  }

  /**
   * Folds the name journal into `index.json` now, so foreign tools (skopeo, umoci) see every name. Berth does
   * this on its own after `compactAfterMs` of quiet; call it before handing the layout to another tool.
   */
  async flush(): Promise<void> {
    clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
    if ((await stat(this.paths.journal).catch(ignoreMissing)) === undefined) return;
    await this.lock.run(async () => this.compactLocked(await this.snapshot()));
  }

  /** Adds a listener for this instance's changes (as `onEvent`); returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Logs an event that changed nothing in the store (a save or an export), to the log and every listener, under the lock. */
  recordEvent(event: Omit<StoreEvent, 'time'>): Promise<void> {
    return this.mutate(() => Promise.resolve({ events: [{ time: now(), ...event }], result: undefined }));
  }

  /** Lookup rules, in order: a full ID or digest; a name (`:latest` implied); `repo@digest`; an ID prefix. */
  private resolveIn(snap: Snapshot, query: string): ResolvedImage {
    const found = (image: CatalogImage, name?: string): ResolvedImage => {
      const facts = snap.facts.get(image.manifestDigest);
      if (!facts)
        throw new BerthError('STORE_CORRUPT', `image ${image.manifestDigest} cannot be read; run berth fsck`);
      return name === undefined ? { image, facts } : { image, facts, name };
    };
    const trimmed = query.trim();
    const hex = /^(sha256:)?([0-9a-f]+)$/.exec(trimmed);
    const images = [...snap.catalog.images.values()];
    if (hex && hex[2]!.length === digestAlgorithms.sha256) {
      const digest = `sha256:${hex[2]}`;
      const byId = images.filter((i) => snap.facts.get(i.manifestDigest)?.configDigest === digest);
      if (byId.length === 1) return found(byId[0]!);
      if (byId.length > 1) throw ambiguous(trimmed, byId, snap);
      const byDigest = images.filter((i) => i.manifestDigest === digest || i.top.digest === digest);
      if (byDigest.length === 1) return found(byDigest[0]!);
      if (byDigest.length > 1) throw ambiguous(trimmed, byDigest, snap);
      throw new BerthError('IMAGE_UNKNOWN', `no image matches "${query}"`, { query });
    }
    if (!hex || hex[1] === undefined) {
      let ref: Reference | undefined;
      try {
        ref = normalizeReference(trimmed);
      } catch (err) {
        if (!hex) throw err;
      }
      if (ref?.digest !== undefined) {
        const repo = repositoryOf(ref);
        const digest = ref.digest;
        const matches = images.filter(
          (i) =>
            (i.manifestDigest === digest || i.top.digest === digest) &&
            ((snap.records.images[i.manifestDigest]?.repoDigests ?? []).some(
              (d) => d === `${repo}@${digest}`,
            ) ||
              i.names.some((n) => repositoryOf(parseReference(n)) === repo) ||
              repoDigestsOf(snap, i).includes(`${repo}@${digest}`)),
        );
        if (matches.length >= 1) return found(matches[0]!);
        throw new BerthError('IMAGE_UNKNOWN', `no image matches "${query}"`, { query });
      }
      if (ref) {
        const name = formatReference(ref);
        const image = snap.catalog.imageByName(name);
        if (image) return found(image, name);
      }
    }
    if (hex) {
      const prefix = hex[2]!;
      if (prefix.length < 3) {
        throw new BerthError(
          'IMAGE_UNKNOWN',
          `no image matches "${query}" ("${prefix}" is too short an ID prefix; give at least 3 characters)`,
          { query },
        );
      }
      const matches = images.filter((i) =>
        snap.facts.get(i.manifestDigest)?.configDigest.startsWith(`sha256:${prefix}`),
      );
      if (matches.length === 1) return found(matches[0]!);
      if (matches.length > 1) throw ambiguous(trimmed, matches, snap);
    }
    throw new BerthError('IMAGE_UNKNOWN', `no image matches "${query}"`, { query });
  }

  private summaryOf(
    snap: Snapshot,
    image: CatalogImage,
    facts: ImageFacts,
    inner: Set<string>,
  ): ImageSummary {
    const record = snap.records.images[image.manifestDigest];
    const sizes = record?.uncompressedSizes;
    const uncompressed =
      sizes && facts.layers.every((l) => sizes[l.digest] !== undefined)
        ? facts.layers.reduce((n, l) => n + (sizes[l.digest] ?? 0), 0)
        : 0;
    const summary: ImageSummary = {
      id: facts.configDigest,
      repoTags: [...image.names],
      repoDigests: repoDigestsOf(snap, image),
      digest: image.top.digest,
      size: facts.configSize + facts.layers.reduce((n, l) => n + l.size, 0),
      uncompressedSize: uncompressed,
      platform: facts.platform,
      labels: facts.labels,
      dangling: image.names.length === 0,
      inUse: facts.chainIds.length > 0 && inner.has(facts.chainIds.at(-1)!),
    };
    if (facts.created !== undefined) summary.created = facts.created;
    if (record?.added !== undefined) summary.added = record.added;
    if (record?.needsRepull === true) summary.needsRepull = true;
    if (isIndexMediaType(image.top.mediaType)) {
      const index = this.summaryCache?.indexes[image.top.digest];
      if (index) {
        summary.siblingPlatforms = index.manifests
          .filter((m) => m.digest !== image.manifestDigest && m.platform !== undefined)
          .map((m) => platformOfDescriptor(m.platform!));
      }
    }
    return summary;
  }

  private historyIn(
    snap: Snapshot,
    image: CatalogImage,
    facts: ImageFacts,
    history: Parameters<typeof historyOf>[0]['history'],
  ): HistoryEntry[] {
    const sizes = snap.records.images[image.manifestDigest]?.uncompressedSizes ?? {};
    const imageByTopChain = new Map<string, string>();
    for (const other of snap.facts.values()) {
      const top = other.chainIds.at(-1);
      if (top !== undefined && other.configDigest !== facts.configDigest && !imageByTopChain.has(top))
        imageByTopChain.set(top, other.configDigest);
    }
    return historyOf({
      imageId: facts.configDigest,
      history,
      layerSizes: facts.layers.map((l) => sizes[l.digest] ?? l.size),
      chainIds: facts.chainIds,
      imageByTopChain,
    });
  }

  private treeImages(snap: Snapshot): TreeImage[] {
    return [...snap.catalog.images.values()].flatMap((image) => {
      const facts = snap.facts.get(image.manifestDigest);
      if (!facts) return [];
      const sizes = snap.records.images[image.manifestDigest]?.uncompressedSizes ?? {};
      const blobs = imageBlobs(facts);
      if (image.top.digest !== image.manifestDigest)
        blobs.push({ digest: image.top.digest, size: image.top.size });
      return [
        {
          id: facts.configDigest,
          repoTags: image.names,
          dangling: image.names.length === 0,
          diffIds: facts.diffIds,
          layerSizes: facts.layers.map((l) => sizes[l.digest] ?? l.size),
          blobs,
        },
      ];
    });
  }

  /** Every blob some entry reaches: images' own blobs, their index, and whatever foreign entries reach. */
  private reachable(snap: Snapshot): Set<string> {
    const out = new Set<string>();
    snap.catalog.doc.manifests.forEach((entry) => out.add(entry.digest));
    for (const image of snap.catalog.images.values()) {
      out.add(image.top.digest);
      out.add(image.manifestDigest);
      const facts = snap.facts.get(image.manifestDigest);
      if (facts) for (const b of imageBlobs(facts)) out.add(b.digest);
    }
    return out;
  }

  private async snapshot(options: { fresh?: boolean } = {}): Promise<Snapshot> {
    const key = await this.storeKey();
    if (options.fresh) return this.readSnapshot(key, true);
    if (this.snapshotCache && this.snapshotCache.key === key) return this.snapshotCache;
    // Callers arriving while the same state is being read (a warm-up and the first list) share the reading.
    if (this.reading?.key === key) return this.reading.promise;
    const promise = this.readSnapshot(key, false);
    this.reading = { key, promise };
    const done = () => {
      if (this.reading?.promise === promise) this.reading = undefined;
    };
    promise.then(done, done);
    return promise;
  }

  private async readSnapshot(key: string, fresh: boolean): Promise<Snapshot> {
    // The journal first: a compaction between the two reads then only replays lines index.json already has.
    const journal = await readJournal(this.paths.journal);
    const doc = applyOps(await readIndex(this.paths), journal.ops);
    const manifestOf: (string | undefined)[] = [];
    for (const entry of doc.manifests)
      manifestOf.push(directManifestOf(entry) ?? (await this.chooseFromIndex(entry)));
    const catalog = new Catalog(doc, manifestOf);
    const facts = new Map<string, ImageFacts>();
    await this.loadSummaryCache();
    await eachLimited([...catalog.images.values()], 16, async (image) => {
      if (isIndexMediaType(image.top.mediaType)) await this.indexBlob(image.top.digest);
      const known =
        this.summaryCache?.manifests[image.manifestDigest] ?? (await this.factsFor(image.manifestDigest));
      if (known) facts.set(image.manifestDigest, known);
    });
    await this.saveSummaryCache();
    const recordsText = await readFile(this.paths.images, 'utf8').catch(ignoreMissing);
    const records = recordsText === undefined ? emptyRecords() : parseRecords(recordsText);
    const snap: Snapshot = {
      key,
      journalOps: journal.ops.length,
      journalBytes: journal.validBytes,
      catalog,
      facts,
      records,
    };
    if (!fresh) this.snapshotCache = snap;
    return snap;
  }

  private async factsFor(manifestDigest: string): Promise<ImageFacts | undefined> {
    const cached = this.summaryCache?.manifests[manifestDigest];
    if (cached) return cached;
    try {
      const manifestBytes = await this.readBlob(manifestDigest);
      const manifest = parseManifest(manifestBytes, manifestDigest);
      const facts = factsOf(manifestDigest, manifestBytes, await this.readBlob(manifest.config.digest));
      this.rememberFacts(facts);
      return facts;
    } catch {
      return undefined;
    }
  }

  private rememberFacts(facts: ImageFacts): void {
    this.summaryCache ??= { version: 1, manifests: {}, indexes: {} };
    this.summaryCache.manifests[facts.manifestDigest] = facts;
    this.summaryDirty = true;
  }

  private async indexBlob(digest: string): Promise<IndexBlob | undefined> {
    const cached = this.summaryCache?.indexes[digest];
    if (cached) return cached;
    try {
      const index = parseIndexBlob(await this.readBlob(digest), digest);
      const slim: IndexBlob = {
        schemaVersion: index.schemaVersion,
        manifests: index.manifests.map((m) =>
          m.platform
            ? { mediaType: m.mediaType, digest: m.digest, size: m.size, platform: m.platform }
            : { mediaType: m.mediaType, digest: m.digest, size: m.size },
        ),
      };
      if (index.mediaType !== undefined) slim.mediaType = index.mediaType;
      this.summaryCache ??= { version: 1, manifests: {}, indexes: {} };
      this.summaryCache.indexes[digest] = slim;
      this.summaryDirty = true;
      return slim;
    } catch {
      return undefined;
    }
  }

  /** For an index entry another tool wrote: the present manifest for this platform, else the first present one. */
  private async chooseFromIndex(entry: Descriptor): Promise<string | undefined> {
    if (!isIndexMediaType(entry.mediaType)) return undefined;
    const index = await this.indexBlob(entry.digest);
    if (!index) return undefined;
    const present: Descriptor[] = [];
    for (const m of index.manifests) {
      if (!isIndexMediaType(m.mediaType) && isDigest(m.digest) && (await this.hasBlob(m.digest)))
        present.push(m);
    }
    const own = present.find(
      (m) => m.platform?.os === this.platform.os && m.platform.architecture === this.platform.architecture,
    );
    return (own ?? present[0])?.digest;
  }

  private async loadSummaryCache(): Promise<void> {
    if (this.summaryCache) return;
    const text = await readFile(this.paths.summaries, 'utf8').catch(ignoreMissing);
    let doc: SummaryCacheDocument | undefined;
    try {
      doc = text === undefined ? undefined : (JSON.parse(text) as SummaryCacheDocument);
    } catch {
      doc = undefined;
    }
    this.summaryCache =
      doc?.version === 1 && doc.manifests && doc.indexes ? doc : { version: 1, manifests: {}, indexes: {} };
  }

  /** Writes the cache when it grew; dropping facts of images no longer present (as CRI-O prunes its cache). */
  private async saveSummaryCache(live?: Snapshot): Promise<void> {
    if (!this.summaryCache || (!this.summaryDirty && !live)) return;
    if (live) {
      const keepManifests = new Set(live.catalog.images.keys());
      const keepIndexes = new Set([...live.catalog.images.values()].map((i) => i.top.digest));
      for (const digest of Object.keys(this.summaryCache.manifests))
        if (!keepManifests.has(digest)) delete this.summaryCache.manifests[digest];
      for (const digest of Object.keys(this.summaryCache.indexes))
        if (!keepIndexes.has(digest)) delete this.summaryCache.indexes[digest];
    }
    this.summaryDirty = false;
    // A cache: a torn or lost copy reads as missing (loadSummaryCache) and is rebuilt, so no fsync.
    await writeAtomic(this.paths.summaries, JSON.stringify(this.summaryCache), { durable: false }).catch(
      () => {
        this.summaryDirty = true;
      },
    );
  }

  /**
   * Runs one change under the lock against the current snapshot (re-read unless the files are exactly as this
   * process last saw them), then applies it in crash-safe order. A change that only moves names goes to the
   * name journal; any other change compacts the journal first, then rewrites `index.json`.
   */
  private mutate<T>(body: (snap: Snapshot) => Promise<Change<T>>): Promise<T> {
    return this.applyChange(body).catch((err: unknown) => {
      throw explainNoSpace(
        err,
        this.paths.root,
        'a store change',
        'index.json is replaced atomically, so names are as before or as asked; free some space and run `berth fsck`',
      );
    });
  }

  private applyChange<T>(body: (snap: Snapshot) => Promise<Change<T>>): Promise<T> {
    return this.lock.run(async () => {
      const snap = await this.snapshot();
      const change = await body(snap);
      let result = change.result;
      if (change.doc && change.doc !== snap.catalog.doc) {
        const journaled =
          this.options.journal !== false &&
          !change.records &&
          !change.removed?.length &&
          (await this.journalChange(snap, change.doc));
        if (!journaled) {
          await this.removeTempFiles();
          await this.compactLocked(snap);
          this.snapshotCache = undefined;
          await writeAtomic(this.paths.index, serializeIndex(change.doc));
        }
      }
      if (change.records) {
        if (!change.doc) await this.removeTempFiles();
        this.snapshotCache = undefined;
        await writeAtomic(this.paths.images, JSON.stringify(change.records));
      }
      if (change.records || (change.doc && change.doc !== snap.catalog.doc))
        this.ownIndexKey = await this.storeKey();
      if (change.removed?.length) {
        const after = await this.snapshot({ fresh: true });
        const bytesFreed = await this.deleteUnreachable(after, change.removed, change.removedTops ?? []);
        result = { ...(result as object), bytesFreed } as T;
        for (const event of change.events ?? []) event.detail = { ...event.detail, bytesFreed };
        await this.saveSummaryCache(after);
      }
      for (const event of change.events ?? []) {
        await appendEvent(this.paths.events, event);
        this.options.onEvent?.(event);
        for (const listener of this.listeners) listener(event);
      }
      return result;
    });
  }

  /**
   * Appends the edit from `snap` to `doc` to the journal and keeps the resulting snapshot for the next call.
   * `doc` is what replaying the line gives (kept entries in order, then the added ones). False when the edit
   * is not one a journal line can express; the caller then rewrites `index.json`.
   */
  private async journalChange(snap: Snapshot, doc: IndexDocument): Promise<boolean> {
    const op = diffOp(snap.catalog.doc, doc);
    if (!op) return false;
    const journalBytes = await appendOp(this.paths.journal, op, snap.journalBytes);
    const next: Snapshot = {
      key: await this.storeKey(),
      journalOps: snap.journalOps + 1,
      journalBytes,
      // The old snapshot is dropped here; readers still holding it only use what stays true (facts, records).
      catalog: snap.catalog.movedTo(doc),
      facts: snap.facts,
      records: snap.records,
    };
    this.snapshotCache = next;
    if (next.journalOps >= journalMaxOps || journalBytes >= journalMaxBytes) await this.compactLocked(next);
    else this.scheduleCompaction();
    return true;
  }

  /** Folds the journal into `index.json` (the snapshot must have been read under the lock held now). */
  private async compactLocked(snap: Snapshot): Promise<void> {
    clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
    if (snap.journalOps > 0) await writeAtomic(this.paths.index, serializeIndex(snap.catalog.doc));
    await removeJournal(this.paths.journal);
    if (this.snapshotCache === snap) {
      this.snapshotCache = { ...snap, key: await this.storeKey(), journalOps: 0, journalBytes: 0 };
      this.ownIndexKey = this.snapshotCache.key;
    }
  }

  private scheduleCompaction(): void {
    clearTimeout(this.compactTimer);
    // Not unref'd on purpose: a process that exits normally compacts before it goes.
    this.compactTimer = setTimeout(() => {
      this.compactTimer = undefined;
      void this.flush().catch(() => undefined);
    }, this.options.compactAfterMs ?? 250);
  }

  private async deleteUnreachable(after: Snapshot, removed: ImageFacts[], tops: string[]): Promise<number> {
    const reachable = this.reachable(after);
    const candidates = new Set([...tops, ...removed.flatMap((f) => imageBlobs(f).map((b) => b.digest))]);
    let freed = 0;
    for (const digest of candidates) if (!reachable.has(digest)) freed += await this.deleteBlob(digest);
    return freed;
  }

  /** Unlinks a blob and returns the bytes freed (0 when it was already gone). */
  private async deleteBlob(digest: string): Promise<number> {
    const file = blobFile(this.paths, digest);
    const info = await stat(file).catch(ignoreMissing);
    if (!info) return 0;
    await unlink(file).catch(ignoreMissing);
    return info.size;
  }

  /**
   * Deletes ingest files untouched since `ingestBefore` and layer indexes whose blob is gone; both are
   * derived data, so nothing a user holds is lost. Returns the bytes freed.
   */
  private async sweepDerived(ingestBefore: number): Promise<number> {
    let freed = 0;
    for (const file of (await readdir(this.paths.ingest).catch(ignoreMissing)) ?? []) {
      const path = join(this.paths.ingest, file);
      const info = await stat(path).catch(ignoreMissing);
      if (!info || info.mtimeMs >= ingestBefore) continue;
      if (info.isFile()) {
        await rm(path, { force: true });
        freed += info.size;
      } else if (info.isDirectory() && file.endsWith('.lock')) {
        // A writer's lock left by a process that died holding it (a live one refreshes its time every few seconds).
        await rm(path, { recursive: true, force: true });
      }
    }
    for (const file of (await readdir(this.paths.layerIndexes).catch(ignoreMissing)) ?? []) {
      const hex = /^([0-9a-f]{64})\.idx$/.exec(file)?.[1];
      if (hex === undefined || (await this.hasBlob(`sha256:${hex}`))) continue;
      const path = join(this.paths.layerIndexes, file);
      freed += (await stat(path).catch(ignoreMissing))?.size ?? 0;
      await rm(path, { force: true });
    }
    return freed;
  }

  private async listBlobs(): Promise<{ digest: string; size: number; mtimeMs: number }[]> {
    const out: { digest: string; size: number; mtimeMs: number }[] = [];
    for (const algorithm of Object.keys(digestAlgorithms)) {
      const dir = join(this.paths.blobs, algorithm);
      const files = (await readdir(dir).catch(ignoreMissing)) ?? [];
      for (const file of files) {
        const digest = `${algorithm}:${file}`;
        if (!isDigest(digest)) continue;
        const info = await stat(join(dir, file)).catch(ignoreMissing);
        if (info?.isFile()) out.push({ digest, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
    return out;
  }

  /** The fsck checks proper, against one `index.json` reading. */
  private async check(
    doc: IndexDocument,
  ): Promise<{ problems: string[]; corrupt: string[]; affected: string[]; unreferenced: number }> {
    const problems: string[] = [];
    const corrupt = new Set<string>();
    const blobs = await this.listBlobs();
    const sizes = new Map<string, number>();
    for (const blob of blobs) {
      sizes.set(blob.digest, blob.size);
      const { algorithm } = parseDigest(blob.digest);
      const hash = createHash(algorithm);
      try {
        for await (const chunk of createReadStream(blobFile(this.paths, blob.digest)))
          hash.update(chunk as Buffer);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (`${algorithm}:${hash.digest('hex')}` !== blob.digest) {
        corrupt.add(blob.digest);
        problems.push(`blob ${blob.digest} is corrupt (its content has another digest)`);
      }
    }
    const referenced = new Set<string>();
    const affected = new Set<string>();
    const need = (d: Descriptor, what: string, image?: string): boolean => {
      referenced.add(d.digest);
      const size = sizes.get(d.digest);
      let problem: string | undefined;
      if (size === undefined) problem = `${what} ${d.digest} is missing`;
      else if (size !== d.size)
        problem = `${what} ${d.digest} has ${size} bytes, its descriptor says ${d.size}`;
      if (problem === undefined && !corrupt.has(d.digest)) return true;
      if (problem !== undefined) problems.push(problem);
      if (image !== undefined) affected.add(image);
      return false;
    };
    for (const entry of doc.manifests) {
      const label = entry.annotations?.['org.opencontainers.image.ref.name'] ?? entry.digest;
      if (!isDigest(entry.digest)) {
        problems.push(`entry ${label} has an invalid digest`);
        continue;
      }
      let manifestDigest = directManifestOf(entry);
      if (isIndexMediaType(entry.mediaType)) {
        if (!need(entry, `index of ${label}`)) {
          if (manifestDigest) affected.add(manifestDigest);
          continue;
        }
        const index = parseIndexBlob(await this.readBlob(entry.digest), entry.digest);
        const listed =
          manifestDigest === undefined ? undefined : index.manifests.find((m) => m.digest === manifestDigest);
        if (manifestDigest !== undefined && !listed) {
          problems.push(`index ${entry.digest} of ${label} does not list ${manifestDigest}`);
          continue;
        }
        if (listed) {
          if (!need(listed, `manifest of ${label}`, manifestDigest)) continue;
        } else {
          manifestDigest = await this.chooseFromIndex(entry);
          if (manifestDigest === undefined) continue;
          for (const m of index.manifests) if (sizes.has(m.digest)) referenced.add(m.digest);
        }
      } else if (manifestDigest !== undefined) {
        if (!need(entry, `manifest of ${label}`, manifestDigest)) continue;
      } else {
        need(entry, `blob of ${label}`);
        continue;
      }
      if (manifestDigest === undefined) continue;
      let manifest;
      try {
        manifest = parseManifest(await this.readBlob(manifestDigest), manifestDigest);
      } catch (err) {
        problems.push(`manifest ${manifestDigest} of ${label}: ${(err as Error).message}`);
        continue;
      }
      need(manifest.config, `config of ${label}`, manifestDigest);
      for (const layer of manifest.layers) need(layer, `layer of ${label}`, manifestDigest);
    }
    const unreferenced = blobs.filter((b) => !referenced.has(b.digest)).length;
    return { problems: [...new Set(problems)], corrupt: [...corrupt], affected: [...affected], unreferenced };
  }

  /** Temp files left by writers that were killed (their process is gone); live writers' files are kept. */
  private async removeTempFiles(): Promise<void> {
    for (const dir of [this.paths.root, this.paths.berth]) {
      for (const file of (await readdir(dir).catch(ignoreMissing)) ?? []) {
        const m =
          /^(?:index|images|summaries|oci-layout|index-journal)(?:\.jsonl?)?\.(\d+)\.[0-9a-f]+\.tmp$/.exec(
            file,
          );
        if (m && !processAlive(Number(m[1]))) await rm(join(dir, file), { force: true });
      }
    }
  }

  /** Identifies the state of `index.json`, the journal and the records: any write changes it; `watch` reports it. */
  private async storeKey(): Promise<string> {
    const keys = await Promise.all([this.paths.index, this.paths.journal, this.paths.images].map(fileKey));
    return keys.join('|');
  }
}

/** A name as stored: normalized, with `:latest` when untagged; digests are refused. */
export function normalizeName(name: string): string {
  const ref = normalizeReference(name.trim());
  if (ref.digest !== undefined)
    throw new BerthError('INVALID_REFERENCE', `"${name}" has a digest; a name needs a tag`, { name });
  return formatReference(ref);
}

function repoDigestsOf(snap: Snapshot, image: CatalogImage): string[] {
  const record = snap.records.images[image.manifestDigest];
  if (record) return record.repoDigests;
  return [...new Set(image.names.map((n) => `${repositoryOfName(n)}@${image.top.digest}`))];
}

/** The repository of a stored (normalized, tagged) name, without parsing it again. */
function repositoryOfName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** Chain IDs that lie strictly below some image's top: an image whose top is one of them is "in use". */
function innerChains(snap: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const facts of snap.facts.values()) for (const chain of facts.chainIds.slice(0, -1)) out.add(chain);
  return out;
}

function ambiguous(query: string, images: CatalogImage[], snap: Snapshot): BerthError {
  const matches = images.map((i) => {
    const facts = snap.facts.get(i.manifestDigest);
    const id = facts ? displayId(facts.configDigest) : i.manifestDigest;
    return i.names.length > 0 ? `${id} (${i.names.map((n) => familiarName(n)).join(', ')})` : id;
  });
  return new BerthError('AMBIGUOUS_ID', `"${query}" matches ${images.length} images: ${matches.join('; ')}`, {
    query,
    matches,
  });
}

function platformOfDescriptor(p: NonNullable<Descriptor['platform']>): Platform {
  return p.variant
    ? { os: p.os, architecture: p.architecture, variant: p.variant }
    : { os: p.os, architecture: p.architecture };
}

function emptyRecords(): RecordsDocument {
  return { version: 1, images: {} };
}

function parseRecords(text: string): RecordsDocument {
  try {
    const doc = parseJson<RecordsDocument>(text, 'images.json');
    return doc.version === 1 && doc.images && typeof doc.images === 'object' ? doc : emptyRecords();
  } catch {
    return emptyRecords();
  }
}

function cloneRecords(records: RecordsDocument): RecordsDocument {
  return structuredClone(records);
}

/** Runs `body` over `items` with at most `limit` in flight (cold cache fills read thousands of blobs). */
async function eachLimited<T>(items: T[], limit: number, body: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await body(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Compact the journal inline once it has this many lines or bytes, so replaying it stays cheap. */
const journalMaxOps = 2000;
const journalMaxBytes = 1 << 20;

async function fileKey(file: string): Promise<string> {
  const info = await stat(file, { bigint: true }).catch(ignoreMissing);
  return info ? `${info.ino}:${info.mtimeNs}:${info.size}` : 'missing';
}

function now(): string {
  return new Date().toISOString();
}
