import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageStore } from '../../../electron/core/store/image-store';
import { writeAll } from '../../../electron/core/store/ingest';
import type { BerthError } from '../../../shared/error';
import { buildImage, deterministicBytes, smallImage } from '../../support/fixture';
import { addImage, tempStore } from './add-image';

let store: ImageStore;
let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ store, root, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('layout', () => {
  it('creates a valid OCI layout with Berth data kept in .berth/', async () => {
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    expect(JSON.parse(await readFile(join(root, 'index.json'), 'utf8'))).toMatchObject({
      schemaVersion: 2,
      manifests: [],
    });
    expect((await readdir(root)).sort()).toEqual(['.berth', 'blobs', 'index.json', 'oci-layout']);
  });

  it('writes one entry per name with the ref.name annotation, and one unnamed entry for a dangling image', async () => {
    const image = smallImage('a');
    await addImage(store, image, ['a:1', 'quay.io/x/a:2']);
    const read = async () =>
      (
        JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as {
          manifests: { digest: string; annotations?: Record<string, string> }[];
        }
      ).manifests;
    expect(await read()).toEqual([
      expect.objectContaining({
        digest: image.digest,
        annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/a:1' },
      }),
      expect.objectContaining({
        digest: image.digest,
        annotations: { 'org.opencontainers.image.ref.name': 'quay.io/x/a:2' },
      }),
    ]);
    await store.untag('a:1');
    // A tag or untag is journaled; index.json holds it once the journal is folded in (at the latest here).
    await store.flush();
    expect(await read()).toEqual([{ mediaType: image.mediaType, digest: image.digest, size: image.size }]);
  });

  it('keeps entries it does not understand through rewrites', async () => {
    const artifact = {
      mediaType: 'application/vnd.example+json',
      digest: `sha256:${'e'.repeat(64)}`,
      size: 3,
      annotations: { x: 'y' },
    };
    const doc = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: unknown[] };
    doc.manifests.push(artifact);
    await writeFile(join(root, 'index.json'), JSON.stringify(doc));
    await addImage(store, smallImage('a'), ['a']);
    await store.remove('a');
    expect(
      (JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: unknown[] }).manifests,
    ).toEqual([artifact]);
  });
});

describe('temp files of killed writers', () => {
  it('are removed by the next writer, while a live process keeps its own', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = join(root, `index.json.${dead}.0badc0de.tmp`);
    const live = join(root, `index.json.${process.pid}.0badc0de.tmp`);
    await writeFile(stale, '{"half": ');
    await writeFile(live, '{"half": ');
    await addImage(store, smallImage('t'), ['t']);
    const files = await readdir(root);
    expect(files).not.toContain(stale.split('/').at(-1));
    expect(files).toContain(live.split('/').at(-1));
  });
});

describe('ingest', () => {
  it('verifies digest and size before a blob becomes visible', async () => {
    const bytes = deterministicBytes(10_000, 1);
    const digest = digestOf(bytes);
    const bad = await store.ingest({ digest, size: bytes.length });
    await bad.write(deterministicBytes(10_000, 2));
    const err = (await bad.commit().catch((e: unknown) => e)) as BerthError;
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(await store.hasBlob(digest)).toBe(false);
    const short = await store.ingest({ digest, size: bytes.length });
    await short.write(bytes.subarray(0, 10));
    expect(((await short.commit().catch((e: unknown) => e)) as BerthError).code).toBe('SIZE_MISMATCH');
    const long = await store.ingest({ digest, size: 5 });
    expect(((await long.write(bytes).catch((e: unknown) => e)) as BerthError).code).toBe('SIZE_MISMATCH');
    expect(await store.hasBlob(digest)).toBe(false);
    expect(await store.putBlob(bytes)).toEqual({ digest, size: bytes.length });
    expect(await store.readBlob(digest)).toEqual(bytes);
  });

  it('resumes a partial blob from its offset', async () => {
    const bytes = deterministicBytes(100_000, 3);
    const digest = digestOf(bytes);
    const first = await store.ingest({ digest, size: bytes.length });
    expect(first.offset).toBe(0);
    await first.write(bytes.subarray(0, 40_000));
    await first.abort();
    const second = await store.ingest({ digest, size: bytes.length });
    expect(second.offset).toBe(40_000);
    await second.write(bytes.subarray(second.offset));
    expect(await second.commit()).toEqual({ digest, size: bytes.length });
    const again = await store.ingest({ digest });
    expect(again.exists).toBe(true);
    await again.commit();
  });

  it('follows a blob from byte 0 as it is written, a resumed partial included, to the end of the commit', async () => {
    const bytes = deterministicBytes(1_500_000, 4);
    const digest = digestOf(bytes);
    const first = await store.ingest({ digest, size: bytes.length });
    await first.write(bytes.subarray(0, 300_000));
    await first.abort();
    const writer = await store.ingest({ digest, size: bytes.length });
    const chunks: Buffer[] = [];
    let read = 0;
    let caughtUp!: () => void;
    let waitForReader = new Promise<void>((resolve) => (caughtUp = resolve));
    const reading = (async () => {
      for await (const chunk of await writer.follow()) {
        chunks.push(chunk);
        read += chunk.length;
        if (read === writer.offset) caughtUp();
      }
    })();
    // The reader gets what is written before the writer moves on, so it follows rather than reads afterwards.
    await waitForReader;
    expect(read).toBe(300_000);
    for (let at = 300_000; at < bytes.length; at += 400_000) {
      waitForReader = new Promise<void>((resolve) => (caughtUp = resolve));
      await writer.write(bytes.subarray(at, at + 400_000));
      await waitForReader;
      expect(read).toBe(writer.offset);
    }
    await writer.commit();
    await reading;
    // Buffer.equals: a deep toEqual walks 1.5 MB element by element.
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect((await store.readBlob(digest)).equals(bytes)).toBe(true);
  });

  it('counts bytes in offset from the moment write accepts them, while earlier ones are still being written', async () => {
    const bytes = deterministicBytes(3 * 1024 * 1024, 7);
    const digest = digestOf(bytes);
    const writer = await store.ingest({ digest, size: bytes.length });
    const writes: Promise<void>[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      writes.push(writer.write(bytes.subarray(at, at + 64 * 1024)));
      expect(writer.offset).toBe(Math.min(at + 64 * 1024, bytes.length));
    }
    await Promise.all(writes);
    expect(await writer.commit()).toEqual({ digest, size: bytes.length });
    expect((await store.readBlob(digest)).equals(bytes)).toBe(true);
  });

  it('continues a write that stopped short, so a full disk surfaces as an error, not a shorter file', async () => {
    const written: Buffer[] = [];
    let calls = 0;
    const handle = {
      // A disk with room for 10 bytes: the vectored write stops there without an error, the next one fails.
      writev: (buffers: Buffer[]) => {
        calls++;
        written.push(Buffer.concat(buffers).subarray(0, 10));
        return Promise.resolve({ bytesWritten: 10, buffers });
      },
      write: (buffer: Buffer, offset: number, _length: number) => {
        calls++;
        if (written.length === 1) {
          written.push(buffer.subarray(offset, offset + 5));
          return Promise.resolve({ bytesWritten: 5, buffer });
        }
        return Promise.reject(
          Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }),
        );
      },
    } as unknown as Parameters<typeof writeAll>[0];
    const batch = [Buffer.from('0123456789'), Buffer.from('abcdefghij')];
    await expect(writeAll(handle, batch, 20)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(calls).toBe(3);
    expect(Buffer.concat(written).toString()).toBe('0123456789abcde');
  });

  it('ends a follower with CANCELLED when the writer gives up or the bytes fail their digest', async () => {
    const bytes = deterministicBytes(200_000, 6);
    const digest = digestOf(bytes);
    // Settles to the error (or undefined), so a rejection is never left unhandled while the test waits.
    const drain = async (source: AsyncIterable<Buffer>): Promise<unknown> => {
      try {
        for await (const chunk of source) void chunk;
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const aborted = await store.ingest({ digest, size: bytes.length });
    await aborted.write(bytes.subarray(0, 50_000));
    const whileAborted = drain(await aborted.follow());
    await aborted.abort();
    expect(await whileAborted).toMatchObject({ code: 'CANCELLED' });

    const wrong = Buffer.from(bytes);
    wrong.writeUInt8(wrong.readUInt8(150_000) ^ 1, 150_000);
    const flipped = await store.ingest({ digest, size: bytes.length });
    const whileFlipped = drain(await flipped.follow());
    await flipped.write(wrong.subarray(flipped.offset));
    expect(await flipped.commit().catch((e: BerthError) => e.code)).toBe('DIGEST_MISMATCH');
    expect(await whileFlipped).toMatchObject({ code: 'CANCELLED' });
    expect(await store.hasBlob(digest)).toBe(false);
    expect(await readdir(store.paths.ingest)).toEqual([]);
  });

  it('writes, aborts, resumes and commits a blob larger than the background sync interval', async () => {
    const bytes = deterministicBytes(80 * 1024 * 1024, 5);
    const digest = digestOf(bytes);
    const chunk = 1024 * 1024;
    const first = await store.ingest({ digest, size: bytes.length });
    for (let at = 0; at < 50 * chunk; at += chunk) await first.write(bytes.subarray(at, at + chunk));
    await first.abort();
    const second = await store.ingest({ digest, size: bytes.length });
    expect(second.offset).toBe(50 * chunk);
    for (let at = second.offset; at < bytes.length; at += chunk)
      await second.write(bytes.subarray(at, at + chunk));
    expect(await second.commit()).toEqual({ digest, size: bytes.length });
    expect(digestOf(await store.readBlob(digest))).toBe(digest);
  });

  it('refuses to commit an image whose blobs are missing', async () => {
    const image = smallImage('a');
    await store.putBlob(image.manifest);
    await expect(store.commitImage({ manifestDigest: image.digest, names: ['a'] })).rejects.toMatchObject({
      code: 'BLOB_UNKNOWN',
    });
  });
});

describe('fsck and gc', () => {
  it('is clean on a good store, finds corrupt and missing blobs, and repair marks the image for re-pull', async () => {
    const a = buildImage({
      layers: [{ entries: [{ path: 'a', content: 'a' }] }, { entries: [{ path: 'b', content: 'b' }] }],
    });
    await addImage(store, a, ['a']);
    expect(await store.fsck()).toMatchObject({ clean: true, problems: [] });
    const layerFile = store.blobPath(a.layers[0]!.digest);
    await writeFile(layerFile, Buffer.concat([a.layers[0]!.bytes.subarray(1), Buffer.from('x')]));
    const report = await store.fsck();
    expect(report.clean).toBe(false);
    expect(report.problems.join('\n')).toContain(`blob ${a.layers[0]!.digest} is corrupt`);
    const repaired = await store.fsck({ repair: true });
    expect(repaired.repaired.join('\n')).toContain('needs a re-pull');
    expect(await store.hasBlob(a.layers[0]!.digest)).toBe(false);
    expect((await store.list())[0]?.needsRepull).toBe(true);
    const after = await store.fsck();
    expect(after.problems).toEqual([`layer of docker.io/library/a:latest ${a.layers[0]!.digest} is missing`]);
    await truncate(store.blobPath(a.layers[1]!.digest), 3);
    expect((await store.fsck()).problems.join('\n')).toContain('has 3 bytes');
  });

  it('reports an unreadable index.json', async () => {
    await writeFile(join(root, 'index.json'), '{"schemaVersion": 2, "manif');
    const report = await store.fsck();
    expect(report.clean).toBe(false);
    expect(report.problems[0]).toContain('index.json is not valid JSON');
  });

  it('gc clears partial downloads and writer locks untouched for a day, and layer indexes whose blob is gone', async () => {
    await addImage(store, smallImage('a'), ['a']);
    const ingest = join(root, '.berth', 'ingest');
    const indexes = join(root, '.berth', 'layer-indexes');
    await mkdir(ingest, { recursive: true });
    await mkdir(indexes, { recursive: true });
    const stale = join(ingest, `sha256-${'1'.repeat(64)}`);
    const fresh = join(ingest, `sha256-${'2'.repeat(64)}`);
    await writeFile(stale, 'partial-old');
    await writeFile(fresh, 'partial-new');
    const dayAgo = new Date(Date.now() - 25 * 3600_000);
    await utimes(stale, dayAgo, dayAgo);
    // Lock folders of writers: one left by a process killed a day ago, one a live writer keeps fresh.
    const deadLock = `${stale}.lock`;
    const liveLock = `${fresh}.lock`;
    await mkdir(deadLock);
    await mkdir(liveLock);
    await utimes(deadLock, dayAgo, dayAgo);
    const kept = smallImage('a').layers[0]!.digest.slice('sha256:'.length);
    await writeFile(join(indexes, `${kept}.idx`), 'index of a stored layer');
    await writeFile(join(indexes, `${'3'.repeat(64)}.idx`), 'orphan');
    const result = await store.gc();
    expect(result.bytesFreed).toBe('partial-old'.length + 'orphan'.length);
    expect((await readdir(ingest)).sort()).toEqual([
      `sha256-${'2'.repeat(64)}`,
      `sha256-${'2'.repeat(64)}.lock`,
    ]);
    expect(await readdir(indexes)).toEqual([`${kept}.idx`]);
  });

  it('gc deletes unreferenced blobs older than the grace period only', async () => {
    await addImage(store, smallImage('a'), ['a']);
    const orphan = await store.putBlob(Buffer.from('orphan'));
    const young = await store.putBlob(Buffer.from('young'));
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(store.blobPath(orphan.digest), old, old);
    expect((await store.fsck()).unreferenced).toBe(2);
    const result = await store.gc();
    expect(result).toEqual({ deleted: [orphan.digest], bytesFreed: 6 });
    expect(await store.hasBlob(young.digest)).toBe(true);
    expect((await store.gc({ graceMs: 0 })).deleted).toEqual([young.digest]);
    expect(await store.fsck()).toMatchObject({ clean: true, unreferenced: 0 });
    expect((await store.events()).at(-1)).toMatchObject({
      action: 'gc',
      detail: { blobs: 1, bytesFreed: 5 },
    });
  });
});

describe('several store instances', () => {
  it('a second instance sees changes at once, and watch reports them as external', async () => {
    const other = await ImageStore.open(root);
    const changes: number[] = [];
    const seen = new Promise<void>((resolve) => {
      const stop = store.watch(() => {
        changes.push(Date.now());
        stop();
        resolve();
      });
    });
    await addImage(other, smallImage('w'), ['w']);
    await seen;
    expect(changes).toHaveLength(1);
    expect((await store.list()).map((r) => r.repoTags)).toEqual([['docker.io/library/w:latest']]);
  });

  it('watch ignores changes the instance made itself', async () => {
    let external = 0;
    const stop = store.watch(() => external++, 10);
    await addImage(store, smallImage('self'), ['self']);
    // An external change afterwards is the condition to wait on; the own change before it must not count.
    const other = await ImageStore.open(root);
    const seen = new Promise<void>((resolve) => {
      const stop2 = store.watch(() => {
        stop2();
        resolve();
      }, 10);
    });
    await other.tag('self', 'other');
    await seen;
    stop();
    expect(external).toBe(1);
  });
});
