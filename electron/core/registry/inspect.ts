import type { Platform } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import type { CallOptions, RegistryClient } from './client';
import type { Descriptor, ImageIndex, ImageManifest } from './manifest';
import { hostPlatform, platformsOf, selectPlatform } from './platform';

/** A remote image as `skopeo inspect` describes it, without pulling its layers. */
export interface RemoteImage {
  /** `registry/repository`. */
  name: string;
  /** Digest of what the reference points at (an index for a multi-platform tag). */
  digest: string;
  mediaType: string;
  /** Platforms the index offers (just the image's own for a single manifest). */
  platforms: Platform[];
  /** The platform manifest that was inspected. */
  manifestDigest: string;
  manifest: ImageManifest;
  index?: ImageIndex;
  configDigest: string;
  /** The parsed config document. */
  config: Record<string, unknown>;
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  labels: Record<string, string>;
  env: string[];
  layers: Descriptor[];
  /** Config plus compressed layer sizes: what a pull downloads. */
  size: number;
  /** Every tag of the repository, when asked for. */
  tags?: string[];
}

/**
 * Inspects `repository:reference` remotely: resolves the manifest (choosing `platform`, else the host's,
 * from an index), fetches and verifies the config, and sums the sizes. Only manifests and the config move.
 */
export async function inspectRemote(
  client: RegistryClient,
  repository: string,
  reference: string,
  options: CallOptions & { platform?: Platform; tags?: boolean } = {},
): Promise<RemoteImage> {
  const top = await client.resolveManifest(repository, reference, options);
  const name = `${client.registry}/${repository}`;
  let manifest: ImageManifest;
  let manifestDigest = top.digest;
  let index: ImageIndex | undefined;
  let platforms: Platform[];
  if (top.parsed.kind === 'index') {
    index = top.parsed;
    platforms = platformsOf(index.manifests);
    const chosen = selectPlatform(
      index.manifests,
      options.platform ?? hostPlatform(),
      `${name}:${reference}`,
    );
    const child = await client.fetchManifest(repository, chosen.digest, options);
    if (child.parsed.kind !== 'manifest') {
      throw new BerthError(
        'MANIFEST_INVALID',
        `${name}@${chosen.digest} is an index inside an index; nested indexes are not supported`,
      );
    }
    manifest = child.parsed;
    manifestDigest = child.digest;
  } else {
    manifest = top.parsed;
    platforms = [];
  }
  const configBytes = await client.fetchBlobBytes(repository, manifest.config, options);
  let config: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(configBytes.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    config = parsed as Record<string, unknown>;
  } catch {
    throw new BerthError(
      'MANIFEST_INVALID',
      `the config ${manifest.config.digest} of ${name} is not a JSON object`,
    );
  }
  const inner = (typeof config.config === 'object' && config.config !== null ? config.config : {}) as Record<
    string,
    unknown
  >;
  const image: RemoteImage = {
    name,
    digest: top.digest,
    mediaType: top.mediaType,
    platforms,
    manifestDigest,
    manifest,
    configDigest: manifest.config.digest,
    config,
    labels: stringRecord(inner.Labels),
    env: Array.isArray(inner.Env) ? inner.Env.filter((e): e is string => typeof e === 'string') : [],
    layers: manifest.layers,
    size: manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0),
  };
  if (index) image.index = index;
  if (typeof config.created === 'string') image.created = config.created;
  if (typeof config.os === 'string') image.os = config.os;
  if (typeof config.architecture === 'string') image.architecture = config.architecture;
  if (typeof config.variant === 'string') image.variant = config.variant;
  if (image.platforms.length === 0 && image.os && image.architecture) {
    image.platforms = [
      image.variant
        ? { os: image.os, architecture: image.architecture, variant: image.variant }
        : { os: image.os, architecture: image.architecture },
    ];
  }
  if (options.tags) image.tags = await client.listTags(repository, options);
  return image;
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}
