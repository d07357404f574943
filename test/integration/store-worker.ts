/**
 * A second process writing to a store, for the concurrency and crash tests. Modes:
 *   tags <root> <prefix> <count>  the deterministic tag/untag sequence of `tagOps`, then exit
 *   chaos <root> <seed>           random commits, tags, untags, removes, prunes and gcs until killed;
 *                                 prints "ready" once the store has images
 */
import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage } from '../support/fixture';
import { tagOps } from './store-ops';

const [mode, root, a, b] = process.argv.slice(2);

async function putImage(store: ImageStore, n: number, names: string[]): Promise<void> {
  const shared = { entries: [{ path: 'base', content: `shared base ${n % 3}\n` }] };
  const image = buildImage({
    layers: [shared, { entries: [{ path: `f${n}`, content: `image ${n}\n`.repeat(50) }] }],
  });
  for (const [, bytes] of image.blobs()) await store.putBlob(bytes);
  await store.putBlob(image.manifest);
  await store.commitImage({ manifestDigest: image.digest, names });
}

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

if (mode === 'tags') {
  const store = await ImageStore.open(root!);
  for (const op of tagOps(a!, Number(b))) {
    if (op.kind === 'tag') await store.tag('base', op.name);
    else await store.untag('base', [op.name]);
  }
} else if (mode === 'chaos') {
  const store = await ImageStore.open(root!, { lock: { staleMs: 2000 } });
  const next = random(Number(a));
  for (let n = 0; n < 3; n++) await putImage(store, n, [`img${n}`]);
  process.stdout.write('ready\n');
  for (let n = 3; ; n++) {
    const images = await store.list();
    const pick = images[Math.floor(next() * images.length)];
    const r = next();
    try {
      if (r < 0.25 || !pick) await putImage(store, n, [`img${n}`, `alias${n % 4}`]);
      else if (r < 0.45) await store.tag(pick.id, `tag${Math.floor(next() * 5)}`);
      else if (r < 0.6) await store.untag(pick.id);
      else if (r < 0.8) await store.remove(pick.id, { force: true });
      else if (r < 0.9) await store.prune();
      else await store.gc({ graceMs: 0 });
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
    }
  }
} else {
  process.stderr.write(`unknown mode ${String(mode)}\n`);
  process.exitCode = 2;
}
