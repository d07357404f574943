import type { ImagePlatform, ImagePlatforms } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { formatPlatform, normalizePlatform, parsePlatform, platformsOf } from '../registry/platform';
import { parseIndexBlob } from '../store/image-facts';
import type { ImageStore } from '../store/image-store';
import { isIndexMediaType } from '../store/layout';

/**
 * The platforms of the index `image` was stored from, each with the stored image for it when the store holds
 * one (a sibling pulled with `--all-platforms` or `--platform`), so another platform of the same image can be
 * explored, or pulled when it is missing. An image stored from a lone manifest has just its own platform.
 */
export async function imagePlatforms(store: ImageStore, image: string): Promise<ImagePlatforms> {
  const { image: stored, facts } = await store.resolve(image);
  const own: ImagePlatform = {
    platform: facts.platform,
    manifestDigest: stored.manifestDigest,
    image: facts.configDigest,
    current: true,
  };
  if (!isIndexMediaType(stored.top.mediaType)) return { platforms: [own] };
  const indexDigest = stored.top.digest;
  const index = parseIndexBlob(await store.readBlob(indexDigest), indexDigest);
  const platforms: ImagePlatform[] = [];
  for (const descriptor of index.manifests) {
    const [platform] = platformsOf([descriptor]);
    if (descriptor.digest === stored.manifestDigest) {
      platforms.push(platform ? { ...own, platform } : own);
      continue;
    }
    if (!platform) continue;
    const entry: ImagePlatform = { platform, manifestDigest: descriptor.digest, current: false };
    const sibling = await storedImageId(store, descriptor.digest);
    if (sibling !== undefined) entry.image = sibling;
    platforms.push(entry);
  }
  const result: ImagePlatforms = { index: indexDigest, platforms };
  const row = (await store.list()).find((r) => r.id === facts.configDigest && r.digest === indexDigest);
  const pullReference = row?.repoDigests.find((d) => d.endsWith(`@${indexDigest}`));
  if (pullReference !== undefined) result.pullReference = pullReference;
  return result;
}

/**
 * The stored image of `image`'s index for `platform` (`os/arch[/variant]`), as a query the store resolves
 * exactly (its manifest digest). PLATFORM_UNAVAILABLE when the index has no such platform, or when it has
 * one the store does not hold (the message says how to pull it).
 */
export async function platformImage(store: ImageStore, image: string, platform: string): Promise<string> {
  const wanted = formatPlatform(parsePlatform(platform));
  const { platforms, pullReference } = await imagePlatforms(store, image);
  const match = platforms.find((p) => formatPlatform(normalizePlatform(p.platform)) === wanted);
  const offered = platforms.map((p) => formatPlatform(p.platform));
  if (!match) {
    throw new BerthError(
      'PLATFORM_UNAVAILABLE',
      `${image} has no ${wanted} image; it has: ${offered.join(', ')}`,
      { requested: wanted, available: offered },
    );
  }
  if (match.image === undefined) {
    const pull =
      pullReference === undefined ? '' : `; pull it with: berth pull --platform ${wanted} ${pullReference}`;
    throw new BerthError(
      'PLATFORM_UNAVAILABLE',
      `the ${wanted} image of ${image} is not in the store${pull}`,
      {
        requested: wanted,
        stored: platforms.filter((p) => p.image !== undefined).map((p) => formatPlatform(p.platform)),
      },
    );
  }
  return match.manifestDigest;
}

async function storedImageId(store: ImageStore, manifestDigest: string): Promise<string | undefined> {
  try {
    return (await store.resolve(manifestDigest)).facts.configDigest;
  } catch (err) {
    if (err instanceof BerthError && err.code === 'IMAGE_UNKNOWN') return undefined;
    throw err;
  }
}
