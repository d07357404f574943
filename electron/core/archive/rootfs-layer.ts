import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { StoreEvent } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { parseDigest } from '../../../shared/digest';
import { indexLayer } from '../layers/index-layer';
import { readLayerIndex, writeLayerIndex } from '../layers/index-file';
import type { LayerIndex } from '../layers/layer-entry';
import type { LayerIndexSource } from '../layers/merged-filesystem';
import type { ImageStore } from '../store/image-store';
import { mediaTypes } from '../store/layout';

/** Media type of the gzip'd layers Berth writes. */
export const ociLayerGzip = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** A layer blob Berth wrote into the store, with the index of its files. */
export interface WrittenLayer {
  digest: string;
  size: number;
  diffId: string;
  uncompressedSize: number;
  index: LayerIndex;
}

/** Writes `chunk` to `out`, waiting while the stream is full. */
export async function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/**
 * Runs `produce`, which writes an uncompressed tar into the Writable it is given and resolves once all is
 * written, and stores the tar gzip'd as a blob. One pass: the tar is indexed (DiffID, files, notices) while it
 * is compressed into a temp file under the store's ingest folder; `check` may refuse the layer from its index
 * before anything reaches `blobs/`. Only then is the file streamed into the store through the verifying
 * BlobWriter. A failure leaves the store as it was (the temp file is removed).
 */
export async function writeLayerBlob(
  store: ImageStore,
  produce: (tar: Writable) => Promise<void>,
  check?: (index: LayerIndex) => void,
): Promise<WrittenLayer> {
  await mkdir(store.paths.ingest, { recursive: true });
  const temp = join(store.paths.ingest, `layer-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const blobHash = createHash('sha256');
  let size = 0;
  const indexFeed = new PassThrough();
  indexFeed.on('error', () => undefined);
  const sink = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (indexFeed.write(chunk)) callback(null, chunk);
      else
        once(indexFeed, 'drain').then(
          () => callback(null, chunk),
          (err: unknown) => callback(err as Error),
        );
    },
    flush(callback) {
      indexFeed.end();
      callback();
    },
  });
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      blobHash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const indexing = indexLayer(indexFeed);
  let indexError: unknown;
  indexing.catch((err: unknown) => {
    indexError = err;
    indexFeed.destroy();
    sink.destroy(err as Error);
  });
  const writing = pipeline(sink, zlib.createGzip(), counting, createWriteStream(temp, { flags: 'wx' }));
  try {
    try {
      await produce(sink);
      sink.end();
      await writing;
    } catch (err) {
      indexFeed.destroy();
      sink.destroy();
      await writing.catch(() => undefined);
      await indexing.catch(() => undefined);
      // The indexer's complaint (a truncated or malformed tar) names the problem better than a broken pipe.
      throw err instanceof BerthError || !(indexError instanceof BerthError) ? err : indexError;
    }
    const index = await indexing;
    check?.(index);
    const digest = `sha256:${blobHash.digest('hex')}`;
    const writer = await store.ingest({ digest, size });
    try {
      if (!writer.exists) await pipeline(createReadStream(temp), writer.stream());
      await writer.commit();
    } catch (err) {
      await writer.abort({ keep: false });
      throw err;
    }
    await mkdir(store.paths.layerIndexes, { recursive: true });
    await writeLayerIndex(join(store.paths.layerIndexes, `${parseDigest(digest).hex}.idx`), index);
    return { digest, size, diffId: index.diffId, uncompressedSize: index.uncompressedSize, index };
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The file indexes of an image's layers, loaded one at a time: from `.berth/layer-indexes/` when the pull
 * wrote one, else built from the blob (checking its DiffID) and written there for next time.
 */
export function layerIndexSource(
  store: ImageStore,
  layers: readonly { digest: string }[],
  diffIds: readonly string[],
): LayerIndexSource & { load(layer: number): Promise<LayerIndex> } {
  return {
    count: layers.length,
    async load(layer: number): Promise<LayerIndex> {
      const descriptor = layers[layer];
      if (!descriptor) throw new RangeError(`image has no layer ${layer}`);
      const file = join(store.paths.layerIndexes, `${parseDigest(descriptor.digest).hex}.idx`);
      try {
        return await readLayerIndex(file);
      } catch (err) {
        if (!(err instanceof BerthError) || (err.code !== 'NOT_FOUND' && err.code !== 'STORE_CORRUPT'))
          throw err;
      }
      const expected = diffIds[layer];
      const index = await indexLayer(
        store.openBlob(descriptor.digest),
        expected === undefined ? {} : { expectedDiffId: expected },
      );
      await mkdir(store.paths.layerIndexes, { recursive: true });
      await writeLayerIndex(file, index);
      return index;
    },
  };
}

/** What {@link commitLayerImage} needs: the config document, its one layer, the names and the event. */
export interface LayerImageRequest {
  config: Record<string, unknown>;
  layer: WrittenLayer;
  names: string[];
  action: StoreEvent['action'];
  source?: string;
}

/**
 * Writes the config and an OCI manifest for a one-layer image and commits it under `names` (none: dangling).
 * No RepoDigests are recorded: the image exists only here until it is pushed.
 */
export async function commitLayerImage(
  store: ImageStore,
  request: LayerImageRequest,
): Promise<{ id: string; manifestDigest: string; names: string[] }> {
  const configBytes = Buffer.from(JSON.stringify(request.config));
  const config = await store.putBlob(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: { mediaType: mediaTypes.ociConfig, digest: config.digest, size: config.size },
    layers: [{ mediaType: ociLayerGzip, digest: request.layer.digest, size: request.layer.size }],
  };
  const manifestBlob = await store.putBlob(Buffer.from(JSON.stringify(manifest)));
  const result = await store.commitImage({
    manifestDigest: manifestBlob.digest,
    names: request.names,
    repoDigests: [],
    uncompressedSizes: { [request.layer.digest]: request.layer.uncompressedSize },
    action: request.action,
    ...(request.source === undefined ? {} : { source: request.source }),
  });
  return { id: result.id, manifestDigest: result.manifestDigest, names: result.names };
}
