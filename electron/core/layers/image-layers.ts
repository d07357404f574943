import { mkdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Writable } from 'node:stream';
import type {
  CompareEntry,
  CompareListing,
  DirectoryListing,
  EfficiencyReport,
  ExplorerLayer,
  ExtractSummary,
  FileEntry,
  FilePreviewResult,
  LayerSearchHit,
  LayerViewKind,
} from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { parseDigest } from '../../../shared/digest';
import type { ImageStore } from '../store/image-store';
import { copyFileFromLayer, extractFromLayer, extractMerged, previewFromLayer } from './extract';
import { layerIndexEntryCount, readLayerIndex, readLayerIndexBytes, writeLayerIndex } from './index-file';
import { indexLayer } from './index-layer';
import { comparePaths, normalizeEntryPath, type LayerEntry, type LayerIndex } from './layer-entry';
import { type FileTreeNode, type ListedNode, type LayerIndexSource } from './merged-filesystem';
import { openLayerView, type OpenedLayerView } from './layer-view';
import { searchLayers } from './search';
import { analyzeWaste } from './waste';

/** One image's layers as the explorer needs them: blob digests and the facts shown in the list. */
interface ImageLayerFacts {
  /** The layer blob digests in order: the cache key of the image's trees (siblings of one index differ here). */
  key: string;
  layers: ExplorerLayer[];
}

const emptyIndex = (diffId: string): LayerIndex => ({
  diffId,
  compression: 'none',
  compressedSize: 0,
  uncompressedSize: 0,
  entries: [],
  whiteouts: [],
  opaqueDirs: [],
  duplicates: [],
  notices: [],
  noticesOmitted: 0,
});

/** A small least-recently-used map; the explorer keeps a few built layers so directory clicks are instant. */
class RecentMap<K, V> {
  private readonly items = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.items.get(key);
    if (value !== undefined) {
      this.items.delete(key);
      this.items.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.items.delete(key);
    this.items.set(key, value);
    for (const oldest of this.items.keys()) {
      if (this.items.size <= this.capacity) break;
      this.items.delete(oldest);
    }
  }
}

/**
 * The layer explorer over an image store: the layer list, lazy directory listings of either view of any layer,
 * search, waste, preview, extract and comparison. Layer indexes come from `.berth/layer-indexes/` (written
 * during pulls); a layer without one is indexed on demand from its blob, and a layer that cannot be read is
 * flagged and treated as empty so the others still show.
 */
export class ImageLayers {
  private readonly indexing = new Map<string, Promise<LayerIndex>>();
  private readonly problems = new Map<string, { code: string; message: string }>();
  private readonly views = new RecentMap<string, Promise<OpenedLayerView>>(3);
  private readonly comparisons = new RecentMap<string, Promise<Map<string, CompareNode>>>(2);

  constructor(private readonly store: ImageStore) {}

  /** The layers of an image, bottom first, each indexed (on demand) so unreadable ones carry a problem. */
  async list(image: string): Promise<ExplorerLayer[]> {
    const facts = await this.facts(image);
    const result: ExplorerLayer[] = [];
    for (const layer of facts.layers) {
      const entryCount = await this.entryCount(layer);
      const problem = this.problems.get(layer.digest);
      result.push(problem ? { ...layer, problem } : { ...layer, entryCount });
    }
    return result;
  }

  /**
   * A layer's entry count from its index file's header, without decoding the entries (the explorer asks for
   * the list before the first listing); a missing or unreadable file, or a layer already flagged, goes through
   * {@link index}, which indexes the blob or records the problem.
   */
  private async entryCount(layer: ExplorerLayer): Promise<number> {
    if (!this.problems.has(layer.digest)) {
      const count = await readLayerIndexBytes(this.indexFile(layer)).then(
        layerIndexEntryCount,
        () => undefined,
      );
      if (count !== undefined) return count;
    }
    return (await this.index(layer)).entries.length;
  }

  /** One directory of layer `layer`'s layer-only or merged tree, with roll-ups; NOT_FOUND for a missing path. */
  async directory(
    image: string,
    layer: number,
    view: LayerViewKind,
    path: string,
  ): Promise<DirectoryListing> {
    const built = await this.view(image, layer);
    const dir = built.listings.list(imagePath(path), view);
    if (!dir) {
      throw new BerthError(
        'NOT_FOUND',
        `${JSON.stringify(path)} is not a directory in this view of layer ${layer}`,
      );
    }
    return {
      layer,
      view,
      directory: fileEntry(dir.directory),
      entries: dir.children.map(fileEntry),
    };
  }

  /** Which layers added, modified or removed paths matching a glob or regex. */
  async search(
    image: string,
    pattern: string,
    syntax: 'glob' | 'regex',
    limit = 10_000,
  ): Promise<{ hits: LayerSearchHit[]; truncated: boolean }> {
    const source = await this.source(image);
    return searchLayers(source, syntax === 'glob' ? { glob: pattern } : { regex: pattern }, { limit });
  }

  /** Waste itemized by path (largest first, at most `limit`) and the efficiency score. */
  async efficiency(image: string, limit = 1000): Promise<EfficiencyReport> {
    const report = await analyzeWaste(await this.source(image));
    return {
      totalBytes: report.totalBytes,
      finalBytes: report.finalBytes,
      wastedBytes: report.wastedBytes,
      efficiency: report.efficiency,
      paths: report.paths.slice(0, limit),
      pathCount: report.paths.length,
      layers: report.layers,
    };
  }

  /** The first 64 KiB of a file of a layer (or of the merged filesystem after it), read from its layer blob. */
  async preview(image: string, layer: number, view: LayerViewKind, path: string): Promise<FilePreviewResult> {
    const { holder, target } = await this.holder(image, layer, view, path);
    const preview = await previewFromLayer(() => this.store.openBlob(holder.digest), target);
    const result: FilePreviewResult = {
      path: target,
      layer: holder.index,
      type: preview.type,
      size: preview.size,
      binary: preview.binary,
      truncated: preview.truncated,
    };
    if (!preview.binary && preview.type === 'file') result.text = preview.bytes.toString('utf8');
    if (preview.linkTarget !== undefined) result.linkTarget = preview.linkTarget;
    return result;
  }

  /** Streams one file of the final merged filesystem (after `layer`, default the top) to `out`. */
  async copyFile(image: string, path: string, out: Writable, layer?: number): Promise<number> {
    const facts = await this.facts(image);
    const top = layer ?? facts.layers.length - 1;
    const { holder, target } = await this.holder(image, top, 'merged', path);
    return copyFileFromLayer(() => this.store.openBlob(holder.digest), target, out);
  }

  /**
   * Extracts a file or folder (`''` or `/` for everything) of one layer or of the merged filesystem after it
   * into `destination` (absolute), named as `docker cp` names it; nothing is written outside it.
   */
  async extract(
    image: string,
    layer: number,
    view: LayerViewKind,
    path: string,
    destination: string,
  ): Promise<ExtractSummary> {
    if (!isAbsolute(destination)) {
      throw new BerthError(
        'BAD_REQUEST',
        `destination ${JSON.stringify(destination)} is not an absolute path`,
      );
    }
    const facts = await this.facts(image);
    const selected = imagePath(path);
    let result;
    if (view === 'layer') {
      const blob = this.layerAt(facts, layer);
      result = await extractFromLayer(() => this.store.openBlob(blob.digest), selected, destination);
    } else {
      const fs = await (await this.view(image, layer)).filesystem();
      const blobs = facts.layers.slice(0, layer + 1).map((l) => () => this.store.openBlob(l.digest));
      result = await extractMerged(blobs, fs, selected, destination);
    }
    return {
      destination,
      written: result.written.length,
      bytes: result.bytes,
      skipped: result.skipped,
      done: true,
    };
  }

  /** One directory of two images' final merged trees side by side, marked as going from `image` to `other`. */
  async compare(image: string, other: string, path: string): Promise<CompareListing> {
    const [a, b] = await Promise.all([this.facts(image), this.facts(other)]);
    const key = `${a.key} ${b.key}`;
    let building = this.comparisons.get(key);
    if (!building) {
      building = Promise.all([this.finalTree(image), this.finalTree(other)]).then(([before, after]) => {
        const directories = new Map<string, CompareNode>();
        compareTrees(before, after, '', '', directories);
        return directories;
      });
      building.catch(() => undefined);
      this.comparisons.set(key, building);
    }
    const directories = await building;
    const dir = directories.get(imagePath(path));
    if (!dir) throw new BerthError('NOT_FOUND', `${JSON.stringify(path)} is a directory in neither image`);
    const { children, ...entry } = dir;
    return { directory: entry, entries: (children ?? []).map(({ children: _omit, ...rest }) => rest) };
  }

  /** Every layer's index in order, for callers that replay the image themselves. */
  async source(image: string): Promise<LayerIndexSource> {
    const facts = await this.facts(image);
    return { count: facts.layers.length, load: (layer) => this.index(this.layerAt(facts, layer)) };
  }

  private async facts(image: string): Promise<ImageLayerFacts> {
    const details = await this.store.inspect(image);
    return {
      key: details.layers.map((l) => l.digest).join(','),
      layers: details.layers.map((l, index) => {
        const layer: ExplorerLayer = { index, digest: l.digest, mediaType: l.mediaType, size: l.size };
        if (l.diffId !== undefined) layer.diffId = l.diffId;
        if (l.uncompressedSize !== undefined) layer.uncompressedSize = l.uncompressedSize;
        if (l.createdBy !== undefined) layer.createdBy = l.createdBy;
        return layer;
      }),
    };
  }

  private layerAt(facts: ImageLayerFacts, layer: number): ExplorerLayer {
    const found = Number.isInteger(layer) ? facts.layers[layer] : undefined;
    if (!found) {
      throw new BerthError(
        'BAD_REQUEST',
        `layer ${layer} does not exist; the image has layers 0 to ${facts.layers.length - 1}`,
      );
    }
    return found;
  }

  /** A layer's index: from its index file, else built from the blob and saved; an unreadable layer is empty. */
  private index(layer: ExplorerLayer): Promise<LayerIndex> {
    let pending = this.indexing.get(layer.digest);
    if (!pending) {
      pending = this.loadIndex(layer);
      this.indexing.set(layer.digest, pending);
      // Concurrent callers share one read or indexing pass; afterwards the index file is the cache.
      void pending.then(
        () => this.indexing.delete(layer.digest),
        () => this.indexing.delete(layer.digest),
      );
    }
    return pending;
  }

  private indexFile(layer: ExplorerLayer): string {
    return join(this.store.paths.layerIndexes, `${parseDigest(layer.digest).hex}.idx`);
  }

  private async loadIndex(layer: ExplorerLayer): Promise<LayerIndex> {
    const file = this.indexFile(layer);
    try {
      const index = await readLayerIndex(file);
      this.problems.delete(layer.digest);
      return index;
    } catch (err) {
      if (!(err instanceof BerthError && err.code === 'NOT_FOUND')) return this.unreadable(layer, err);
    }
    try {
      const index = await indexLayer(
        this.store.openBlob(layer.digest),
        layer.diffId === undefined ? {} : { expectedDiffId: layer.diffId },
      );
      await mkdir(this.store.paths.layerIndexes, { recursive: true });
      await writeLayerIndex(file, index);
      this.problems.delete(layer.digest);
      return index;
    } catch (err) {
      return this.unreadable(layer, err);
    }
  }

  private unreadable(layer: ExplorerLayer, err: unknown): LayerIndex {
    const code =
      err instanceof BerthError
        ? err.code
        : (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'BLOB_UNKNOWN'
          : 'ARCHIVE_INVALID';
    const message =
      code === 'BLOB_UNKNOWN'
        ? `layer blob ${layer.digest} is not in the store`
        : `layer ${layer.digest} cannot be read: ${err instanceof Error ? err.message : String(err)}`;
    this.problems.set(layer.digest, { code, message });
    return emptyIndex(layer.diffId ?? '');
  }

  /**
   * Opens layer `layer`'s views once per (image, layer) and keeps them for the next directory clicks: the
   * bottom layer straight from its index file, deeper ones by applying the layers between onto it (see {@link openLayerView}).
   */
  private async view(image: string, layer: number): Promise<OpenedLayerView> {
    const facts = await this.facts(image);
    this.layerAt(facts, layer);
    const bottom = this.layerAt(facts, 0);
    const key = `${facts.key} ${layer}`;
    let building = this.views.get(key);
    if (!building) {
      building = openLayerView(
        {
          load: (i) => this.index(this.layerAt(facts, i)),
          bottomIndexBytes: async () => {
            const bytes = await readLayerIndexBytes(this.indexFile(bottom));
            this.problems.delete(bottom.digest);
            return bytes;
          },
        },
        layer,
      );
      building.catch(() => undefined);
      this.views.set(key, building);
    }
    return building;
  }

  private async finalTree(image: string): Promise<FileTreeNode> {
    const facts = await this.facts(image);
    if (facts.layers.length === 0) return { ...emptyRoot };
    const fs = await (await this.view(image, facts.layers.length - 1)).filesystem();
    return fs.mergedTree();
  }

  /** The layer whose blob holds the copy of `path` the view shows (the viewed layer, or the merged survivor). */
  private async holder(
    image: string,
    layer: number,
    view: LayerViewKind,
    path: string,
  ): Promise<{ holder: ExplorerLayer; target: string }> {
    const facts = await this.facts(image);
    const target = imagePath(path);
    if (view === 'layer') return { holder: this.layerAt(facts, layer), target };
    const fs = await (await this.view(image, layer)).filesystem();
    const found = fs.lookup(target);
    if (!found)
      throw new BerthError('NOT_FOUND', `${JSON.stringify(path)} is not in the image after layer ${layer}`);
    // A hardlink to a file of a lower layer reads that file, as long as no later layer replaced it.
    const linked = found.entry?.type === 'hardlink' ? fs.lookup(found.entry.linkTarget ?? '') : undefined;
    if (linked?.type === 'file' && linked.entry && linked.layer < found.layer) {
      return { holder: this.layerAt(facts, linked.layer), target: linked.entry.path };
    }
    return { holder: this.layerAt(facts, found.layer), target };
  }
}

const emptyRoot: FileTreeNode = {
  name: '',
  path: '',
  type: 'dir',
  status: 'unchanged',
  size: 0,
  removedBytes: 0,
  layer: -1,
  children: [],
};

/** A user's path (`/etc/os-release`, `etc`) as an image path; BAD_REQUEST when it climbs out. */
function imagePath(path: string): string {
  const normalized = normalizeEntryPath(path);
  if ('reason' in normalized) {
    throw new BerthError('BAD_REQUEST', `path ${JSON.stringify(path)} climbs out of the image`);
  }
  return normalized.path;
}

function fileEntry(node: ListedNode): FileEntry {
  const entry: FileEntry = {
    name: node.name,
    path: node.path,
    type: node.type,
    change: node.status,
    size: node.size,
    removedBytes: node.removedBytes,
    layer: node.layer,
  };
  if (node.changes) entry.changes = node.changes;
  if (node.childCount !== undefined) entry.childCount = node.childCount;
  if (node.flags) entry.flags = node.flags;
  const meta = node.entry;
  if (meta) {
    if (meta.linkTarget !== undefined) entry.linkTarget = meta.linkTarget;
    entry.mode = meta.mode;
    entry.uid = meta.uid;
    entry.gid = meta.gid;
  }
  return entry;
}

interface CompareNode extends CompareEntry {
  children?: CompareNode[];
}

function sameEntry(a: LayerEntry | undefined, b: LayerEntry | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.contentHash === b.contentHash &&
    a.linkTarget === b.linkTarget
  );
}

/** Walks two merged trees together, marking each path and rolling counts up; records directories by path. */
function compareTrees(
  before: FileTreeNode | undefined,
  after: FileTreeNode | undefined,
  name: string,
  path: string,
  directories: Map<string, CompareNode>,
): CompareNode {
  const shown = (after ?? before) as FileTreeNode;
  const node: CompareNode = { name, path, type: shown.type, change: 'unchanged' };
  if (before) node.sizeBefore = before.size;
  if (after) node.sizeAfter = after.size;
  if (!before) node.change = 'added';
  else if (!after) node.change = 'removed';
  else if (before.type !== after.type || (!before.children && !sameEntry(before.entry, after.entry)))
    node.change = 'modified';
  const beforeKids = before?.children;
  const afterKids = after?.children;
  const isDir = shown.type === 'dir' || beforeKids !== undefined || afterKids !== undefined;
  if (!isDir) return node;
  const byName = new Map<string, [FileTreeNode | undefined, FileTreeNode | undefined]>();
  for (const child of beforeKids ?? []) byName.set(child.name, [child, undefined]);
  for (const child of afterKids ?? []) byName.set(child.name, [byName.get(child.name)?.[0], child]);
  const counts = { added: 0, modified: 0, removed: 0 };
  const children: CompareNode[] = [];
  for (const [childName, [b, a]] of [...byName].sort((x, y) => comparePaths(x[0], y[0]))) {
    const child = compareTrees(
      b,
      a,
      childName,
      path === '' ? childName : `${path}/${childName}`,
      directories,
    );
    children.push(child);
    if (child.change !== 'unchanged') counts[child.change] += 1;
    if (child.changes) {
      counts.added += child.changes.added;
      counts.modified += child.changes.modified;
      counts.removed += child.changes.removed;
    }
  }
  node.children = children;
  node.childCount = children.length;
  node.changes = counts;
  if (node.change === 'unchanged' && counts.added + counts.modified + counts.removed > 0)
    node.change = 'modified';
  directories.set(path, node);
  return node;
}
