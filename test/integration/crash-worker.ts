/**
 * The process the crash trials SIGKILL. Each mode does one kind of store work in a loop (or once, for a
 * pull) and prints a line after every step that completed, so the test knows which results must hold:
 *   pull <root> <reference> [before-commit|in-commit]  `progress <bytes>` lines, `stored` once every layer
 *                                      is in, `pulled <id>` at the end; with a crash point it kills itself
 *                                      right before (or just after starting) the commit that writes the name
 *   tags <root> <seed>                 tags and untags `moving-N` on `base`: `start NAME`, then `tagged NAME`
 *                                      or `untagged NAME` once done
 *   prune <root> <seed>                commits a dangling image (`dangling ID`), prunes (`pruned`), gcs (`gc`)
 * Every mode prints `ready` once it starts working.
 */
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

if (mode === 'pull') {
  const crash = b;
  if (crash !== undefined) {
    const commit = store.commitImage.bind(store);
    store.commitImage = (request) => {
      if (crash === 'before-commit') process.kill(process.pid, 'SIGKILL');
      const committing = commit(request);
      setImmediate(() => process.kill(process.pid, 'SIGKILL'));
      return committing;
    };
  }
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
      if (!stored && p.layers.length > 0 && p.layers.every((l) => l.status === 'complete')) {
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
} else {
  process.stderr.write(`unknown mode ${String(mode)}\n`);
  process.exitCode = 2;
}
