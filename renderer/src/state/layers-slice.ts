import type {
  BerthClient,
  CompareListing,
  DirectoryListing,
  EfficiencyReport,
  ExplorerLayer,
  ExtractSummary,
  FileChange,
  FileEntry,
  FilePreviewResult,
  ImagePlatform,
  ImagePlatforms,
  LayerSearchHit,
  LayerViewKind,
} from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import type { SliceCreator } from './slice';

/** A value fetched from main: asked, arrived, or failed. */
export type Remote<T> =
  { status: 'loading' } | { status: 'ready'; value: T } | { status: 'error'; error: WireError };

/** How the file tree orders siblings. */
export type FileSort = 'name' | 'size';

/** The explorer of one image: which layer and view, what is expanded and loaded, and the side panels. */
export interface ExplorerState {
  /** The image explored: {@link origin}, or a sibling platform of it (by manifest digest). */
  image: string;
  /** The image the explorer was opened for (the one in the details panel). */
  origin: string;
  /** The platforms of {@link origin}'s index, asked once when the explorer opens and after store changes. */
  platforms?: Remote<ImagePlatforms>;
  layers: Remote<ExplorerLayer[]>;
  layer: number;
  view: LayerViewKind;
  /** Directory listings by {@link directoryKey}; each directory is asked for once, when first expanded. */
  directories: Record<string, Remote<DirectoryListing>>;
  /** Expanded directory paths (kept across layer and view switches). */
  expanded: Record<string, true>;
  /** Change kinds the tree hides. */
  hidden: Record<FileChange, boolean>;
  sort: FileSort;
  search?: {
    pattern: string;
    syntax: 'glob' | 'regex';
    result: Remote<{ hits: LayerSearchHit[]; truncated: boolean }>;
  };
  efficiency?: Remote<EfficiencyReport>;
  selected?: string;
  preview?: { path: string; result: Remote<FilePreviewResult> };
  extract?: { path: string; result: Remote<ExtractSummary> };
  compare?: {
    other: string;
    directories: Record<string, Remote<CompareListing>>;
    expanded: Record<string, true>;
  };
}

/** Layers slice: the layer explorer of the image open in the details panel. */
export interface LayersSlice {
  explorer: ExplorerState | undefined;
  /** Opens (or keeps) the explorer on an image: loads its layers and shows the top layer merged. */
  openExplorer: (image: string) => Promise<void>;
  selectLayer: (layer: number) => Promise<void>;
  setLayerView: (view: LayerViewKind) => Promise<void>;
  /** Flips between layer-only and merged (the explorer's one key). */
  toggleLayerView: () => Promise<void>;
  toggleDirectory: (path: string) => Promise<void>;
  setChangeHidden: (change: FileChange, hidden: boolean) => void;
  /** Shows only changed paths (added, modified, removed), or everything again. */
  showChangesOnly: (only: boolean) => void;
  setFileSort: (sort: FileSort) => void;
  searchFiles: (pattern: string, syntax?: 'glob' | 'regex') => Promise<void>;
  clearSearch: () => void;
  loadEfficiency: () => Promise<void>;
  /** Selects a path; a file gets a preview of its first 64 KiB. */
  selectFile: (entry: FileEntry) => Promise<void>;
  /** Extracts a path of the current layer and view; without a destination main asks (desktop) or refuses. */
  extractPath: (path: string, destination?: string) => Promise<void>;
  /** Shows what `layer` did to `path`: that layer's changes, its parent directories open, the path selected. */
  revealPath: (layer: number, path: string) => Promise<void>;
  openCompare: (other: string) => Promise<void>;
  closeCompare: () => void;
  toggleCompareDirectory: (path: string) => Promise<void>;
  /** Asks again which platforms of the opened image's index are in the store. */
  loadPlatforms: () => Promise<void>;
  /** Explores another image (a sibling platform's {@link platformQuery}) in place of the current one. */
  explorePlatform: (image: string) => Promise<void>;
}

/** The query that explores a platform of the opened image: itself, or a stored sibling by manifest digest. */
export function platformQuery(explorer: ExplorerState, platform: ImagePlatform): string | undefined {
  if (platform.current) return explorer.origin;
  return platform.image === undefined ? undefined : platform.manifestDigest;
}

/** The key a directory listing is kept under. */
export function directoryKey(layer: number, view: LayerViewKind, path: string): string {
  return `${layer}\u0000${view}\u0000${path}`;
}

/** One visible line of the file tree: an entry at a depth. */
export interface TreeLine {
  entry: FileEntry;
  depth: number;
  expanded: boolean;
  /** The listing of an expanded directory that is still loading or failed. */
  pending?: 'loading' | 'error';
}

/** Whether the filters show an entry: its own kind is shown, or it is a directory with shown changes below. */
export function entryShown(entry: FileEntry, hidden: Record<FileChange, boolean>): boolean {
  if (!hidden[entry.change]) return true;
  const c = entry.changes;
  if (!c || entry.change === 'removed') return false;
  return (
    (!hidden.added && c.added > 0) ||
    (!hidden.modified && c.modified > 0) ||
    (!hidden.removed && c.removed > 0)
  );
}

/** The file tree flattened to the lines in view: expanded directories' children, filtered and sorted. */
export function treeLines(explorer: ExplorerState): TreeLine[] {
  const lines: TreeLine[] = [];
  const { layer, view, hidden, sort } = explorer;
  const order = (entries: FileEntry[]): FileEntry[] =>
    sort === 'size'
      ? [...entries].sort(
          (a, b) =>
            Math.max(b.size, b.removedBytes) - Math.max(a.size, a.removedBytes) || (a.name < b.name ? -1 : 1),
        )
      : entries;
  const visit = (path: string, depth: number): void => {
    const listing = explorer.directories[directoryKey(layer, view, path)];
    if (listing?.status !== 'ready') return;
    for (const entry of order(listing.value.entries)) {
      if (!entryShown(entry, hidden)) continue;
      const isDir = entry.type === 'dir' && entry.change !== 'removed';
      const expanded = isDir && explorer.expanded[entry.path] === true;
      const child = expanded ? explorer.directories[directoryKey(layer, view, entry.path)] : undefined;
      const line: TreeLine = { entry, depth, expanded };
      if (child && child.status !== 'ready') line.pending = child.status;
      lines.push(line);
      if (expanded) visit(entry.path, depth + 1);
    }
  };
  visit('', 0);
  return lines;
}

const noneHidden: Record<FileChange, boolean> = {
  added: false,
  modified: false,
  removed: false,
  unchanged: false,
};

/** Creates the layers slice around `client`. */
export const createLayersSlice =
  (client: BerthClient): SliceCreator<LayersSlice> =>
  (set, get) => {
    /** Applies `change` only while the explorer still shows `image` (answers for a closed image are dropped). */
    const update = (image: string, change: (explorer: ExplorerState) => Partial<ExplorerState>): void =>
      set((s) => (s.explorer?.image === image ? { explorer: { ...s.explorer, ...change(s.explorer) } } : {}));

    const loadDirectory = async (path: string): Promise<void> => {
      const explorer = get().explorer;
      if (!explorer) return;
      const { image, layer, view } = explorer;
      const key = directoryKey(layer, view, path);
      const known = explorer.directories[key];
      if (known && known.status !== 'error') return;
      update(image, (e) => ({ directories: { ...e.directories, [key]: { status: 'loading' } } }));
      let result: Remote<DirectoryListing>;
      try {
        result = {
          status: 'ready',
          value: await client.invoke('layers:directory', { image, layer, view, path }),
        };
      } catch (err) {
        result = { status: 'error', error: toWireError(err) };
      }
      update(image, (e) => ({ directories: { ...e.directories, [key]: result } }));
    };

    /** Loads the root and every expanded directory of the current layer and view. */
    const loadVisible = async (): Promise<void> => {
      const explorer = get().explorer;
      if (!explorer) return;
      await Promise.all(['', ...Object.keys(explorer.expanded)].map((path) => loadDirectory(path)));
    };

    const loadCompareDirectory = async (path: string): Promise<void> => {
      const explorer = get().explorer;
      const compare = explorer?.compare;
      if (!explorer || !compare) return;
      const { image } = explorer;
      const { other } = compare;
      if (compare.directories[path] && compare.directories[path].status !== 'error') return;
      const put = (value: Remote<CompareListing>) =>
        update(image, (e) =>
          e.compare?.other === other
            ? { compare: { ...e.compare, directories: { ...e.compare.directories, [path]: value } } }
            : {},
        );
      put({ status: 'loading' });
      try {
        put({ status: 'ready', value: await client.invoke('layers:compare', { image, other, path }) });
      } catch (err) {
        put({ status: 'error', error: toWireError(err) });
      }
    };

    /** Loads an explored image's layers, then shows its top layer (root and expanded directories). */
    const loadLayers = async (image: string): Promise<void> => {
      let layers: Remote<ExplorerLayer[]>;
      try {
        layers = { status: 'ready', value: await client.invoke('layers:list', { image }) };
      } catch (err) {
        layers = { status: 'error', error: toWireError(err) };
      }
      const top = layers.status === 'ready' ? Math.max(0, layers.value.length - 1) : 0;
      update(image, () => ({ layers, layer: top }));
      if (layers.status === 'ready' && layers.value.length > 0 && get().explorer?.image === image)
        await loadVisible();
    };

    return {
      explorer: undefined,
      openExplorer: async (image) => {
        if (get().explorer?.origin === image) return;
        set({
          explorer: {
            image,
            origin: image,
            platforms: { status: 'loading' },
            layers: { status: 'loading' },
            layer: 0,
            view: 'merged',
            directories: {},
            expanded: {},
            hidden: { ...noneHidden },
            sort: 'name',
          },
        });
        await Promise.all([loadLayers(image), get().loadPlatforms()]);
      },
      loadPlatforms: async () => {
        const origin = get().explorer?.origin;
        if (origin === undefined) return;
        let platforms: Remote<ImagePlatforms>;
        try {
          platforms = { status: 'ready', value: await client.invoke('layers:platforms', { image: origin }) };
        } catch (err) {
          platforms = { status: 'error', error: toWireError(err) };
        }
        set((s) => (s.explorer?.origin === origin ? { explorer: { ...s.explorer, platforms } } : {}));
      },
      explorePlatform: async (image) => {
        const explorer = get().explorer;
        if (!explorer || explorer.image === image) return;
        const { origin, platforms, expanded, hidden, sort } = explorer;
        set({
          explorer: {
            image,
            origin,
            ...(platforms ? { platforms } : {}),
            layers: { status: 'loading' },
            layer: 0,
            view: explorer.view,
            directories: {},
            expanded,
            hidden,
            sort,
          },
        });
        await loadLayers(image);
      },
      selectLayer: async (layer) => {
        const explorer = get().explorer;
        if (!explorer || explorer.layer === layer) return;
        update(explorer.image, () => ({ layer, preview: undefined, selected: undefined }));
        await loadVisible();
      },
      setLayerView: async (view) => {
        const explorer = get().explorer;
        if (!explorer || explorer.view === view) return;
        update(explorer.image, () => ({ view, preview: undefined, selected: undefined }));
        await loadVisible();
      },
      toggleLayerView: () => get().setLayerView(get().explorer?.view === 'merged' ? 'layer' : 'merged'),
      toggleDirectory: async (path) => {
        const explorer = get().explorer;
        if (!explorer) return;
        if (explorer.expanded[path]) {
          const { [path]: _closed, ...rest } = explorer.expanded;
          update(explorer.image, () => ({ expanded: rest }));
          return;
        }
        update(explorer.image, (e) => ({ expanded: { ...e.expanded, [path]: true } }));
        await loadDirectory(path);
      },
      setChangeHidden: (change, hidden) => {
        const explorer = get().explorer;
        if (explorer) update(explorer.image, (e) => ({ hidden: { ...e.hidden, [change]: hidden } }));
      },
      showChangesOnly: (only) => {
        const explorer = get().explorer;
        if (explorer) update(explorer.image, () => ({ hidden: { ...noneHidden, unchanged: only } }));
      },
      setFileSort: (sort) => {
        const explorer = get().explorer;
        if (explorer) update(explorer.image, () => ({ sort }));
      },
      searchFiles: async (pattern, syntax = 'glob') => {
        const explorer = get().explorer;
        if (!explorer) return;
        const { image } = explorer;
        if (pattern.trim() === '') {
          update(image, () => ({ search: undefined }));
          return;
        }
        update(image, () => ({ search: { pattern, syntax, result: { status: 'loading' } } }));
        let result: Remote<{ hits: LayerSearchHit[]; truncated: boolean }>;
        try {
          result = {
            status: 'ready',
            value: await client.invoke('layers:search', { image, pattern, syntax, limit: 2000 }),
          };
        } catch (err) {
          result = { status: 'error', error: toWireError(err) };
        }
        update(image, (e) => (e.search?.pattern === pattern ? { search: { pattern, syntax, result } } : {}));
      },
      clearSearch: () => {
        const explorer = get().explorer;
        if (explorer) update(explorer.image, () => ({ search: undefined }));
      },
      loadEfficiency: async () => {
        const explorer = get().explorer;
        if (!explorer || explorer.efficiency?.status === 'ready') return;
        const { image } = explorer;
        update(image, () => ({ efficiency: { status: 'loading' } }));
        let efficiency: Remote<EfficiencyReport>;
        try {
          efficiency = {
            status: 'ready',
            value: await client.invoke('layers:efficiency', { image, limit: 200 }),
          };
        } catch (err) {
          efficiency = { status: 'error', error: toWireError(err) };
        }
        update(image, () => ({ efficiency }));
      },
      selectFile: async (entry) => {
        const explorer = get().explorer;
        if (!explorer) return;
        const { image, layer, view } = explorer;
        const path = entry.path;
        if (
          entry.type === 'dir' ||
          entry.change === 'removed' ||
          (entry.type !== 'file' && entry.type !== 'symlink' && entry.type !== 'hardlink')
        ) {
          update(image, () => ({ selected: path, preview: undefined }));
          return;
        }
        update(image, () => ({ selected: path, preview: { path, result: { status: 'loading' } } }));
        let result: Remote<FilePreviewResult>;
        try {
          result = {
            status: 'ready',
            value: await client.invoke('layers:preview', { image, layer, view, path }),
          };
        } catch (err) {
          result = { status: 'error', error: toWireError(err) };
        }
        update(image, (e) => (e.preview?.path === path ? { preview: { path, result } } : {}));
      },
      extractPath: async (path, destination) => {
        const explorer = get().explorer;
        if (!explorer) return;
        const { image, layer, view } = explorer;
        update(image, () => ({ extract: { path, result: { status: 'loading' } } }));
        let result: Remote<ExtractSummary>;
        try {
          const params = { image, layer, view, path };
          result = {
            status: 'ready',
            value: await client.invoke(
              'layers:extract',
              destination === undefined ? params : { ...params, destination },
            ),
          };
        } catch (err) {
          result = { status: 'error', error: toWireError(err) };
        }
        update(image, () => ({ extract: { path, result } }));
      },
      revealPath: async (layer, path) => {
        const explorer = get().explorer;
        if (!explorer) return;
        const expanded: Record<string, true> = { ...explorer.expanded };
        for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1))
          expanded[path.slice(0, at)] = true;
        update(explorer.image, () => ({
          layer,
          view: 'layer',
          expanded,
          selected: path,
          preview: undefined,
          compare: undefined,
        }));
        await loadVisible();
      },
      openCompare: async (other) => {
        const explorer = get().explorer;
        if (!explorer) return;
        update(explorer.image, () => ({ compare: { other, directories: {}, expanded: {} } }));
        await loadCompareDirectory('');
      },
      closeCompare: () => {
        const explorer = get().explorer;
        if (explorer) update(explorer.image, () => ({ compare: undefined }));
      },
      toggleCompareDirectory: async (path) => {
        const explorer = get().explorer;
        const compare = explorer?.compare;
        if (!explorer || !compare) return;
        if (compare.expanded[path]) {
          const { [path]: _closed, ...rest } = compare.expanded;
          update(explorer.image, (e) => (e.compare ? { compare: { ...e.compare, expanded: rest } } : {}));
          return;
        }
        update(explorer.image, (e) =>
          e.compare ? { compare: { ...e.compare, expanded: { ...e.compare.expanded, [path]: true } } } : {},
        );
        await loadCompareDirectory(path);
      },
    };
  };
