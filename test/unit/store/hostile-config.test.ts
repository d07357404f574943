import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageStore } from '../../../electron/core/store/image-store';
import { BerthError } from '../../../shared/error';
import { buildImage, sha256Digest, type FixtureImage } from '../../support/fixture';
import { tempStore } from './add-image';

let store: ImageStore;
let cleanup: () => Promise<void>;
let base: FixtureImage;

/** Commits `base`'s layer under a config of our choosing (bytes as given), named `name`. */
async function commitWithConfig(config: Buffer, name: string): Promise<void> {
  const layer = base.layers[0]!;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    }),
  );
  await store.putBlob(config);
  await store.putBlob(layer.bytes);
  await store.putBlob(manifest);
  await store.commitImage({ manifestDigest: sha256Digest(manifest), names: [name] });
}

/** Runs `step`; a BerthError is an acceptable answer to hostile input, anything else thrown is a crash. */
async function answered(step: () => Promise<unknown>): Promise<string> {
  try {
    await step();
    return 'ok';
  } catch (err) {
    if (err instanceof BerthError) return err.code;
    throw err;
  }
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const diffIds = (): string[] => [base.layers[0]!.diffId];
const big = 100_000;

const cases: [string, () => Buffer][] = [
  [
    'more history entries than layers',
    () =>
      json({
        ...base.configJson,
        history: Array.from({ length: 50 }, (_, i) => ({ created_by: `step ${i}` })),
      }),
  ],
  ['no history, no rootfs, no platform', () => json({})],
  [
    'fields of the wrong types',
    () =>
      json({
        architecture: 42,
        os: ['linux'],
        created: 'not a date',
        config: { Env: 7, Cmd: 'sh', Labels: ['x'], ExposedPorts: 'all' },
        rootfs: { type: 'layers', diff_ids: 'sha256:x' },
        history: 'long ago',
      }),
  ],
  [
    'diff IDs for more layers than the manifest has',
    () => json({ ...base.configJson, rootfs: { type: 'layers', diff_ids: [...diffIds(), ...diffIds()] } }),
  ],
  [
    'huge arrays',
    () =>
      json({
        ...base.configJson,
        history: Array.from({ length: big }, () => ({ created_by: 'x', empty_layer: true })),
        config: {
          Env: Array.from({ length: big }, (_, i) => `V${i}=x`),
          Labels: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`l${i}`, 'v'])),
        },
      }),
  ],
  ['JSON null', () => Buffer.from('null')],
  ['a JSON array', () => Buffer.from('[1,2,3]')],
  ['not JSON', () => Buffer.from('{"os": "linux", ')],
];

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  base = buildImage({ layers: [{ entries: [{ path: 'f', content: 'hostile config\n' }] }] });
});
afterAll(() => cleanup());

describe('hostile image configs in the store', () => {
  it.each(cases)(
    '%s: every view answers or refuses with a BerthError',
    { timeout: 30_000 },
    async (label, config) => {
      const name = `hostile-${cases.findIndex(([l]) => l === label)}`;
      const committed = await answered(() => commitWithConfig(config(), name));
      const views = [
        await answered(() => store.list()),
        await answered(() => store.tree()),
        await answered(() => store.df()),
        await answered(() => store.fsck()),
      ];
      expect(views).toEqual(['ok', 'ok', 'ok', 'ok']);
      if (committed !== 'ok') {
        expect((await store.list()).flatMap((r) => r.repoTags)).not.toContain(
          `docker.io/library/${name}:latest`,
        );
        return;
      }
      for (const step of [() => store.inspect(name), () => store.history(name)]) {
        expect(['ok', 'MANIFEST_INVALID', 'STORE_CORRUPT']).toContain(await answered(step));
      }
    },
  );

  it('drops fields of the wrong type instead of passing them on to the views', async () => {
    const row = (await store.list()).find((r) => r.repoTags.includes('docker.io/library/hostile-2:latest'));
    expect(row?.platform).toEqual({ os: 'unknown', architecture: 'unknown' });
    expect(row?.labels).toEqual({});
    const details = await store.inspect('hostile-2');
    expect(details.env).toEqual([]);
    expect(details.diffIds).toEqual([]);
    expect(details.history).toHaveLength(1);
  });

  it('lists the extra history entries of a config with more of them than layers', async () => {
    const rows = await store.history('hostile-0');
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.some((r) => r.createdBy === 'step 49')).toBe(true);
  });
});
