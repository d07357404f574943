import { performance } from 'node:perf_hooks';

/** This thread's event-loop utilization at or above which the downloads are taken to keep it saturated. */
const saturated = 0.9;

/**
 * Samples in a row below `saturated` before the indexers are let go. One calm sample is no sign of a slow
 * network: the downloads leave gaps of a few ms between reads and between layers. Each release hands the gzip
 * worker input it goes on inflating after the next hold, on the core the downloads (and a registry on the same
 * machine) need.
 */
const calmSamples = 5;

/**
 * Holds back the layer indexers' reads of downloaded bytes while the pull commits its image (a few short steps,
 * each of which would otherwise queue behind tar parsing on this thread) and while the downloads keep this thread
 * saturated: downloads then come first and the image is usable sooner. It starts held, and lets go once the
 * thread stayed below saturation for `calmSamples` samples: when the network is the bottleneck the thread idles
 * and indexing runs alongside the downloads, so little is left to do once they end.
 */
export class IndexerPause {
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private committing = false;
  private busy = true;
  private calm = 0;

  constructor() {
    this.update();
  }

  /**
   * Samples this thread's event-loop utilization every `intervalMs` (see `observe`) until the returned stop is
   * called, which lets the indexers go unless the pull is committing.
   */
  watch(intervalMs = 20): () => void {
    let last = performance.eventLoopUtilization();
    const timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.observe(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    }, intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.busy = false;
      this.update();
    };
  }

  /** Holds or releases the indexers on one sample of this thread's event-loop utilization (0–1). */
  observe(utilization: number): void {
    this.calm = utilization >= saturated ? 0 : this.calm + 1;
    this.busy = this.calm < calmSamples;
    this.update();
  }

  /** Runs `work` with the indexers held. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.committing = true;
    this.update();
    try {
      return await work();
    } finally {
      this.committing = false;
      this.update();
    }
  }

  /** `source`, waiting before each chunk while held. */
  async *through(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      if (this.held) await this.held;
      yield chunk;
    }
  }

  private update(): void {
    if (this.committing || this.busy) {
      this.held ??= new Promise((resolve) => (this.release = resolve));
    } else {
      this.release?.();
      this.held = this.release = undefined;
    }
  }
}
