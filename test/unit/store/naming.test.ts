import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageStore } from '../../../electron/core/store/image-store';
import { BerthError } from '../../../shared/error';
import { buildImage, buildIndex, smallImage, type FixtureImage } from '../../support/fixture';
import { addImage, tempStore } from './add-image';

let store: ImageStore;
let cleanup: () => Promise<void>;
let root: string;

beforeEach(async () => {
  ({ store, cleanup, root } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BerthError) return err.code;
    throw err;
  }
  return 'resolved';
}

describe('image identity and names', () => {
  it('reports the config digest as ID, normalized names and a repo digest', async () => {
    const image = smallImage('a');
    await addImage(store, image, ['alpine:3.20']);
    const [row] = await store.list();
    expect(row?.id).toBe(image.configDigest);
    expect(row?.repoTags).toEqual(['docker.io/library/alpine:3.20']);
    expect(row?.repoDigests).toEqual([`docker.io/library/alpine@${image.digest}`]);
    expect(row?.digest).toBe(image.digest);
    expect(row?.size).toBe(image.config.length + image.layers.reduce((n, l) => n + l.size, 0));
    expect(row?.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(row?.dangling).toBe(false);
  });

  it('looks images up by full name, short name, name without tag, repo@digest, ID, sha256: ID and ID prefix', async () => {
    const image = smallImage('a');
    await addImage(store, image, ['alpine']);
    const hex = image.configDigest.slice('sha256:'.length);
    for (const query of [
      'docker.io/library/alpine:latest',
      'alpine:latest',
      'alpine',
      'library/alpine',
      `alpine@${image.digest}`,
      image.configDigest,
      hex,
      hex.slice(0, 12),
      hex.slice(0, 3),
      `sha256:${hex.slice(0, 5)}`,
    ]) {
      expect((await store.resolve(query)).facts.configDigest, query).toBe(image.configDigest);
    }
  });

  it('refuses a too-short prefix, an unknown name and an ambiguous prefix (listing the matches)', async () => {
    const [first, second] = twoWithSharedPrefix();
    await addImage(store, first, ['first']);
    await addImage(store, second, ['second']);
    const prefix = first.configDigest.slice(7, 10);
    await expect(store.resolve(prefix.slice(0, 2))).rejects.toThrow(/too short an ID prefix/);
    await expect(store.resolve('nothing-here')).rejects.toThrow('no image matches "nothing-here"');
    const err = (await store.resolve(prefix).catch((e: unknown) => e)) as BerthError;
    expect(err.code).toBe('AMBIGUOUS_ID');
    expect(err.message).toContain(`${first.configDigest.slice(7, 19)} (first:latest)`);
    expect(err.message).toContain(`${second.configDigest.slice(7, 19)} (second:latest)`);
    expect((await store.resolve(first.configDigest.slice(7, 20))).facts.configDigest).toBe(
      first.configDigest,
    );
  });

  it('tag adds a name; tagging a name held by another image moves it and says so', async () => {
    const a = smallImage('a');
    const b = smallImage('b');
    await addImage(store, a, ['app:1']);
    await addImage(store, b, ['app:2']);
    expect(await store.tag('app:1', 'app:stable')).toEqual({
      id: a.configDigest,
      name: 'docker.io/library/app:stable',
    });
    const moved = await store.tag('app:2', 'app:1');
    expect(moved).toEqual({ id: b.configDigest, name: 'docker.io/library/app:1', movedFrom: a.configDigest });
    expect((await store.resolve('app:1')).facts.configDigest).toBe(b.configDigest);
    expect((await store.resolve(a.configDigest)).image.names).toEqual(['docker.io/library/app:stable']);
  });

  it('committing an image under a name another image holds moves the name and reports it', async () => {
    const a = smallImage('a');
    const b = smallImage('b');
    await addImage(store, a, ['app:1', 'app:keep']);
    const image = b;
    for (const [, bytes] of image.blobs()) await store.putBlob(bytes);
    await store.putBlob(image.manifest);
    const result = await store.commitImage({ manifestDigest: b.digest, names: ['app:1', 'app:new'] });
    expect(result).toEqual({
      id: b.configDigest,
      manifestDigest: b.digest,
      names: ['docker.io/library/app:1', 'docker.io/library/app:new'],
      movedFrom: { 'docker.io/library/app:1': a.configDigest },
    });
    expect((await store.resolve(a.configDigest)).image.names).toEqual(['docker.io/library/app:keep']);
  });

  it('moving the last name leaves the other image dangling', async () => {
    const a = smallImage('a');
    const b = smallImage('b');
    await addImage(store, a, ['app:1']);
    await addImage(store, b, ['app:2']);
    await store.tag('app:2', 'app:1');
    const rows = await store.list();
    const old = rows.find((r) => r.id === a.configDigest);
    expect(old?.dangling).toBe(true);
    expect(old?.repoTags).toEqual([]);
    expect(await store.list({ dangling: true })).toHaveLength(1);
  });

  it('untag of the last name keeps the image dangling; untag without names removes all', async () => {
    const a = smallImage('a');
    await addImage(store, a, ['one', 'two', 'three']);
    expect(await store.untag('one', ['one'])).toEqual({
      id: a.configDigest,
      removed: ['docker.io/library/one:latest'],
    });
    expect(await store.untag(a.configDigest)).toEqual({
      id: a.configDigest,
      removed: ['docker.io/library/two:latest', 'docker.io/library/three:latest'],
    });
    const [row] = await store.list();
    expect(row?.dangling).toBe(true);
    expect(await store.hasBlob(a.configDigest)).toBe(true);
    expect(await codeOf(store.untag(a.configDigest, ['nope']))).toBe('NOT_FOUND');
  });

  it('rmi by name removes only that name while others remain, then deletes with the last one', async () => {
    const a = smallImage('a');
    await addImage(store, a, ['x:1', 'x:2']);
    expect(await store.remove('x:1')).toEqual({
      untagged: ['docker.io/library/x:1'],
      deleted: [],
      bytesFreed: 0,
    });
    const last = await store.remove('x:2');
    expect(last.deleted).toEqual([a.configDigest]);
    expect(last.bytesFreed).toBe(a.size + a.config.length + a.layers.reduce((n, l) => n + l.size, 0));
    expect(await store.list()).toEqual([]);
    expect(await store.hasBlob(a.configDigest)).toBe(false);
  });

  it('rmi by ID of a multiply-named image refuses without force, listing the names, and deletes with force', async () => {
    const a = smallImage('a');
    await addImage(store, a, ['x:1', 'x:2', 'y']);
    const err = (await store.remove(a.configDigest.slice(7, 19)).catch((e: unknown) => e)) as BerthError;
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('has 3 names');
    expect(err.message).toContain('x:1, x:2, y:latest');
    const done = await store.remove(a.configDigest.slice(7, 19), { force: true });
    expect(done.deleted).toEqual([a.configDigest]);
    expect(done.untagged).toHaveLength(3);
  });

  it('never deletes a blob another image still uses and reports only bytes actually freed', async () => {
    const base = { entries: [{ path: 'base.txt', content: 'base layer' }] };
    const a = buildImage({ layers: [base, { entries: [{ path: 'a', content: 'a' }] }] });
    const b = buildImage({ layers: [base, { entries: [{ path: 'b', content: 'b' }] }] });
    await addImage(store, a, ['a']);
    await addImage(store, b, ['b']);
    const freed = await store.remove('a');
    expect(freed.bytesFreed).toBe(a.size + a.config.length + a.layers[1]!.size);
    expect(await store.hasBlob(a.layers[0]!.digest)).toBe(true);
    const fsck = await store.fsck();
    expect(fsck.problems).toEqual([]);
  });

  it('an image pulled from an index keeps the index as its digest and lists sibling platforms', async () => {
    const amd = smallImage('m', { architecture: 'amd64' });
    const arm = smallImage('m', { architecture: 'arm64', variant: 'v8' });
    const index = buildIndex([amd, arm]);
    await addImage(store, index, ['multi:1']);
    const [row] = await store.list();
    expect(row?.digest).toBe(index.digest);
    expect(row?.repoDigests).toEqual([`docker.io/library/multi@${index.digest}`]);
    expect(row?.siblingPlatforms).toEqual([{ os: 'linux', architecture: 'arm64', variant: 'v8' }]);
    expect((await store.resolve(`multi@${index.digest}`)).facts.configDigest).toBe(amd.configDigest);
    const doc = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(doc.manifests.map((m) => m.digest)).toEqual([index.digest]);
    await store.remove('multi:1');
    expect(await store.hasBlob(index.digest)).toBe(false);
  });

  it('prune removes dangling images by default, all with all, and honours until and label filters', async () => {
    const old = buildImage({
      layers: [{ entries: [{ path: 'o', content: 'o' }] }],
      config: { created: '2020-01-01T00:00:00Z', labels: { keep: 'no' } },
    });
    const fresh = buildImage({
      layers: [{ entries: [{ path: 'f', content: 'f' }] }],
      config: { created: new Date().toISOString(), labels: { keep: 'yes' } },
    });
    await addImage(store, old, ['o']);
    await addImage(store, fresh, ['f']);
    expect((await store.prune()).deleted).toEqual([]);
    await store.untag('o');
    await store.untag('f');
    expect((await store.prune({ filter: { until: '24h' }, dryRun: true })).deleted).toEqual([
      old.configDigest,
    ]);
    expect((await store.prune({ filter: { label: ['!keep=no'] } })).deleted).toEqual([fresh.configDigest]);
    await addImage(store, fresh, ['f']);
    const all = await store.prune({ all: true, filter: { label: ['keep'] } });
    expect(all.deleted.sort()).toEqual([old.configDigest, fresh.configDigest].sort());
    expect(all.bytesFreed).toBeGreaterThan(0);
    expect(await store.list()).toEqual([]);
  });

  it('list filters by reference glob, label, dangling, before and since', async () => {
    const a = buildImage({
      layers: [{ entries: [{ path: 'a', content: 'a' }] }],
      config: { created: '2021-01-01T00:00:00Z', labels: { tier: 'web' } },
    });
    const b = buildImage({
      layers: [{ entries: [{ path: 'b', content: 'b' }] }],
      config: { created: '2022-01-01T00:00:00Z', labels: { tier: 'db' } },
    });
    const c = buildImage({
      layers: [{ entries: [{ path: 'c', content: 'c' }] }],
      config: { created: '2023-01-01T00:00:00Z' },
    });
    await addImage(store, a, ['web/front:1']);
    await addImage(store, b, ['quay.io/db/pg:16']);
    await addImage(store, c, ['web/back:2']);
    const ids = async (filter: Parameters<ImageStore['list']>[0]) =>
      (await store.list(filter)).map((r) => r.id);
    expect(await ids({})).toEqual([c.configDigest, b.configDigest, a.configDigest]);
    expect(await ids({ reference: ['web/*'] })).toEqual([c.configDigest, a.configDigest]);
    expect(await ids({ reference: ['*/front:1'] })).toEqual([a.configDigest]);
    expect(await ids({ reference: ['quay.io/db/pg'] })).toEqual([b.configDigest]);
    expect(await ids({ label: ['tier=db'] })).toEqual([b.configDigest]);
    expect(await ids({ label: ['tier'] })).toEqual([b.configDigest, a.configDigest]);
    expect(await ids({ before: 'web/back:2' })).toEqual([b.configDigest, a.configDigest]);
    expect(await ids({ since: 'web/front:1' })).toEqual([c.configDigest, b.configDigest]);
    expect(await ids({ dangling: false })).toHaveLength(3);
  });

  it('refuses to tag with a digest and rejects invalid names', async () => {
    await addImage(store, smallImage('a'), ['a']);
    expect(await codeOf(store.tag('a', `b@sha256:${'1'.repeat(64)}`))).toBe('INVALID_REFERENCE');
    expect(await codeOf(store.tag('a', 'UPPER/Case'))).toBe('INVALID_REFERENCE');
  });

  it('logs every change as an event and calls onEvent', async () => {
    const seen: string[] = [];
    const t = await tempStore({ onEvent: (e) => seen.push(e.action) });
    try {
      await addImage(t.store, smallImage('a'), ['a']);
      await t.store.tag('a', 'b');
      await t.store.untag('a', ['a']);
      await t.store.remove('b');
      expect(seen).toEqual(['pull', 'tag', 'untag', 'remove']);
      const events = await t.store.events();
      expect(events.map((e) => e.action)).toEqual(seen);
      expect(events[3]?.detail?.bytesFreed).toBeGreaterThan(0);
      expect(await t.store.events({ limit: 1 })).toHaveLength(1);
      expect(await t.store.events({ since: '1h' })).toHaveLength(4);
      expect(await t.store.events({ since: new Date(Date.now() + 60_000).toISOString() })).toHaveLength(0);
    } finally {
      await t.cleanup();
    }
  });
});

/** Two fixture images whose IDs share their first 3 hex characters (fixtures are deterministic). */
function twoWithSharedPrefix(): [FixtureImage, FixtureImage] {
  const seen = new Map<string, FixtureImage>();
  for (let i = 0; ; i++) {
    const image = smallImage(`img-${i}`);
    const prefix = image.configDigest.slice(7, 10);
    const other = seen.get(prefix);
    if (other) return [other, image];
    seen.set(prefix, image);
  }
}
