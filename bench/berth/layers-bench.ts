// Layer explorer workloads run in-process against Berth's layer indexer; bundled and run by the harness.
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  layerIndexEntryCount,
  readLayerIndex,
  readLayerIndexBytes,
  writeLayerIndex,
} from '../../electron/core/layers/index-file';
import { indexLayer } from '../../electron/core/layers/index-layer';
import { openLayerView } from '../../electron/core/layers/layer-view';
import { searchLayers } from '../../electron/core/layers/search';

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/** Indexes each blob (expecting its DiffID) and writes the index files; returns per-layer times and counts. */
async function index(out: string, pairs: string[]): Promise<object> {
  await mkdir(out, { recursive: true });
  const layers: object[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const blob = pairs[i] as string;
    const diffId = pairs[i + 1] as string;
    const run = await time(() =>
      indexLayer(createReadStream(blob, { highWaterMark: 1 << 20 }), { expectedDiffId: diffId }),
    );
    const file = join(out, `${i / 2}.index`);
    await writeLayerIndex(file, run.result);
    layers.push({
      ms: run.ms,
      // Counted from the file: reading `entries` would decode them into objects no pull makes.
      entries: layerIndexEntryCount(await readLayerIndexBytes(file)),
      uncompressedSize: run.result.uncompressedSize,
    });
  }
  return { layers };
}

/**
 * Opens the merged view of the top layer as the explorer does (ImageLayers.directory through openLayerView):
 * the bottom layer straight from its index file, a deeper one by reading and replaying the index files; then
 * lists the root directory.
 */
async function open(dir: string, count: number): Promise<object> {
  const file = (layer: number): string => join(dir, `${layer}.index`);
  const run = await time(async () => {
    const view = await openLayerView(
      { load: (layer) => readLayerIndex(file(layer)), bottomIndexBytes: () => readLayerIndexBytes(file(0)) },
      count - 1,
    );
    const root = view.listings.list('', 'merged');
    if (root === undefined) throw new Error('the merged view has no root directory');
    return root;
  });
  return { ms: run.ms, rootChildren: run.result.children.length, rootBytes: run.result.directory.size };
}

/** Searches a glob across every layer of an image. */
async function search(dir: string, count: number, glob: string): Promise<object> {
  const source = { count, load: (layer: number) => readLayerIndex(join(dir, `${layer}.index`)) };
  const run = await time(() => searchLayers(source, { glob }, { limit: 1_000_000 }));
  return { ms: run.ms, hits: run.result.hits.length };
}

const [step, dir, ...rest] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: layers-bench index|open|search DIR ...');
const steps: Record<string, () => Promise<object>> = {
  index: () => index(dir, rest),
  open: () => open(dir, Number(rest[0])),
  search: () => search(dir, Number(rest[0]), rest[1] ?? '*.so'),
};
const run = step === undefined ? undefined : steps[step];
if (!run) throw new Error(`unknown step ${step}`);
const result = await run();
process.stdout.write(JSON.stringify({ ...result, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
