/** Kinds of filesystem entry a layer tar can hold (whiteout markers are not entries). */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** How a layer blob is compressed, as read from its magic bytes. */
export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** One path a layer sets, with the metadata that decides whether it changed. */
export interface LayerEntry {
  /** Normalized POSIX path inside the image: no leading `/` or `./`, no trailing `/`, no `.` or `..` parts. */
  path: string;
  type: EntryType;
  /** Content bytes of a regular file; 0 for every other type (a hardlink's bytes belong to its target). */
  size: number;
  /** Permission bits including setuid, setgid and sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in whole seconds since the epoch; shown, never compared. */
  mtime: number;
  /** Symlink: the target exactly as written. Hardlink: the normalized image path it links to. */
  linkTarget?: string;
  /** Lowercase hex sha256 of a regular file's content. */
  contentHash?: string;
}

/** Why an entry of a layer tar was flagged. */
export type NoticeReason =
  | 'absolute-path'
  | 'parent-traversal'
  | 'hardlink-escape'
  | 'stray-whiteout'
  | 'unsupported-type'
  | 'root-entry';

/** Something odd or hostile in a layer tar; `dropped` entries are absent from the index. */
export interface LayerNotice {
  /** The entry name as the tar holds it (long names elided). */
  name: string;
  reason: NoticeReason;
  dropped: boolean;
}

/** A path written more than once in the same layer tar; the earlier copy's bytes are waste. */
export interface DuplicateEntry {
  path: string;
  size: number;
}

/** Everything Berth knows about one layer's files, built in one pass over its tar. */
export interface LayerIndex {
  /** `sha256:<hex>` of the uncompressed tar (the layer's DiffID). */
  diffId: string;
  compression: LayerCompression;
  /** Bytes read from the blob stream. */
  compressedSize: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  /** Entries sorted by path (UTF-16 code unit order), one per path, without whiteout markers. */
  entries: LayerEntry[];
  /** Paths this layer deletes from the layers below (`.wh.<name>`), sorted. */
  whiteouts: string[];
  /** Directories whose lower-layer children this layer hides (`.wh..wh..opq`), sorted; `''` is the root. */
  opaqueDirs: string[];
  duplicates: DuplicateEntry[];
  notices: LayerNotice[];
  /** Notices beyond the kept ones are only counted here. */
  noticesOmitted: number;
}

/** Prefix OCI whiteout markers carry. */
export const whiteoutPrefix = '.wh.';

/** Name of the OCI opaque-directory marker. */
export const opaqueMarker = '.wh..wh..opq';

/** A tar entry name turned into an image path, or the reason it cannot be one. */
export type NormalizedPath = { path: string; absolute: boolean } | { reason: 'parent-traversal' };

/** Matches a name with an empty, `.` or `..` part (which includes a leading or trailing `/`). */
const oddSegment = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** Normalizes a tar entry name to an image path without ever resolving `..`: any `..` part is refused. */
export function normalizeEntryPath(name: string): NormalizedPath {
  if (!oddSegment.test(name)) return { path: name, absolute: false };
  const absolute = name.startsWith('/');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { reason: 'parent-traversal' };
    parts.push(part);
  }
  return { path: parts.join('/'), absolute };
}

/** The directory part of a normalized path (`''` for top-level names). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** The last part of a normalized path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a directory and a name into a normalized path. */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/**
 * Resolves a symlink target written at `linkPath` lexically against the image root. Absolute targets are
 * taken from the image root (as a container sees them); `escapes` says a relative target climbed above it.
 */
export function resolveLinkTarget(linkPath: string, target: string): { path: string; escapes: boolean } {
  const parts = target.startsWith('/')
    ? []
    : parentPath(linkPath)
        .split('/')
        .filter((p) => p !== '');
  let escapes = false;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) escapes = true;
      else parts.pop();
      continue;
    }
    parts.push(part);
  }
  return { path: parts.join('/'), escapes };
}

/** Orders paths the way index entries are sorted (UTF-16 code units). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
