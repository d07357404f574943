import type {
  DirectoryListing,
  ExplorerLayer,
  FileEntry,
  ImagePlatforms,
  LayerViewKind,
  Operation,
  Params,
  Result,
} from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { FakeClient } from './fake-client';

const dir = (
  path: string,
  change: FileEntry['change'],
  size: number,
  changes = { added: 0, modified: 0, removed: 0 },
): FileEntry => ({
  name: path.slice(path.lastIndexOf('/') + 1),
  path,
  type: 'dir',
  change,
  size,
  removedBytes: 0,
  layer: 0,
  changes,
  childCount: 1,
});

const file = (
  path: string,
  change: FileEntry['change'],
  size: number,
  extra: Partial<FileEntry> = {},
): FileEntry => ({
  name: path.slice(path.lastIndexOf('/') + 1),
  path,
  type: 'file',
  change,
  size,
  removedBytes: 0,
  layer: 1,
  ...extra,
});

/** A two-layer image's trees: layer 1 modified `big`, added `etc/new.conf` and removed `dir` (700 bytes). */
const listings: Record<string, FileEntry[]> = {
  '1 merged ': [
    file('big', 'modified', 500),
    dir('bin', 'unchanged', 180),
    dir('etc', 'modified', 30, { added: 1, modified: 0, removed: 0 }),
    file('link', 'unchanged', 0, { type: 'symlink', linkTarget: '/nowhere', flags: ['link-dangling'] }),
    { ...dir('dir', 'removed', 0), removedBytes: 700 },
  ],
  '1 merged etc': [file('etc/new.conf', 'added', 20), file('etc/os-release', 'unchanged', 10)],
  '1 merged bin': [file('bin/busybox', 'unchanged', 180)],
  '1 layer ': [
    file('big', 'modified', 500),
    dir('etc', 'unchanged', 20, { added: 1, modified: 0, removed: 0 }),
    { ...dir('dir', 'removed', 0), removedBytes: 700 },
  ],
  '1 layer etc': [file('etc/new.conf', 'added', 20)],
  '0 merged ': [file('big', 'added', 1000), dir('dir', 'added', 700, { added: 2, modified: 0, removed: 0 })],
};

type LayerOperation = Extract<Operation, `layers:${string}`>;

/** The fake client plus the layer explorer's operations, answered from the fixed trees above. */
export class LayersFakeClient extends FakeClient {
  layerList: ExplorerLayer[] = [
    {
      index: 0,
      digest: 'sha256:' + 'a'.repeat(64),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      size: 900,
    },
    {
      index: 1,
      digest: 'sha256:' + 'b'.repeat(64),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      size: 400,
    },
  ];

  /** What `layers:platforms` answers; by default a single-platform image. */
  platforms: ImagePlatforms = {
    platforms: [
      {
        platform: { os: 'linux', architecture: 'amd64' },
        manifestDigest: 'sha256:' + 'e'.repeat(64),
        current: true,
      },
    ],
  };

  /** `layers:list` answers for other images (sibling platforms) by query; the rest get {@link layerList}. */
  layerLists: Record<string, ExplorerLayer[]> = {};

  override async invoke<N extends Operation>(name: N, params: Params<N>): Promise<Result<N>> {
    if (!name.startsWith('layers:')) return super.invoke(name, params);
    this.calls.push({ name, params });
    await Promise.resolve();
    const failure = this.failures.get(name);
    if (failure) throw BerthError.fromWire(failure);
    return this.layerAnswer(name as LayerOperation, params) as Result<N>;
  }

  private layerAnswer(name: LayerOperation, params: unknown): unknown {
    switch (name) {
      case 'layers:list':
        return structuredClone(this.layerLists[(params as { image: string }).image] ?? this.layerList);
      case 'layers:platforms':
        return structuredClone(this.platforms);
      case 'layers:directory': {
        const { layer, view, path } = params as { layer: number; view: LayerViewKind; path: string };
        const entries = listings[`${layer} ${view} ${path}`];
        if (!entries) throw new BerthError('NOT_FOUND', `no directory ${path}`);
        const listing: DirectoryListing = {
          layer,
          view,
          directory: dir(
            path,
            'unchanged',
            entries.reduce((s, e) => s + e.size, 0),
          ),
          entries: structuredClone(entries),
        };
        return listing;
      }
      case 'layers:preview': {
        const { path, layer } = params as { path: string; layer: number };
        return {
          path,
          layer,
          type: 'file',
          size: 20,
          text: `contents of ${path}`,
          binary: false,
          truncated: false,
        };
      }
      case 'layers:search':
        return {
          hits: [{ path: 'etc/new.conf', layer: 1, change: 'added', type: 'file', size: 20 }],
          truncated: false,
        };
      case 'layers:efficiency':
        return {
          totalBytes: 2000,
          finalBytes: 800,
          wastedBytes: 1200,
          efficiency: 0.4,
          paths: [{ path: 'big', bytes: 1000, addedIn: [0], removedIn: [1] }],
          pathCount: 1,
          layers: [],
        };
      case 'layers:extract': {
        const { destination } = params as { destination?: string };
        return { destination: destination ?? '', written: 1, bytes: 20, skipped: [], done: true };
      }
      case 'layers:compare':
        return {
          directory: {
            name: '',
            path: '',
            type: 'dir',
            change: 'modified',
            changes: { added: 1, modified: 0, removed: 1 },
          },
          entries: [
            { name: 'api', path: 'api', type: 'file', change: 'added', sizeAfter: 90 },
            { name: 'big', path: 'big', type: 'file', change: 'removed', sizeBefore: 500 },
          ],
        };
    }
  }
}
