import type { BerthClient, DiskUsage, Params } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import { formatBytes } from '../../../shared/format';
import { coalesce, type LoadStatus, type SliceCreator } from './slice';

/** What the Prune view asks to prune. */
export type PruneOptions = Omit<Params<'images:prune'>, 'dryRun'>;

/** A dry run's answer: the images that would go and, from disk usage, the space that would come back. */
export interface PrunePreview {
  options: PruneOptions;
  ids: string[];
  /**
   * The sum of the images' unique sizes: blobs only these images use. Blobs shared only among the images
   * being pruned also come back, so the real figure can be larger; never smaller.
   */
  reclaimable: number;
}

/** Disk usage and prune state. */
export interface DiskState {
  usage: DiskUsage | null;
  status: LoadStatus;
  error: WireError | null;
  preview: PrunePreview | null;
  previewStatus: LoadStatus;
  previewError: WireError | null;
  pruning: boolean;
}

/** Disk slice: `store:df` and `images:prune` (dry run first, then for real). */
export interface DiskSlice {
  disk: DiskState;
  loadDiskUsage: () => Promise<void>;
  previewPrune: (options: PruneOptions) => Promise<void>;
  /** Prunes with the options of the current preview; toasts what was freed. */
  runPrune: () => Promise<void>;
}

/** Creates the disk slice around `client`. */
export const createDiskSlice =
  (client: BerthClient): SliceCreator<DiskSlice> =>
  (set, get) => {
    const patch = (next: Partial<DiskState>) => set((s) => ({ disk: { ...s.disk, ...next } }));
    return {
      disk: {
        usage: null,
        status: 'idle',
        error: null,
        preview: null,
        previewStatus: 'idle',
        previewError: null,
        pruning: false,
      },
      loadDiskUsage: coalesce(async () => {
        if (get().disk.status !== 'ready') patch({ status: 'loading' });
        try {
          patch({ usage: await client.invoke('store:df', {}), status: 'ready', error: null });
        } catch (err) {
          patch({ status: get().disk.usage ? 'ready' : 'error', error: toWireError(err) });
        }
      }),
      previewPrune: async (options) => {
        patch({ previewStatus: get().disk.preview ? 'ready' : 'loading' });
        try {
          const [dry, usage] = await Promise.all([
            client.invoke('images:prune', { ...options, dryRun: true }),
            client.invoke('store:df', {}),
          ]);
          const unique = new Map(usage.images.map((image) => [image.id, image.uniqueSize]));
          const reclaimable = dry.deleted.reduce((sum, id) => sum + (unique.get(id) ?? 0), 0);
          patch({
            preview: { options, ids: dry.deleted, reclaimable },
            previewStatus: 'ready',
            previewError: null,
            usage,
            status: 'ready',
          });
        } catch (err) {
          patch({ previewStatus: 'error', previewError: toWireError(err) });
        }
      },
      runPrune: async () => {
        const preview = get().disk.preview;
        if (!preview || get().disk.pruning) return;
        patch({ pruning: true });
        try {
          const result = await client.invoke('images:prune', preview.options);
          get().pushToast({
            tone: 'success',
            title: `Pruned ${result.deleted.length} ${result.deleted.length === 1 ? 'image' : 'images'} · ${formatBytes(result.bytesFreed)} reclaimed`,
          });
        } catch (err) {
          get().pushToast({ tone: 'error', title: 'Prune failed', error: toWireError(err) });
        } finally {
          patch({ pruning: false });
        }
        await Promise.all([get().loadImages(), get().previewPrune(preview.options)]);
      },
    };
  };
