import type { Platform } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { isDigest } from '../../../shared/digest';
import { shapeConfig } from './config-shape';
import { chainIds } from './history';
import { isIndexMediaType, parseJson, type Descriptor } from './layout';

/** An image manifest document, as much of it as the store reads. */
export interface ManifestDocument {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index (or Docker manifest list) document. */
export interface IndexBlob {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** One `history` entry of an image config. */
export interface ConfigHistory {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An image config document, as much of it as the store reads. */
export interface ConfigDocument {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
  };
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: ConfigHistory[];
}

/**
 * What the list, tree, df and lookups need of one image, derived from its immutable manifest and config
 * blobs. Cached in `.berth/summaries.json` so a list never re-reads configs; any cached copy is correct.
 */
export interface ImageFacts {
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  configDigest: string;
  configSize: number;
  layers: { digest: string; size: number }[];
  diffIds: string[];
  /** Chain ID of each layer (from the diff IDs); the last one identifies the image's layer stack. */
  chainIds: string[];
  created?: string;
  platform: Platform;
  labels: Record<string, string>;
  user?: string;
}

/** Parses a manifest blob, checking the fields the store relies on. */
export function parseManifest(bytes: Buffer, digest: string): ManifestDocument {
  const doc = parseJson<Partial<ManifestDocument>>(bytes.toString('utf8'), `manifest ${digest}`);
  if (isIndexMediaType(doc.mediaType) || !doc.config || !Array.isArray(doc.layers)) {
    throw new BerthError('MANIFEST_INVALID', `blob ${digest} is not an image manifest`);
  }
  for (const d of [doc.config, ...doc.layers]) {
    if (typeof d.digest !== 'string' || !isDigest(d.digest) || typeof d.size !== 'number') {
      throw new BerthError('MANIFEST_INVALID', `manifest ${digest} has an invalid descriptor`);
    }
  }
  return doc as ManifestDocument;
}

/** Parses an index blob. */
export function parseIndexBlob(bytes: Buffer, digest: string): IndexBlob {
  const doc = parseJson<Partial<IndexBlob>>(bytes.toString('utf8'), `index ${digest}`);
  if (!Array.isArray(doc.manifests))
    throw new BerthError('MANIFEST_INVALID', `blob ${digest} is not an image index`);
  return doc as IndexBlob;
}

/** Parses a config blob. */
export function parseConfig(bytes: Buffer, digest: string): ConfigDocument {
  const doc = parseJson<ConfigDocument>(bytes.toString('utf8'), `config ${digest}`);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new BerthError('MANIFEST_INVALID', `config ${digest} is not an object`);
  return shapeConfig(doc as unknown as Record<string, unknown>);
}

/** Derives the cached facts of an image from its manifest and config. */
export function factsOf(manifestDigest: string, manifestBytes: Buffer, configBytes: Buffer): ImageFacts {
  const manifest = parseManifest(manifestBytes, manifestDigest);
  const config = parseConfig(configBytes, manifest.config.digest);
  const facts: ImageFacts = {
    manifestDigest,
    manifestMediaType: manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
    manifestSize: manifestBytes.length,
    configDigest: manifest.config.digest,
    configSize: manifest.config.size,
    layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size })),
    diffIds: config.rootfs?.diff_ids ?? [],
    chainIds: chainIds(config.rootfs?.diff_ids ?? []),
    platform: platformOf(config),
    labels: config.config?.Labels ?? {},
  };
  if (config.created !== undefined) facts.created = config.created;
  if (config.config?.User) facts.user = config.config.User;
  return facts;
}

/** The platform a config declares. */
export function platformOf(config: ConfigDocument): Platform {
  const platform: Platform = { os: config.os ?? 'unknown', architecture: config.architecture ?? 'unknown' };
  if (config.variant) platform.variant = config.variant;
  return platform;
}

/** The blobs an image needs: manifest, config, layers (not the index it came through). */
export function imageBlobs(facts: ImageFacts): { digest: string; size: number }[] {
  return [
    { digest: facts.manifestDigest, size: facts.manifestSize },
    { digest: facts.configDigest, size: facts.configSize },
    ...facts.layers,
  ];
}
