import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { Platform } from '../../../shared/contract';
import { quoteInput } from '../../../shared/digest';
import { BerthError } from '../../../shared/error';
import { decodeLayer, type DecodeLimits } from '../layers/layer-stream';
import type { LayerIndex } from '../layers/layer-entry';
import { hostPlatform, parsePlatform } from '../registry/platform';
import { normalizeName, type ImageStore } from '../store/image-store';
import { ignoreMissing } from '../store/layout';
import { applyChanges } from './image-changes';
import { commitLayerImage, writeChunk, writeLayerBlob } from './rootfs-layer';

/** What `berth import` turns into an image. */
export interface ImportRequest {
  /** The root filesystem tarball: plain, gzip (or zstd), told apart by its magic bytes. */
  source: Readable | AsyncIterable<Buffer>;
  /** How the tarball is named in errors and in the image's source (its file name). */
  label: string;
  /** Name for the image; without one it is dangling. */
  reference?: string;
  /** `docker import --change` instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR). */
  changes?: readonly string[];
  /** The history comment. */
  message?: string;
  /** `os/arch[/variant]`; the host's platform by default. */
  platform?: string;
  /** Decompression caps on the tarball; the defaults every layer gets when omitted. */
  limits?: DecodeLimits;
}

/** What an import made. */
export interface ImportResult {
  /** Image ID (config digest). */
  id: string;
  manifestDigest: string;
  names: string[];
  layer: { digest: string; size: number; diffId: string; uncompressedSize: number };
  platform: Platform;
}

/** Refuses a tarball with entries that would land outside the root filesystem. */
function checkRootfs(label: string, index: LayerIndex): void {
  const hostile = index.notices.find(
    (n) => n.dropped && (n.reason === 'parent-traversal' || n.reason === 'hardlink-escape'),
  );
  if (hostile) {
    const why =
      hostile.reason === 'parent-traversal'
        ? 'climbs out of the root filesystem with ".."'
        : 'is a hardlink to a path outside the root filesystem';
    throw new BerthError(
      'ARCHIVE_INVALID',
      `${label}: entry ${quoteInput(hostile.name)} ${why}; nothing was imported`,
      { entry: hostile.name, reason: hostile.reason },
    );
  }
}

/**
 * Imports a root filesystem tarball as a one-layer image, as `docker import` does: the tar is stored
 * gzip-compressed, its DiffID is the sha256 of the uncompressed tar, and the config carries rootfs, one
 * history entry (the message as its comment), created, os and architecture, plus the `changes`. Streams the
 * tarball once; memory stays flat. Bad changes, a bad platform or name are refused before any byte is read;
 * a corrupt, truncated or hostile tarball is refused with ARCHIVE_INVALID and leaves the store unchanged.
 */
export async function importRootfs(store: ImageStore, request: ImportRequest): Promise<ImportResult> {
  const names =
    request.reference === undefined || request.reference.trim() === ''
      ? []
      : [normalizeName(request.reference)];
  const containerConfig = applyChanges({}, request.changes ?? []);
  const platform =
    request.platform === undefined || request.platform.trim() === ''
      ? hostPlatform()
      : parsePlatform(request.platform);
  let layer;
  try {
    layer = await writeLayerBlob(
      store,
      async (tar) => {
        await decodeLayer(request.source, (chunk) => writeChunk(tar, chunk), request.limits);
      },
      (index) => checkRootfs(request.label, index),
    );
  } catch (err) {
    if (err instanceof BerthError && !err.message.startsWith(`${request.label}:`)) {
      const message = err.message.replace(/^layer tar/, 'the tar');
      throw new BerthError(
        err.code,
        `${request.label} is not a usable root filesystem tarball: ${message}`,
        err.detail,
      );
    }
    throw err;
  }
  const created = new Date().toISOString();
  const config: Record<string, unknown> = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: containerConfig,
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [
      {
        created,
        created_by: `berth import ${basename(request.label)}`,
        comment: request.message ?? 'imported from tarball',
      },
    ],
  };
  const committed = await commitLayerImage(store, {
    config,
    layer,
    names,
    action: 'import',
    source: request.label,
  });
  return {
    ...committed,
    layer: {
      digest: layer.digest,
      size: layer.size,
      diffId: layer.diffId,
      uncompressedSize: layer.uncompressedSize,
    },
    platform,
  };
}

/** Imports the tarball at `file` (see {@link importRootfs}); NOT_FOUND when there is no such file. */
export async function importRootfsFile(
  store: ImageStore,
  file: string,
  request: Omit<ImportRequest, 'source' | 'label'>,
): Promise<ImportResult> {
  const info = await stat(file).catch(ignoreMissing);
  if (!info) throw new BerthError('NOT_FOUND', `tarball ${file} does not exist`, { file });
  if (!info.isFile()) throw new BerthError('BAD_REQUEST', `${file} is not a file`, { file });
  const source = createReadStream(file);
  try {
    return await importRootfs(store, { ...request, source, label: file });
  } finally {
    source.destroy();
  }
}
