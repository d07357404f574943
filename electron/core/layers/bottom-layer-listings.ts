import { decodeLayerIndexColumns, layerEntryAt, type LayerIndexColumns } from './index-file';
import { comparePaths, joinPath, parentPath, type LayerEntry } from './layer-entry';
import {
  resolveLinks,
  type BaseChild,
  type BaseHardlink,
  type DirectoryContents,
  type LayerBase,
  type LinkedFile,
  type ListedNode,
  type TreeFlag,
  type ViewListings,
} from './merged-filesystem';

const slash = 0x2f;

/** A node of the bottom layer's tree: an entry (`>= 0`) or a directory no entry names (`-(id + 1)`, root `-1`). */
type NodeHandle = number;

/**
 * Both views of an image's bottom layer, listed straight from its sorted index: with nothing below it, the
 * filesystem after the layer is the layer itself, every path in it is `added`, and its whiteouts and opaque
 * markers remove nothing. A directory's descendants are the contiguous run of paths under its prefix, so
 * listing one costs a binary search and a scan of that run; sizes and change counts below each directory come
 * from one pass over the columns. Listings equal what {@link MergedFilesystem.directoryListings} gives after
 * replaying the layer (`test/unit/layers/bottom-layer-listings.test.ts` checks every directory of both views).
 */
export class BottomLayerListings implements ViewListings, LayerBase {
  /** Directory id by its path's bytes read as latin1 (a string per directory, none per file); root is 0. */
  private readonly directoryIds = new Map<string, number>([['', 0]]);
  private readonly directoryKeys: string[] = [''];
  /** The entry that names each directory, or -1 when only paths below imply it. */
  private readonly directoryEntries: number[] = [-1];
  private readonly directoryParents: number[] = [-1];
  /** Direct children of each directory. */
  private readonly childCounts: number[] = [0];
  /** Bytes present below each directory (a file's size; a hardlink only when it counts, as in the replay). */
  private readonly directoryBytes: number[] = [0];
  /** Paths below each directory, implied directories included: all of them are `added`. */
  private readonly nodesBelow: number[] = [0];
  /** Implied directories by parent directory id. */
  private readonly impliedChildren = new Map<number, number[]>();
  /** Each entry's parent directory id. */
  private readonly parents: Int32Array;
  /** Each directory entry's directory id (-1 for other entries). */
  private readonly entryDirectories: Int32Array;
  /** Present bytes of the hardlinks that count any (a link to a link whose file is elsewhere). */
  private readonly hardlinkBytes = new Map<number, number>();
  /** The file each hardlink is linked to, as the replay's hardlink pass records it. */
  private readonly linkedFiles = new Map<number, LinkedFile>();

  private constructor(private readonly columns: LayerIndexColumns) {
    this.parents = new Int32Array(columns.count);
    this.entryDirectories = new Int32Array(columns.count).fill(-1);
  }

  /**
   * Listings of the layer whose index file holds `bytes`; undefined when the index needs the replay instead
   * (paths out of byte order, or a path below a non-directory, which the replay turns into a directory).
   * Corrupt bytes are STORE_CORRUPT.
   */
  static fromIndexBytes(bytes: Buffer): BottomLayerListings | undefined {
    const columns = decodeLayerIndexColumns(bytes);
    if (!columns.ascending) return undefined;
    const listings = new BottomLayerListings(columns);
    return listings.build() ? listings : undefined;
  }

  private build(): boolean {
    const { count, pathBytes, pathStarts, sharedBytes, typeCodes, types, sizes } = this.columns;
    const fileCode = types.indexOf('file');
    const dirCode = types.indexOf('dir');
    const hardlinkCode = types.indexOf('hardlink');
    const hardlinks: number[] = [];
    let previousParentLength = -2;
    let parent = 0;
    for (let i = 0; i < count; i++) {
      const start = pathStarts[i] as number;
      const end = pathStarts[i + 1] as number;
      let cut = end - 1;
      while (cut >= start && pathBytes[cut] !== slash) cut--;
      const parentLength = cut - start;
      // Siblings come together: the parent only needs finding when the path leaves the previous one's.
      if (
        parentLength !== previousParentLength ||
        (parentLength > 0 && (sharedBytes[i] as number) < parentLength)
      ) {
        const found = parentLength < 0 ? 0 : this.directory(start, parentLength, i);
        if (found === undefined) return false;
        parent = found;
        previousParentLength = parentLength;
      }
      this.parents[i] = parent;
      (this.childCounts[parent] as number)++;
      const code = typeCodes[i] as number;
      if (code === fileCode) (this.directoryBytes[parent] as number) += sizes[i] as number;
      else if (code === hardlinkCode) hardlinks.push(i);
      else if (code === dirCode) {
        const key = pathBytes.toString('latin1', start, end);
        if (this.directoryIds.has(key)) return false;
        this.entryDirectories[i] = this.addDirectory(key, i, parent);
      }
    }
    this.countHardlinks(hardlinks);
    for (let id = 1; id < this.directoryKeys.length; id++)
      this.nodesBelow[id] = this.childCounts[id] as number;
    this.nodesBelow[0] = this.childCounts[0] as number;
    // A directory's id is larger than its parent's, so one backward sweep rolls every subtree up.
    for (let id = this.directoryKeys.length - 1; id > 0; id--) {
      const up = this.directoryParents[id] as number;
      (this.directoryBytes[up] as number) += this.directoryBytes[id] as number;
      (this.nodesBelow[up] as number) += this.nodesBelow[id] as number;
    }
    return true;
  }

  private addDirectory(key: string, entry: number, parent: number): number {
    const id = this.directoryKeys.length;
    this.directoryIds.set(key, id);
    this.directoryKeys.push(key);
    this.directoryEntries.push(entry);
    this.directoryParents.push(parent);
    this.childCounts.push(0);
    this.directoryBytes.push(0);
    this.nodesBelow.push(0);
    return id;
  }

  /** The directory at `pathBytes[start, start + length)`, implied if no entry names it; undefined if a non-directory does. */
  private directory(start: number, length: number, before: number): number | undefined {
    const { pathBytes } = this.columns;
    const key = pathBytes.toString('latin1', start, start + length);
    const known = this.directoryIds.get(key);
    if (known !== undefined) return known;
    if (this.search(pathBytes, start, start + length, 0, before) >= 0) return undefined;
    let cut = start + length - 1;
    while (cut >= start && pathBytes[cut] !== slash) cut--;
    const parent = cut < start ? 0 : this.directory(start, cut - start, before);
    if (parent === undefined) return undefined;
    const id = this.addDirectory(key, -1, parent);
    (this.childCounts[parent] as number)++;
    const siblings = this.impliedChildren.get(parent);
    if (siblings) siblings.push(id);
    else this.impliedChildren.set(parent, [id]);
    return id;
  }

  /**
   * The replay links each hardlink, in path order, to its target's file (or to the file a hardlink before it
   * was linked to); a link counts bytes only when its target is not that file, i.e. a link to an earlier link.
   */
  private countHardlinks(hardlinks: number[]): void {
    for (const link of hardlinks) {
      const target = this.entryAt(layerEntryAt(this.columns, link).linkTarget ?? '');
      if (target === undefined) continue;
      const type = this.typeOf(target);
      if (type === 'file') {
        const file = layerEntryAt(this.columns, target);
        this.linkedFiles.set(link, { size: file.size, hash: file.contentHash });
      } else if (type === 'hardlink' && this.linkedFiles.has(target)) {
        const linked = this.linkedFiles.get(target) as LinkedFile;
        this.linkedFiles.set(link, linked);
        this.hardlinkBytes.set(link, linked.size);
        (this.directoryBytes[this.parents[link] as number] as number) += linked.size;
      }
    }
  }

  private typeOf(entry: number): string {
    return this.columns.types[this.columns.typeCodes[entry] as number] as string;
  }

  /** Binary search for exact path bytes among entries `[low, high)`; the index, or -1. */
  private search(bytes: Buffer, start: number, end: number, low: number, high: number): number {
    const { pathBytes, pathStarts } = this.columns;
    let lo = low;
    let hi = high;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = pathBytes.compare(bytes, start, end, pathStarts[mid], pathStarts[mid + 1]);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** First entry whose path is not below `prefix` bytes in order (a lower bound over all entries). */
  private lowerBound(prefix: Buffer): number {
    const { pathBytes, pathStarts, count } = this.columns;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pathBytes.compare(prefix, 0, prefix.length, pathStarts[mid], pathStarts[mid + 1]) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entry at an exact path, or undefined. */
  private entryAt(path: string): number | undefined {
    const bytes = Buffer.from(path, 'utf8');
    const found = this.search(bytes, 0, bytes.length, 0, this.columns.count);
    return found >= 0 ? found : undefined;
  }

  private directoryAt(path: string): number | undefined {
    return this.directoryIds.get(Buffer.from(path, 'utf8').toString('latin1'));
  }

  /** The node at a path without following symlinks, as the replay's `find` gives it. */
  private find(path: string): NodeHandle | undefined {
    const directory = this.directoryAt(path);
    if (directory !== undefined) {
      const entry = this.directoryEntries[directory] as number;
      return entry >= 0 ? entry : -(directory + 1);
    }
    return this.entryAt(path);
  }

  private directoryOf(node: NodeHandle): number {
    return node < 0 ? -node - 1 : (this.entryDirectories[node] as number);
  }

  private pathOf(directory: number): string {
    return Buffer.from(this.directoryKeys[directory] as string, 'latin1').toString('utf8');
  }

  private linkFlags(path: string, entry: LayerEntry): TreeFlag[] | undefined {
    if (entry.type === 'symlink') {
      const target = entry.linkTarget ?? '';
      const full = target.startsWith('/') ? target : joinPath(parentPath(path), target);
      const { node, escapes } = resolveLinks<NodeHandle>(full, {
        root: -1,
        child: (dir, name) => {
          const directory = this.directoryOf(dir);
          return directory < 0 ? undefined : this.find(joinPath(this.pathOf(directory), name));
        },
        symlinkTarget: (node) =>
          node >= 0 && this.typeOf(node) === 'symlink'
            ? (layerEntryAt(this.columns, node).linkTarget ?? '')
            : undefined,
      });
      const flags: TreeFlag[] = [];
      if (escapes) flags.push('link-escapes');
      if (node === undefined) flags.push('link-dangling');
      return flags.length > 0 ? flags : undefined;
    }
    if (entry.type === 'hardlink') {
      const target = this.find(entry.linkTarget ?? '');
      return target !== undefined && this.directoryOf(target) < 0 ? undefined : ['link-dangling'];
    }
    return undefined;
  }

  private counts(directory: number): { added: number; modified: number; removed: number } {
    return { added: this.nodesBelow[directory] as number, modified: 0, removed: 0 };
  }

  private directoryNode(directory: number, withCount: boolean): ListedNode {
    const path = this.pathOf(directory);
    const entry = this.directoryEntries[directory] as number;
    const listed: ListedNode = {
      name: path.slice(path.lastIndexOf('/') + 1),
      path,
      type: 'dir',
      status: 'added',
      size: this.directoryBytes[directory] as number,
      removedBytes: 0,
      layer: 0,
    };
    if (entry >= 0) listed.entry = layerEntryAt(this.columns, entry);
    else listed.flags = ['implicit'];
    listed.changes = this.counts(directory);
    if (withCount) listed.childCount = this.childCounts[directory];
    return listed;
  }

  private entryNode(index: number): ListedNode {
    const entry = layerEntryAt(this.columns, index);
    const listed: ListedNode = {
      name: entry.path.slice(entry.path.lastIndexOf('/') + 1),
      path: entry.path,
      type: entry.type,
      status: 'added',
      size: entry.type === 'file' ? entry.size : (this.hardlinkBytes.get(index) ?? 0),
      removedBytes: 0,
      layer: 0,
      entry,
    };
    const flags = this.linkFlags(entry.path, entry);
    if (flags) listed.flags = flags;
    return listed;
  }

  /** Direct children of a directory, entries in path order and then the directories only paths imply. */
  children(directory: number): BaseChild[] {
    const children: BaseChild[] = [];
    const [first, last] = this.descendants(directory);
    for (let i = first; i < last; i++) {
      if (this.parents[i] !== directory) continue;
      const entry = layerEntryAt(this.columns, i);
      const child: BaseChild = {
        name: entry.path.slice(entry.path.lastIndexOf('/') + 1),
        entry,
        directory: this.entryDirectories[i] as number,
      };
      const linked = this.linkedFiles.get(i);
      if (linked) child.linked = linked;
      children.push(child);
    }
    for (const implied of this.impliedChildren.get(directory) ?? []) {
      const path = this.pathOf(implied);
      children.push({ name: path.slice(path.lastIndexOf('/') + 1), entry: undefined, directory: implied });
    }
    return children;
  }

  /** Bytes present below a directory. */
  bytesBelow(directory: number): number {
    return this.directoryBytes[directory] as number;
  }

  /** Direct children of a directory. */
  childCount(directory: number): number {
    return this.childCounts[directory] as number;
  }

  /** Every hardlink linked to a file, with the bytes it counts in this layer alone. */
  *hardlinks(): Generator<BaseHardlink> {
    for (const [link, linked] of this.linkedFiles) {
      const entry = layerEntryAt(this.columns, link);
      yield {
        path: entry.path,
        target: entry.linkTarget ?? '',
        size: linked.size,
        hash: linked.hash,
        bytes: this.hardlinkBytes.get(link) ?? 0,
      };
    }
  }

  /** The run of entries `[first, last)` whose paths lie below a directory (all of them for the root). */
  private descendants(directory: number): [number, number] {
    if (directory === 0) return [0, this.columns.count];
    const path = this.pathOf(directory);
    return [
      this.lowerBound(Buffer.from(`${path}/`, 'utf8')),
      this.lowerBound(Buffer.from(`${path}0`, 'utf8')),
    ];
  }

  /** One directory of either view (both are the same for the bottom layer); undefined when it is not one. */
  list(path: string, _view: 'layer' | 'merged'): DirectoryContents | undefined {
    const id = path === '' ? 0 : this.directoryAt(path);
    if (id === undefined) return undefined;
    const directory: ListedNode =
      id === 0
        ? {
            name: '',
            path: '',
            type: 'dir',
            status: 'unchanged',
            size: this.directoryBytes[0] as number,
            removedBytes: 0,
            layer: -1,
            changes: this.counts(0),
          }
        : this.directoryNode(id, false);
    const children: ListedNode[] = [];
    const [first, last] = this.descendants(id);
    for (let i = first; i < last; i++) {
      if (this.parents[i] !== id) continue;
      const own = this.entryDirectories[i] as number;
      children.push(own >= 0 ? this.directoryNode(own, true) : this.entryNode(i));
    }
    for (const implied of this.impliedChildren.get(id) ?? [])
      children.push(this.directoryNode(implied, true));
    directory.childCount = children.length;
    children.sort((a, b) => comparePaths(a.name, b.name));
    return { directory, children };
  }
}
