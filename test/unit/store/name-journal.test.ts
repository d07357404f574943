import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog, directManifestOf, imageEntry } from '../../../electron/core/store/catalog';
import { ImageStore } from '../../../electron/core/store/image-store';
import { mediaTypes, type Descriptor, type IndexDocument } from '../../../electron/core/store/layout';
import { applyOps, diffOp, readJournal, type JournalOp } from '../../../electron/core/store/name-journal';
import { smallImage } from '../../support/fixture';
import { addImage, tempStore } from './add-image';

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/** A catalog built from scratch over `doc`, the reference every incremental update must equal. */
function scratch(doc: IndexDocument): Catalog {
  return new Catalog(doc, doc.manifests.map(directManifestOf));
}

function shape(catalog: Catalog) {
  return [...catalog.images.values()].map((i) => ({ ...i, names: [...i.names] }));
}

describe('catalog updates', () => {
  it('rebuiltWith and movedTo give what a full build gives, over 600 random tags and untags', () => {
    const next = random(7);
    const images = Array.from({ length: 8 }, (_, n) => ({
      manifestDigest: digest(n + 1),
      top: { mediaType: mediaTypes.ociManifest, digest: digest(n + 1), size: 100 + n },
      names: [],
    }));
    let doc: IndexDocument = {
      schemaVersion: 2,
      manifests: images.map((image, n) => imageEntry(image, n % 2 === 0 ? `example.com/a:${n}` : undefined)),
    };
    let pure = scratch(doc);
    let moved = scratch(doc);
    for (let step = 0; step < 600; step++) {
      const image = images[Math.floor(next() * images.length)]!;
      const name = `example.com/r${Math.floor(next() * 3)}:t${Math.floor(next() * 6)}`;
      const current = pure.images.get(image.manifestDigest)!;
      const edited =
        next() < 0.6 || current.names.length === 0
          ? pure.withName(image.manifestDigest, name).doc
          : pure.withoutNames(image.manifestDigest, [
              current.names[Math.floor(next() * current.names.length)]!,
            ]);
      doc = edited;
      pure = pure.rebuiltWith(doc);
      moved = moved.movedTo(doc);
      const reference = scratch(doc);
      expect(shape(pure), `step ${step}`).toEqual(shape(reference));
      expect(shape(moved), `step ${step}`).toEqual(shape(reference));
      expect(pure.names().sort()).toEqual(reference.names().sort());
      for (const n of reference.names())
        expect(moved.imageByName(n)?.manifestDigest).toBe(reference.imageByName(n)?.manifestDigest);
    }
  });

  it('rebuiltWith leaves the catalog it started from as it was', () => {
    const image = {
      manifestDigest: digest(1),
      top: { mediaType: mediaTypes.ociManifest, digest: digest(1), size: 1 },
      names: [],
    };
    const before = scratch({ schemaVersion: 2, manifests: [imageEntry(image, 'example.com/a:1')] });
    before.rebuiltWith(before.withName(image.manifestDigest, 'example.com/a:2').doc);
    expect(before.names()).toEqual(['example.com/a:1']);
  });
});

describe('journal lines', () => {
  const entry = (n: number, name?: string): Descriptor => ({
    mediaType: mediaTypes.ociManifest,
    digest: digest(n),
    size: n,
    ...(name === undefined ? {} : { annotations: { 'org.opencontainers.image.ref.name': name } }),
  });

  it('replaying them on a document they were already folded into changes nothing', () => {
    const base: IndexDocument = { schemaVersion: 2, manifests: [entry(1, 'a:1'), entry(2), entry(3, 'c:1')] };
    const ops: JournalOp[] = [];
    let doc = base;
    const edits: ((d: Descriptor[]) => Descriptor[])[] = [
      (d) => [...d.filter((e) => e.digest !== digest(2)), entry(2, 'b:1')],
      (d) => [...d, entry(1, 'a:2')],
      (d) => [...d.filter((e) => e.annotations?.['org.opencontainers.image.ref.name'] !== 'a:1')],
      (d) => [...d.filter((e) => e.annotations?.['org.opencontainers.image.ref.name'] !== 'c:1'), entry(3)],
    ];
    for (const edit of edits) {
      const after = { ...doc, manifests: edit(doc.manifests) };
      ops.push(diffOp(doc, after)!);
      doc = after;
    }
    const replayed = applyOps(base, ops);
    expect(replayed.manifests).toEqual(doc.manifests);
    expect(applyOps(replayed, ops).manifests).toEqual(doc.manifests);
    for (let k = 0; k <= ops.length; k++)
      expect(applyOps(applyOps(base, ops.slice(0, k)), ops).manifests).toEqual(doc.manifests);
  });

  it('an edit that reorders entries is not a journal line', () => {
    const doc: IndexDocument = { schemaVersion: 2, manifests: [entry(1), entry(2)] };
    expect(diffOp(doc, { ...doc, manifests: [doc.manifests[1]!, doc.manifests[0]!] })).toBeUndefined();
  });
});

describe('a store with the name journal', () => {
  let store: ImageStore;
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, root, cleanup } = await tempStore({ compactAfterMs: 60_000 }));
  });
  afterEach(async () => {
    await store.flush();
    await cleanup();
  });

  const indexNames = async () =>
    (
      JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as {
        manifests: { annotations?: Record<string, string> }[];
      }
    ).manifests.flatMap((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? []);
  const journal = () => join(root, '.berth', 'index-journal.jsonl');

  it('journals a tag, which another instance sees at once; flush folds it into index.json', async () => {
    await addImage(store, smallImage('j'), ['j:1']);
    await store.tag('j:1', 'j:2');
    expect(await indexNames()).toEqual(['docker.io/library/j:1']);
    expect((await readJournal(journal())).ops).toHaveLength(1);
    const other = await ImageStore.open(root);
    expect((await other.list())[0]?.repoTags).toEqual(['docker.io/library/j:1', 'docker.io/library/j:2']);
    expect(await other.fsck()).toMatchObject({ clean: true });
    await store.flush();
    expect(await indexNames()).toEqual(['docker.io/library/j:1', 'docker.io/library/j:2']);
    expect(await stat(journal()).catch(() => undefined)).toBeUndefined();
    expect((await other.list())[0]?.repoTags).toEqual(['docker.io/library/j:1', 'docker.io/library/j:2']);
  });

  it('ignores a line cut short by a crash, and the next tag cuts it off before appending', async () => {
    await addImage(store, smallImage('c'), ['c:1']);
    await store.tag('c:1', 'c:2');
    await appendFile(journal(), '{"remove":[],"add":[{"mediaType":"application/vnd.oci.image.man');
    const reopened = await ImageStore.open(root, { compactAfterMs: 60_000 });
    expect((await reopened.list())[0]?.repoTags).toEqual(['docker.io/library/c:1', 'docker.io/library/c:2']);
    expect(await reopened.fsck()).toMatchObject({ clean: true });
    await reopened.tag('c:1', 'c:3');
    const reading = await readJournal(journal());
    expect(reading.ops).toHaveLength(2);
    expect(reading.validBytes).toBe(reading.fileBytes);
    const fresh = await ImageStore.open(root, { compactAfterMs: 60_000 });
    expect((await fresh.list())[0]?.repoTags).toEqual([
      'docker.io/library/c:1',
      'docker.io/library/c:2',
      'docker.io/library/c:3',
    ]);
    await reopened.flush();
  });

  it('a crash after compaction renamed index.json but before it removed the journal loses and revives nothing', async () => {
    await addImage(store, smallImage('k'), ['k:1', 'k:2']);
    await store.tag('k:1', 'k:3');
    await store.untag('k:2', ['k:2']);
    const lines = await readFile(journal());
    await store.flush();
    const compacted = await readFile(join(root, 'index.json'), 'utf8');
    await writeFile(journal(), lines);
    const reopened = await ImageStore.open(root, { compactAfterMs: 60_000 });
    expect((await reopened.list())[0]?.repoTags).toEqual(['docker.io/library/k:1', 'docker.io/library/k:3']);
    await reopened.flush();
    expect(await readFile(join(root, 'index.json'), 'utf8')).toBe(compacted);
  });

  it('compacts before a removal, so a journaled name never outlives its image', async () => {
    await addImage(store, smallImage('r'), ['r:1']);
    await store.tag('r:1', 'r:2');
    await store.remove('r:1', { force: true });
    await store.remove('r:2');
    expect(await stat(journal()).catch(() => undefined)).toBeUndefined();
    expect(await indexNames()).toEqual([]);
    const reopened = await ImageStore.open(root);
    expect(await reopened.list()).toEqual([]);
    expect(await reopened.fsck()).toMatchObject({ clean: true });
  });
});

describe('compaction on a quiet store', () => {
  it('folds the journal into index.json once no tag came for compactAfterMs', async () => {
    const { store, root, cleanup } = await tempStore({ compactAfterMs: 20 });
    try {
      await addImage(store, smallImage('q'), ['q:1']);
      await store.tag('q:1', 'q:2');
      const journal = join(root, '.berth', 'index-journal.jsonl');
      const deadline = Date.now() + 10_000;
      while ((await stat(journal).catch(() => undefined)) !== undefined) {
        if (Date.now() > deadline) throw new Error('the journal was not compacted within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await readFile(join(root, 'index.json'), 'utf8')).toContain('docker.io/library/q:2');
    } finally {
      await cleanup();
    }
  });
});
