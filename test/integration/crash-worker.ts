/**
 * The process the crash trials SIGKILL. Each mode does one kind of store work in a loop (or once, for a
 * pull) and prints a line after every step that completed, so the test knows which results must hold:
 *   pull <root> <reference> [before-commit|in-commit]  `progress <bytes>` lines, `stored` once every layer
 *                                      is in, `pulled <id>` at the end; with a crash point it kills itself
 *                                      right before (or just after starting) the commit that writes the name
 *   tags <root> <seed>                 tags and untags `moving-N` on `base`: `start NAME`, then `tagged NAME`
 *                                      or `untagged NAME` once done
 *   prune <root> <seed>                commits a dangling image (`dangling ID`), prunes (`pruned`), gcs (`gc`)
 *   push <root> <image> <destination> [before-commit]  `progress <bytes>` lines, `uploaded` once every
 *                                      blob is in the registry, `pushed <digest>` at the end; with the crash
 *                                      point it kills itself once the registry took the tag, before the store
 *                                      records the pushed digest
 *   load <root> <archive> [before-commit|in-commit]  `read <bytes>` as the archive streams in (each chunk
 *                                      waits for a line on stdin, so the kill lands before it), `committed
 *                                      <id>` after each image's name is written, `loaded` at the end; with a
 *                                      crash point it kills itself at (or just after starting) the first commit
 * Every mode prints `ready` once it starts working.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { loadArchive } from '../../electron/core/archive/load';
import { Pusher } from '../../electron/core/push/push';
import { emptyRegistriesConf } from '../../electron/core/reference/registries-conf';
import { RegistryPool } from '../../electron/core/registry/connect';
import { Puller } from '../../electron/core/pull/pull';
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage } from '../support/fixture';

const [mode, root, a, b] = process.argv.slice(2);
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

// A stale lock of a killed predecessor is taken over after 2 s rather than the default.
const store = await ImageStore.open(root!, { lock: { staleMs: 2000 } });

/** Makes the store's first commitImage kill this process, right before it or just after it starts. */
function crashAtCommit(crash: string): void {
  const commit = store.commitImage.bind(store);
  store.commitImage = (request) => {
    if (crash === 'before-commit') process.kill(process.pid, 'SIGKILL');
    const committing = commit(request);
    setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    return committing;
  };
}

if (mode === 'pull') {
  if (b !== undefined) crashAtCommit(b);
  const conf = emptyRegistriesConf();
  const registries = new RegistryPool({
    conf,
    certsDirs: [],
    auth: { read: [], write: `${root}.auth.json` },
  });
  const puller = new Puller({
    store,
    registries,
    conf,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    progressIntervalMs: 0,
  });
  say('ready');
  let stored = false;
  const outcome = await puller.pull({
    reference: a!,
    onProgress: (p) => {
      say(`progress ${p.layers.reduce((n, l) => n + l.done, 0)}`);
      // Every blob is in blobs/ once no layer is still downloading: `indexing` follows the blob's commit.
      const inStore = (status: string): boolean => ['indexing', 'complete', 'exists'].includes(status);
      if (!stored && p.layers.length > 0 && p.layers.every((l) => inStore(l.status))) {
        stored = true;
        say('stored');
      }
    },
  });
  say(`pulled ${outcome.imageId ?? ''}`);
  await registries.close();
} else if (mode === 'tags') {
  const next = random(Number(a));
  say('ready');
  for (;;) {
    const name = `moving-${Math.floor(next() * 8)}`;
    say(`start ${name}`);
    if (next() < 0.6) {
      await store.tag('base', name);
      say(`tagged ${name}`);
    } else {
      await store.untag('base', [name]).catch(() => undefined);
      say(`untagged ${name}`);
    }
  }
} else if (mode === 'prune') {
  const next = random(Number(a));
  say('ready');
  for (let n = 0; ; n++) {
    const image = buildImage({
      layers: [{ entries: [{ path: `d${n}`, content: `dangling ${a} ${n} ${next()}\n`.repeat(100) }] }],
    });
    for (const [, bytes] of image.blobs()) await store.putBlob(bytes);
    await store.putBlob(image.manifest);
    const committed = await store.commitImage({ manifestDigest: image.digest, names: [] });
    say(`dangling ${committed.id}`);
    await store.prune();
    say('pruned');
    await store.gc({ graceMs: 0 });
    say('gc');
  }
} else if (mode === 'push') {
  const [destination, crash] = process.argv.slice(5);
  if (crash !== undefined) crashAtCommit(crash);
  const registries = new RegistryPool({
    conf: emptyRegistriesConf(),
    certsDirs: [],
    auth: { read: [], write: `${root}.auth.json` },
  });
  const pusher = new Pusher({ store, registries, progressIntervalMs: 0 });
  say('ready');
  let uploaded = false;
  const outcome = await pusher.push({
    image: a!,
    destination: destination!,
    onProgress: (p) => {
      say(`progress ${p.layers.reduce((n, l) => n + l.done, 0)}`);
      const done = p.layers.every((l) => l.status === 'complete' || l.status === 'exists');
      if (!uploaded && p.layers.length > 0 && done) {
        uploaded = true;
        say('uploaded');
      }
    },
  });
  say(`pushed ${outcome.digest}`);
  await registries.close();
} else if (mode === 'load') {
  if (b !== undefined) crashAtCommit(b);
  const commit = store.commitImage.bind(store);
  store.commitImage = async (request) => {
    const result = await commit(request);
    say(`committed ${result.id}`);
    return result;
  };
  // Lockstep: each chunk goes on only once the test answered its `read` line, so a kill lands right there.
  const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  let read = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      read += chunk.length;
      say(`read ${read}`);
      answers.next().then(
        () => callback(null, chunk),
        (err: unknown) => callback(err as Error),
      );
    },
  });
  say('ready');
  await loadArchive(store, { stream: createReadStream(a!).pipe(counter), label: basename(a!) });
  say('loaded');
} else {
  process.stderr.write(`unknown mode ${String(mode)}\n`);
  process.exitCode = 2;
}
