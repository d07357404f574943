import { spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { sha256Digest } from './fixture-content.js';
import { buildLayerTar, type FixtureEntry } from './fixture-tar.js';

export { deterministicBytes, deterministicStream, sha256Digest } from './fixture-content.js';
export { buildLayerTar, FIXTURE_MTIME, tarEntryName } from './fixture-tar.js';
export type { FixtureEntry, FixtureEntryType } from './fixture-tar.js';
export {
  pushBlob,
  pushImage,
  pushIndex,
  pushManifest,
  registryRequest,
  FixturePushError,
} from './fixture-push.js';
export type { PushAuth, PushTarget } from './fixture-push.js';
export { writeOciLayout } from './fixture-layout.js';
export type { OciLayoutEntry } from './fixture-layout.js';

/** Manifest flavour: OCI image spec or Docker image manifest v2 schema 2. */
export type FixtureFormat = 'oci' | 'docker';

/** How a layer blob is compressed. */
export type FixtureCompression = 'gzip' | 'none' | 'zstd';

/** Media types the fixtures emit, by OCI spec name. */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

/** One layer of a fixture image: declarative entries, or a ready tar for malformed-archive tests. */
export interface FixtureLayerSpec {
  entries?: FixtureEntry[];
  /** Use these bytes as the uncompressed tar instead of building one from `entries`. */
  tar?: Buffer;
  /** Defaults to 'gzip'. */
  compression?: FixtureCompression;
  /** zlib level for gzip layers (default 6); 1 is much faster for big incompressible layers. */
  gzipLevel?: number;
  /** `created_by` of the default history entry for this layer. */
  createdBy?: string;
}

/** One `history` entry of an image config, as the OCI spec names its fields. */
export interface FixtureHistory {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** Image config fields; names follow the OCI config's JSON (camelCase for the `config` block). */
export interface FixtureConfigSpec {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  osVersion?: string;
  user?: string;
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  labels?: Record<string, string>;
  /** e.g. `['80/tcp', '53/udp']`. */
  exposedPorts?: string[];
  volumes?: string[];
  stopSignal?: string;
}

/** Declarative description of one image. */
export interface ImageSpec {
  /** Defaults to 'oci'. */
  format?: FixtureFormat;
  layers: FixtureLayerSpec[];
  config?: FixtureConfigSpec;
  /** Replaces the default history (one entry per layer); non-empty entries must match the layer count. */
  history?: FixtureHistory[];
  /** Manifest annotations (OCI only). */
  annotations?: Record<string, string>;
}

/** The platform an image is for, as an index descriptor carries it. */
export interface FixturePlatform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

/** A content descriptor (mediaType, digest, size). */
export interface FixtureDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: FixturePlatform;
  annotations?: Record<string, string>;
}

/** A built layer: its blob, plus the uncompressed tar and its DiffID. */
export interface FixtureLayer {
  mediaType: string;
  /** Digest of the (possibly compressed) blob. */
  digest: string;
  size: number;
  /** Blob bytes as pushed. */
  bytes: Buffer;
  /** sha256 of the uncompressed tar (rootfs.diff_ids entry). */
  diffId: string;
  /** The uncompressed tar. */
  tar: Buffer;
  compression: FixtureCompression;
}

/** A built image: manifest bytes, config bytes and layers, all content-addressed. */
export interface FixtureImage {
  kind: 'image';
  format: FixtureFormat;
  mediaType: string;
  /** Exact manifest bytes; `digest` is their sha256. */
  manifest: Buffer;
  digest: string;
  size: number;
  config: Buffer;
  configDigest: string;
  /** The config as an object, for assertions. */
  configJson: Record<string, unknown>;
  layers: FixtureLayer[];
  platform: FixturePlatform;
  /** Descriptor of this manifest, with platform, as an index lists it. */
  descriptor: FixtureDescriptor;
  /** Config and layer blobs by digest (not the manifest). */
  blobs(): Map<string, Buffer>;
}

/** A built image index (OCI) or manifest list (Docker) over fixture images. */
export interface FixtureIndex {
  kind: 'index';
  format: FixtureFormat;
  mediaType: string;
  manifest: Buffer;
  digest: string;
  size: number;
  children: FixtureImage[];
  descriptor: FixtureDescriptor;
  /** Config and layer blobs of every child, by digest (not the child manifests). */
  blobs(): Map<string, Buffer>;
}

/** The fixed creation time of fixture configs. */
export const FIXTURE_CREATED = '2024-01-01T00:00:00Z';

/** True when this Node can write zstd natively or the `zstd` CLI is installed. */
export function zstdAvailable(): boolean {
  if ('zstdCompressSync' in zlib) return true;
  return spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
}

function compress(tar: Buffer, compression: FixtureCompression, gzipLevel: number): Buffer {
  switch (compression) {
    case 'none':
      return tar;
    case 'gzip':
      return zlib.gzipSync(tar, { level: gzipLevel });
    case 'zstd': {
      const native = (zlib as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
      if (native) return native(tar);
      const result = spawnSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
      if (result.status !== 0)
        throw new Error('zstd compression needs Node 22.15+ or the zstd CLI (apt-get install zstd)');
      return result.stdout;
    }
  }
}

function layerMediaType(format: FixtureFormat, compression: FixtureCompression): string {
  if (format === 'oci') {
    switch (compression) {
      case 'gzip':
        return MEDIA_TYPES.ociLayerGzip;
      case 'none':
        return MEDIA_TYPES.ociLayer;
      case 'zstd':
        return MEDIA_TYPES.ociLayerZstd;
    }
  }
  switch (compression) {
    case 'gzip':
      return MEDIA_TYPES.dockerLayerGzip;
    case 'none':
      return MEDIA_TYPES.dockerLayer;
    case 'zstd':
      throw new Error('Docker schema2 has no zstd layer media type; use format "oci"');
  }
}

/** Builds one layer blob from its spec. */
export function buildLayer(spec: FixtureLayerSpec, format: FixtureFormat = 'oci'): FixtureLayer {
  const compression = spec.compression ?? 'gzip';
  const tar = spec.tar ?? buildLayerTar(spec.entries ?? []);
  const bytes = compress(tar, compression, spec.gzipLevel ?? 6);
  return {
    mediaType: layerMediaType(format, compression),
    digest: sha256Digest(bytes),
    size: bytes.length,
    bytes,
    diffId: sha256Digest(tar),
    tar,
    compression,
  };
}

function containerConfig(spec: FixtureConfigSpec): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (spec.user !== undefined) config.User = spec.user;
  if (spec.exposedPorts) config.ExposedPorts = Object.fromEntries(spec.exposedPorts.map((p) => [p, {}]));
  if (spec.env) config.Env = spec.env;
  if (spec.entrypoint) config.Entrypoint = spec.entrypoint;
  if (spec.cmd) config.Cmd = spec.cmd;
  if (spec.volumes) config.Volumes = Object.fromEntries(spec.volumes.map((v) => [v, {}]));
  if (spec.workingDir !== undefined) config.WorkingDir = spec.workingDir;
  if (spec.labels) config.Labels = spec.labels;
  if (spec.stopSignal !== undefined) config.StopSignal = spec.stopSignal;
  return config;
}

/** Builds an image (layers, config, manifest) from a spec; the same spec always yields the same digests. */
export function buildImage(spec: ImageSpec): FixtureImage {
  const format = spec.format ?? 'oci';
  const c = spec.config ?? {};
  const created = c.created ?? FIXTURE_CREATED;
  const layers = spec.layers.map((layer) => buildLayer(layer, format));
  const history: FixtureHistory[] =
    spec.history ??
    spec.layers.map((layer, i) => ({
      created,
      created_by: layer.createdBy ?? `/bin/sh -c #(nop) ADD layer-${i}`,
    }));
  const nonEmpty = history.filter((h) => !h.empty_layer).length;
  if (nonEmpty !== layers.length) {
    throw new Error(`fixture history has ${nonEmpty} non-empty entries for ${layers.length} layers`);
  }
  const platform: FixturePlatform = { architecture: c.architecture ?? 'amd64', os: c.os ?? 'linux' };
  if (c.variant !== undefined) platform.variant = c.variant;
  if (c.osVersion !== undefined) platform['os.version'] = c.osVersion;

  const configJson: Record<string, unknown> = { created };
  if (c.author !== undefined) configJson.author = c.author;
  configJson.architecture = platform.architecture;
  if (platform.variant !== undefined) configJson.variant = platform.variant;
  configJson.os = platform.os;
  if (platform['os.version'] !== undefined) configJson['os.version'] = platform['os.version'];
  configJson.config = containerConfig(c);
  configJson.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
  configJson.history = history;
  const config = Buffer.from(JSON.stringify(configJson));
  const configDigest = sha256Digest(config);

  const mediaType = format === 'oci' ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
  const manifestJson: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: format === 'oci' ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig,
      digest: configDigest,
      size: config.length,
    },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  if (spec.annotations) {
    if (format !== 'oci') throw new Error('Docker schema2 manifests have no annotations');
    manifestJson.annotations = spec.annotations;
  }
  const manifest = Buffer.from(JSON.stringify(manifestJson));
  const digest = sha256Digest(manifest);
  return {
    kind: 'image',
    format,
    mediaType,
    manifest,
    digest,
    size: manifest.length,
    config,
    configDigest,
    configJson,
    layers,
    platform,
    descriptor: { mediaType, digest, size: manifest.length, platform },
    blobs: () =>
      new Map<string, Buffer>([[configDigest, config], ...layers.map((l) => [l.digest, l.bytes] as const)]),
  };
}

/** Builds an OCI image index or a Docker manifest list over images, one platform descriptor per image. */
export function buildIndex(
  images: FixtureImage[],
  options: { format?: FixtureFormat; annotations?: Record<string, string> } = {},
): FixtureIndex {
  const format = options.format ?? images[0]?.format ?? 'oci';
  const mediaType = format === 'oci' ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerManifestList;
  const indexJson: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    manifests: images.map((image) => image.descriptor),
  };
  if (options.annotations) {
    if (format !== 'oci') throw new Error('Docker manifest lists have no annotations');
    indexJson.annotations = options.annotations;
  }
  const manifest = Buffer.from(JSON.stringify(indexJson));
  const digest = sha256Digest(manifest);
  return {
    kind: 'index',
    format,
    mediaType,
    manifest,
    digest,
    size: manifest.length,
    children: images,
    descriptor: { mediaType, digest, size: manifest.length },
    blobs: () => new Map(images.flatMap((image) => [...image.blobs()])),
  };
}

/** A small one-layer image for smoke tests; `tag` varies the content so digests differ. */
export function smallImage(
  tag = 'small',
  options: { format?: FixtureFormat; architecture?: string; variant?: string } = {},
): FixtureImage {
  const config: FixtureConfigSpec = {
    architecture: options.architecture ?? 'amd64',
    cmd: ['/bin/hello'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    labels: { 'org.opencontainers.image.title': tag },
  };
  if (options.variant !== undefined) config.variant = options.variant;
  return buildImage({
    format: options.format ?? 'oci',
    config,
    layers: [
      {
        entries: [
          { path: 'etc/', type: 'dir' },
          { path: 'etc/hostname', content: `${tag}\n` },
          { path: 'bin/', type: 'dir' },
          { path: 'bin/hello', content: `#!/bin/sh\necho ${tag}\n`, mode: 0o755 },
        ],
      },
    ],
  });
}
