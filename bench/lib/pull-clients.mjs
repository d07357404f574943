// The clients a pull is measured with: Berth's CLI, Berth's app, skopeo, podman, and the gzip -dc | sha256sum floor.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runTimed } from './measure.mjs';
import { peakRssOf, startServe, stopServe } from './serve-process.mjs';

/** Unmounts what a killed podman left mounted under `dir` (its overlay home is a bind mount), deepest first. */
export async function unmountUnder(dir) {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const points = mounts
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) spawnSync('umount', [point]);
}

async function removeTree(dir) {
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Runs a client's pull of `ref` into `context` under GNU time (with Berth's `usable` line as the mark). */
export function pullWith(client, context, ref, tag, options) {
  const { command, args, env, cwd } = client.command(context, ref, tag);
  return runTimed(command, args, { ...options, env, cwd, ...(client.usable ? { mark: client.usable } : {}) });
}

/** `skopeo copy docker://… oci:<fresh dir>`: download and verify, no unpacking. */
export function skopeoClient() {
  return {
    name: 'skopeo',
    async prepare(scratch) {
      const dir = await mkdtemp(join(scratch, 'skopeo-'));
      return { dir, layout: `oci:${join(dir, 'oci')}` };
    },
    command: (context, ref, tag) => ({
      command: 'skopeo',
      args: ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `${context.layout}:${tag}`],
    }),
    cleanup: (context) => removeTree(context.dir),
  };
}

/** `podman pull` into a throwaway storage root (overlay driver, what a root user gets by default). */
export function podmanClient(driver = 'overlay') {
  return {
    name: 'podman',
    async prepare(scratch) {
      const dir = await mkdtemp(join(scratch, 'podman-'));
      await mkdir(join(dir, 'tmp'));
      return { dir };
    },
    command: (context, ref) => ({
      command: 'podman',
      args: [
        '--root',
        join(context.dir, 'root'),
        '--runroot',
        join(context.dir, 'run'),
        '--storage-driver',
        driver,
        '--events-backend',
        'none',
        'pull',
        '-q',
        '--tls-verify=false',
        ref,
      ],
      env: { ...process.env, TMPDIR: join(context.dir, 'tmp') },
    }),
    cleanup: (context) => removeTree(context.dir),
  };
}

/**
 * A fresh Node process doing only a pull's transfer and digest checks (`node-transfer.mjs`): the bound below which
 * no `berth pull`, a Node process started for the one pull, can go on this machine. With `write` it also does
 * skopeo's disk work (each blob written, fsynced and renamed into an OCI layout), as every store must.
 */
export function nodeTransferClient({ write = false } = {}) {
  return {
    name: write ? 'nodeStore' : 'nodeTransfer',
    async prepare(scratch) {
      return { dir: await mkdtemp(join(scratch, 'node-transfer-')) };
    },
    command: (context, ref) => {
      const slash = ref.indexOf('/');
      const colon = ref.lastIndexOf(':');
      const script = fileURLToPath(new URL('./node-transfer.mjs', import.meta.url));
      return {
        command: process.execPath,
        args: [
          script,
          ...(write ? ['--write'] : []),
          ref.slice(0, slash),
          ref.slice(slash + 1, colon),
          ref.slice(colon + 1),
          context.dir,
        ],
      };
    },
    cleanup: (context) => removeTree(context.dir),
  };
}

/**
 * `berth --store <fresh dir> pull REF` through the built CLI, its stdout a pipe (plain progress lines).
 * `usable` matches the line it prints once the image is stored under its name, before its layers are indexed.
 */
export function berthClient(repoRoot) {
  return {
    name: 'berth',
    async prepare(scratch) {
      const dir = await mkdtemp(join(scratch, 'berth-'));
      return { dir, store: join(dir, 'store') };
    },
    command: (context, ref) => ({
      command: process.execPath,
      args: [join(repoRoot, 'bin', 'berth'), '--store', context.store, 'pull', ref],
      cwd: repoRoot,
    }),
    usable: /^stored /m,
    cleanup: (context) => removeTree(context.dir),
  };
}

/**
 * Berth's app: one `berth serve` on a fresh store, driven over its WebSocket contract by the renderer's own client
 * (`bench/berth/app-pull.ts`, bundled to `bundleFile`). The process lives for a whole pull row: its first pull is
 * the first after launch, the later ones find a warm process, as pulls in a running app do. `empty` removes the
 * pulled images (and so their blobs) and checks no blob is left, so every pull starts from an empty store.
 */
export async function openBerthApp(repoRoot, scratch, bundleFile) {
  const { connectApp } = await import(pathToFileURL(bundleFile).href);
  const dir = await mkdtemp(join(scratch, 'berth-app-'));
  const store = join(dir, 'store');
  const serve = await startServe(repoRoot, store);
  const app = connectApp(serve.url);
  return {
    pull: (ref) => app.pull(ref),
    async empty(refs) {
      await app.remove(refs);
      const blobs = await readdir(join(store, 'blobs', 'sha256')).catch(() => []);
      if (blobs.length > 0)
        throw new Error(`the app's store keeps ${blobs.length} blobs after its images were removed`);
    },
    peakRssMB: () => peakRssOf(serve.child.pid),
    async close() {
      app.close();
      await stopServe(serve.child);
      await removeTree(dir);
    },
  };
}

/**
 * The floor for this work on this machine: every layer blob through `gzip -dc | sha256sum`, all at once
 * (both cores busy). Checks each printed hash against the layer's DiffID so the floor did the real work.
 */
export async function decompressFloor(blobFiles, diffIds, options) {
  const script = 'for f in "$@"; do (gzip -dc "$f" | sha256sum) & done; wait';
  const result = await runTimed('sh', ['-c', script, 'sh', ...blobFiles], options);
  const printed = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => `sha256:${line.split(/\s+/)[0]}`)
    .sort();
  const expected = [...diffIds].sort();
  if (JSON.stringify(printed) !== JSON.stringify(expected)) {
    throw new Error(
      `gzip -dc | sha256sum printed ${printed.join(', ')}, expected DiffIDs ${expected.join(', ')}`,
    );
  }
  return result;
}
