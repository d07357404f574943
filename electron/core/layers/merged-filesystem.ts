import {
  baseName,
  comparePaths,
  joinPath,
  parentPath,
  type EntryType,
  type LayerEntry,
  type LayerIndex,
} from './layer-entry';

/** How a path stands relative to the layers below the one being looked at. */
export type ChangeStatus = 'added' | 'modified' | 'removed' | 'unchanged';

/** Why a path left the filesystem. */
export type RemovalCause = 'whiteout' | 'opaque' | 'replaced';

/** Marks on a tree node that the UI and CLI surface as warnings. */
export type TreeFlag = 'implicit' | 'link-escapes' | 'link-dangling' | 'parent-not-directory';

/** A path a layer removed from the layers below it, with the bytes that removal hides. */
export interface RemovedPath {
  path: string;
  /** Undefined when the removed directory was only implied by its children. */
  entry: LayerEntry | undefined;
  type: EntryType;
  /** Layer that had written the removed copy. */
  layer: number;
  /** Bytes of this path alone (a file's size; 0 for directories and links). */
  bytes: number;
  cause: RemovalCause;
}

/** Bytes in some layer that do not reach the final filesystem. */
export interface WasteItem {
  path: string;
  bytes: number;
  /** Layer that wrote these bytes. */
  addedIn: number;
  /** Layer that overwrote or deleted them (equal to `addedIn` for a path written twice in one tar). */
  removedIn: number;
  kind: 'overwritten' | 'deleted' | 'duplicate';
}

/** What applying one layer did. */
export interface LayerChanges {
  layer: number;
  /** Status of every path the layer wrote, implied directories included (never 'removed'). */
  statuses: Map<string, ChangeStatus>;
  /** Paths removed from lower layers and not written again by this one, parents before children. */
  removed: RemovedPath[];
  waste: WasteItem[];
  /** Whiteouts that named a path no lower layer had. */
  unmatchedWhiteouts: string[];
}

/** One node of a file tree view: a file as it stands, or a directory with its children's totals. */
export interface FileTreeNode {
  name: string;
  /** Normalized path; `''` for the root. */
  path: string;
  type: EntryType;
  status: ChangeStatus;
  /** File bytes; for a directory, the bytes of every file below it that is still present. */
  size: number;
  /** For a removed node, the bytes its removal hides; for a directory, the bytes removed below it. */
  removedBytes: number;
  /** On directories: how many paths below were added, modified or removed. */
  changes?: { added: number; modified: number; removed: number };
  /** Layer that last wrote the path (-1 for the root). */
  layer: number;
  entry?: LayerEntry;
  flags?: TreeFlag[];
  /** Present on directories, sorted by name. */
  children?: FileTreeNode[];
}

interface FsNode {
  entry: LayerEntry | undefined;
  layer: number;
  children: Map<string, FsNode> | undefined;
  /** Bytes of the file a hardlink shared when it was written (counted only if that file later goes away). */
  linked?: LinkedFile;
  flags?: TreeFlag[];
}

const maxSymlinkHops = 40;

/** The file a hardlink was linked to when its layer was applied: its size and content hash. */
export interface LinkedFile {
  size: number;
  hash: string | undefined;
}

/** A hardlink of a {@link LayerBase} linked to a file, with the bytes it counts with that layer alone. */
export interface BaseHardlink extends LinkedFile {
  path: string;
  target: string;
  bytes: number;
}

/** A child of a directory of a {@link LayerBase}. */
export interface BaseChild {
  name: string;
  /** Undefined for a directory only paths below it imply. */
  entry: LayerEntry | undefined;
  /** The child's directory id when it is a directory, else -1. */
  directory: number;
  /** For a hardlink: the file it was linked to, as the replay's hardlink pass records it. */
  linked?: LinkedFile;
}

/**
 * A bottom layer read directory by directory (root is directory 0), with the roll-ups a replay of it alone
 * would give. {@link MergedFilesystem.above} builds on one without replaying it.
 */
export interface LayerBase {
  children(directory: number): BaseChild[];
  /** Bytes present below the directory with this layer alone. */
  bytesBelow(directory: number): number;
  childCount(directory: number): number;
  /** Every hardlink the replay links to a file. */
  hardlinks(): Iterable<BaseHardlink>;
}

/** A base shared by a filesystem's base directories, and whether layers are still being applied above it. */
interface BaseState {
  base: LayerBase;
  /** Set once the last layer is applied: directories read after that hold the base's subtree unchanged. */
  settled: boolean;
}

/**
 * A directory of the base layer whose children are read from the base on first access. Applying a layer
 * reaches anything it writes or removes through its parents' children, so a directory not read while layers
 * were applied still holds exactly the base's subtree, and the base's roll-ups for it.
 */
class BaseDirectory implements FsNode {
  flags?: TreeFlag[];
  private loaded: Map<string, FsNode> | undefined;
  private readWhileApplying = false;

  constructor(
    private readonly state: BaseState,
    private readonly id: number,
    public entry: LayerEntry | undefined,
    public layer: number,
  ) {
    if (entry === undefined && id !== 0) this.flags = ['implicit'];
  }

  get children(): Map<string, FsNode> {
    if (this.loaded) return this.loaded;
    if (!this.state.settled) this.readWhileApplying = true;
    const children = new Map<string, FsNode>();
    for (const child of this.state.base.children(this.id)) {
      if (child.directory >= 0) {
        children.set(child.name, new BaseDirectory(this.state, child.directory, child.entry, 0));
        continue;
      }
      const node: FsNode = { entry: child.entry, layer: 0, children: undefined };
      if (child.linked) node.linked = child.linked;
      children.set(child.name, node);
    }
    return (this.loaded = children);
  }

  /** The base's roll-ups while they still hold (see the class); undefined once layers may have changed it. */
  get untouched(): { bytes: number; childCount: number } | undefined {
    const { base, settled } = this.state;
    return settled && !this.readWhileApplying
      ? { bytes: base.bytesBelow(this.id), childCount: base.childCount(this.id) }
      : undefined;
  }
}

/** The base's roll-ups of a directory whose subtree is still the base's, else undefined. */
function untouchedBase(node: FsNode): { bytes: number; childCount: number } | undefined {
  return node instanceof BaseDirectory ? node.untouched : undefined;
}

/** The node a removed path shows as in either tree: marked removed, with the bytes its removal hides. */
function removedNode(removed: RemovedPath): FileTreeNode {
  const ghost: FileTreeNode = {
    name: baseName(removed.path),
    path: removed.path,
    type: removed.type,
    status: 'removed',
    size: 0,
    removedBytes: removed.bytes,
    layer: removed.layer,
  };
  if (removed.entry) ghost.entry = removed.entry;
  return ghost;
}

function nodeType(node: FsNode): EntryType {
  return node.entry?.type ?? 'dir';
}

function ownBytes(node: FsNode): number {
  return node.entry?.type === 'file' ? node.entry.size : 0;
}

function sameContent(
  a: LayerEntry,
  aLinked: FsNode['linked'],
  b: LayerEntry,
  bLinked: FsNode['linked'],
): boolean {
  if (a.type !== b.type || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  switch (a.type) {
    case 'file':
      return a.size === b.size && a.contentHash === b.contentHash;
    case 'symlink':
      return a.linkTarget === b.linkTarget;
    case 'hardlink':
      return (
        a.linkTarget === b.linkTarget && aLinked?.hash === bLinked?.hash && aLinked?.size === bLinked?.size
      );
    case 'dir':
    case 'char':
    case 'block':
    case 'fifo':
      return true;
  }
}

/** How {@link resolveLinks} walks a tree: children by name, and the target of a node that is a symlink. */
export interface LinkWalk<N> {
  root: N;
  /** The child named `name` of `dir`; undefined when `dir` is no directory or has no such child. */
  child(dir: N, name: string): N | undefined;
  /** A symlink's target as written; undefined for anything else. */
  symlinkTarget(node: N): string | undefined;
}

/**
 * Follows symlinks (absolute ones from the image root) the way a container would, bounded in hops; `escapes`
 * says a `..` climbed above the root.
 */
export function resolveLinks<N>(path: string, walk: LinkWalk<N>): { node: N | undefined; escapes: boolean } {
  const pending = path.split('/').reverse();
  const resolved: N[] = [];
  let node: N = walk.root;
  let escapes = false;
  let hops = 0;
  for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) escapes = true;
      resolved.pop();
      node = resolved[resolved.length - 1] ?? walk.root;
      continue;
    }
    const child = walk.child(node, part);
    if (child === undefined) return { node: undefined, escapes };
    const target = walk.symlinkTarget(child);
    if (target !== undefined) {
      if (++hops > maxSymlinkHops) return { node: undefined, escapes };
      if (target.startsWith('/')) {
        resolved.length = 0;
        node = walk.root;
      }
      pending.push(...target.split('/').reverse());
      continue;
    }
    resolved.push(child);
    node = child;
  }
  return { node, escapes };
}

/**
 * The filesystem an image's layers build, kept as one path trie updated layer by layer. Memory follows the
 * number of paths alive at the current layer, never layers × files: apply layers one at a time (loading each
 * index only when it is applied) and take views between applies.
 */
export class MergedFilesystem {
  private root: FsNode = { entry: undefined, layer: -1, children: new Map() };
  private applied = 0;
  private baseState: BaseState | undefined;

  /**
   * The filesystem after `base` as layer 0, its directories read from the base as layers applied above it
   * reach them: applying a small layer on a 200,000-path base touches only what that layer names.
   */
  static above(base: LayerBase): MergedFilesystem {
    const fs = new MergedFilesystem();
    fs.baseState = { base, settled: false };
    fs.root = new BaseDirectory(fs.baseState, 0, undefined, -1);
    fs.applied = 1;
    return fs;
  }

  /** Number of layers applied so far; the next layer applied gets this number. */
  get layerCount(): number {
    return this.applied;
  }

  /**
   * Applies the next layer (OCI order: whiteouts and opaque markers act on lower layers only, then entries).
   * `statuses: false` leaves `changes.statuses` empty, for a layer applied only to reach a layer above it: a map
   * entry per path is most of the time and garbage of replaying a layer of 200,000 paths.
   */
  applyLayer(index: LayerIndex, options: { statuses?: boolean } = {}): LayerChanges {
    if (this.baseState?.settled)
      throw new Error('no layer can be applied once directory listings were taken');
    const layer = this.applied++;
    const changes: LayerChanges = {
      layer,
      statuses: new Map(),
      removed: [],
      waste: [],
      unmatchedWhiteouts: [],
    };
    const statuses = options.statuses === false ? undefined : changes.statuses;
    const removedHere = new Map<string, RemovedPath>();
    const remove = (node: FsNode, path: string, cause: RemovalCause): void => {
      const stack: [FsNode, string][] = [[node, path]];
      for (let item = stack.pop(); item; item = stack.pop()) {
        const [current, currentPath] = item;
        const bytes = ownBytes(current);
        removedHere.set(currentPath, {
          path: currentPath,
          entry: current.entry,
          type: nodeType(current),
          layer: current.layer,
          bytes,
          cause,
        });
        if (bytes > 0)
          changes.waste.push({
            path: currentPath,
            bytes,
            addedIn: current.layer,
            removedIn: layer,
            kind: 'deleted',
          });
        if (current.children)
          for (const [name, child] of current.children) stack.push([child, joinPath(currentPath, name)]);
      }
    };

    for (const dir of index.opaqueDirs) {
      const node = this.find(dir);
      if (!node?.children) continue;
      for (const [name, child] of node.children) remove(child, joinPath(dir, name), 'opaque');
      node.children.clear();
    }
    for (const path of index.whiteouts) {
      const parent = this.find(parentPath(path));
      const name = baseName(path);
      const node = parent?.children?.get(name);
      if (!parent?.children || !node) {
        changes.unmatchedWhiteouts.push(path);
        continue;
      }
      remove(node, path, 'whiteout');
      parent.children.delete(name);
    }
    for (const duplicate of index.duplicates) {
      if (duplicate.size > 0) {
        changes.waste.push({
          path: duplicate.path,
          bytes: duplicate.size,
          addedIn: layer,
          removedIn: layer,
          kind: 'duplicate',
        });
      }
    }

    const hardlinks: [FsNode, LayerEntry][] = [];
    let lastDir: string | undefined;
    let lastParent: FsNode = this.root;
    for (const entry of index.entries) {
      const dir = parentPath(entry.path);
      // Sorted entries keep siblings together, so most lookups hit the previous parent.
      if (dir !== lastDir || !lastParent.children) {
        lastParent = this.ensureDirectory(dir, layer, statuses, removedHere, remove);
        lastDir = dir;
      }
      const parent = lastParent;
      const name = baseName(entry.path);
      const existing = parent.children?.get(name);
      const node: FsNode = { entry, layer, children: entry.type === 'dir' ? new Map() : undefined };
      let status: ChangeStatus;
      if (existing?.children && entry.type === 'dir') {
        status =
          existing.entry === undefined || sameContent(existing.entry, undefined, entry, undefined)
            ? 'unchanged'
            : 'modified';
        existing.entry = entry;
        existing.layer = layer;
        statuses?.set(entry.path, status);
        continue;
      }
      if (existing) {
        if (existing.children) {
          remove(existing, entry.path, 'replaced');
        } else {
          const bytes = ownBytes(existing);
          if (bytes > 0)
            changes.waste.push({
              path: entry.path,
              bytes,
              addedIn: existing.layer,
              removedIn: layer,
              kind: 'overwritten',
            });
        }
        status =
          existing.entry && sameContent(existing.entry, existing.linked, entry, undefined)
            ? 'unchanged'
            : 'modified';
      } else {
        const prior = removedHere.size > 0 ? removedHere.get(entry.path) : undefined;
        if (prior) {
          removedHere.delete(entry.path);
          status =
            prior.entry && sameContent(prior.entry, undefined, entry, undefined) ? 'unchanged' : 'modified';
        } else {
          status = 'added';
        }
      }
      parent.children?.set(name, node);
      statuses?.set(entry.path, status);
      if (entry.type === 'hardlink') hardlinks.push([node, entry]);
    }
    for (const [node, entry] of hardlinks) {
      const target = this.find(entry.linkTarget ?? '');
      if (target?.entry?.type === 'file')
        node.linked = { size: target.entry.size, hash: target.entry.contentHash };
      else if (target?.linked) node.linked = target.linked;
    }
    changes.removed = [...removedHere.values()].sort((a, b) => comparePaths(a.path, b.path));
    changes.waste.sort((a, b) => comparePaths(a.path, b.path));
    return changes;
  }

  /** Walks to `dir`, creating implied directories; a non-directory in the way is replaced and flagged. */
  private ensureDirectory(
    dir: string,
    layer: number,
    statuses: Map<string, ChangeStatus> | undefined,
    removedHere: Map<string, RemovedPath>,
    remove: (node: FsNode, path: string, cause: RemovalCause) => void,
  ): FsNode {
    let node = this.root;
    if (dir === '') return node;
    let path = '';
    for (const part of dir.split('/')) {
      path = joinPath(path, part);
      const children = node.children as Map<string, FsNode>;
      let child = children.get(part);
      if (!child?.children) {
        const next: FsNode = { entry: undefined, layer, children: new Map(), flags: ['implicit'] };
        let status: ChangeStatus = 'added';
        if (child) {
          remove(child, path, 'replaced');
          removedHere.delete(path);
          next.flags = ['implicit', 'parent-not-directory'];
          status = 'modified';
        } else if (removedHere.has(path)) {
          status = removedHere.get(path)?.type === 'dir' ? 'unchanged' : 'modified';
          removedHere.delete(path);
        }
        children.set(part, next);
        statuses?.set(path, status);
        child = next;
      }
      node = child;
    }
    return node;
  }

  /** The node at a normalized path, without following symlinks. */
  private find(path: string): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    if (path === '') return node;
    for (const part of path.split('/')) {
      node = node.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** Follows symlinks (absolute ones from the image root) the way a container would, bounded in hops. */
  private resolve(path: string): { node: FsNode | undefined; escapes: boolean } {
    return resolveLinks(path, {
      root: this.root,
      child: (dir, name) => dir.children?.get(name),
      symlinkTarget: (node) => (node.entry?.type === 'symlink' ? (node.entry.linkTarget ?? '') : undefined),
    });
  }

  private linkFlags(path: string, node: FsNode): TreeFlag[] | undefined {
    const entry = node.entry;
    if (entry?.type === 'symlink') {
      const target = entry.linkTarget ?? '';
      const full = target.startsWith('/') ? target : joinPath(parentPath(path), target);
      const { node: found, escapes } = this.resolve(full);
      const flags: TreeFlag[] = [];
      if (escapes) flags.push('link-escapes');
      if (!found) flags.push('link-dangling');
      return flags.length > 0 ? flags : undefined;
    }
    if (entry?.type === 'hardlink') {
      const target = this.find(entry.linkTarget ?? '');
      return target && !target.children ? undefined : ['link-dangling'];
    }
    return undefined;
  }

  /** Bytes of a node as the final filesystem holds them: a hardlink counts only when its file is gone. */
  private presentBytes(path: string, node: FsNode): number {
    if (node.entry?.type !== 'hardlink' || !node.linked) return ownBytes(node);
    const target = this.find(node.entry.linkTarget ?? '');
    return target?.entry?.type === 'file' && target.entry.contentHash === node.linked.hash
      ? 0
      : node.linked.size;
  }

  /** Total bytes of the filesystem as it stands (hardlinked content counted once). */
  totalBytes(): number {
    let total = 0;
    this.walk((path, node) => {
      total += this.presentBytes(path, node);
    });
    return total;
  }

  private walk(visit: (path: string, node: FsNode) => void): void {
    const stack: [string, FsNode][] = [['', this.root]];
    for (let item = stack.pop(); item; item = stack.pop()) {
      const [path, node] = item;
      if (path !== '') visit(path, node);
      if (node.children) for (const [name, child] of node.children) stack.push([joinPath(path, name), child]);
    }
  }

  /** Every path present, with the layer that last wrote it (for search and export checks). */
  *paths(): Generator<{ path: string; layer: number; entry: LayerEntry | undefined }> {
    const stack: [string, FsNode][] = [['', this.root]];
    for (let item = stack.pop(); item; item = stack.pop()) {
      const [path, node] = item;
      if (path !== '') yield { path, layer: node.layer, entry: node.entry };
      if (node.children) for (const [name, child] of node.children) stack.push([joinPath(path, name), child]);
    }
  }

  /** The entry at a path and the layer holding it, following no symlinks; undefined when absent. */
  lookup(path: string): { entry: LayerEntry | undefined; layer: number; type: EntryType } | undefined {
    const node = this.find(path);
    return node && path !== '' ? { entry: node.entry, layer: node.layer, type: nodeType(node) } : undefined;
  }

  /**
   * The merged view: the whole filesystem as it stands, marked against the layers below the last one applied
   * (pass that layer's changes), with what it removed shown as removed nodes.
   */
  mergedTree(changes?: LayerChanges): FileTreeNode {
    const assembler = new TreeAssembler((path) => this.directoryNode(path));
    const build = (path: string, name: string, node: FsNode): FileTreeNode => {
      const tree = this.treeNode(
        path,
        name,
        node,
        path === '' ? 'unchanged' : (changes?.statuses.get(path) ?? 'unchanged'),
      );
      if (node.children) {
        assembler.register(tree);
        tree.children = [];
        for (const [childName, child] of node.children)
          tree.children.push(build(joinPath(path, childName), childName, child));
      }
      return tree;
    };
    const root = build('', '', this.root);
    if (changes) for (const removed of changes.removed) assembler.placeRemoved(removed);
    return finishTree(root);
  }

  /** The layer-only view: just what the last applied layer wrote or removed, inside the directories that hold it. */
  layerTree(changes: LayerChanges): FileTreeNode {
    const assembler = new TreeAssembler((path) => this.directoryNode(path));
    const root = assembler.directory('');
    let lastDir: string | undefined;
    let lastParent: FsNode | undefined;
    for (const [path, status] of changes.statuses) {
      const dir = parentPath(path);
      if (dir !== lastDir) {
        lastParent = this.find(dir);
        lastDir = dir;
      }
      const node = lastParent?.children?.get(baseName(path));
      if (!node) continue;
      if (node.children) {
        assembler.directory(path).status = status;
        continue;
      }
      assembler.place(this.treeNode(path, baseName(path), node, status));
    }
    for (const removed of changes.removed) assembler.placeRemoved(removed);
    return finishTree(root);
  }

  /**
   * Both views of the last applied layer as per-directory listings: one pass over what the layer changed
   * (and, on first use of the merged view, one walk summing sizes) instead of a node per path, so listing any
   * directory of a 200,000-file layer costs only its own children. Listings equal the matching nodes of
   * {@link mergedTree} and {@link layerTree}; apply no further layer while using them.
   */
  directoryListings(changes: LayerChanges): DirectoryListings {
    if (this.baseState && !this.baseState.settled) {
      this.readChangedBaseHardlinks(this.baseState.base);
      this.baseState.settled = true;
    }
    return new DirectoryListings(changes, {
      find: (path) => this.find(path),
      treeNode: (path, name, node, status) => this.treeNode(path, name, node, status),
      presentBytes: (path, node) => this.presentBytes(path, node),
      root: this.root,
    });
  }

  /**
   * A base hardlink whose target a layer above removed or rewrote counts other bytes than the base's roll-ups
   * say: reading the directories down to it makes the sizes walk count it as it now stands.
   */
  private readChangedBaseHardlinks(base: LayerBase): void {
    for (const link of base.hardlinks()) {
      const target = this.find(link.target);
      const bytes = target?.entry?.type === 'file' && target.entry.contentHash === link.hash ? 0 : link.size;
      if (bytes !== link.bytes) this.find(link.path);
    }
  }

  /** A directory's own tree node (no children yet), unchanged unless a caller says otherwise. */
  private directoryNode(path: string): FileTreeNode {
    const node = this.find(path);
    if (node?.children) return { ...this.treeNode(path, baseName(path), node, 'unchanged'), children: [] };
    return emptyDirectory(path, -1);
  }

  private treeNode(path: string, name: string, node: FsNode, status: ChangeStatus): FileTreeNode {
    const tree: FileTreeNode = {
      name,
      path,
      type: nodeType(node),
      status,
      size: this.presentBytes(path, node),
      removedBytes: 0,
      layer: node.layer,
    };
    if (node.entry) tree.entry = node.entry;
    const linkFlags =
      node.entry?.type === 'symlink' || node.entry?.type === 'hardlink'
        ? this.linkFlags(path, node)
        : undefined;
    if (node.flags || linkFlags) tree.flags = [...(node.flags ?? []), ...(linkFlags ?? [])];
    return tree;
  }
}

function emptyDirectory(path: string, layer: number): FileTreeNode {
  return {
    name: baseName(path),
    path,
    type: 'dir',
    status: 'unchanged',
    size: 0,
    removedBytes: 0,
    changes: { added: 0, modified: 0, removed: 0 },
    layer,
    children: [],
  };
}

/** Places nodes into a tree by path, creating the directories between them on demand. */
class TreeAssembler {
  private readonly directories = new Map<string, FileTreeNode>();

  constructor(private readonly makeDirectory: (path: string) => FileTreeNode) {}

  register(node: FileTreeNode): void {
    this.directories.set(node.path, node);
  }

  directory(path: string): FileTreeNode {
    const known = this.directories.get(path);
    if (known) return known;
    const node = this.makeDirectory(path);
    node.children ??= [];
    this.directories.set(path, node);
    if (path !== '') this.directory(parentPath(path)).children?.push(node);
    return node;
  }

  place(node: FileTreeNode): void {
    if (node.children) this.directories.set(node.path, node);
    this.directory(parentPath(node.path)).children?.push(node);
  }

  placeRemoved(removed: RemovedPath): void {
    const ghost = removedNode(removed);
    if (removed.type === 'dir') ghost.children = [];
    this.place(ghost);
  }
}

/** Sorts children by name and rolls sizes and change counts up into directories. */
function finishTree(node: FileTreeNode): FileTreeNode {
  if (!node.children) return node;
  node.children.sort((a, b) => comparePaths(a.name, b.name));
  let size = 0;
  let removedBytes = node.status === 'removed' ? node.removedBytes : 0;
  const counts = { added: 0, modified: 0, removed: 0 };
  for (const child of node.children) {
    finishTree(child);
    size += child.size;
    removedBytes += child.removedBytes;
    if (child.status !== 'unchanged') counts[child.status] += 1;
    if (child.changes) {
      counts.added += child.changes.added;
      counts.modified += child.changes.modified;
      counts.removed += child.changes.removed;
    }
  }
  node.size = node.status === 'removed' ? 0 : size;
  node.removedBytes = removedBytes;
  node.changes = counts;
  return node;
}

/** Indexes of an image's layers in order: in memory, or loaded one at a time so memory stays flat. */
export type LayerIndexSource =
  readonly LayerIndex[] | { count: number; load(layer: number): Promise<LayerIndex> };

/** Yields each layer index of a source in order. */
export async function* layerIndexes(source: LayerIndexSource): AsyncGenerator<LayerIndex> {
  if (Array.isArray(source)) {
    yield* source as readonly LayerIndex[];
    return;
  }
  const loader = source as { count: number; load(layer: number): Promise<LayerIndex> };
  for (let layer = 0; layer < loader.count; layer++) yield await loader.load(layer);
}

/** Both views of one layer: what it changed, and the filesystem after it. */
export interface LayerView {
  layer: number;
  layerOnly: FileTreeNode;
  merged: FileTreeNode;
  changes: LayerChanges;
}

/** Replays layers 0..`layer` and returns both views of `layer`. */
export async function viewLayer(source: LayerIndexSource, layer: number): Promise<LayerView> {
  const fs = new MergedFilesystem();
  let changes: LayerChanges | undefined;
  for await (const index of layerIndexes(source)) {
    changes = fs.applyLayer(index, { statuses: fs.layerCount === layer });
    if (changes.layer === layer) break;
  }
  if (changes?.layer !== layer) throw new RangeError(`image has no layer ${layer}`);
  return { layer, layerOnly: fs.layerTree(changes), merged: fs.mergedTree(changes), changes };
}

/** A tree node with the number of children it has in its view (directories only). */
export interface ListedNode extends FileTreeNode {
  childCount?: number;
}

/** One directory of a view: its own node and its children in name order, neither with `children` set. */
export interface DirectoryContents {
  directory: ListedNode;
  children: ListedNode[];
}

/** Directory-at-a-time listings of a layer's two views, however they were built. */
export interface ViewListings {
  /** One directory of the layer-only view (`layer`) or of the filesystem after the layer (`merged`). */
  list(path: string, view: 'layer' | 'merged'): DirectoryContents | undefined;
}

interface FilesystemAccess {
  find(path: string): FsNode | undefined;
  treeNode(path: string, name: string, node: FsNode, status: ChangeStatus): FileTreeNode;
  presentBytes(path: string, node: FsNode): number;
  root: FsNode;
}

type ChangeCounts = { added: number; modified: number; removed: number };

/** What lies below one directory in the layer-only view: change counts, removed bytes, written bytes. */
interface Rollup {
  added: number;
  modified: number;
  removed: number;
  removedBytes: number;
  /** Bytes of the files the layer wrote below (the layer view's size). */
  layerBytes: number;
  /** Nodes of the layer view below: paths the layer wrote and paths it removed. */
  members: number;
}

const emptyRollup = (): Rollup => ({
  added: 0,
  modified: 0,
  removed: 0,
  removedBytes: 0,
  layerBytes: 0,
  members: 0,
});

function depthOf(path: string): number {
  let depth = 0;
  for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) depth++;
  return path === '' ? -1 : depth;
}

/** See {@link MergedFilesystem.directoryListings}. */
export class DirectoryListings implements ViewListings {
  /** Roll-ups by directory path (a removed directory's under its own path: nothing present shares it). */
  private readonly rollups = new Map<string, Rollup>();
  private readonly ghostKids = new Map<string, RemovedPath[]>();
  private readonly ghostDirs = new Map<string, RemovedPath>();
  private mergedSizes: Map<FsNode, number> | undefined;

  constructor(
    private readonly changes: LayerChanges,
    private readonly fs: FilesystemAccess,
  ) {
    let lastDir: string | undefined;
    let lastParent: FsNode | undefined;
    let lastRollup = emptyRollup();
    for (const [path, status] of changes.statuses) {
      const dir = parentPath(path);
      // Statuses come grouped by directory, so most lookups reuse the previous parent.
      if (dir !== lastDir) {
        lastParent = fs.find(dir);
        lastRollup = this.rollup(dir);
        lastDir = dir;
      }
      const node = lastParent?.children?.get(baseName(path));
      if (!node) continue;
      lastRollup.members += 1;
      if (status !== 'unchanged') lastRollup[status] += 1;
      if (!node.children) lastRollup.layerBytes += fs.presentBytes(path, node);
    }
    for (const removed of changes.removed) {
      const parent = parentPath(removed.path);
      const rollup = this.rollup(parent);
      rollup.members += 1;
      rollup.removed += 1;
      rollup.removedBytes += removed.bytes;
      const siblings = this.ghostKids.get(parent);
      if (siblings) siblings.push(removed);
      else this.ghostKids.set(parent, [removed]);
      if (removed.type === 'dir') this.ghostDirs.set(removed.path, removed);
    }
    // Fold each directory into its parent, deepest first; parents made on the way join their own depth.
    const byDepth: string[][] = [];
    for (const path of this.rollups.keys()) {
      const depth = depthOf(path);
      if (depth >= 0) (byDepth[depth] ??= []).push(path);
    }
    for (let depth = byDepth.length - 1; depth >= 0; depth--) {
      for (const path of byDepth[depth] ?? []) {
        const parent = parentPath(path);
        const known = this.rollups.get(parent);
        const into = known ?? this.rollup(parent);
        if (!known && parent !== '') (byDepth[depth - 1] ??= []).push(parent);
        const from = this.rollups.get(path) as Rollup;
        into.added += from.added;
        into.modified += from.modified;
        into.removed += from.removed;
        into.removedBytes += from.removedBytes;
        into.layerBytes += from.layerBytes;
        into.members += from.members;
      }
    }
  }

  private rollup(path: string): Rollup {
    let rollup = this.rollups.get(path);
    if (!rollup) {
      rollup = emptyRollup();
      this.rollups.set(path, rollup);
    }
    return rollup;
  }

  private counts(path: string): ChangeCounts {
    const rollup = this.rollups.get(path);
    return rollup
      ? { added: rollup.added, modified: rollup.modified, removed: rollup.removed }
      : { added: 0, modified: 0, removed: 0 };
  }

  private ghostNode(removed: RemovedPath): ListedNode {
    const ghost: ListedNode = removedNode(removed);
    if (removed.type === 'dir') {
      ghost.removedBytes = removed.bytes + (this.rollups.get(removed.path)?.removedBytes ?? 0);
      ghost.changes = this.counts(removed.path);
      ghost.childCount = this.ghostKids.get(removed.path)?.length ?? 0;
    }
    return ghost;
  }

  private sizeOf(node: FsNode): number {
    if (!this.mergedSizes) {
      const sizes = new Map<FsNode, number>();
      // presentBytes reads no path, so the walk builds none.
      const walk = (current: FsNode): number => {
        let total = 0;
        for (const child of current.children?.values() ?? []) {
          const base = untouchedBase(child);
          total += base ? base.bytes : child.children ? walk(child) : this.fs.presentBytes('', child);
        }
        sizes.set(current, total);
        return total;
      };
      walk(this.fs.root);
      this.mergedSizes = sizes;
    }
    return this.mergedSizes.get(node) ?? untouchedBase(node)?.bytes ?? 0;
  }

  /** True when a present directory shows in the layer view: the layer wrote it or something below it. */
  private inLayerView(path: string): boolean {
    return path === '' || this.changes.statuses.has(path) || (this.rollups.get(path)?.members ?? 0) > 0;
  }

  private directoryNode(path: string, node: FsNode, view: 'layer' | 'merged'): ListedNode {
    const status = path === '' ? 'unchanged' : (this.changes.statuses.get(path) ?? 'unchanged');
    const listed: ListedNode =
      path === ''
        ? { name: '', path: '', type: 'dir', status, size: 0, removedBytes: 0, layer: -1 }
        : this.fs.treeNode(path, baseName(path), node, status);
    listed.size = view === 'merged' ? this.sizeOf(node) : (this.rollups.get(path)?.layerBytes ?? 0);
    listed.removedBytes = this.rollups.get(path)?.removedBytes ?? 0;
    listed.changes = this.counts(path);
    return listed;
  }

  /** One directory of the layer-only view (`layer`) or of the filesystem after the layer (`merged`). */
  list(path: string, view: 'layer' | 'merged'): DirectoryContents | undefined {
    const node = this.fs.find(path);
    const ghosts = (this.ghostKids.get(path) ?? []).map((g) => this.ghostNode(g));
    if (!node?.children || (view === 'layer' && !this.inLayerView(path))) {
      const ghost = this.ghostDirs.get(path);
      if (!ghost) return undefined;
      return {
        directory: this.ghostNode(ghost),
        children: ghosts.sort((a, b) => comparePaths(a.name, b.name)),
      };
    }
    const directory = this.directoryNode(path, node, view);
    const children: ListedNode[] = [];
    for (const [name, child] of node.children) {
      const childPath = joinPath(path, name);
      if (child.children) {
        if (view === 'merged' || this.inLayerView(childPath)) {
          const listed = this.directoryNode(childPath, child, view);
          listed.childCount = this.childCount(childPath, child, view);
          children.push(listed);
        }
      } else if (view === 'merged' || this.changes.statuses.has(childPath)) {
        children.push(
          this.fs.treeNode(childPath, name, child, this.changes.statuses.get(childPath) ?? 'unchanged'),
        );
      }
    }
    directory.childCount = children.length + ghosts.length;
    children.push(...ghosts);
    children.sort((a, b) => comparePaths(a.name, b.name));
    return { directory, children };
  }

  private childCount(path: string, node: FsNode, view: 'layer' | 'merged'): number {
    const ghosts = this.ghostKids.get(path)?.length ?? 0;
    if (view === 'merged') return (untouchedBase(node)?.childCount ?? node.children?.size ?? 0) + ghosts;
    let count = ghosts;
    for (const [name, child] of node.children ?? []) {
      const childPath = joinPath(path, name);
      if (child.children ? this.inLayerView(childPath) : this.changes.statuses.has(childPath)) count++;
    }
    return count;
  }
}
