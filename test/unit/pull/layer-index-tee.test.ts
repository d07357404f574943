import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indexLayer } from '../../../electron/core/layers/index-layer';
import { LayerIndexTee } from '../../../electron/core/pull/layer-index-tee';
import { buildLayer, deterministicBytes } from '../../support/fixture';

const kib = 1024;
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Splits bytes into network-sized chunks, as a download delivers them. */
function chunks(bytes: Buffer, size = 64 * kib): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('LayerIndexTee', () => {
  it('builds from pushed chunks the same index indexLayer builds from the whole blob', async () => {
    const layer = buildLayer({
      entries: [
        { path: 'a/', type: 'dir' },
        { path: 'a/big.bin', size: 3 * 1024 * kib },
        { path: 'a/small.txt', content: 'small\n' },
      ],
      gzipLevel: 1,
    });
    const tee = new LayerIndexTee(layer.diffId);
    for (const chunk of chunks(layer.bytes)) await tee.push(chunk);
    tee.end();
    expect(await tee.result).toEqual(await indexLayer(Readable.from([layer.bytes])));
  });

  it('refuses a DiffID other than the expected one', async () => {
    const layer = buildLayer({ entries: [{ path: 'f', content: 'x' }] });
    const tee = new LayerIndexTee(`sha256:${'0'.repeat(64)}`);
    for (const chunk of chunks(layer.bytes)) await tee.push(chunk);
    tee.end();
    await expect(tee.result).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(unhandled).toEqual([]);
  });

  it('keeps accepting pushes without waiting once the indexer failed, so the download can finish', async () => {
    const corrupt = Buffer.concat([
      gzipSync(Buffer.alloc(0)).subarray(0, 10),
      deterministicBytes(4 * 1024 * kib, 7),
    ]);
    const tee = new LayerIndexTee(`sha256:${'0'.repeat(64)}`);
    // 4 MiB is more than the tee buffers: if a push waited for a failed indexer to drain, this would hang.
    for (const chunk of chunks(corrupt)) await tee.push(chunk);
    tee.end();
    await expect(tee.result).rejects.toMatchObject({ code: 'ARCHIVE_INVALID' });
    expect(unhandled).toEqual([]);
  });

  it('abandons mid-stream without an unhandled rejection, and later pushes are dropped', async () => {
    const layer = buildLayer({ entries: [{ path: 'big.bin', size: 2 * 1024 * kib }], gzipLevel: 1 });
    const parts = chunks(layer.bytes);
    const tee = new LayerIndexTee(layer.diffId);
    for (const chunk of parts.slice(0, parts.length / 2)) await tee.push(chunk);
    await tee.abandon();
    await tee.push(parts[parts.length - 1] as Buffer);
    tee.end();
    await expect(tee.result).rejects.toBeDefined();
    expect(unhandled).toEqual([]);
  });
  it('indexes while the DiffID is still on its way, and checks it once it arrives', async () => {
    const layer = buildLayer({ entries: [{ path: 'big.bin', size: 4 * 1024 * kib }], gzipLevel: 1 });
    let arrive: (diffId: string) => void = () => undefined;
    const tee = new LayerIndexTee(new Promise<string>((resolve) => (arrive = resolve)));
    // 4 MiB of pushes is more than the tee buffers: they only complete if indexing runs before the DiffID is known.
    for (const chunk of chunks(layer.bytes)) await tee.push(chunk);
    tee.end();
    arrive(layer.diffId);
    expect((await tee.result).diffId).toBe(layer.diffId);
  });

  it('refuses a DiffID that arrives late and differs, worded as indexLayer words it', async () => {
    const layer = buildLayer({ entries: [{ path: 'f', content: 'x' }] });
    const wrong = `sha256:${'0'.repeat(64)}`;
    const tee = new LayerIndexTee(Promise.resolve(wrong));
    for (const chunk of chunks(layer.bytes)) await tee.push(chunk);
    tee.end();
    await expect(tee.result).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
      detail: { expected: wrong, actual: layer.diffId },
    });
    expect(unhandled).toEqual([]);
  });

  it('fails with the error of a DiffID that never arrives, and stops taking pushes', async () => {
    const layer = buildLayer({ entries: [{ path: 'big.bin', size: 2 * 1024 * kib }], gzipLevel: 1 });
    const parts = chunks(layer.bytes);
    const tee = new LayerIndexTee(Promise.reject(new Error('config refused')));
    await expect(tee.result).rejects.toThrow('config refused');
    for (const chunk of parts) await tee.push(chunk);
    tee.end();
    expect(unhandled).toEqual([]);
  });
});
