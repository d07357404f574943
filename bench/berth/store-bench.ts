// Store workloads run in-process against Berth's ImageStore; the harness bundles this file with esbuild and
// runs each step in a fresh Node process so "cold" means what a just-started app sees.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ImageStore } from '../../electron/core/store/image-store';

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** Descriptor of one blob written by {@link putBlob}. */
interface Written {
  digest: string;
  size: number;
}

async function putBlob(blobs: string, bytes: Buffer): Promise<Written> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobs, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** The name image `i` gets: 100 repositories, one tag each. */
function nameOf(i: number): string {
  return `bench.local/app${i % 100}:v${i}`;
}

/**
 * Writes a plain OCI image layout (as skopeo or umoci would) with `named` tagged and `dangling` untagged
 * images, each its own config and manifest over one shared empty layer; Berth adopts such a layout.
 */
async function populate(root: string, named: number, dangling: number): Promise<void> {
  const blobs = join(root, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layer = await putBlob(blobs, Buffer.alloc(1024));
  const entries: object[] = [];
  const base = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; i < named + dangling; i++) {
    const config = await putBlob(
      blobs,
      Buffer.from(
        JSON.stringify({
          created: new Date(base + i * 60_000).toISOString(),
          architecture: 'amd64',
          os: 'linux',
          config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'], Labels: { 'bench.image': String(i) } },
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          history: [{ created: new Date(base).toISOString(), created_by: `ADD bench-${i}` }],
        }),
      ),
    );
    const manifest = await putBlob(
      blobs,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.manifest,
          config: { mediaType: MEDIA.config, ...config },
          layers: [{ mediaType: MEDIA.layer, ...layer }],
        }),
      ),
    );
    entries.push(
      i < named
        ? {
            mediaType: MEDIA.manifest,
            ...manifest,
            annotations: { 'org.opencontainers.image.ref.name': nameOf(i) },
          }
        : { mediaType: MEDIA.manifest, ...manifest },
    );
  }
  await writeFile(
    join(root, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: entries }),
  );
}

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/** Opens the store and lists it: the first list is what a freshly started process pays, then warm lists. */
async function list(root: string, warmRuns: number): Promise<object> {
  const first = await time(async () => (await ImageStore.open(root)).list());
  const store = await ImageStore.open(root);
  await store.list();
  const warm: number[] = [];
  let count = 0;
  for (let i = 0; i < warmRuns; i++) {
    const run = await time(() => store.list());
    warm.push(run.ms);
    count = run.result.length;
  }
  const inspect: number[] = [];
  const history: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    inspect.push((await time(() => store.inspect(nameOf(i * 7)))).ms);
    history.push((await time(() => store.history(nameOf(i * 7)))).ms);
  }
  return {
    images: first.result.length,
    coldMs: first.ms,
    warmMs: warm,
    count,
    inspectMs: inspect,
    historyMs: history,
  };
}

/** Tags one image `count` times under new names, then untags each name: per-operation times. */
async function tagging(root: string, count: number): Promise<object> {
  const store = await ImageStore.open(root);
  await store.list();
  const tag: number[] = [];
  const untag: number[] = [];
  for (let i = 0; i < count; i++)
    tag.push((await time(() => store.tag(nameOf(0), `bench.local/tagged:t${i}`))).ms);
  for (let i = 0; i < count; i++)
    untag.push((await time(() => store.untag(`bench.local/tagged:t${i}`, [`bench.local/tagged:t${i}`]))).ms);
  return { tagMs: tag, untagMs: untag };
}

/** Prunes every dangling image. */
async function prune(root: string): Promise<object> {
  const store = await ImageStore.open(root);
  const run = await time(() => store.prune());
  return { pruneMs: run.ms, deleted: run.result.deleted.length };
}

const [step, root, ...rest] = process.argv.slice(2);
if (root === undefined) throw new Error('usage: store-bench populate|list|tagging|prune ROOT [N]');
const steps: Record<string, () => Promise<object>> = {
  populate: async () => {
    await populate(root, Number(rest[0]), Number(rest[1] ?? 0));
    return {};
  },
  list: () => list(root, Number(rest[0] ?? 10)),
  tagging: () => tagging(root, Number(rest[0] ?? 1000)),
  prune: () => prune(root),
};
const run = step === undefined ? undefined : steps[step];
if (!run) throw new Error(`unknown step ${step}`);
const result = await run();
process.stdout.write(JSON.stringify({ ...result, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
