// Builds the benchmark's images once per scale into a cache folder: layers tarred from real files of this
// machine (or generated), gzip-compressed, with OCI configs, manifests and an index, all content-addressed.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { create as createTar, Header } from 'tar';

/** Bumped whenever the way images are built changes, so stale caches are rebuilt. */
const BUILD_VERSION = 2;

const MiB = 1024 * 1024;
const FIXED_TIME = new Date('2024-01-01T00:00:00Z');
const CREATED = FIXED_TIME.toISOString();

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

const BASE_LAYERS = [
  { roots: ['/usr/lib/x86_64-linux-gnu'], mb: 180, createdBy: 'ADD /usr/lib/x86_64-linux-gnu' },
  { roots: ['/usr/share'], mb: 120, createdBy: 'ADD /usr/share' },
  { roots: ['/usr/bin'], mb: 80, createdBy: 'ADD /usr/bin' },
];

/**
 * What each workload image holds. Layer budgets are MiB of file content before scaling; the same layer spec
 * always yields the same blob on this machine, which is how `app:2` shares its base layers with `app:1`.
 */
export function workloadSpecs(scale) {
  const sized = (layer) => ({ ...layer, bytes: Math.max(1, Math.round(layer.mb * MiB * scale)) });
  return {
    app: {
      title: '5-layer image (~500 MB uncompressed, real files)',
      repo: 'bench/app',
      tag: '1',
      layers: [
        ...BASE_LAYERS,
        { roots: ['/usr/lib/python3.11', '/usr/lib/python3'], mb: 70, createdBy: 'ADD /usr/lib/python3*' },
        { roots: ['/usr/lib/gcc'], mb: 50, createdBy: 'ADD /usr/lib/gcc' },
      ].map(sized),
    },
    appNext: {
      title: 'image sharing its 3 base layers with app:1 (2 new layers)',
      repo: 'bench/app',
      tag: '2',
      layers: [
        ...BASE_LAYERS,
        { roots: ['/usr/lib/llvm-14'], mb: 60, createdBy: 'ADD /usr/lib/llvm-14' },
        {
          roots: ['/usr/lib/postgresql', '/usr/lib/git-core'],
          mb: 40,
          createdBy: 'ADD postgresql, git-core',
        },
      ].map(sized),
    },
    big: {
      title: '1 GB single-layer image (real files)',
      repo: 'bench/big',
      tag: '1',
      layers: [
        {
          roots: [
            '/usr/lib/jvm',
            '/usr/lib/chromium',
            '/usr/lib/llvm-14',
            '/usr/lib/google-cloud-sdk',
            '/usr/share',
          ],
          mb: 1024,
          createdBy: 'ADD jvm, chromium, llvm-14, google-cloud-sdk',
        },
      ].map(sized),
    },
    multi: {
      title: '3-platform index (linux/amd64, linux/arm64/v8, linux/arm/v7)',
      repo: 'bench/multi',
      tag: '1',
      platforms: [
        { architecture: 'amd64', os: 'linux', layers: [{ roots: ['/usr/lib/llvm-14'], mb: 100 }] },
        { architecture: 'arm64', os: 'linux', variant: 'v8', layers: [{ roots: ['/usr/lib/jvm'], mb: 100 }] },
        {
          architecture: 'arm',
          os: 'linux',
          variant: 'v7',
          layers: [{ roots: ['/usr/lib/chromium'], mb: 100 }],
        },
      ].map((p) => ({ ...p, layers: p.layers.map(sized) })),
    },
    files: {
      title: `layer of ${Math.round(200_000 * scale).toLocaleString('en-US')} small files`,
      repo: 'bench/files',
      tag: '1',
      layers: [
        { generated: 'small-files', count: Math.max(10, Math.round(200_000 * scale)), createdBy: 'ADD srv/' },
      ],
    },
  };
}

/**
 * Real files under `roots`, in sorted walk order, with their directories, until `budget` bytes of content; `missing`
 * names the roots the walk reached that do not exist.
 */
async function collectFiles(roots, budget) {
  const paths = [];
  const missing = [];
  const seen = new Set();
  let total = 0;
  const walk = async (dir) => {
    let names;
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (total >= budget * 0.99) return;
      const full = join(dir, name);
      const st = await lstat(full).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        paths.push(full.slice(1));
        await walk(full);
      } else if (st.isSymbolicLink()) {
        paths.push(full.slice(1));
      } else if (st.isFile() && seen.has(`${st.dev}:${st.ino}`)) {
        // A hard link to a file already in the layer: tar stores it as a link, it adds no content.
        paths.push(full.slice(1));
      } else if (st.isFile() && total + st.size <= budget) {
        paths.push(full.slice(1));
        seen.add(`${st.dev}:${st.ino}`);
        total += st.size;
      }
    }
  };
  for (const root of roots) {
    if (total >= budget * 0.99) break;
    if (!existsSync(root)) {
      missing.push(root);
      continue;
    }
    const parts = root.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) paths.push(parts.slice(0, i).join('/'));
    await walk(root);
  }
  return { paths: [...new Set(paths)], total, missing };
}

function pseudoRandom(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

const WORDS =
  'alpha beta gamma delta layer image manifest digest config index blob tar gzip store berth'.split(' ');

function tarHeader(fields) {
  const block = Buffer.alloc(512);
  new Header({ mode: 0o644, uid: 0, gid: 0, mtime: FIXED_TIME, uname: '', gname: '', ...fields }).encode(
    block,
  );
  return block;
}

/** A tar of `count` small text files (0–1 KiB) in 1,000-file directories, as 1 MiB chunks. */
async function* smallFilesTar(count) {
  const random = pseudoRandom(count);
  const pending = [];
  let pendingBytes = 0;
  const push = (buffer) => {
    pending.push(buffer);
    pendingBytes += buffer.length;
  };
  push(tarHeader({ path: 'srv/', type: 'Directory', mode: 0o755, size: 0 }));
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) {
      push(
        tarHeader({
          path: `srv/d${String(i / 1000).padStart(4, '0')}/`,
          type: 'Directory',
          mode: 0o755,
          size: 0,
        }),
      );
    }
    const lines = [];
    const target = Math.floor(random() * 1024);
    let length = 0;
    while (length < target) {
      const line = `${WORDS[Math.floor(random() * WORDS.length)]} ${i} ${Math.floor(random() * 1e6)}\n`;
      lines.push(line);
      length += line.length;
    }
    const body = Buffer.from(lines.join('').slice(0, target));
    const dir = `srv/d${String(Math.floor(i / 1000)).padStart(4, '0')}`;
    push(tarHeader({ path: `${dir}/f${String(i).padStart(6, '0')}.txt`, type: 'File', size: body.length }));
    if (body.length > 0) {
      push(body);
      const pad = (512 - (body.length % 512)) % 512;
      if (pad > 0) push(Buffer.alloc(pad));
    }
    if (pendingBytes >= MiB) {
      yield Buffer.concat(pending.splice(0));
      pendingBytes = 0;
    }
  }
  push(Buffer.alloc(1024));
  yield Buffer.concat(pending);
}

function hashTap(hash, counter) {
  return new Transform({
    transform(chunk, _encoding, done) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/** Streams a tar source through sha256 (DiffID), gzip and sha256 (digest) into `blobs/sha256/`. */
async function writeLayerBlob(source, blobsDir) {
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  const tarBytes = { bytes: 0 };
  const blobBytes = { bytes: 0 };
  const temp = join(blobsDir, `.layer-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await pipeline(
    source,
    hashTap(diff, tarBytes),
    createGzip({ level: 6 }),
    hashTap(blob, blobBytes),
    createWriteStream(temp),
  );
  const hex = blob.digest('hex');
  await rename(temp, join(blobsDir, hex));
  return {
    mediaType: MEDIA.layerGzip,
    digest: `sha256:${hex}`,
    size: blobBytes.bytes,
    diffId: `sha256:${diff.digest('hex')}`,
    uncompressedSize: tarBytes.bytes,
  };
}

async function putJson(blobsDir, value) {
  const bytes = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobsDir, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

async function buildLayer(spec, blobsDir) {
  if (spec.generated === 'small-files') {
    const layer = await writeLayerBlob(smallFilesTar(spec.count), blobsDir);
    return { ...layer, files: spec.count };
  }
  const { paths, total, missing } = await collectFiles(spec.roots, spec.bytes);
  // Without a folder it reads, a layer would silently hold other files than other runs measured.
  if (missing.length > 0)
    throw new Error(
      `layer "${spec.createdBy ?? spec.roots.join(', ')}" is made of files under ${missing.join(', ')}, which this machine does not have; run bench/deps.sh`,
    );
  // jobs: 1 because node-tar 7's parallel stat stalls the stream on some runs of hard-linked files (/usr/bin/bzip2 and its links).
  const pack = createTar({ cwd: '/', portable: true, mtime: FIXED_TIME, noDirRecurse: true, jobs: 1 }, paths);
  const layer = await writeLayerBlob(pack, blobsDir);
  return { ...layer, files: paths.length, contentBytes: total };
}

async function buildManifest(blobsDir, platform, layers, history) {
  const config = await putJson(blobsDir, {
    created: CREATED,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: history.map((createdBy) => ({ created: CREATED, created_by: createdBy })),
  });
  const manifest = await putJson(blobsDir, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, ...config },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  return { mediaType: MEDIA.manifest, ...manifest, config, layers, platform };
}

/** Runs `tasks` (functions returning promises) with at most `limit` at once. */
async function parallel(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/**
 * The workload images for `scale`, built into `<cacheDir>/images-<scale>/` unless a complete build is there.
 * Returns a description: per workload its manifest (or index and children), layers with DiffIDs and sizes.
 */
export async function workloadImages(cacheDir, scale, log) {
  const dir = join(cacheDir, `images-v${BUILD_VERSION}-scale-${scale}`);
  const blobsDir = join(dir, 'blobs', 'sha256');
  const descriptionFile = join(dir, 'workloads.json');
  if (existsSync(descriptionFile)) {
    const description = JSON.parse(await readFile(descriptionFile, 'utf8'));
    if (description.blobs.every((hex) => existsSync(join(blobsDir, hex))))
      return { ...description, blobsDir };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(blobsDir, { recursive: true });
  const specs = workloadSpecs(scale);
  const layerSpecs = new Map();
  const keyOf = (layer) => JSON.stringify(layer);
  for (const spec of Object.values(specs)) {
    for (const layer of spec.layers ?? spec.platforms.flatMap((p) => p.layers))
      layerSpecs.set(keyOf(layer), layer);
  }
  const keys = [...layerSpecs.keys()];
  log(`building ${keys.length} layers at scale ${scale} into ${dir} (once per scale)`);
  const built = await parallel(
    keys.map((key) => async () => {
      const started = Date.now();
      const layer = await buildLayer(layerSpecs.get(key), blobsDir);
      log(
        `  layer ${layer.digest.slice(7, 19)}: ${(layer.uncompressedSize / MiB).toFixed(0)} MiB tar, ${(layer.size / MiB).toFixed(0)} MiB gzip, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return layer;
    }),
    2,
  );
  const layers = new Map(keys.map((key, i) => [key, built[i]]));
  const workloads = {};
  for (const [id, spec] of Object.entries(specs)) {
    if (spec.platforms) {
      const children = [];
      for (const p of spec.platforms) {
        const platform = {
          architecture: p.architecture,
          os: p.os,
          ...(p.variant ? { variant: p.variant } : {}),
        };
        const childLayers = p.layers.map((l) => layers.get(keyOf(l)));
        children.push(await buildManifest(blobsDir, platform, childLayers, ['ADD /usr/lib']));
      }
      const index = await putJson(blobsDir, {
        schemaVersion: 2,
        mediaType: MEDIA.index,
        manifests: children.map((c) => ({
          mediaType: c.mediaType,
          digest: c.digest,
          size: c.size,
          platform: c.platform,
        })),
      });
      workloads[id] = {
        id,
        title: spec.title,
        repo: spec.repo,
        tag: spec.tag,
        kind: 'index',
        mediaType: MEDIA.index,
        ...index,
        children,
      };
    } else {
      const imageLayers = spec.layers.map((l) => layers.get(keyOf(l)));
      const manifest = await buildManifest(
        blobsDir,
        { architecture: 'amd64', os: 'linux' },
        imageLayers,
        spec.layers.map((l) => l.createdBy ?? 'ADD'),
      );
      workloads[id] = { id, title: spec.title, repo: spec.repo, tag: spec.tag, kind: 'image', ...manifest };
    }
  }
  const description = {
    scale,
    built: new Date().toISOString(),
    workloads,
    blobs: (await readdir(blobsDir)).filter((n) => !n.startsWith('.')),
  };
  await writeFile(descriptionFile, JSON.stringify(description, null, 2));
  return { ...description, blobsDir };
}

/** The platform manifest a workload pulls on linux/amd64 (the index's amd64 child, or the image itself). */
export function hostManifestOf(workload) {
  return workload.kind === 'index'
    ? workload.children.find((c) => c.platform.architecture === 'amd64')
    : workload;
}
