// `npm run bench`: measures Berth and its peers (skopeo, podman, the gzip -dc | sha256sum floor) in one run
// against the real docker-registry on loopback; writes bench/results/latest.json and docs/benchmarks.md.
//
// Environment: BENCH_SCALE (default 1; 0.1 for a quick smoke run), BENCH_RUNS (default 5), BENCH_CACHE
// (workload images and registry storage, default ~/.cache/berth-bench), BENCH_ONLY (comma-separated groups:
// pull,resume,store,layers,memory,ui), BENCH_BUILD=0 to skip `electron-vite build`. `--render` only rewrites
// docs/benchmarks.md from bench/results/latest.json and bench/analysis.md; `--merge FILE.json.tmp` first puts a
// partial run's workloads into latest.json (each noted as such).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBerthWorkload, probeBerthCli } from './lib/berth-bundle.mjs';
import { pushWorkloads, startBenchRegistry } from './lib/bench-registry.mjs';
import { machineFacts } from './lib/machine.mjs';
import { figureOf, GNU_TIME, median, round, runTimed } from './lib/measure.mjs';
import {
  berthClient,
  decompressFloor,
  podmanClient,
  openBerthApp,
  pullWith,
  nodeTransferClient,
  skopeoClient,
  unmountUnder,
} from './lib/pull-clients.mjs';
import { judge, renderMarkdown } from './lib/report.mjs';
import { measureResume, startCountingProxy } from './lib/resume.mjs';
import { hostManifestOf, workloadImages } from './lib/workload-images.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const scale = Number(process.env.BENCH_SCALE ?? '1');
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? '5'));
const cacheDir =
  process.env.BENCH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'berth-bench');
const only = process.env.BENCH_ONLY
  ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim()))
  : undefined;
const buildCli = process.env.BENCH_BUILD !== '0';
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);

// Only a full-size run of every group is published; any other run writes beside it, git-ignored.
const publish = scale === 1 && only === undefined;
const resultsDir = join(repoRoot, 'bench', 'results');
const partial = `scale-${scale}${only ? `-${[...only].join('-')}` : ''}`;
const jsonOut = publish ? join(resultsDir, 'latest.json') : join(resultsDir, `${partial}.json.tmp`);
const markdownOut = publish ? join(repoRoot, 'docs', 'benchmarks.md') : join(resultsDir, `${partial}.md.tmp`);
const scratch = join(cacheDir, 'scratch');
const bundleDir = join(repoRoot, 'node_modules', '.cache', 'berth-bench');
const startedAt = Date.now();

function log(message) {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

const wanted = (group) => only === undefined || only.has(group);
const workloads = [];
const remarks = [];

/** Adds a workload row; `figures` maps subject → figure (or null), `checks` are the issue's targets. */
function record(row) {
  workloads.push({ note: undefined, reason: undefined, checks: [], ...row });
}

/** Runs `work`; on failure logs it and resolves undefined, keeping the error text for the report. */
async function attempt(what, work) {
  try {
    return { value: await work() };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error))
      .split('\n')
      .slice(0, 3)
      .join(' ');
    log(`${what} failed: ${message}`);
    return { error: message };
  }
}

async function treeBytes(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return total;
}

function checkTools() {
  const missing = ['skopeo', 'podman', 'docker-registry', 'gzip', 'sha256sum', 'chromium'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
  );
  if (!existsSync(GNU_TIME)) missing.push('time');
  if (missing.length > 0) throw new Error(`missing tools: ${missing.join(', ')}; run bench/deps.sh`);
}

// ---------------------------------------------------------------- pull, memory

const PULLS = [
  { id: 'pull.app', workload: 'app', title: 'Pull 5-layer image' },
  { id: 'pull.big', workload: 'big', title: 'Pull 1 GB single-layer image' },
  { id: 'pull.multi', workload: 'multi', title: 'Pull 3-platform index (linux/amd64 chosen)' },
  {
    id: 'pull.shared',
    workload: 'appNext',
    base: 'app',
    title: 'Pull image sharing 3 base layers (base present)',
  },
  {
    id: 'pull.files',
    workload: 'files',
    title: 'Pull image with the small-files layer',
    // podman unpacks every one of the small files (about 30 s a pull): one run of it fits the time budget.
    clientRuns: { podman: 1 },
  },
];

// "Berth" is the image usable (stored under its name, every blob digest verified); "Berth, indexed" is the
// whole pull with every DiffID checked and every file index written, which the floor is the limit for.
const PULL_CHECKS = [
  { text: 'usable ≤ 1.0× skopeo copy', ratioTo: 'skopeo', max: 1.0 },
  { text: 'usable ≤ ⅓× podman pull (3× faster)', ratioTo: 'podman', max: 1 / 3 },
  { text: 'indexed ≤ 1.2× gzip -dc | sha256sum', of: 'berthIndexed', ratioTo: 'floor', max: 1.2 },
  { text: 'in the app: usable ≤ 1.0× skopeo copy', of: 'berthApp', ratioTo: 'skopeo', max: 1.0 },
  {
    text: 'in the app: indexed ≤ 1.2× gzip -dc | sha256sum',
    of: 'berthAppIndexed',
    ratioTo: 'floor',
    max: 1.2,
  },
];

/**
 * Flushes dirty pages (untimed) so a timed pull does not pay for the writeback of the one before it: podman
 * unpacks hundreds of MB into overlay storage just before Berth's turn, and a base image was just pulled.
 */
async function settleDisk() {
  // Not spawnSync: the registry's log pipe must keep draining while this runs.
  await runTimed('sync', []);
}

async function measurePulls(images, registry, berth) {
  const clients = [skopeoClient(), podmanClient(), nodeTransferClient(), nodeTransferClient({ write: true })];
  if (berth.pullClient) clients.push(berth.pullClient);
  const refOf = (id) => `${registry.host}/${images.workloads[id].repo}:${images.workloads[id].tag}`;
  const blobFile = (digest) => join(images.blobsDir, digest.slice('sha256:'.length));
  const rssByPull = {};
  for (const pull of PULLS) {
    const workload = images.workloads[pull.workload];
    const baseLayers = new Set(
      pull.base ? hostManifestOf(images.workloads[pull.base]).layers.map((l) => l.digest) : [],
    );
    const moving = hostManifestOf(workload).layers.filter((l) => !baseLayers.has(l.digest));
    const samples = { floor: [], berthIndexed: [] };
    const errors = {};
    for (const client of clients) samples[client.name] = [];
    let app;
    if (berth.appBundle) {
      samples.berthApp = [];
      samples.berthAppIndexed = [];
      const opened = await attempt(`${pull.id} berth app`, () =>
        openBerthApp(repoRoot, scratch, berth.appBundle),
      );
      if (opened.error) errors.berthApp = opened.error;
      else app = opened.value;
    } else errors.berthApp = berth.appReason;
    const pullRuns = runs;
    const runsOf = (name) => Math.min(runs, pull.clientRuns?.[name] ?? runs);
    for (let run = 0; run < pullRuns; run++) {
      for (const client of clients) {
        if (errors[client.name] || run >= runsOf(client.name)) continue;
        const outcome = await attempt(`${pull.id} ${client.name}`, async () => {
          const context = await client.prepare(scratch);
          try {
            if (pull.base) await pullWith(client, context, refOf(pull.base), 'base', { scratch });
            await settleDisk();
            const result = await pullWith(client, context, refOf(pull.workload), 'x', { scratch });
            if (client.name === 'berth' && run === 0) {
              const stored = await treeBytes(context.store);
              const expected = moving.reduce((sum, l) => sum + l.size, 0);
              if (stored < expected)
                throw new Error(
                  `berth's store holds ${stored} bytes after the pull, expected at least ${expected}`,
                );
            }
            if (client.usable && result.markSeconds === null)
              throw new Error(`${client.name} pull never printed the line that says the image is stored`);
            return result;
          } finally {
            await client.cleanup(context);
          }
        });
        if (outcome.error) errors[client.name] = outcome.error;
        else if (client.usable) {
          samples[client.name].push({ value: outcome.value.markSeconds, rssMB: outcome.value.rssMB });
          samples.berthIndexed.push({ value: outcome.value.seconds, rssMB: outcome.value.rssMB });
        } else samples[client.name].push({ value: outcome.value.seconds, rssMB: outcome.value.rssMB });
      }
      if (app && !errors.berthApp) {
        const refs = [refOf(pull.workload), ...(pull.base ? [refOf(pull.base)] : [])];
        const outcome = await attempt(`${pull.id} berth app`, async () => {
          try {
            if (pull.base) await app.pull(refOf(pull.base));
            await settleDisk();
            const times = await app.pull(refOf(pull.workload));
            const expected = moving.reduce((sum, l) => sum + l.size, 0);
            if (times.bytes < expected)
              throw new Error(`the app's pull moved ${times.bytes} bytes, expected at least ${expected}`);
            return times;
          } finally {
            await app.empty(refs);
          }
        });
        if (outcome.error) errors.berthApp = outcome.error;
        else {
          const rssMB = await app.peakRssMB();
          samples.berthApp.push({ value: outcome.value.usableSeconds, rssMB });
          samples.berthAppIndexed.push({ value: outcome.value.indexedSeconds, rssMB });
        }
      }
      await settleDisk();
      const floor = await attempt(`${pull.id} floor`, () =>
        decompressFloor(
          moving.map((l) => blobFile(l.digest)),
          moving.map((l) => l.diffId),
          { scratch },
        ),
      );
      if (floor.error) errors.floor = floor.error;
      else samples.floor.push({ value: floor.value.seconds, rssMB: floor.value.rssMB });
      log(
        `${pull.id} run ${run + 1}/${pullRuns}: ` +
          Object.entries(samples)
            .map(([name, s]) => `${name} ${s.at(-1)?.value.toFixed(2) ?? 'failed'} s`)
            .join(', '),
      );
    }
    await app?.close();
    const figures = {
      berth: null,
      berthIndexed: null,
      berthApp: null,
      berthAppIndexed: null,
      skopeo: null,
      podman: null,
      floor: null,
      nodeTransfer: null,
      nodeStore: null,
    };
    for (const [name, s] of Object.entries(samples)) if (s.length > 0) figures[name] = figureOf(s, 's');
    rssByPull[pull.id] = samples;
    const compressed = moving.reduce((sum, l) => sum + l.size, 0);
    const uncompressed = moving.reduce((sum, l) => sum + l.uncompressedSize, 0);
    const failures = Object.entries(errors).map(([name, e]) => `${name} failed: ${e}`);
    record({
      id: pull.id,
      group: 'Pull',
      title: `${pull.title}: ${(compressed / 1e6).toFixed(0)} MB gzip / ${(uncompressed / 1e6).toFixed(0)} MB tar in ${moving.length} layer${moving.length === 1 ? '' : 's'}`,
      workload: {
        ref: refOf(pull.workload),
        layers: moving.length,
        compressedBytes: compressed,
        uncompressedBytes: uncompressed,
      },
      figures,
      checks: PULL_CHECKS,
      // No target: how the bounds on a Node process started for one pull compare with skopeo on this machine.
      comparisons: [
        ['nodeTransfer', 'skopeo'],
        ['nodeStore', 'skopeo'],
      ],
      reason: figures.berth
        ? undefined
        : errors.berth
          ? `berth pull failed: ${errors.berth}`
          : berth.pullReason,
      note:
        [
          ...Object.entries(pull.clientRuns ?? {})
            .filter(([, n]) => n < runs)
            .map(
              ([name, n]) =>
                `${name}: ${n} run${n === 1 ? '' : 's'} only (it unpacks every small file; more runs would not fit the time budget); the others ${runs} runs.`,
            ),
          ...failures,
        ]
          .filter(Boolean)
          .join(' ') || undefined,
    });
  }
  return rssByPull;
}

function recordPullMemory(rssByPull, berth) {
  const samples = rssByPull['pull.big'];
  const figures = { berth: null, skopeo: null, podman: null };
  for (const name of Object.keys(figures)) {
    const rss = (samples?.[name] ?? [])
      .filter((s) => typeof s.rssMB === 'number')
      .map((s) => ({ value: s.rssMB }));
    if (rss.length > 0) figures[name] = figureOf(rss, 'MB');
  }
  record({
    id: 'memory.pull-1g',
    group: 'Memory',
    title: 'Peak RSS pulling the 1 GB layer',
    figures,
    checks: [{ text: '< 200 MB', max: 200 }],
    reason: figures.berth ? undefined : berth.pullReason,
  });
}

// ---------------------------------------------------------------- resume

async function measureResumes(images, registry, berth) {
  const big = images.workloads.big;
  const layer = big.layers[0];
  const proxy = await startCountingProxy(registry.host);
  const clients = [skopeoClient(), podmanClient()];
  if (berth.pullClient) clients.push(berth.pullClient);
  const figures = { berth: null, skopeo: null, podman: null };
  const details = {};
  try {
    for (const client of clients) {
      const outcome = await attempt(`resume ${client.name}`, () =>
        measureResume({
          proxy,
          client,
          ref: `${proxy.host}/${big.repo}:${big.tag}`,
          layer,
          fraction: 0.5,
          scratch,
        }),
      );
      if (outcome.error) {
        details[client.name] = { error: outcome.error };
        continue;
      }
      details[client.name] = outcome.value;
      figures[client.name] = figureOf([{ value: outcome.value.layerBytesOnResume / 1e6 }], 'MB');
      log(`resume ${client.name}: ${JSON.stringify(outcome.value)}`);
    }
  } finally {
    await proxy.stop();
  }
  record({
    id: 'resume.big',
    group: 'Resume',
    title: `1 GB layer (${(layer.size / 1e6).toFixed(0)} MB gzip) interrupted at 50%: layer bytes transferred by the second pull`,
    figures,
    details,
    reason: figures.berth
      ? undefined
      : details.berth?.error
        ? `berth failed: ${details.berth.error}`
        : berth.pullReason,
    note: 'One run per client (kill -9 of the whole process tree once half the layer went through a counting proxy, then the same pull again into the same target).',
  });
}

// ---------------------------------------------------------------- store

/**
 * Runs a bundled workload and parses the JSON line it prints. `maxRssMB` is replaced by GNU time's figure: a
 * forked child inherits its parent's RSS high-water mark, so the process's own `resourceUsage().maxRSS`
 * would report the harness's memory, not the workload's.
 */
async function runJson(file, args, options = {}) {
  const result = await runTimed(process.execPath, [file, ...args], { cwd: repoRoot, scratch, ...options });
  const last = result.stdout.trim().split('\n').at(-1) ?? '{}';
  return { ...JSON.parse(last), maxRssMB: result.rssMB ?? undefined };
}

async function measureStore(recordRows) {
  const named = Math.max(100, Math.round(9_000 * scale));
  const dangling = Math.max(10, Math.round(1_000 * scale));
  const total = named + dangling;
  const tagCount = Math.max(50, Math.round(1_000 * scale));
  const titles = {
    first: `Open and list ${total.toLocaleString('en-US')} images, first open of an adopted layout (no caches)`,
    cold: `List ${total.toLocaleString('en-US')} images, cold (new process)`,
    warm: `List ${total.toLocaleString('en-US')} images, warm`,
    inspect: 'Inspect one image (warm)',
    history: 'History of one image (warm)',
    tag: `Tag (×${tagCount.toLocaleString('en-US')}, per operation)`,
    untag: `Untag (×${tagCount.toLocaleString('en-US')}, per operation)`,
    prune: `Prune ${dangling.toLocaleString('en-US')} dangling images`,
  };
  const checks = {
    cold: [{ text: '< 2 s (2,000 ms)', max: 2000 }],
    warm: [{ text: '< 100 ms', max: 100 }],
    tag: [{ text: '< 10 ms each', max: 10 }],
    untag: [{ text: '< 10 ms each', max: 10 }],
  };
  const add = (key, figure, reason, note) =>
    recordRows &&
    record({
      id: `store.${key}`,
      group: 'Store',
      title: titles[key],
      figures: { berth: figure },
      checks: checks[key] ?? [],
      reason,
      note,
    });
  const bundle = await bundleBerthWorkload(repoRoot, 'store-bench', bundleDir);
  if (bundle.error) {
    for (const key of Object.keys(titles))
      add(key, null, `the store workload does not build against electron/core/store: ${bundle.error}`);
    return undefined;
  }
  const template = join(scratch, 'store-template');
  const store = join(scratch, 'store-list');
  const outcome = await attempt('store', async () => {
    await runJson(bundle.file, ['populate', template, String(named), String(dangling)]);
    await cp(template, store, { recursive: true });
    const first = await runJson(bundle.file, ['list', store, '1']);
    if (first.images !== total) throw new Error(`Berth listed ${first.images} images of ${total}`);
    const lists = [];
    const tags = [];
    const prunes = [];
    for (let run = 0; run < runs; run++) lists.push(await runJson(bundle.file, ['list', store, '10']));
    for (let run = 0; run < runs; run++)
      tags.push(await runJson(bundle.file, ['tagging', store, String(tagCount)]));
    for (let run = 0; run < runs; run++) {
      const copy = join(scratch, `store-prune-${run}`);
      await cp(store, copy, { recursive: true });
      const pruned = await runJson(bundle.file, ['prune', copy]);
      if (pruned.deleted !== dangling)
        throw new Error(`prune deleted ${pruned.deleted} images, expected ${dangling}`);
      prunes.push(pruned);
      await rm(copy, { recursive: true, force: true });
    }
    return { first, lists, tags, prunes };
  });
  await rm(template, { recursive: true, force: true });
  if (outcome.error) {
    for (const key of Object.keys(titles)) add(key, null, `the store workload failed: ${outcome.error}`);
    return undefined;
  }
  const { first, lists, tags, prunes } = outcome.value;
  const ms = (values) => figureOf(values, 'ms');
  add('first', ms([{ value: first.coldMs, rssMB: first.maxRssMB }]));
  add('cold', ms(lists.map((l) => ({ value: l.coldMs, rssMB: l.maxRssMB }))));
  add(
    'warm',
    ms(lists.map((l) => ({ value: median(l.warmMs), rssMB: l.maxRssMB }))),
    undefined,
    'Each run: median of 10 lists in one process.',
  );
  add('inspect', ms(lists.map((l) => ({ value: median(l.inspectMs) }))));
  add('history', ms(lists.map((l) => ({ value: median(l.historyMs) }))));
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  const slowest = (key) => round(Math.max(...tags.flatMap((t) => t[key])), 3);
  add(
    'tag',
    ms(tags.map((t) => ({ value: mean(t.tagMs), rssMB: t.maxRssMB }))),
    undefined,
    `Each run: mean of ${tagCount} tags; slowest single tag ${slowest('tagMs')} ms.`,
  );
  add(
    'untag',
    ms(tags.map((t) => ({ value: mean(t.untagMs) }))),
    undefined,
    `Each run: mean of ${tagCount} untags; slowest single untag ${slowest('untagMs')} ms.`,
  );
  add('prune', ms(prunes.map((p) => ({ value: p.pruneMs, rssMB: p.maxRssMB }))));
  return { store, total };
}

// ---------------------------------------------------------------- layers

async function measureLayers(images) {
  const layer = images.workloads.files.layers[0];
  const blob = join(images.blobsDir, layer.digest.slice('sha256:'.length));
  const files = layer.files;
  const titles = {
    index: `Index the ${files.toLocaleString('en-US')}-file layer`,
    open: `Open the ${files.toLocaleString('en-US')}-file layer’s merged view: index read from disk, root directory listed`,
    openAbove: `Open a layer above the ${files.toLocaleString('en-US')}-file layer (the app image’s top layer on it): its layer applied onto the bottom layer’s index, root directory listed`,
    search: 'Search a glob (`*.so*`) across the 5 layers of the app image',
  };
  const gunzip = [];
  for (let run = 0; run < runs; run++) {
    const result = await runTimed('sh', ['-c', 'gzip -dc "$1" >/dev/null', 'sh', blob], { scratch });
    gunzip.push({ value: result.seconds, rssMB: result.rssMB });
  }
  const reference = figureOf(gunzip, 's');
  const add = (key, figures, checks, reason, note) =>
    record({
      id: `layers.${key}`,
      group: 'Layer explorer',
      title: titles[key],
      figures,
      checks,
      reason,
      note,
    });
  const indexChecks = [{ text: '≤ 1.2× its decompression (gzip -dc)', ratioTo: 'reference', max: 1.2 }];
  const openChecks = [{ text: '< 500 ms', max: 500 }];
  const bundle = await bundleBerthWorkload(repoRoot, 'layers-bench', bundleDir);
  if (bundle.error) {
    const reason = `the layer workload does not build against electron/core/layers: ${bundle.error}`;
    add('index', { berth: null, reference }, indexChecks, reason);
    add('open', { berth: null }, openChecks, reason);
    add('openAbove', { berth: null }, openChecks, reason);
    add('search', { berth: null }, [], reason);
    return;
  }
  const filesDir = join(scratch, 'layer-index-files');
  const appDir = join(scratch, 'layer-index-app');
  // The explorer lists a bottom layer straight from its index, and applies any layer above it onto that index.
  const stackDir = join(scratch, 'layer-index-stack');
  const outcome = await attempt('layers', async () => {
    const index = [];
    for (let run = 0; run < runs; run++) {
      const result = await runJson(bundle.file, ['index', filesDir, blob, layer.diffId]);
      index.push({ value: result.layers[0].ms / 1000, rssMB: result.maxRssMB });
    }
    const open = [];
    for (let run = 0; run < runs; run++) {
      const result = await runJson(bundle.file, ['open', filesDir, '1']);
      open.push({ value: result.ms, rssMB: result.maxRssMB });
    }
    const app = images.workloads.app;
    const top = app.layers.at(-1);
    await runJson(bundle.file, [
      'index',
      stackDir,
      blob,
      layer.diffId,
      join(images.blobsDir, top.digest.slice(7)),
      top.diffId,
    ]);
    const openAbove = [];
    for (let run = 0; run < runs; run++) {
      const result = await runJson(bundle.file, ['open', stackDir, '2']);
      openAbove.push({ value: result.ms, rssMB: result.maxRssMB });
    }
    await runJson(bundle.file, [
      'index',
      appDir,
      ...app.layers.flatMap((l) => [join(images.blobsDir, l.digest.slice(7)), l.diffId]),
    ]);
    const search = [];
    let hits = 0;
    for (let run = 0; run < runs; run++) {
      const result = await runJson(bundle.file, ['search', appDir, String(app.layers.length), '*.so*']);
      search.push({ value: result.ms, rssMB: result.maxRssMB });
      hits = result.hits;
    }
    return { index, open, openAbove, search, hits };
  });
  await rm(filesDir, { recursive: true, force: true });
  await rm(appDir, { recursive: true, force: true });
  await rm(stackDir, { recursive: true, force: true });
  if (outcome.error) {
    const reason = `the layer workload failed: ${outcome.error}`;
    add('index', { berth: null, reference }, indexChecks, reason);
    add('open', { berth: null }, openChecks, reason);
    add('openAbove', { berth: null }, openChecks, reason);
    add('search', { berth: null }, [], reason);
    return;
  }
  add(
    'index',
    { berth: figureOf(outcome.value.index, 's'), reference },
    indexChecks,
    undefined,
    'Reference: `gzip -dc LAYER >/dev/null`. Berth computes the DiffID and every file’s content hash (sha256, BLAKE3 from 8 KiB) in the same pass.',
  );
  add('open', { berth: figureOf(outcome.value.open, 'ms') }, openChecks);
  add('openAbove', { berth: figureOf(outcome.value.openAbove, 'ms') }, openChecks);
  add(
    'search',
    { berth: figureOf(outcome.value.search, 'ms') },
    [],
    undefined,
    `${outcome.value.hits} hits.`,
  );
}

// ---------------------------------------------------------------- save / load

async function measureArchives(images, registry, berth) {
  const titles = {
    save: 'Peak RSS saving a 1 GB image to an archive',
    load: 'Peak RSS loading a 1 GB archive',
  };
  const checks = [{ text: '< 200 MB', max: 200 }];
  const add = (key, figure, reason) =>
    record({
      id: `memory.${key}-1g`,
      group: 'Memory',
      title: titles[key],
      figures: { berth: figure },
      checks,
      reason,
    });
  if (!berth.commands.includes('load') || !berth.commands.includes('save')) {
    const reason = berth.error ?? 'the CLI has no `berth save` / `berth load` yet (archive issue)';
    add('save', null, reason);
    add('load', null, reason);
    return;
  }
  const big = images.workloads.big;
  const archive = join(cacheDir, `big-scale-${scale}.docker-archive.tar`);
  if (!existsSync(archive)) {
    await runTimed('skopeo', [
      'copy',
      '-q',
      '--src-tls-verify=false',
      `docker://${registry.host}/${big.repo}:${big.tag}`,
      `docker-archive:${archive}:bench/big:1`,
    ]);
  }
  const load = [];
  const save = [];
  const outcome = await attempt('save/load', async () => {
    for (let run = 0; run < runs; run++) {
      const dir = join(scratch, `archive-${run}`);
      await mkdir(dir, { recursive: true });
      const cli = [join(repoRoot, 'bin', 'berth'), '--store', join(dir, 'store')];
      const loaded = await runTimed(process.execPath, [...cli, 'load', '-i', archive], {
        scratch,
        cwd: repoRoot,
      });
      load.push({ value: loaded.rssMB });
      const saved = await runTimed(
        process.execPath,
        [...cli, 'save', '-o', join(dir, 'out.tar'), 'bench/big:1'],
        { scratch, cwd: repoRoot },
      );
      save.push({ value: saved.rssMB });
      await rm(dir, { recursive: true, force: true });
    }
  });
  add('save', save.length > 0 ? figureOf(save, 'MB') : null, outcome.error);
  add('load', load.length > 0 ? figureOf(load, 'MB') : null, outcome.error);
}

// ---------------------------------------------------------------- ui

async function measureUi(berth, storeList) {
  const count =
    storeList?.total ?? Math.max(100, Math.round(9_000 * scale)) + Math.max(10, Math.round(1_000 * scale));
  const rows = {
    firstPaintMs: [
      'ui.first-paint',
      `Images table first paint with ${count.toLocaleString('en-US')} images (navigation start → first row painted)`,
      [{ text: '< 500 ms', max: 500 }],
    ],
    scrollMs: [
      'ui.scroll-end',
      `Scroll the ${count.toLocaleString('en-US')}-image table to its last row`,
      [],
    ],
    launchMs: [
      'ui.launch',
      'Launch to interactive (`berth serve` spawned → first row painted in Chromium)',
      [{ text: '< 1.5 s (1,500 ms)', max: 1500 }],
    ],
  };
  const add = (figures, reason) => {
    for (const [key, [id, title, checks]] of Object.entries(rows)) {
      record({
        id,
        group: 'UI',
        title,
        figures: { berth: figures?.[key] ?? null },
        checks,
        reason,
        note:
          key === 'launchMs' && figures
            ? 'Through the browser host; Chromium is already running and idle (under 20 ms of CPU in 250 ms) when `berth serve` is spawned. The Electron window is not measured (no Electron binary on this machine).'
            : undefined,
      });
    }
  };
  if (!berth.commands.includes('serve'))
    return add(undefined, berth.error ?? 'the CLI has no `berth serve` yet');
  if (!storeList)
    return add(undefined, 'needs the populated store of the store workloads, which could not be built');
  const { probeImagesTable } = await import('./lib/ui-probe.mjs');
  const samples = { firstPaintMs: [], scrollMs: [], launchMs: [] };
  const outcome = await attempt('ui', async () => {
    for (let run = 0; run < runs; run++) {
      // The store workloads just wrote 10,000 images and pruned 1,000: their writeback is not the UI's cost.
      await settleDisk();
      const result = await probeImagesTable({ repoRoot, store: storeList.store, expectedRows: count });
      for (const key of Object.keys(samples)) samples[key].push({ value: result[key] });
      log(`ui run ${run + 1}/${runs}: ${JSON.stringify(result)}`);
    }
  });
  if (outcome.error) return add(undefined, `the UI probe failed: ${outcome.error}`);
  add(Object.fromEntries(Object.entries(samples).map(([key, s]) => [key, figureOf(s, 'ms')])));
}

// ---------------------------------------------------------------- main

/**
 * Removes NODE_EXTRA_CA_CERTS from the environment every client inherits, after measuring what it costs a Node
 * start: Node parses the named file before any script runs, and set to the whole system bundle (as on this
 * machine's provisioning) that is tens of ms per process, a cost of that setting, not of Berth. No workload
 * uses TLS. Returns the remark that says so, or undefined when the variable is not set.
 */
function dropExtraCaCerts() {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (file === undefined) return undefined;
  const start = (env) => {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      const begun = performance.now();
      spawnSync(process.execPath, ['-e', '0'], { env });
      samples.push(performance.now() - begun);
    }
    return median(samples);
  };
  const withFile = start(process.env);
  delete process.env.NODE_EXTRA_CA_CERTS;
  const without = start(process.env);
  return `NODE_EXTRA_CA_CERTS (set to ${file} on this machine) is removed from every client's environment: \`node -e 0\` takes ${withFile.toFixed(0)} ms with it and ${without.toFixed(0)} ms without (median of 5), as Node parses that file at every start. No workload uses TLS; Go peers ignore the variable.`;
}

async function main() {
  checkTools();
  const caRemark = dropExtraCaCerts();
  if (caRemark) remarks.push(caRemark);
  const machine = machineFacts();
  const loadAtStart = loadavg().map((l) => round(l, 3));
  log(
    `scale ${scale}, ${runs} runs per figure, cache ${cacheDir}; results → ${relative(repoRoot, jsonOut)}, ${relative(repoRoot, markdownOut)}`,
  );
  await unmountUnder(scratch);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  await mkdir(resultsDir, { recursive: true });

  // The store and UI groups build their own store; only the other groups need the workload images and registry.
  const needsImages = ['pull', 'resume', 'layers', 'memory'].some(wanted);
  const images = needsImages ? await workloadImages(cacheDir, scale, log) : undefined;
  const registry = needsImages
    ? await startBenchRegistry(join(cacheDir, `registry-scale-${scale}`), join(scratch, 'registry-config'))
    : undefined;
  try {
    if (registry) {
      const uploaded = await pushWorkloads(registry, images);
      log(`registry on ${registry.host}; pushed ${(uploaded / 1e6).toFixed(0)} MB (0 when cached)`);
    }

    const berth = probeBerthCli(repoRoot, { build: buildCli });
    if (berth.commands.includes('pull')) berth.pullClient = berthClient(repoRoot);
    else berth.pullReason = `the CLI offers no \`berth pull\`: ${berth.error ?? 'not in berth --help'}`;
    log(`berth CLI: ${berth.error ?? `commands ${berth.commands.join(', ')}`}`);
    if (wanted('pull')) {
      const app = berth.commands.includes('serve')
        ? await bundleBerthWorkload(repoRoot, 'app-pull', bundleDir)
        : { error: `the CLI offers no \`berth serve\`: ${berth.error ?? 'not in berth --help'}` };
      if (app.error) berth.appReason = `the app's pull client does not build: ${app.error}`;
      else berth.appBundle = app.file;
    }

    // The latency figures (store, UI, layer explorer) run first, on the machine as a partial run finds it: after
    // the pulls, with gigabytes just written and deleted, the same probes read up to 1.8x slower.
    const storeList = wanted('store') || wanted('ui') ? await measureStore(wanted('store')) : undefined;
    if (wanted('ui')) await measureUi(berth, storeList);
    if (wanted('layers')) await measureLayers(images);
    let rssByPull = {};
    if (wanted('pull')) rssByPull = await measurePulls(images, registry, berth);
    if (wanted('memory') && wanted('pull')) recordPullMemory(rssByPull, berth);
    if (wanted('resume')) await measureResumes(images, registry, berth);
    if (wanted('memory')) await measureArchives(images, registry, berth);
  } finally {
    await registry?.stop();
    await unmountUnder(scratch);
    await rm(scratch, { recursive: true, force: true });
  }

  for (const w of workloads) judge(w);
  remarks.push(
    'Every timed pull, floor and UI probe starts after `sync` (untimed), so no figure pays for the writeback of the work before it.',
    "The floor (`gzip -dc | sha256sum`, every layer at once) is the CPU cost of decompressing and hashing the layers with the common command-line tools (GNU gzip, coreutils sha256sum), with no process start-up or network; a pull can go below it where its inflate is faster than GNU gzip (Node's zlib is).",
    'skopeo copy to an OCI layout downloads and verifies compressed digests only (no decompression); podman pull also decompresses, verifies DiffIDs and unpacks into overlay storage.',
    "Pull rows carry two Berth figures from the same `berth pull` runs: **Berth** is the time until it prints `stored …` (every blob verified against its digest, fsynced, and the name committed: the image lists, inspects, tags, saves and pushes), compared with skopeo and podman; **Berth, indexed** is the time until the process exits, with every layer's DiffID checked against its config and its file index written, compared with the floor. A layer whose DiffID fails then takes the image back out and returns its name to the image it was on.",
    "**Berth, in the app** and **Berth in the app, indexed** are the same two moments for a pull made in the running app: one `berth serve` per pull row, driven over its WebSocket contract by the renderer's own client, timed from the `pull:start` request to the pull's `stored` and `complete` progress events. Its store is emptied after every run (the images removed with their blobs, checked), so each pull starts from an empty store as the CLI's do; the process is not restarted, so its first run is the first pull after launch (the max in brackets) and the others are what a pull costs in an app already open. Peak RSS there is the app process's own high-water mark over the row (`VmHWM`). The table judges both ways of pulling: a row is met only when every line holds.",
    'Cold store figures start a new Node process (no in-memory caches); the OS page cache stays warm.',
  );
  // Only the load before the first workload tells of other work: by the end, the pulls' own registry,
  // clients and podman keep two cores' worth of load average up.
  if (loadAtStart[0] > machine.cores) {
    remarks.push(
      `The machine was busy with other work when this run started (1-minute load average ${loadAtStart[0].toFixed(1)} on ${machine.cores} cores): every figure, Berth's and the peers', is slower and noisier than on an idle machine; compare ratios, not absolute times.`,
    );
  }
  const env = ['BENCH_SCALE', 'BENCH_RUNS', 'BENCH_ONLY', 'BENCH_BUILD']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => `${k}=${process.env[k]}`);
  const results = {
    generated: new Date().toISOString(),
    command: [...env, 'npm run bench'].join(' '),
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    config: { scale, runs, only: only ? [...only] : null },
    machine: { ...machine, loadAverage: { start: loadAtStart, end: loadavg().map((l) => round(l, 3)) } },
    workloads,
    remarks,
  };
  await writeFile(jsonOut, JSON.stringify(results, null, 2) + '\n');
  await mkdir(dirname(markdownOut), { recursive: true });
  const analysis = await readFile(join(repoRoot, 'bench', 'analysis.md'), 'utf8').catch(() => undefined);
  await writeFile(markdownOut, await formatMarkdown(renderMarkdown(results, analysis), markdownOut));
  const counts = workloads.reduce((acc, w) => ({ ...acc, [w.status]: (acc[w.status] ?? 0) + 1 }), {});
  log(
    `done in ${results.durationSeconds} s: ${JSON.stringify(counts)}; wrote ${relative(repoRoot, jsonOut)} and ${relative(repoRoot, markdownOut)}`,
  );
}

let finished = false;
process.on('exit', (code) => {
  if (!finished && code === 13)
    process.stderr.write('[bench] stopped: a stream or child never settled (unsettled top-level await)\n');
});
/** Formats the Markdown with the repository's Prettier settings, so `npm run lint` accepts the generated file. */
async function formatMarkdown(text, file) {
  const prettier = await import('prettier');
  return prettier.format(text, {
    ...(await prettier.resolveConfig(file)),
    filepath: file,
    parser: 'markdown',
  });
}

/** `node bench/run.mjs --render`: rewrites docs/benchmarks.md from latest.json and bench/analysis.md, measuring nothing. */
async function render() {
  const results = JSON.parse(await readFile(join(resultsDir, 'latest.json'), 'utf8'));
  const analysis = await readFile(join(repoRoot, 'bench', 'analysis.md'), 'utf8').catch(() => undefined);
  const out = join(repoRoot, 'docs', 'benchmarks.md');
  await writeFile(out, await formatMarkdown(renderMarkdown(results, analysis), out));
}

/**
 * `node bench/run.mjs --merge FILE.json.tmp`: replaces the workloads a partial run (BENCH_ONLY=…) measured in
 * latest.json, each noted with when, how and under what load it was measured, then renders as --render does.
 */
async function merge(file) {
  const latest = JSON.parse(await readFile(join(resultsDir, 'latest.json'), 'utf8'));
  const run = JSON.parse(await readFile(file, 'utf8'));
  const load = run.machine?.loadAverage;
  const when = `Measured ${run.generated.slice(0, 16).replace('T', ' ')} UTC in a partial run (\`BENCH_ONLY=${run.config.only?.join(',') ?? ''}\`, ${run.config.runs} runs, load average ${load?.start?.[0] ?? '?'} → ${load?.end?.[0] ?? '?'}), not the full run above.`;
  const fresh = new Map(run.workloads.map((w) => [w.id, w]));
  const merged = latest.workloads.map((w) => {
    const update = fresh.get(w.id);
    if (!update) return w;
    fresh.delete(w.id);
    return { ...update, note: update.note ? `${update.note} ${when}` : when };
  });
  for (const w of fresh.values()) merged.push({ ...w, note: w.note ? `${w.note} ${when}` : when });
  await writeFile(
    join(resultsDir, 'latest.json'),
    `${JSON.stringify({ ...latest, workloads: merged }, null, 2)}\n`,
  );
  await render();
}

const mergeAt = process.argv.indexOf('--merge');
await (mergeAt >= 0
  ? merge(process.argv[mergeAt + 1] ?? '')
  : process.argv.includes('--render')
    ? render()
    : main());
finished = true;
