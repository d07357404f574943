import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageLayers } from '../../../electron/core/layers/image-layers';
import { imagePlatforms, platformImage } from '../../../electron/core/layers/image-platforms';
import type { ImageStore } from '../../../electron/core/store/image-store';
import { buildImage, buildIndex, smallImage, type FixtureImage } from '../../support/fixture';
import { addImage, tempStore } from '../store/add-image';
import { rejection } from './layer-fixtures';

let store: ImageStore;
let cleanup: () => Promise<void>;

const platformImageOf = (architecture: string, variant: string | undefined, file: string): FixtureImage =>
  buildImage({
    layers: [
      { entries: [{ path: 'etc/os-release', content: 'NAME=multi\n' }] },
      { entries: [{ path: `bin/${file}`, content: `${architecture} build\n` }] },
    ],
    config: variant === undefined ? { architecture } : { architecture, variant },
  });

const amd = platformImageOf('amd64', undefined, 'app-amd64');
const arm = platformImageOf('arm64', 'v8', 'app-arm64');
const armv7 = platformImageOf('arm', 'v7', 'app-armv7');
const index = buildIndex([amd, arm, armv7]);
const repoDigest = `docker.io/library/multi@${index.digest}`;

beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
  // As `berth pull --platform linux/arm64` after a default pull stores them: the named image for
  // the first platform, the other one unnamed, both from the index; linux/arm/v7 is not pulled.
  await addImage(store, index, ['multi:1'], { repoDigests: [repoDigest] });
  await store.commitImage({
    manifestDigest: arm.digest,
    indexDigest: index.digest,
    names: [],
    repoDigests: [repoDigest],
  });
});
afterEach(() => cleanup());

describe('imagePlatforms', () => {
  it("lists every platform of the image's index with the stored sibling and the one not stored", async () => {
    const found = await imagePlatforms(store, 'multi:1');
    expect(found).toEqual({
      index: index.digest,
      pullReference: repoDigest,
      platforms: [
        {
          platform: { os: 'linux', architecture: 'amd64' },
          manifestDigest: amd.digest,
          image: amd.configDigest,
          current: true,
        },
        {
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          manifestDigest: arm.digest,
          image: arm.configDigest,
          current: false,
        },
        {
          platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
          manifestDigest: armv7.digest,
          current: false,
        },
      ],
    });
    // Asked from the unnamed sibling, the same index answers with the sibling as current.
    const fromSibling = await imagePlatforms(store, arm.configDigest);
    expect(fromSibling.platforms.filter((p) => p.current).map((p) => p.image)).toEqual([arm.configDigest]);
  });

  it('an image stored from a lone manifest has just its own platform', async () => {
    const lone = smallImage('lone', { architecture: 'arm64', variant: 'v8' });
    await addImage(store, lone, ['lone:1']);
    expect(await imagePlatforms(store, 'lone:1')).toEqual({
      platforms: [
        {
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          manifestDigest: lone.digest,
          image: lone.configDigest,
          current: true,
        },
      ],
    });
  });
});

describe('platformImage', () => {
  it('finds the stored sibling, and the explorer shows its own files (not the named platform’s)', async () => {
    const arm64 = await platformImage(store, 'multi:1', 'linux/arm64');
    expect(arm64).toBe(arm.digest);
    expect(await platformImage(store, 'multi:1', 'amd64')).toBe(amd.digest);
    const explorer = new ImageLayers(store);
    const names = async (image: string) =>
      (await explorer.directory(image, 1, 'merged', '/bin')).entries.map((e) => e.name);
    expect(await names('multi:1')).toEqual(['app-amd64']);
    expect(await names(arm64)).toEqual(['app-arm64']);
    expect((await explorer.efficiency(arm64)).finalBytes).toBe(
      'NAME=multi\n'.length + 'arm64 build\n'.length,
    );
  });

  it('says a platform of the index is not stored and how to pull it, and names what the index has', async () => {
    const missing = await rejection(platformImage(store, 'multi:1', 'linux/arm/v7'));
    expect(missing.code).toBe('PLATFORM_UNAVAILABLE');
    expect(missing.message).toBe(
      `the linux/arm/v7 image of multi:1 is not in the store; pull it with: berth pull --platform linux/arm/v7 ${repoDigest}`,
    );
    const absent = await rejection(platformImage(store, 'multi:1', 'linux/s390x'));
    expect(absent.code).toBe('PLATFORM_UNAVAILABLE');
    expect(absent.message).toBe(
      'multi:1 has no linux/s390x image; it has: linux/amd64, linux/arm64/v8, linux/arm/v7',
    );
    expect((await rejection(platformImage(store, 'multi:1', 'linux//arm'))).code).toBe('BAD_REQUEST');
  });
});
