import { MergedFilesystem, layerIndexes, type LayerIndexSource, type WasteItem } from './merged-filesystem';

/** Wasted bytes gathered per path, with every layer that wrote a copy that did not survive. */
export interface WastedPath {
  path: string;
  bytes: number;
  /** Layers whose copies of the path were overwritten or deleted. */
  addedIn: number[];
  /** Layers that overwrote or deleted them. */
  removedIn: number[];
}

/** Per-layer totals for the efficiency view. */
export interface LayerWaste {
  layer: number;
  /** Bytes of regular files in the layer's tar (duplicates included). */
  bytes: number;
  /** Bytes of this layer's files that a higher layer (or a later copy in the same tar) overwrote or deleted. */
  wastedBytes: number;
}

/** How much of an image's layer content reaches its final filesystem. */
export interface WasteReport {
  /** Bytes of regular files across all layers. */
  totalBytes: number;
  /** Bytes of regular files in the final filesystem (hardlinked content once). */
  finalBytes: number;
  /** Bytes written by some layer and overwritten or deleted later; surviving copies are never counted. */
  wastedBytes: number;
  /** finalBytes / totalBytes; 1 for an image with no file content. */
  efficiency: number;
  /** Every wasted copy, largest first. */
  items: WasteItem[];
  /** Wasted bytes summed per path, largest first. */
  paths: WastedPath[];
  layers: LayerWaste[];
}

/** Replays every layer once and measures waste and efficiency (unlike dive, the surviving copy is not waste). */
export async function analyzeWaste(source: LayerIndexSource): Promise<WasteReport> {
  const fs = new MergedFilesystem();
  const items: WasteItem[] = [];
  const layers: LayerWaste[] = [];
  let totalBytes = 0;
  for await (const index of layerIndexes(source)) {
    let bytes = 0;
    for (const entry of index.entries) if (entry.type === 'file') bytes += entry.size;
    for (const duplicate of index.duplicates) bytes += duplicate.size;
    totalBytes += bytes;
    const changes = fs.applyLayer(index, { statuses: false });
    layers.push({ layer: changes.layer, bytes, wastedBytes: 0 });
    items.push(...changes.waste);
  }
  const byPath = new Map<string, WastedPath>();
  for (const item of items) {
    const layer = layers[item.addedIn];
    if (layer) layer.wastedBytes += item.bytes;
    const path = byPath.get(item.path) ?? { path: item.path, bytes: 0, addedIn: [], removedIn: [] };
    path.bytes += item.bytes;
    if (!path.addedIn.includes(item.addedIn)) path.addedIn.push(item.addedIn);
    if (!path.removedIn.includes(item.removedIn)) path.removedIn.push(item.removedIn);
    byPath.set(item.path, path);
  }
  const finalBytes = fs.totalBytes();
  const wastedBytes = items.reduce((sum, item) => sum + item.bytes, 0);
  return {
    totalBytes,
    finalBytes,
    wastedBytes,
    efficiency: totalBytes === 0 ? 1 : finalBytes / totalBytes,
    items: items.sort((a, b) => b.bytes - a.bytes || a.addedIn - b.addedIn),
    paths: [...byPath.values()].sort((a, b) => b.bytes - a.bytes),
    layers,
  };
}
