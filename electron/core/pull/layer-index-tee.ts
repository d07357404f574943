import { PassThrough } from 'node:stream';
import { BerthError } from '../../../shared/error';
import { indexLayer } from '../layers/index-layer';
import type { LayerIndex } from '../layers/layer-entry';

/** Bytes held between the download and the indexer before the download waits (each side of the pass-through). */
const teeBufferBytes = 1024 * 1024;

/**
 * Feeds a layer's bytes to `indexLayer` while they download, so inflating, the DiffID and the file index
 * run alongside the transfer instead of re-reading the blob after it. `push` waits when the indexer falls
 * behind (memory stays bounded by the buffer); once the indexer has failed, pushes are dropped and the
 * failure waits in `result`. `abandon` stops it without an unhandled rejection or a dangling stream.
 */
export class LayerIndexTee {
  /** The layer index, or the indexer's error (DIGEST_MISMATCH for a wrong DiffID). */
  readonly result: Promise<LayerIndex>;
  private readonly pass = new PassThrough({
    readableHighWaterMark: teeBufferBytes,
    writableHighWaterMark: teeBufferBytes,
  });
  private stopped = false;

  /**
   * `expectedDiffId` may still be on its way (the image config downloads alongside the first layer): the
   * indexer starts at once and the DiffID is compared when both are known. If it fails to arrive, `result`
   * rejects with that error.
   */
  constructor(expectedDiffId: string | Promise<string>) {
    this.pass.on('error', () => undefined);
    this.result =
      typeof expectedDiffId === 'string'
        ? indexLayer(this.pass, { expectedDiffId, handOverSource: true })
        : verifiedLater(indexLayer(this.pass, { handOverSource: true }), expectedDiffId);
    this.result.catch(() => this.stop());
  }

  /**
   * Hands one downloaded chunk to the indexer; resolves once the buffer has room again. The chunk is the
   * indexer's from then on (a gzip worker may take over its memory): the caller must be done with it.
   */
  async push(chunk: Buffer): Promise<void> {
    // The indexer's reader destroys the stream as it fails, a moment before `result` rejects: a destroyed
    // stream will never drain, so waiting on it would stall the download.
    if (this.stopped || this.pass.destroyed) return;
    if (this.pass.write(chunk) || this.pass.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.pass.off('drain', done);
        this.pass.off('close', done);
        resolve();
      };
      this.pass.on('drain', done);
      this.pass.on('close', done);
    });
  }

  /** Tells the indexer the layer is complete. */
  end(): void {
    if (!this.stopped && !this.pass.destroyed) this.pass.end();
  }

  /** Stops indexing (the stream broke or the pull failed) and waits until the indexer has let go. */
  async abandon(): Promise<void> {
    this.stop();
    await this.result.catch(() => undefined);
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pass.destroy();
  }
}

/** The index once `expected` is known and matches its DiffID (DIGEST_MISMATCH as indexLayer words it, else). */
async function verifiedLater(indexing: Promise<LayerIndex>, expected: Promise<string>): Promise<LayerIndex> {
  const [index, diffId] = await Promise.all([indexing, expected]);
  if (index.diffId !== diffId) {
    throw new BerthError('DIGEST_MISMATCH', `layer DiffID is ${index.diffId}, expected ${diffId}`, {
      expected: diffId,
      actual: index.diffId,
    });
  }
  return index;
}
