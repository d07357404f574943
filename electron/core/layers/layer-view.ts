import { BottomLayerListings } from './bottom-layer-listings';
import type { LayerIndex } from './layer-entry';
import { MergedFilesystem, type LayerChanges, type ViewListings } from './merged-filesystem';

/** Where a layer's views come from: each layer's index, and the bottom layer's index file as bytes. */
export interface LayerViewSource {
  load(layer: number): Promise<LayerIndex>;
  /** The bottom layer's index file (gunzipped); may throw or give undefined, and the replay then runs instead. */
  bottomIndexBytes(): Promise<Buffer | undefined>;
}

/** A layer's two views, listed directory by directory, with the filesystem after the layer behind them. */
export interface OpenedLayerView {
  listings: ViewListings;
  /** The filesystem after the layer, which extract, preview and compare read; built once, on first call. */
  filesystem(): Promise<MergedFilesystem>;
}

/** Applies the layers from `fs.layerCount` up to `layer` and returns what the last one changed. */
async function applyUpTo(
  fs: MergedFilesystem,
  source: LayerViewSource,
  layer: number,
): Promise<LayerChanges> {
  let changes: LayerChanges | undefined;
  for (let i = fs.layerCount; i <= layer; i++)
    changes = fs.applyLayer(await source.load(i), { statuses: i === layer });
  if (changes === undefined) throw new RangeError(`image has no layer ${layer}`);
  return changes;
}

/**
 * Opens the views of layer `layer` as the explorer shows them. The bottom layer is listed straight from its
 * sorted index file ({@link BottomLayerListings}: nothing below it, so its merged view is the layer view); a
 * layer above it applies the layers between onto that index ({@link MergedFilesystem.above}), reading only the
 * bottom directories they reach. A bottom layer whose index cannot be read that way is replayed from layer 0.
 */
export async function openLayerView(source: LayerViewSource, layer: number): Promise<OpenedLayerView> {
  const bottom = await source
    .bottomIndexBytes()
    .then((bytes) => (bytes === undefined ? undefined : BottomLayerListings.fromIndexBytes(bytes)))
    .catch(() => undefined);
  if (bottom && layer === 0) {
    let fs: MergedFilesystem | undefined;
    return { listings: bottom, filesystem: () => Promise.resolve((fs ??= MergedFilesystem.above(bottom))) };
  }
  const fs = bottom ? MergedFilesystem.above(bottom) : new MergedFilesystem();
  const changes = await applyUpTo(fs, source, layer);
  return { listings: fs.directoryListings(changes), filesystem: () => Promise.resolve(fs) };
}
