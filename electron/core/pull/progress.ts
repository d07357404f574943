import type { LayerStatus, PullProgress } from '../../../shared/contract';
import type { WireError } from '../../../shared/error';

/** Longest a caller waits between snapshots while bytes move; 100 ms keeps events near 10 per second. */
export const progressIntervalMs = 100;
/** Span of the moving window the speed is measured over. */
const speedWindowMs = 3000;

/**
 * Keeps one pull's progress and hands throttled snapshots to `emit`: at most one per interval, with the
 * latest state trailing, and `stored` and the final state (complete, failed, cancelled) delivered at once.
 */
export class PullTracker {
  private readonly progress: PullProgress;
  private readonly index = new Map<string, number>();
  private readonly samples: { at: number; moved: number }[] = [];
  /** Bytes that arrived while a layer was downloading: what the speed is measured on. */
  private moved = 0;
  private lastEmit = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finished = false;

  constructor(
    pullId: string,
    reference: string,
    private readonly emit: (progress: PullProgress) => void,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = progressIntervalMs,
    kind: 'pull' | 'push' = 'pull',
  ) {
    this.progress = {
      pullId,
      ...(kind === 'push' ? { kind } : {}),
      reference,
      state: 'resolving',
      layers: [],
      done: 0,
      total: 0,
      bytesPerSecond: 0,
    };
  }

  /** The current state (a copy). */
  snapshot(): PullProgress {
    return structuredClone(this.progress);
  }

  /** Names the fully resolved reference once short-name resolution chose one. */
  setReference(reference: string): void {
    this.progress.reference = reference;
    this.changed();
  }

  /** Declares the layers of the image; sizes from the manifest make the totals. */
  setLayers(layers: { digest: string; size: number }[]): void {
    for (const layer of layers) {
      if (this.index.has(layer.digest)) continue;
      this.index.set(layer.digest, this.progress.layers.length);
      this.progress.layers.push({ digest: layer.digest, status: 'waiting', done: 0, total: layer.size });
    }
    this.progress.state = 'running';
    this.recount();
    this.changed();
  }

  /** Moves a layer to `status`; `exists` and `complete` count it as done. */
  layerStatus(digest: string, status: LayerStatus, retryInSeconds?: number): void {
    const layer = this.layer(digest);
    if (!layer) return;
    layer.status = status;
    if (retryInSeconds === undefined) delete layer.retryInSeconds;
    else layer.retryInSeconds = retryInSeconds;
    if (status === 'exists' || status === 'complete') layer.done = layer.total;
    this.recount();
    this.changed();
  }

  /** Sets how many bytes of a layer are held (or sent); only growth while moving counts toward the speed. */
  layerBytes(digest: string, done: number): void {
    const layer = this.layer(digest);
    if (!layer) return;
    const next = Math.min(done, layer.total);
    const moving = layer.status === 'downloading' || layer.status === 'uploading';
    if (moving && next > layer.done) this.moved += next - layer.done;
    layer.done = next;
    this.recount();
    this.changed();
  }

  /** The image is committed under its name while layers are still indexed; this snapshot goes out at once. */
  stored(imageId: string | undefined): void {
    if (this.finished) return;
    this.progress.state = 'stored';
    if (imageId !== undefined) this.progress.imageId = imageId;
    this.flush();
  }

  /** Ends the pull; the final snapshot goes out at once. */
  finish(
    state: 'complete' | 'failed' | 'cancelled',
    extra: { imageId?: string; error?: WireError } = {},
  ): void {
    if (this.finished) return;
    this.finished = true;
    this.progress.state = state;
    if (extra.imageId !== undefined) this.progress.imageId = extra.imageId;
    if (extra.error !== undefined) this.progress.error = extra.error;
    if (state !== 'complete') {
      for (const layer of this.progress.layers) {
        if (layer.status !== 'complete' && layer.status !== 'exists') layer.status = 'failed';
      }
    }
    this.progress.bytesPerSecond = 0;
    delete this.progress.etaSeconds;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.emit(this.snapshot());
  }

  private layer(digest: string): PullProgress['layers'][number] | undefined {
    const at = this.index.get(digest);
    return at === undefined ? undefined : this.progress.layers[at];
  }

  private recount(): void {
    let done = 0;
    let total = 0;
    for (const layer of this.progress.layers) {
      done += layer.done;
      total += layer.total;
    }
    this.progress.done = done;
    this.progress.total = total;
    const at = this.now();
    this.samples.push({ at, moved: this.moved });
    while (this.samples.length > 2 && (this.samples[0] as { at: number }).at < at - speedWindowMs) {
      this.samples.shift();
    }
    const first = this.samples[0] as { at: number; moved: number };
    const span = (at - first.at) / 1000;
    this.progress.bytesPerSecond = span > 0 ? Math.round((this.moved - first.moved) / span) : 0;
    if (this.progress.bytesPerSecond > 0) {
      this.progress.etaSeconds = Math.ceil((total - done) / this.progress.bytesPerSecond);
    } else {
      delete this.progress.etaSeconds;
    }
  }

  private changed(): void {
    if (this.finished) return;
    const wait = this.lastEmit + this.intervalMs - this.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.finished) return;
    this.lastEmit = this.now();
    this.emit(this.snapshot());
  }
}
