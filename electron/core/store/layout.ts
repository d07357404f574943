import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError } from '../../../shared/error';
import { parseDigest } from '../../../shared/digest';

/** OCI and Docker media types the store understands. */
export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** Annotation keys written on `index.json` entries. */
export const annotations = {
  /** OCI: the fully-qualified reference an entry is named by. */
  refName: 'org.opencontainers.image.ref.name',
  /** Berth: for an entry whose descriptor is an index, the platform manifest this image is. */
  manifest: 'io.berth.image.manifest',
} as const;

/** True for an image index or Docker manifest list media type. */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === mediaTypes.ociIndex || mediaType === mediaTypes.dockerList;
}

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string; 'os.version'?: string };
  urls?: string[];
  artifactType?: string;
}

/** The `index.json` document at the layout root; unknown fields survive a rewrite. */
export interface IndexDocument {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  [extra: string]: unknown;
}

/** Where every file of a store lives. `.berth/` holds derived data and never confuses other OCI tools. */
export interface LayoutPaths {
  root: string;
  ociLayout: string;
  index: string;
  blobs: string;
  berth: string;
  ingest: string;
  lock: string;
  images: string;
  summaries: string;
  events: string;
  /** Per-layer file indexes, one compact file per layer digest, rebuilt from the blob when missing. */
  layerIndexes: string;
  /** Name edits not yet folded into `index.json` (see name-journal.ts). */
  journal: string;
}

/** The paths of a store rooted at `root`. */
export function layoutPaths(root: string): LayoutPaths {
  const berth = join(root, '.berth');
  return {
    root,
    ociLayout: join(root, 'oci-layout'),
    index: join(root, 'index.json'),
    blobs: join(root, 'blobs'),
    berth,
    ingest: join(berth, 'ingest'),
    lock: join(berth, 'lock'),
    images: join(berth, 'images.json'),
    summaries: join(berth, 'summaries.json'),
    events: join(berth, 'events.jsonl'),
    layerIndexes: join(berth, 'layer-indexes'),
    journal: join(berth, 'index-journal.jsonl'),
  };
}

/** The file a blob lives in once verified; throws INVALID_DIGEST for anything that is not a digest. */
export function blobFile(paths: LayoutPaths, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(paths.blobs, algorithm, hex);
}

/** An empty index document. */
export function emptyIndex(): IndexDocument {
  return { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [] };
}

/** Makes `root` a layout if it is not one yet; an existing layout (from skopeo, umoci, Berth) is kept as is. */
export async function initLayout(paths: LayoutPaths): Promise<void> {
  await mkdir(join(paths.blobs, 'sha256'), { recursive: true });
  await mkdir(paths.ingest, { recursive: true });
  const layoutText = await readFile(paths.ociLayout, 'utf8').catch(ignoreMissing);
  if (layoutText === undefined) {
    await writeAtomic(paths.ociLayout, JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  } else if (
    parseJson<{ imageLayoutVersion?: unknown }>(layoutText, paths.ociLayout).imageLayoutVersion !== '1.0.0'
  ) {
    throw new BerthError('STORE_CORRUPT', `${paths.ociLayout} is not an OCI image layout version 1.0.0`);
  }
  const indexText = await readFile(paths.index, 'utf8').catch(ignoreMissing);
  if (indexText === undefined) await writeAtomic(paths.index, serializeIndex(emptyIndex()));
}

/** Reads and checks `index.json`; the atomic replace guarantees it is always one whole version. */
export async function readIndex(paths: LayoutPaths): Promise<IndexDocument> {
  return parseIndex(await readFile(paths.index, 'utf8'), paths.index);
}

/** Parses an `index.json` text, naming the file when it is not a valid index. */
export function parseIndex(text: string, file: string): IndexDocument {
  const doc = parseJson<Partial<IndexDocument>>(text, file);
  if (doc.schemaVersion !== 2 || !Array.isArray(doc.manifests)) {
    throw new BerthError('STORE_CORRUPT', `${file} is not an OCI image index`);
  }
  for (const d of doc.manifests) {
    if (typeof d?.digest !== 'string' || typeof d.size !== 'number' || typeof d.mediaType !== 'string') {
      throw new BerthError('STORE_CORRUPT', `${file} has an entry that is not a descriptor`);
    }
  }
  return doc as IndexDocument;
}

/** The canonical text of `index.json`. */
export function serializeIndex(doc: IndexDocument): string {
  return JSON.stringify(doc) + '\n';
}

/** Parses JSON or throws STORE_CORRUPT naming what was being read. */
export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new BerthError('STORE_CORRUPT', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A suffix that makes temporary file names unique per process and call. */
export function tempSuffix(): string {
  return `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Replaces `file` so that a crash at any instant leaves either the old or the new content: write a temp file
 * in the same folder, fsync it, rename it over `file`, then fsync the folder so the rename itself is durable.
 * `durable: false` skips both fsyncs, for a cache whose reader treats a torn or empty file as missing: a crash
 * may then lose the new content, never mix it with the old.
 */
export async function writeAtomic(
  file: string,
  content: string | Uint8Array,
  options: { durable?: boolean } = {},
): Promise<void> {
  const durable = options.durable !== false;
  const tmp = file + tempSuffix();
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(content);
    if (durable) await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await syncDir(dirname(file));
}

/** Flushes a folder's entries (renames, unlinks) to disk. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (err) {
    // Windows cannot open a folder as a file; NTFS makes the rename durable on its own.
    if (process.platform === 'win32') return;
    throw err;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `.catch` helper: a missing file becomes `undefined`, any other error is rethrown. */
export function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw err;
}
