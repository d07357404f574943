import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadEntry } from 'tar';
import type { ArchiveFormat, ArchivedImage, LoadedArchive } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { parseDigest } from '../../../shared/digest';
import {
  decodeLayer,
  defaultDecodeLimits,
  detectCompression,
  type DecodeLimits,
} from '../layers/layer-stream';
import { TarFeed } from '../layers/tar-entry-feed';
import { defaultTarLimits } from '../layers/tar-feed';
import { hostPlatform } from '../registry/platform';
import { normalizeName, type ImageStore } from '../store/image-store';
import { parseConfig, parseIndexBlob, parseManifest, type ManifestDocument } from '../store/image-facts';
import { annotations, isIndexMediaType, mediaTypes, type Descriptor } from '../store/layout';

/** Where the archive's bytes come from: a file, or a stream (an HTTP upload) with a label for messages. */
export type LoadSource = { path: string } | { stream: Readable; label: string };

/** One regular file of the archive, spooled into the store's ingest area and hashed as it passed. */
interface Spooled {
  file: string;
  digest: string;
  size: number;
  head: Buffer;
}

/** One image ready to commit: every blob below is verified and spooled (or already in the store). */
interface LoadPlan {
  manifestDigest: string;
  indexDigest?: string;
  /** Blobs to write from memory (a manifest Berth made for a docker-archive image). */
  made: Buffer[];
  /** Spooled files to move into the store, by digest. */
  blobs: Map<string, Spooled>;
  names: string[];
  id: string;
  uncompressedSizes: Record<string, number>;
}

/** JSON documents (manifest.json, index.json, configs, manifests) larger than this are refused. */
const maxDocumentBytes = 16 * 1024 * 1024;
/** Archives are a few files per layer; far more entries than this is an attack on the ingest folder. */
const maxArchiveEntries = 100_000;
/** Link hops followed when a path names a symlink (docker's legacy layout links duplicate layers). */
const maxLinkHops = 16;

const refNameKeys = ['io.containerd.image.name', annotations.refName];

/**
 * Loads every image of a docker-archive or oci-archive (plain, gzip or zstd, told by magic bytes) with
 * every name it carries. Invariant: nothing enters `blobs/` before every blob of every image in the archive
 * was hashed and matched its digest (docker-archive layers: their diff ID; the config: its digest), so a
 * truncated, corrupt or lying archive leaves the store exactly as it was. The archive streams through once;
 * each file is spooled to the ingest folder (the store's gc sweeps any a crash leaves), never held in memory.
 */
export async function loadArchive(
  store: ImageStore,
  source: LoadSource,
  options: { limits?: DecodeLimits } = {},
): Promise<LoadedArchive> {
  const label = 'path' in source ? basename(source.path) : source.label;
  const archive = new ArchiveFiles(store, label, options.limits ?? defaultDecodeLimits);
  try {
    const compression = await archive.read(await openSource(source));
    const format: ArchiveFormat = archive.has('manifest.json') ? 'docker-archive' : 'oci-archive';
    if (format === 'oci-archive' && !archive.has('index.json')) {
      throw new BerthError(
        'ARCHIVE_INVALID',
        `${label} is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)`,
      );
    }
    const skippedNames: string[] = [];
    const plans =
      format === 'docker-archive'
        ? await planDocker(archive, skippedNames)
        : await planOci(archive, store, skippedNames);
    const images: ArchivedImage[] = [];
    for (const plan of plans) {
      for (const spooled of plan.blobs.values()) await archive.adopt(spooled);
      for (const bytes of plan.made) await store.putBlob(bytes);
      const result = await store.commitImage({
        manifestDigest: plan.manifestDigest,
        ...(plan.indexDigest === undefined ? {} : { indexDigest: plan.indexDigest }),
        names: plan.names,
        source: `load ${label}`,
        repoDigests: [],
        uncompressedSizes: plan.uncompressedSizes,
        action: 'load',
      });
      images.push({ id: result.id, names: result.names });
    }
    return { format, compression, images, skippedNames };
  } finally {
    await archive.cleanup();
  }
}

async function openSource(source: LoadSource): Promise<Readable> {
  if ('stream' in source) return source.stream;
  const info = await stat(source.path).catch(() => undefined);
  if (!info?.isFile())
    throw new BerthError('NOT_FOUND', `no archive file at ${source.path}`, { path: source.path });
  return createReadStream(source.path);
}

/** A normalized path inside the archive, or undefined when it is absolute or climbs out of it. */
function insidePath(path: string): string | undefined {
  if (path.startsWith('/') || path.includes('\0')) return undefined;
  const normal = posix.normalize(path).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../') || normal === '' || normal === '.') return undefined;
  return normal.replace(/^\.\//, '');
}

/** The archive's regular files (spooled) and links, by normalized path. */
class ArchiveFiles {
  private readonly files = new Map<string, Spooled>();
  /** Link path to its target; null for a link that climbs out of the archive. */
  private readonly links = new Map<string, string | null>();
  private readonly streams = new Set<WriteStream>();
  private readonly spools: string[] = [];
  private readonly diffIds = new Map<string, Promise<{ diffId: string; size: number }>>();
  private readonly prefix = `load-${process.pid}-${randomBytes(4).toString('hex')}-`;

  constructor(
    private readonly store: ImageStore,
    readonly label: string,
    /** Decompression caps for the archive and for each compressed layer it holds. */
    private readonly limits: DecodeLimits,
  ) {}

  /** Streams the whole archive once, spooling every regular file. Returns the outer compression. */
  async read(stream: Readable): Promise<LoadedArchive['compression']> {
    const pending: Promise<void>[] = [];
    const feed: TarFeed = new TarFeed(
      (entry) => {
        const path = insidePath(entry.path);
        if (path === undefined) {
          entry.resume();
          return;
        }
        if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
          const link = entry.linkpath ?? '';
          const target =
            entry.type === 'Link' || link.startsWith('/')
              ? insidePath(link)
              : insidePath(posix.join(posix.dirname(path), link));
          this.links.set(path, target ?? null);
          entry.resume();
          return;
        }
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          entry.resume();
          return;
        }
        const spooling = this.spool(path, entry);
        spooling.catch((err: unknown) => feed.fail(err));
        pending.push(spooling);
      },
      { ...defaultTarLimits, maxEntries: maxArchiveEntries },
    );
    try {
      const decoded = await decodeLayer(stream, (chunk) => feed.write(chunk), this.limits);
      await feed.end();
      await Promise.all(pending);
      return decoded.compression;
    } catch (err) {
      for (const s of this.streams) s.destroy();
      if (err instanceof BerthError && err.code === 'ARCHIVE_INVALID') {
        throw new BerthError(
          'ARCHIVE_INVALID',
          `${this.label} is not a complete archive: ${err.message.replace(/^layer tar/, 'tar')}`,
          err.detail,
        );
      }
      if (err instanceof BerthError && err.code === 'TOO_LARGE') {
        const message = err.message.replace(/^layer /, '');
        throw new BerthError('TOO_LARGE', `${this.label}: the archive ${message}`, err.detail);
      }
      throw err;
    }
  }

  private async spool(path: string, entry: ReadEntry): Promise<void> {
    const file = join(this.store.paths.ingest, `${this.prefix}${this.spools.length}`);
    this.spools.push(file);
    const hash = createHash('sha256');
    let size = 0;
    const heads: Buffer[] = [];
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        if (size < 4) heads.push(chunk.subarray(0, 4));
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const out = createWriteStream(file, { mode: 0o644 });
    this.streams.add(out);
    await pipeline(entry, counter, out);
    this.streams.delete(out);
    this.files.set(path, { file, digest: `sha256:${hash.digest('hex')}`, size, head: Buffer.concat(heads) });
  }

  /** True when the archive holds a file at `path`. */
  has(path: string): boolean {
    return this.files.has(path);
  }

  /** The spooled file `path` names (following links); a clear error when it escapes or is absent. */
  file(path: string, what: string): Spooled {
    const outside = () =>
      new BerthError('ARCHIVE_INVALID', `${this.label}: ${what} path "${path}" points outside the archive`, {
        path,
      });
    let current = insidePath(path);
    if (current === undefined) throw outside();
    for (let hop = 0; hop <= maxLinkHops; hop++) {
      const found = this.files.get(current);
      if (found) return found;
      const next = this.links.get(current);
      if (next === null) throw outside();
      if (next === undefined)
        throw new BerthError('ARCHIVE_INVALID', `${this.label}: ${what} "${path}" is not in the archive`, {
          path,
        });
      current = next;
    }
    throw new BerthError('ARCHIVE_INVALID', `${this.label}: ${what} "${path}" is a chain of too many links`, {
      path,
    });
  }

  /** A small JSON document of the archive, parsed. */
  async json<T>(spooled: Spooled, what: string): Promise<{ value: T; bytes: Buffer }> {
    if (spooled.size > maxDocumentBytes)
      throw new BerthError(
        'TOO_LARGE',
        `${this.label}: ${what} is ${spooled.size} bytes, over ${maxDocumentBytes}`,
      );
    const bytes = await readFile(spooled.file);
    try {
      return { value: JSON.parse(bytes.toString('utf8')) as T, bytes };
    } catch (err) {
      throw new BerthError(
        'ARCHIVE_INVALID',
        `${this.label}: ${what} is not valid JSON: ${(err as Error).message}`,
      );
    }
  }

  /** The diff ID (and uncompressed size) of a spooled layer; decompressed once, only when compressed. */
  diffIdOf(spooled: Spooled): Promise<{ diffId: string; size: number }> {
    if (detectCompression(spooled.head) === 'none')
      return Promise.resolve({ diffId: spooled.digest, size: spooled.size });
    let known = this.diffIds.get(spooled.file);
    if (!known) {
      known = decodeLayer(createReadStream(spooled.file), () => undefined, this.limits).then((d) => ({
        diffId: d.diffId,
        size: d.uncompressedSize,
      }));
      this.diffIds.set(spooled.file, known);
    }
    return known;
  }

  /** Moves a verified spool into the store through its ingest (which hashes it once more before the rename). */
  async adopt(spooled: Spooled): Promise<void> {
    if (await this.store.hasBlob(spooled.digest)) return;
    const { algorithm, hex } = parseDigest(spooled.digest);
    await rename(spooled.file, join(this.store.paths.ingest, `${algorithm}-${hex}`));
    const writer = await this.store.ingest({ digest: spooled.digest, size: spooled.size });
    await writer.commit();
  }

  /**
   * Deletes every spool still in the ingest folder. A spool stream destroyed while its file is still being
   * opened creates that file afterwards, so each is awaited closed before the files are removed.
   */
  async cleanup(): Promise<void> {
    await Promise.all(
      [...this.streams].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed) return resolve();
            s.once('close', () => resolve());
            s.destroy();
          }),
      ),
    );
    await Promise.all(this.spools.map((file) => rm(file, { force: true })));
  }
}

/** One entry of a docker-archive's manifest.json. */
interface DockerArchiveEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

function namesOf(raw: unknown[], skipped: string[]): string[] {
  const names: string[] = [];
  for (const name of raw) {
    if (typeof name !== 'string') continue;
    try {
      const full = normalizeName(name);
      if (!names.includes(full)) names.push(full);
    } catch {
      skipped.push(name);
    }
  }
  return names;
}

/** Checks a content-addressed path (`blobs/sha256/<hex>`, `<hex>.json`) against the bytes it holds. */
function checkNamedDigest(archive: ArchiveFiles, path: string, spooled: Spooled, what: string): void {
  const m = /(?:^|\/)(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(path);
  if (m && `sha256:${m[1]}` !== spooled.digest) {
    throw new BerthError(
      'DIGEST_MISMATCH',
      `${archive.label}: ${what} ${path} has digest ${spooled.digest}, its name says sha256:${m[1]}`,
      { path, expected: `sha256:${m[1]}`, actual: spooled.digest },
    );
  }
}

/** Verifies a docker-archive's images and makes an OCI manifest for each. */
async function planDocker(archive: ArchiveFiles, skipped: string[]): Promise<LoadPlan[]> {
  const { value: entries } = await archive.json<unknown>(
    archive.file('manifest.json', 'manifest.json'),
    'manifest.json',
  );
  if (!Array.isArray(entries) || entries.length === 0)
    throw new BerthError('ARCHIVE_INVALID', `${archive.label}: manifest.json lists no images`);
  const plans = new Map<string, LoadPlan>();
  for (const [n, raw] of (entries as DockerArchiveEntry[]).entries()) {
    const where = `manifest.json entry ${n + 1}`;
    if (typeof raw?.Config !== 'string' || !Array.isArray(raw.Layers))
      throw new BerthError('ARCHIVE_INVALID', `${archive.label}: ${where} has no Config or Layers`);
    const configFile = archive.file(raw.Config, `config of ${where}`);
    checkNamedDigest(archive, raw.Config, configFile, 'config');
    const { bytes: configBytes } = await archive.json<unknown>(configFile, `config ${raw.Config}`);
    const config = parseConfig(configBytes, configFile.digest);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== raw.Layers.length) {
      throw new BerthError(
        'ARCHIVE_INVALID',
        `${archive.label}: ${where} lists ${raw.Layers.length} layers, its config ${diffIds.length} diff IDs`,
      );
    }
    const blobs = new Map<string, Spooled>([[configFile.digest, configFile]]);
    const layers: Descriptor[] = [];
    const uncompressedSizes: Record<string, number> = {};
    for (const [i, layerPath] of (raw.Layers as unknown[]).entries()) {
      if (typeof layerPath !== 'string')
        throw new BerthError(
          'ARCHIVE_INVALID',
          `${archive.label}: ${where} has a layer path that is not a string`,
        );
      const layer = archive.file(layerPath, 'layer');
      checkNamedDigest(archive, layerPath, layer, 'layer');
      const { diffId, size } = await archive.diffIdOf(layer).catch((err: unknown) => {
        if (!(err instanceof BerthError)) throw err;
        throw new BerthError(
          err.code,
          `${archive.label}: ${err.message.replace(/^layer/, `layer ${layerPath}`)}`,
          {
            ...err.detail,
            path: layerPath,
          },
        );
      });
      if (diffId !== diffIds[i]) {
        throw new BerthError(
          'DIGEST_MISMATCH',
          `${archive.label}: layer ${layerPath} has diff ID ${diffId}, its config says ${diffIds[i]}`,
          { path: layerPath, expected: diffIds[i], actual: diffId },
        );
      }
      const compression = detectCompression(layer.head);
      layers.push({
        mediaType:
          compression === 'none'
            ? 'application/vnd.oci.image.layer.v1.tar'
            : `application/vnd.oci.image.layer.v1.tar+${compression}`,
        digest: layer.digest,
        size: layer.size,
      });
      uncompressedSizes[layer.digest] = size;
      blobs.set(layer.digest, layer);
    }
    const manifest: ManifestDocument = {
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: { mediaType: mediaTypes.ociConfig, digest: configFile.digest, size: configFile.size },
      layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
    const names = namesOf(Array.isArray(raw.RepoTags) ? (raw.RepoTags as unknown[]) : [], skipped);
    const existing = plans.get(manifestDigest);
    if (existing) {
      for (const name of names) if (!existing.names.includes(name)) existing.names.push(name);
      continue;
    }
    plans.set(manifestDigest, {
      manifestDigest,
      made: [manifestBytes],
      blobs,
      names,
      id: configFile.digest,
      uncompressedSizes,
    });
  }
  return [...plans.values()];
}

/** The spooled blob a descriptor names in an OCI layout, checked against its digest and size. */
function ociBlob(archive: ArchiveFiles, d: Descriptor, what: string): Spooled {
  let path: string;
  try {
    const { algorithm, hex } = parseDigest(d.digest);
    path = `blobs/${algorithm}/${hex}`;
  } catch {
    throw new BerthError(
      'ARCHIVE_INVALID',
      `${archive.label}: ${what} has an invalid digest "${String(d.digest)}"`,
    );
  }
  const spooled = archive.file(path, what);
  if (spooled.digest !== d.digest) {
    throw new BerthError(
      'DIGEST_MISMATCH',
      `${archive.label}: ${what} ${d.digest} holds content with digest ${spooled.digest}`,
      { expected: d.digest, actual: spooled.digest },
    );
  }
  if (spooled.size !== d.size) {
    throw new BerthError(
      'SIZE_MISMATCH',
      `${archive.label}: ${what} ${d.digest} has ${spooled.size} bytes, its descriptor says ${d.size}`,
      { expected: d.size, actual: spooled.size },
    );
  }
  return spooled;
}

/** Verifies an OCI layout's images: every index.json entry, its manifest (for an index, this platform's), config and layers. */
async function planOci(archive: ArchiveFiles, store: ImageStore, skipped: string[]): Promise<LoadPlan[]> {
  const { value: index } = await archive.json<{ manifests?: Descriptor[] }>(
    archive.file('index.json', 'index.json'),
    'index.json',
  );
  if (!Array.isArray(index.manifests) || index.manifests.length === 0)
    throw new BerthError('ARCHIVE_INVALID', `${archive.label}: index.json lists no images`);
  const plans = new Map<string, LoadPlan>();
  const platform = hostPlatform();
  for (const entry of index.manifests) {
    const blobs = new Map<string, Spooled>();
    let manifestDescriptor = entry;
    let indexDigest: string | undefined;
    if (isIndexMediaType(entry.mediaType)) {
      const top = ociBlob(archive, entry, 'image index');
      const { bytes } = await archive.json<unknown>(top, `index ${entry.digest}`);
      const inner = parseIndexBlob(bytes, entry.digest);
      const candidates = inner.manifests.filter(
        (m) => !isIndexMediaType(m.mediaType) && archive.has(blobPath(m)),
      );
      const chosen =
        candidates.find(
          (m) => m.platform?.os === 'linux' && m.platform.architecture === platform.architecture,
        ) ?? candidates[0];
      if (!chosen)
        throw new BerthError(
          'ARCHIVE_INVALID',
          `${archive.label}: index ${entry.digest} has none of its manifests in the archive`,
        );
      blobs.set(top.digest, top);
      indexDigest = entry.digest;
      manifestDescriptor = chosen;
    }
    const manifestFile = ociBlob(archive, manifestDescriptor, 'manifest');
    const { bytes: manifestBytes } = await archive.json<unknown>(
      manifestFile,
      `manifest ${manifestDescriptor.digest}`,
    );
    const manifest = parseManifest(manifestBytes, manifestDescriptor.digest);
    blobs.set(manifestFile.digest, manifestFile);
    const configFile = ociBlob(archive, manifest.config, 'config');
    blobs.set(configFile.digest, configFile);
    for (const layer of manifest.layers) {
      if (await store.hasBlob(layer.digest)) continue;
      blobs.set(layer.digest, ociBlob(archive, layer, 'layer'));
    }
    const names = namesOf(refNameKeys.flatMap((k) => entry.annotations?.[k] ?? []).slice(0, 1), skipped);
    const key = `${indexDigest ?? ''}/${manifestFile.digest}`;
    const existing = plans.get(key);
    if (existing) {
      for (const name of names) if (!existing.names.includes(name)) existing.names.push(name);
      continue;
    }
    plans.set(key, {
      manifestDigest: manifestFile.digest,
      ...(indexDigest === undefined ? {} : { indexDigest }),
      made: [],
      blobs,
      names,
      id: configFile.digest,
      uncompressedSizes: {},
    });
  }
  return [...plans.values()];
}

function blobPath(d: Descriptor): string {
  try {
    const { algorithm, hex } = parseDigest(d.digest);
    return `blobs/${algorithm}/${hex}`;
  } catch {
    return '';
  }
}
