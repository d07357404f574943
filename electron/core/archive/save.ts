import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ArchiveFormat, SavedArchive } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { parseDigest } from '../../../shared/digest';
import { parseReference, repositoryOf } from '../../../shared/reference';
import { decodeLayer } from '../layers/layer-stream';
import type { ImageStore } from '../store/image-store';
import { parseManifest } from '../store/image-facts';
import { annotations, syncDir, tempSuffix, type Descriptor } from '../store/layout';
import { TarWriter } from './tar-writer';

/** What `saveImages` is asked to do. */
export interface SaveRequest {
  /** Names, IDs or digests; a name puts that name in the archive, an ID every name the image has. */
  images: string[];
  /** Where the archive goes; it appears there only when complete. */
  output: string;
  format?: ArchiveFormat;
  /** Gzips the whole archive. */
  compress?: boolean;
}

/** One image to write: its blobs as the store holds them, and the names it goes under. */
interface PlannedImage {
  id: string;
  manifestDigest: string;
  manifestSize: number;
  manifestMediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
  uncompressedSizes: (number | undefined)[];
  names: string[];
}

const compressedLayer = /\+(gzip|zstd)$|\.(gzip|zstd)$/;

/**
 * Writes images into one archive. The archive is written to a temp file beside `output` and renamed over
 * it only once complete, so a failed save leaves no half file. Layers stream from the store one chunk at
 * a time; for a docker-archive they are decompressed on the way (docker and podman expect plain tars) and
 * checked against the config's diff IDs.
 */
export async function saveImages(store: ImageStore, request: SaveRequest): Promise<SavedArchive> {
  const format = request.format ?? 'docker-archive';
  if (format !== 'docker-archive' && format !== 'oci-archive')
    throw new BerthError('BAD_REQUEST', `unknown archive format "${String(format)}"`);
  if (request.images.length === 0) throw new BerthError('BAD_REQUEST', 'name at least one image to save');
  const planned = await plan(store, request.images);
  const tmp = request.output + tempSuffix();
  const source = new PassThrough();
  const file = createWriteStream(tmp, { mode: 0o644 });
  const stages: Writable[] = request.compress === true ? [createGzip(), file] : [file];
  const flowing = pipeline(source, ...(stages as [Writable, ...Writable[]]));
  flowing.catch(() => undefined);
  try {
    const tar = new TarWriter(source);
    if (format === 'docker-archive') await writeDockerArchive(store, tar, planned);
    else await writeOciArchive(store, tar, planned);
    await tar.finish();
    source.end();
    await flowing;
    await rename(tmp, request.output);
    await syncDir(dirname(request.output));
  } catch (err) {
    source.destroy();
    // The output's own failure (no such folder, disk full) says more than the writer's "closed early".
    const cause = await flowing.then(
      () => undefined,
      (e: unknown) => e,
    );
    await rm(tmp, { force: true });
    throw outputError(cause ?? err, request.output);
  }
  const images = planned.map((p) => ({ id: p.id, names: p.names }));
  await store.recordEvent({
    action: 'save',
    names: images.flatMap((i) => i.names),
    detail: {
      path: request.output,
      format,
      compressed: request.compress === true,
      ids: images.map((i) => i.id),
    },
  });
  return { path: request.output, format, compressed: request.compress === true, images };
}

/** Resolves every query, merging queries that name the same image. */
async function plan(store: ImageStore, queries: string[]): Promise<PlannedImage[]> {
  const byManifest = new Map<string, PlannedImage>();
  for (const query of queries) {
    const { image, facts, name } = await store.resolve(query);
    let planned = byManifest.get(image.manifestDigest);
    if (!planned) {
      const manifestBytes = await store.readBlob(image.manifestDigest);
      const manifest = parseManifest(manifestBytes, image.manifestDigest);
      const details = await store.inspect(image.manifestDigest);
      if (manifest.layers.length !== facts.diffIds.length) {
        throw new BerthError(
          'MANIFEST_INVALID',
          `image ${facts.configDigest} has ${manifest.layers.length} layers but ${facts.diffIds.length} diff IDs`,
        );
      }
      planned = {
        id: facts.configDigest,
        manifestDigest: image.manifestDigest,
        manifestSize: manifestBytes.length,
        manifestMediaType: facts.manifestMediaType,
        config: manifest.config,
        layers: manifest.layers,
        diffIds: facts.diffIds,
        uncompressedSizes: details.layers.map((l) =>
          compressedLayer.test(l.mediaType) ? l.uncompressedSize : l.size,
        ),
        names: [],
      };
      byManifest.set(image.manifestDigest, planned);
    }
    const names = name !== undefined ? [name] : image.names;
    for (const n of names) if (!planned.names.includes(n)) planned.names.push(n);
  }
  return [...byManifest.values()];
}

function hexOf(digest: string): string {
  return parseDigest(digest).hex;
}

/** Docker's layout: `<config>.json`, `<diffID>.tar` per layer (uncompressed), `manifest.json`, `repositories`. */
async function writeDockerArchive(store: ImageStore, tar: TarWriter, images: PlannedImage[]): Promise<void> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const image of images) {
    const configPath = `${hexOf(image.config.digest)}.json`;
    if (!written.has(configPath)) {
      await tar.file(configPath, await store.readBlob(image.config.digest));
      written.add(configPath);
    }
    const layerPaths: string[] = [];
    for (const [i, layer] of image.layers.entries()) {
      const diffId = image.diffIds[i]!;
      const path = `${hexOf(diffId)}.tar`;
      layerPaths.push(path);
      if (written.has(path)) continue;
      await writeDecompressedLayer(store, tar, path, layer, diffId, image.uncompressedSizes[i]);
      written.add(path);
    }
    // Full names: podman reads a short `x:1` as `localhost/x:1`, docker reads either form the same.
    manifest.push({ Config: configPath, RepoTags: image.names, Layers: layerPaths });
    const top = image.diffIds.at(-1);
    for (const name of image.names) {
      const ref = parseReference(name);
      if (ref.tag === undefined || top === undefined) continue;
      const repo = repositoryOf(ref);
      (repositories[repo] ??= {})[ref.tag] = hexOf(top);
    }
  }
  await tar.file('manifest.json', Buffer.from(JSON.stringify(manifest)));
  await tar.file('repositories', Buffer.from(JSON.stringify(repositories)));
}

/** A layer as a plain tar; its size is measured by a first decoding pass when the store does not know it. */
async function writeDecompressedLayer(
  store: ImageStore,
  tar: TarWriter,
  path: string,
  layer: Descriptor,
  diffId: string,
  knownSize: number | undefined,
): Promise<void> {
  const check = (found: string) => {
    if (found !== diffId) {
      throw new BerthError(
        'DIGEST_MISMATCH',
        `layer ${layer.digest} decompresses to ${found}, its image says ${diffId}; run berth fsck`,
        { layer: layer.digest, expected: diffId, actual: found },
      );
    }
  };
  let size = knownSize;
  if (size === undefined) {
    const measured = await decodeLayer(store.openBlob(layer.digest), () => undefined);
    check(measured.diffId);
    size = measured.uncompressedSize;
  }
  await tar.entry(path, size, async (write) => {
    const decoded = await decodeLayer(store.openBlob(layer.digest), write);
    check(decoded.diffId);
  });
}

/** An OCI image layout: `oci-layout`, `blobs/<alg>/<hex>`, and `index.json` with one entry per name. */
async function writeOciArchive(store: ImageStore, tar: TarWriter, images: PlannedImage[]): Promise<void> {
  await tar.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const written = new Set<string>();
  const blob = async (d: { digest: string; size: number }) => {
    if (written.has(d.digest)) return;
    const { algorithm, hex } = parseDigest(d.digest);
    await tar.entry(`blobs/${algorithm}/${hex}`, d.size, async (write) => {
      for await (const chunk of store.openBlob(d.digest)) await write(chunk as Buffer);
    });
    written.add(d.digest);
  };
  const entries: Descriptor[] = [];
  for (const image of images) {
    for (const layer of image.layers) await blob(layer);
    await blob(image.config);
    await blob({ digest: image.manifestDigest, size: image.manifestSize });
    const descriptor: Descriptor = {
      mediaType: image.manifestMediaType,
      digest: image.manifestDigest,
      size: image.manifestSize,
    };
    if (image.names.length === 0) entries.push(descriptor);
    for (const name of image.names)
      entries.push({ ...descriptor, annotations: { [annotations.refName]: name } });
  }
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: entries,
  };
  await tar.file('index.json', Buffer.from(JSON.stringify(index)));
}

/** A file-system failure on the output as a clear BerthError naming the file. */
function outputError(err: unknown, output: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new BerthError('NOT_FOUND', `cannot write ${output}: its folder does not exist`);
  if (code === 'ENOSPC') return new BerthError('NO_SPACE', `no space left to write ${output}`);
  if (code === 'EACCES' || code === 'EPERM')
    return new BerthError('DENIED', `not allowed to write ${output}`);
  return err;
}
