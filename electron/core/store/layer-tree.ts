import type { DiskUsage, LayerChain } from '../../../shared/contract';
import { chainIds } from './history';

/** One image as the tree and disk-usage views see it. */
export interface TreeImage {
  id: string;
  repoTags: string[];
  dangling: boolean;
  diffIds: readonly string[];
  /** Size per layer in rootfs order (uncompressed when known). */
  layerSizes: readonly number[];
  /** Every blob the image keeps alive (index, manifest, config, layers) with its size. */
  blobs: readonly { digest: string; size: number }[];
}

/**
 * The layer hierarchy across images (`podman image tree`): one node per chain ID, linked parent to
 * children, each naming the images whose top layer it is. Roots come first, children follow their parent.
 */
export function layerTree(images: readonly TreeImage[]): LayerChain[] {
  const nodes = new Map<string, LayerChain>();
  for (const image of images) {
    const chains = chainIds(image.diffIds);
    chains.forEach((chainId, i) => {
      let node = nodes.get(chainId);
      if (!node) {
        node = {
          chainId,
          diffId: image.diffIds[i] ?? '',
          children: [],
          size: image.layerSizes[i] ?? 0,
          topOf: [],
        };
        const parent = chains[i - 1];
        if (parent !== undefined) {
          node.parent = parent;
          nodes.get(parent)?.children.push(chainId);
        }
        nodes.set(chainId, node);
      }
      if (i === chains.length - 1 && !node.topOf.includes(image.id)) node.topOf.push(image.id);
    });
  }
  const ordered: LayerChain[] = [];
  const visit = (node: LayerChain) => {
    ordered.push(node);
    for (const child of node.children) {
      const next = nodes.get(child);
      if (next) visit(next);
    }
  };
  for (const node of nodes.values()) if (node.parent === undefined) visit(node);
  return ordered;
}

/**
 * `docker system df -v` for images: a blob used by more than one image is shared; the rest is unique.
 * Reclaimable is what pruning dangling images would free plus blobs no image uses (`orphanBytes`).
 */
export function diskUsage(images: readonly TreeImage[], orphanBytes = 0): DiskUsage {
  const users = new Map<string, { size: number; count: number }>();
  for (const image of images) {
    for (const blob of new Map(image.blobs.map((b) => [b.digest, b.size]))) {
      const seen = users.get(blob[0]);
      if (seen) seen.count++;
      else users.set(blob[0], { size: blob[1], count: 1 });
    }
  }
  let totalSize = orphanBytes;
  for (const { size } of users.values()) totalSize += size;
  let reclaimable = orphanBytes;
  const rows = images.map((image) => {
    let size = 0;
    let sharedSize = 0;
    for (const [digest, blobSize] of new Map(image.blobs.map((b) => [b.digest, b.size]))) {
      size += blobSize;
      if ((users.get(digest)?.count ?? 0) > 1) sharedSize += blobSize;
    }
    const uniqueSize = size - sharedSize;
    if (image.dangling) reclaimable += uniqueSize;
    return { id: image.id, repoTags: image.repoTags, size, sharedSize, uniqueSize };
  });
  return { totalSize, reclaimable, images: rows };
}
