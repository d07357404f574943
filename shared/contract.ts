/**
 * The one contract between the UI and the main process. Every operation and every event is declared here
 * once; the IPC server, the preload bridge, the WebSocket server and client all loop over these keys.
 */
import type { WireError } from './error';

/** An OCI platform as `os/arch[/variant]` parts. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** One row of the image list: what `docker images` / `podman images` show, plus sizes and platform. */
export interface ImageSummary {
  /** Config digest (`sha256:…`); the image ID. */
  id: string;
  /** Fully-qualified tagged names, e.g. `docker.io/library/alpine:3.20`. */
  repoTags: string[];
  /** Canonical `repo@sha256:…` for each repository it came from or went to. */
  repoDigests: string[];
  /** Digest of the manifest (or index) the image was stored from. */
  digest: string;
  /** ISO 8601 creation time from the config, when present. */
  created?: string;
  /** Sum of compressed layer sizes plus config. */
  size: number;
  /** Sum of uncompressed layer sizes when known (0 when not yet computed). */
  uncompressedSize: number;
  platform: Platform;
  labels: Record<string, string>;
  dangling: boolean;
  /** True when another image's layers start with all of this image's layers. */
  inUse?: boolean;
  /** Digests of configs of other platforms from the same index. */
  siblingPlatforms?: Platform[];
  /** ISO 8601 time the image entered the store. */
  added?: string;
  /** True when fsck found a blob of this image corrupt or missing: pull it again. */
  needsRepull?: boolean;
}

/** Which first rows `images:page` returns: the table's sort when it is by creation time or size. */
export interface ImagePageParams {
  /** Rows wanted, 1 to 1,000. */
  limit: number;
  sort?: { key: 'created' | 'size'; descending: boolean };
}

/** The table's first screen of images, sent before the whole list, and how many images there are. */
export interface ImagePage {
  images: ImageSummary[];
  total: number;
}

/** `docker history` row, newest first. */
export interface HistoryEntry {
  /** The image ID on the top entry, `<missing>` elsewhere. */
  id: string;
  created?: string;
  createdBy: string;
  size: number;
  comment: string;
  emptyLayer: boolean;
}

/** A layer as the details view shows it. */
export interface LayerSummary {
  digest: string;
  diffId?: string;
  mediaType: string;
  size: number;
  uncompressedSize?: number;
  createdBy?: string;
}

/** Everything `inspect` tells about one image. */
export interface ImageDetails extends ImageSummary {
  manifestMediaType: string;
  user?: string;
  env: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  exposedPorts: string[];
  annotations: Record<string, string>;
  layers: LayerSummary[];
  diffIds: string[];
  history: HistoryEntry[];
  /** Raw config and manifest documents for the Inspect tab. */
  config: unknown;
  manifest: unknown;
  source?: string;
}

/** One node of the layer hierarchy (`podman image tree`). */
export interface LayerChain {
  chainId: string;
  diffId: string;
  parent?: string;
  children: string[];
  size: number;
  /** IDs of images whose top layer is this chain. */
  topOf: string[];
}

/** Per-image disk use, as `docker system df -v`. */
export interface ImageDiskUsage {
  id: string;
  repoTags: string[];
  size: number;
  sharedSize: number;
  uniqueSize: number;
}

/** Store-wide disk use. */
export interface DiskUsage {
  totalSize: number;
  reclaimable: number;
  images: ImageDiskUsage[];
}

/** What changed in the store; one line of the events log. */
export interface StoreEvent {
  time: string;
  action:
    | 'pull'
    | 'push'
    | 'tag'
    | 'untag'
    | 'remove'
    | 'prune'
    | 'load'
    | 'save'
    | 'import'
    | 'export'
    | 'squash'
    | 'gc'
    | 'repair';
  id?: string;
  names?: string[];
  detail?: Record<string, unknown>;
}

/** Status of one layer within a pull or push. */
export type LayerStatus =
  | 'waiting'
  | 'downloading'
  | 'uploading'
  | 'retrying'
  | 'verifying'
  | 'indexing'
  | 'complete'
  | 'exists'
  | 'failed';

/** True while a pull or push still has work to do (it can be cancelled). */
export function pullActive(progress: Pick<PullProgress, 'state'> | undefined): boolean {
  const state = progress?.state;
  return state === 'resolving' || state === 'running' || state === 'stored';
}

/** A throttled snapshot of one pull's (or push's) progress; pushes share the stream and the task list. */
export interface PullProgress {
  pullId: string;
  /** `push` for a push (then `reference` is the destination); absent for a pull. */
  kind?: 'pull' | 'push';
  reference: string;
  /**
   * `stored`: every blob is verified by its digest and the image is committed under its name (usable), while
   * DiffIDs are checked and file indexes built; a wrong DiffID then removes the image and the pull `failed`.
   */
  state: 'resolving' | 'running' | 'stored' | 'complete' | 'failed' | 'cancelled';
  layers: {
    digest: string;
    status: LayerStatus;
    done: number;
    total: number;
    retryInSeconds?: number;
  }[];
  done: number;
  total: number;
  bytesPerSecond: number;
  etaSeconds?: number;
  imageId?: string;
  error?: WireError;
}

/** Filters understood by `images:list`, as in `podman images --filter`. */
export interface ImageFilter {
  reference?: string[];
  dangling?: boolean;
  /** `key` or `key=value`; a leading `!` negates (the CLI's `label!=`). Prune's `label` reads the same. */
  label?: string[];
  before?: string;
  since?: string;
}

/** User settings persisted in `config.json`. */
export interface Settings {
  parallelDownloads: number;
  theme: 'light' | 'dark' | 'system';
}

/** Facts about the running host. */
export interface AppInfo {
  version: string;
  storePath: string;
  host: 'electron' | 'serve';
  platform: Platform;
}

/** How a reference typed in the Pull dialog resolves under registries.conf (aliases, search registries). */
export interface ReferenceResolution {
  input: string;
  /** The input named no registry, so registries.conf decided. */
  shortName: boolean;
  /** Fully qualified references to try, in order; never empty. */
  candidates: { reference: string; origin: 'qualified' | 'alias' | 'search' }[];
  /** Search registries skipped because registries.conf blocks them. */
  blocked: string[];
  ambiguous: boolean;
  /** One sentence, e.g. `alpine → docker.io/library/alpine:latest (alias)`. */
  summary: string;
}

/** What the Pull dialog learns about a remote image without pulling it. */
export interface RemoteImageSummary {
  /** `registry/repository`. */
  name: string;
  /** Digest the reference points at (an index for a multi-platform tag). */
  digest: string;
  mediaType: string;
  /** Platforms the index offers, or the image's own for a single manifest. */
  platforms: Platform[];
  /** Bytes a pull of the chosen platform downloads. */
  size: number;
  created?: string;
}

/** One registry's credentials as the Registries view lists them: where they live, never the secret. */
export interface CredentialEntry {
  registry: string;
  username?: string;
  /** The auth file, or the credential helper that holds them. */
  source: string;
}

/** registries.conf and the saved logins, read-only, for the Registries view. */
export interface RegistriesOverview {
  /** Files registries.conf was merged from, in order. */
  sources: string[];
  /** `unqualified-search-registries`, or docker.io when no file set it. */
  searchRegistries: string[];
  aliases: Record<string, string>;
  shortNameMode: 'enforcing' | 'permissive' | 'disabled';
  registries: {
    prefix: string;
    location: string;
    insecure: boolean;
    blocked: boolean;
    mirrors: { location: string; insecure: boolean; pullFromMirror: 'all' | 'digest-only' | 'tag-only' }[];
  }[];
  insecureRegistries: string[];
  credentials: CredentialEntry[];
  /** The auth file login writes. */
  authFile: string;
}

/** Whether a stored image is still what its name points at in the registry. */
export interface UpdateCheck {
  /** The fully qualified name that was checked. */
  name: string;
  localDigest: string;
  remoteDigest: string;
  upToDate: boolean;
}

/** The archive layouts `images:save`/`berth save` write and `berth load` reads. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** One image an archive holds: its ID and the full names it carries. */
export interface ArchivedImage {
  id: string;
  names: string[];
}

/** What to put in an archive: names (that name goes in) or IDs (every name of the image goes in). */
export interface ArchiveSaveRequest {
  images: string[];
  format?: ArchiveFormat;
  /** Gzips the whole archive. */
  compress?: boolean;
}

/** An archive written. */
export interface SavedArchive {
  /** Where it was written (a file name only, for a browser download). */
  path: string;
  format: ArchiveFormat;
  compressed: boolean;
  images: ArchivedImage[];
}

/** An archive loaded. */
export interface LoadedArchive {
  format: ArchiveFormat;
  /** The compression of the whole archive, told by its magic bytes. */
  compression: 'gzip' | 'zstd' | 'none';
  images: ArchivedImage[];
  /** Names in the archive that are not valid references and were left off. */
  skippedNames: string[];
}

/** How a host moves archive files: its own file dialogs (Electron), or a download and an upload (berth serve). */
export type ArchiveTransferKind = 'native-dialog' | 'http';

/** The transfer a host offers: Electron shows native dialogs in main, the browser host moves files over HTTP. */
export function archiveTransferOf(host: AppInfo['host']): ArchiveTransferKind {
  return host === 'electron' ? 'native-dialog' : 'http';
}

/** The HTTP paths `berth serve` offers for archives (the token cookie guards them like every request). */
export const archiveHttpPaths = {
  /** POST an ArchiveSaveRequest as JSON; the answer is an Outcome of `{ download, archive }`. */
  save: '/archive/save',
  /** GET `<download>` from a save answer to fetch the file (once). */
  download: '/archive/download/',
  /** POST the archive bytes as the body; the answer is an Outcome of LoadedArchive. */
  load: '/archive/load',
} as const;
/** How a path stands against the layers below (or, in a comparison, against the other image). */
export type FileChange = 'added' | 'modified' | 'removed' | 'unchanged';

/** Kinds of file tree entry (OCI whiteout markers are never entries). */
export type FileKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** Which tree of a layer to show: what the layer changed, or the filesystem as it stands after it. */
export type LayerViewKind = 'layer' | 'merged';

/** One layer in the explorer's list, bottom first: the details view's facts plus what indexing found. */
export interface ExplorerLayer extends LayerSummary {
  index: number;
  /** Number of paths the layer sets (whiteouts excluded); undefined when unreadable. */
  entryCount?: number;
  /** Set when the layer blob is missing, corrupt or unreadable: the explorer shows it empty. */
  problem?: { code: string; message: string };
}

/** One entry of a directory listing, with roll-ups for directories. */
export interface FileEntry {
  name: string;
  path: string;
  type: FileKind;
  change: FileChange;
  /** File bytes; for a directory, bytes of every present file below it (hardlinks counted once). */
  size: number;
  /** For a removed entry, the bytes its removal hides; for a directory, the bytes removed below it. */
  removedBytes: number;
  /** Layer holding this copy (-1 for implied directories). */
  layer: number;
  /** On directories: changed paths below. */
  changes?: { added: number; modified: number; removed: number };
  /** On directories: how many direct children. */
  childCount?: number;
  linkTarget?: string;
  /** `link-escapes`, `link-dangling`, `implicit`, `parent-not-directory`. */
  flags?: string[];
  mode?: number;
  uid?: number;
  gid?: number;
}

/** One directory of a layer's tree: its own roll-up and its direct children (sorted by name). */
export interface DirectoryListing {
  layer: number;
  view: LayerViewKind;
  directory: FileEntry;
  entries: FileEntry[];
}

/** A path one layer added, modified, rewrote unchanged or removed. */
export interface LayerSearchHit {
  path: string;
  layer: number;
  change: FileChange;
  type: FileKind;
  size: number;
}

/** Wasted bytes of one path with the layers that wrote and removed them. */
export interface WastedPathSummary {
  path: string;
  bytes: number;
  addedIn: number[];
  removedIn: number[];
}

/** Waste and efficiency of an image, itemized by path. */
export interface EfficiencyReport {
  totalBytes: number;
  finalBytes: number;
  wastedBytes: number;
  /** finalBytes / totalBytes (1 when there are no file bytes). */
  efficiency: number;
  /** Largest first; at most `limit` of them. */
  paths: WastedPathSummary[];
  pathCount: number;
  layers: { layer: number; bytes: number; wastedBytes: number }[];
}

/** The first bytes of a file for the preview pane. */
export interface FilePreviewResult {
  path: string;
  layer: number;
  type: 'file' | 'symlink';
  size: number;
  /** UTF-8 text of the first 64 KiB; absent when binary. */
  text?: string;
  binary: boolean;
  truncated: boolean;
  linkTarget?: string;
}

/** What an extraction wrote. */
export interface ExtractSummary {
  destination: string;
  written: number;
  bytes: number;
  skipped: { path: string; reason: string }[];
  /** False when the user closed the folder dialog: nothing was written. */
  done: boolean;
}

/** One directory of two images' merged trees side by side: `change` reads as going from `image` to `other`. */
export interface CompareListing {
  directory: CompareEntry;
  entries: CompareEntry[];
}

/** One path in a comparison: its size in each image (absent where it does not exist). */
export interface CompareEntry {
  name: string;
  path: string;
  type: FileKind;
  change: FileChange;
  sizeBefore?: number;
  sizeAfter?: number;
  changes?: { added: number; modified: number; removed: number };
  childCount?: number;
}

type Empty = Record<string, never>;

// A phantom-typed descriptor: the value is an empty object, the types ride along.
/** One platform of the index an image was stored from, and the stored image for it when there is one. */
export interface ImagePlatform {
  platform: Platform;
  /** The platform manifest's digest in the index. */
  manifestDigest: string;
  /** ID (config digest) of the stored image for this platform; absent when the platform is not in the store. */
  image?: string;
  /** True for the image that was asked about. */
  current: boolean;
}

/** The platforms of an image's index, for exploring another platform of the same image (or pulling it). */
export interface ImagePlatforms {
  /** Digest of the index the image was stored from; absent for an image stored from a lone manifest. */
  index?: string;
  /** A `repo@digest` that pulls from the index (with a platform); absent when the store knows none. */
  pullReference?: string;
  /** Every platform the index offers (attestations left out), in its order; just the image's own without one. */
  platforms: ImagePlatform[];
}

const op = <P, R>() => ({}) as { readonly params: P; readonly result: R };
const ev = <P>() => ({}) as { readonly payload: P };

/** Every operation the UI can ask of the main process, `noun:verb` → `{ params, result }`. */
export const operations = {
  'app:info': op<Empty, AppInfo>(),
  'settings:get': op<Empty, Settings>(),
  'settings:update': op<Partial<Settings>, Settings>(),
  'images:list': op<{ filter?: ImageFilter }, ImageSummary[]>(),
  'images:inspect': op<{ image: string }, ImageDetails>(),
  'images:history': op<{ image: string }, HistoryEntry[]>(),
  'images:tag': op<{ image: string; name: string }, { id: string; name: string; movedFrom?: string }>(),
  'images:untag': op<{ image: string; names?: string[] }, { id: string; removed: string[] }>(),
  'images:remove': op<
    { image: string; force?: boolean },
    { untagged: string[]; deleted: string[]; bytesFreed: number }
  >(),
  'images:prune': op<
    { all?: boolean; filter?: { until?: string; label?: string[] }; dryRun?: boolean },
    { deleted: string[]; bytesFreed: number }
  >(),
  'images:tree': op<Empty, LayerChain[]>(),
  'store:df': op<Empty, DiskUsage>(),
  'store:fsck': op<
    { repair?: boolean },
    { clean: boolean; problems: string[]; unreferenced?: number; repaired?: string[] }
  >(),
  'events:list': op<{ since?: string; limit?: number }, StoreEvent[]>(),
  'pull:start': op<
    { reference: string; platform?: string; policy?: 'missing' | 'always' | 'newer' },
    { pullId: string }
  >(),
  'pull:cancel': op<{ pullId: string }, { cancelled: boolean }>(),
  'pull:list': op<Empty, PullProgress[]>(),
  'push:start': op<{ image: string; destination?: string }, { pullId: string }>(),
  'pull:retry': op<{ pullId: string }, { pullId: string }>(),
  'reference:resolve': op<{ reference: string }, ReferenceResolution>(),
  'remote:tags': op<{ repository: string }, { repository: string; tags: string[] }>(),
  'remote:inspect': op<{ reference: string; platform?: string }, RemoteImageSummary>(),
  'registries:list': op<Empty, RegistriesOverview>(),
  'registries:login': op<
    { registry: string; username: string; password: string },
    { registry: string; file: string }
  >(),
  'registries:logout': op<
    { registry: string },
    { registry: string; removed: boolean; file: string; elsewhere?: string }
  >(),
  'images:check-update': op<{ image: string; name?: string }, UpdateCheck>(),
  'archive:save': op<ArchiveSaveRequest, { cancelled: true } | { cancelled: false; archive: SavedArchive }>(),
  'archive:load': op<Empty, { cancelled: true } | { cancelled: false; loaded: LoadedArchive }>(),
  'images:import': op<
    { path: string; reference?: string; changes?: string[]; message?: string; platform?: string },
    { id: string; manifestDigest: string; names: string[] }
  >(),
  'images:export': op<
    { image: string; path: string },
    { id: string; path: string; entries: number; bytes: number }
  >(),
  'images:squash': op<
    { image: string; name: string },
    { id: string; from: string; names: string[]; replacedLayers: number }
  >(),
  'files:choose': op<{ purpose: 'open' | 'save'; title?: string; defaultPath?: string }, { path?: string }>(),
  'layers:list': op<{ image: string }, ExplorerLayer[]>(),
  'layers:directory': op<
    { image: string; layer: number; view: LayerViewKind; path: string },
    DirectoryListing
  >(),
  'layers:search': op<
    { image: string; pattern: string; syntax: 'glob' | 'regex'; limit?: number },
    { hits: LayerSearchHit[]; truncated: boolean }
  >(),
  'layers:efficiency': op<{ image: string; limit?: number }, EfficiencyReport>(),
  'layers:preview': op<
    { image: string; layer: number; view: LayerViewKind; path: string },
    FilePreviewResult
  >(),
  'layers:extract': op<
    { image: string; layer: number; view: LayerViewKind; path: string; destination?: string },
    ExtractSummary
  >(),
  'layers:compare': op<{ image: string; other: string; path: string }, CompareListing>(),
  'layers:platforms': op<{ image: string }, ImagePlatforms>(),
  'images:page': op<ImagePageParams, ImagePage>(),
} as const;

/** Every event stream the main process pushes, `noun:changed` / `noun:progress` → payload. */
export const events = {
  'store:changed': ev<{ reason: StoreEvent['action'] | 'external'; ids?: string[] }>(),
  'pull:progress': ev<PullProgress>(),
  'activity:changed': ev<StoreEvent>(),
} as const;

/** The name of an operation. */
export type Operation = keyof typeof operations;
/** The params object of an operation. */
export type Params<N extends Operation> = (typeof operations)[N]['params'];
/** The result of an operation. */
export type Result<N extends Operation> = (typeof operations)[N]['result'];
/** The name of an event stream. */
export type EventName = keyof typeof events;
/** The payload of an event. */
export type Payload<E extends EventName> = (typeof events)[E]['payload'];

/** What a call returns on the wire: a value or a typed error, never a thrown object. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: WireError };

/** One handler per operation; a missing or misspelt one is a compile error where this type is used. */
export type Handlers = { [N in Operation]: (params: Params<N>) => Promise<Result<N>> };

/** Pushes an event to every connected UI. */
export type Emit = <E extends EventName>(name: E, payload: Payload<E>) => void;

/** The client the renderer sees, whatever the transport (preload bridge or WebSocket). */
export interface BerthClient {
  invoke<N extends Operation>(name: N, params: Params<N>): Promise<Result<N>>;
  subscribe<E extends EventName>(name: E, listener: (payload: Payload<E>) => void): () => void;
}

/** The raw bridge the preload exposes as `window.berth`: outcomes, not exceptions, cross it. */
export interface BerthBridge {
  invoke<N extends Operation>(name: N, params: Params<N>): Promise<Outcome<Result<N>>>;
  subscribe<E extends EventName>(name: E, listener: (payload: Payload<E>) => void): () => void;
}

/** Names of all operations, in declaration order. */
export const operationNames = Object.keys(operations) as Operation[];
/** Names of all event streams. */
export const eventNames = Object.keys(events) as EventName[];

/** True when `name` is a declared operation (used to allow-list at every transport boundary). */
export function isOperation(name: unknown): name is Operation {
  return typeof name === 'string' && Object.hasOwn(operations, name);
}

/** True when `name` is a declared event stream. */
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/** The single IPC channel events travel on; operations use their own names as channels. */
export const eventChannel = 'berth:event';
