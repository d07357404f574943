import { shortId } from '../../../shared/digest';
import { normalizeName, type ImageStore } from '../store/image-store';
import { parseConfig } from '../store/image-facts';
import { writeRootfs } from './export-rootfs';
import { commitLayerImage, writeLayerBlob } from './rootfs-layer';

/** What a squash made. */
export interface SquashResult {
  /** ID of the new image. */
  id: string;
  manifestDigest: string;
  names: string[];
  /** ID of the image that was squashed (it stays in the store). */
  from: string;
  /** How many layers the new one replaces. */
  replacedLayers: number;
  layer: { digest: string; size: number; diffId: string; uncompressedSize: number };
}

/**
 * Merges an image's layers into one, as Docker's SquashImage does: the new layer is the image's flattened
 * filesystem (see writeRootfs), the config is kept but for `rootfs.diff_ids` (the one new DiffID) and a
 * history of one entry whose comment says what it replaced. The new image is named `name`; the old one
 * stays as it was (a name it held moves to the new image, like any tag).
 */
export async function squashImage(store: ImageStore, query: string, name: string): Promise<SquashResult> {
  const newName = normalizeName(name);
  const resolved = await store.resolve(query);
  const { facts } = resolved;
  const configBytes = await store.readBlob(facts.configDigest);
  parseConfig(configBytes, facts.configDigest);
  const config = JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>;
  const layer = await writeLayerBlob(store, async (tar) => {
    await writeRootfs(store, resolved, tar);
  });
  const count = facts.layers.length;
  const created = new Date().toISOString();
  const squashed: Record<string, unknown> = {
    ...config,
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [
      {
        created,
        created_by: `berth squash ${shortId(facts.configDigest)}`,
        comment: `squashed ${count} ${count === 1 ? 'layer' : 'layers'} of ${shortId(facts.configDigest)}`,
      },
    ],
  };
  const committed = await commitLayerImage(store, {
    config: squashed,
    layer,
    names: [newName],
    action: 'squash',
    source: `squash of ${facts.configDigest}`,
  });
  return {
    ...committed,
    from: facts.configDigest,
    replacedLayers: count,
    layer: {
      digest: layer.digest,
      size: layer.size,
      diffId: layer.diffId,
      uncompressedSize: layer.uncompressedSize,
    },
  };
}
