import { BottomLayerListings } from './bottom-layer-listings';
import type { LayerIndex } from './layer-entry';
import { MergedFilesystem, type LayerChanges, type ViewListings } from './merged-filesystem';

/** Where a layer's views come from: each layer's index, and the bottom layer's index file as bytes. */
export interface LayerViewSource {
  load(layer: number): Promise<LayerIndex>;
  /** The bottom layer's index file (gunzipped); may throw or give undefined, and the replay then runs instead. */
  bottomIndexBytes(): Promise<Buffer | undefined>;
}

/** The filesystem after a layer, replayed from the bottom, and what that layer changed. */
export interface ReplayedLayer {
  fs: MergedFilesystem;
  changes: LayerChanges;
}

/** A layer's two views, listed directory by directory, with the replayed filesystem behind them on demand. */
export interface OpenedLayerView {
  listings: ViewListings;
  /** Replays layers 0..layer on first call (extract, preview and compare need the filesystem) and keeps it. */
  replayed(): Promise<ReplayedLayer>;
}

async function replay(source: LayerViewSource, layer: number): Promise<ReplayedLayer> {
  const fs = new MergedFilesystem();
  let changes: LayerChanges | undefined;
  for (let i = 0; i <= layer; i++) changes = fs.applyLayer(await source.load(i), { statuses: i === layer });
  if (changes === undefined) throw new RangeError(`image has no layer ${layer}`);
  return { fs, changes };
}

/**
 * Opens the views of layer `layer` as the explorer shows them. The bottom layer is listed straight from its
 * sorted index file ({@link BottomLayerListings}: nothing below it, so its merged view is the layer view); any
 * other layer, or a bottom layer whose index cannot be read that way, is replayed from layer 0.
 */
export async function openLayerView(source: LayerViewSource, layer: number): Promise<OpenedLayerView> {
  let replaying: Promise<ReplayedLayer> | undefined;
  const replayed = (): Promise<ReplayedLayer> => (replaying ??= replay(source, layer));
  if (layer === 0) {
    const listings = await source
      .bottomIndexBytes()
      .then((bytes) => (bytes === undefined ? undefined : BottomLayerListings.fromIndexBytes(bytes)))
      .catch(() => undefined);
    if (listings) return { listings, replayed };
  }
  const { fs, changes } = await replayed();
  return { listings: fs.directoryListings(changes), replayed };
}
