import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRegistriesConf } from '../../../electron/core/reference/registries-conf';
import { RegistryClient } from '../../../electron/core/registry/client';
import { parseManifest } from '../../../electron/core/registry/manifest';
import { Puller } from '../../../electron/core/pull/pull';
import { ImageStore } from '../../../electron/core/store/image-store';
import { BerthError } from '../../../shared/error';

// CVE-2024-3727: a digest from outside (a manifest, a header, a reference, IPC) must be refused before it
// becomes part of a path or a URL. These are the shapes attackers use, plus the near misses.
const hex = 'a'.repeat(64);
const hostile = [
  'sha256:../x',
  `sha256:../../${hex.slice(6)}`,
  `sha256:${hex.toUpperCase()}`,
  `sha256:${hex.slice(1)}`,
  `sha256:${hex}0`,
  `sha512:${hex}`,
  `md5:${'a'.repeat(32)}`,
  `sha384:${'a'.repeat(96)}`,
  `sha256:${hex.slice(2)}/x`,
  `sha256/${hex}`,
  `../sha256:${hex}`,
  `sha256:${hex}\n`,
  `sha256:${hex}%2f..`,
  '',
];

let dir: string;
let store: ImageStore;
let server: Server;
let requests = 0;
let client: RegistryClient;

/** The BerthError `run` fails with (synchronously or not); anything else fails the test. */
async function refusal(run: () => unknown): Promise<BerthError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

async function tree(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-digests-'));
  store = await ImageStore.open(join(dir, 'store'));
  server = createServer((req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new RegistryClient({ registry: `127.0.0.1:${port}`, insecure: true });
});

afterAll(async () => {
  await client?.close();
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe.each(hostile)('the digest %j', (digest) => {
  it('is refused by every store entry point before any file is touched', async () => {
    const before = await tree(dir);
    const errors = [
      await refusal(() => store.blobPath(digest)),
      await refusal(() => store.hasBlob(digest)),
      await refusal(() => store.readBlob(digest)),
      await refusal(() => store.openBlob(digest)),
      await refusal(() => store.ingest({ digest })),
      await refusal(() => store.putBlob(Buffer.from('x'), { digest })),
      await refusal(() => store.commitImage({ manifestDigest: digest, names: [] })),
    ];
    for (const err of errors) expect(err.code).toBe('INVALID_DIGEST');
    expect(await tree(dir)).toEqual(before);
  });

  it('is refused by the registry client before any request is sent', async () => {
    const seen = requests;
    const errors = [
      await refusal(() => client.fetchBlob('library/x', digest)),
      await refusal(() =>
        client.fetchBlobBytes('library/x', { mediaType: 'application/octet-stream', digest, size: 2 }),
      ),
    ];
    for (const err of errors) expect(err.code).toBe('INVALID_DIGEST');
    // As a manifest reference a string without ":" is a tag: the tag grammar refuses what is left.
    for (const err of [
      await refusal(() => client.fetchManifest('library/x', digest)),
      await refusal(() => client.headManifest('library/x', digest)),
    ])
      expect(['INVALID_DIGEST', 'INVALID_REFERENCE']).toContain(err.code);
    expect(requests).toBe(seen);
  });

  it('is refused inside a manifest descriptor and in a pulled reference', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: 2 },
        layers: [],
      }),
    );
    expect(() => parseManifest(manifest, undefined, 'a hostile manifest')).toThrow(BerthError);
    const seen = requests;
    const puller = new Puller({
      store,
      registries: { get: () => Promise.resolve(client) },
      conf: emptyRegistriesConf(),
    });
    const err = await refusal(() => puller.pull({ reference: `127.0.0.1:1/library/x@${digest}` }));
    expect(['INVALID_REFERENCE', 'INVALID_DIGEST']).toContain(err.code);
    expect(requests).toBe(seen);
  });
});
