import { createHash } from 'node:crypto';
import { digestProblem, parseDigest } from '../../../shared/digest';
import { BerthError } from '../../../shared/error';
import type { Platform } from '../../../shared/contract';

/** Media types of the four manifest documents Berth accepts, plus the legacy ones it refuses by name. */
export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** The `Accept` header for manifest requests: every type Berth can use, nothing it would refuse. */
export const manifestAccept = [
  mediaTypes.ociIndex,
  mediaTypes.ociManifest,
  mediaTypes.dockerManifestList,
  mediaTypes.dockerManifest,
].join(', ');

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform & { 'os.version'?: string; 'os.features'?: string[] };
  artifactType?: string;
}

/** An image manifest (OCI or Docker schema 2): a config and its layers. */
export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index (OCI index or Docker manifest list): one manifest per platform. */
export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** A manifest document as fetched: its exact bytes, their digest, and the parsed, validated form. */
export interface ManifestDocument {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
  parsed: ImageManifest | ImageIndex;
}

const manifestTypes = new Set<string>([mediaTypes.ociManifest, mediaTypes.dockerManifest]);
const indexTypes = new Set<string>([mediaTypes.ociIndex, mediaTypes.dockerManifestList]);
const schema1Types = new Set<string>([mediaTypes.dockerSchema1, mediaTypes.dockerSchema1Signed]);

/** `algorithm:hex` digest of `bytes` with the algorithm of `like` (sha256 when omitted). */
export function digestOf(bytes: Uint8Array, like?: string): string {
  const algorithm = like === undefined ? 'sha256' : parseDigest(like).algorithm;
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The media type part of a `Content-Type` value, lowercased, without parameters. */
export function essence(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/**
 * Parses and validates a manifest body. Refused: schema 1 (by type or `schemaVersion`), a document with
 * both manifest fields (`config`/`layers`) and index fields (`manifests`), a `mediaType` field that differs
 * from the response's Content-Type (CVE-2021-41190), and descriptors whose digest or size is malformed.
 * `where` names the document in errors (e.g. `docker.io/library/alpine:3`).
 */
export function parseManifest(
  bytes: Buffer,
  contentType: string | undefined,
  where: string,
): ImageManifest | ImageIndex {
  const header = essence(contentType);
  if (header !== undefined && schema1Types.has(header)) throw schema1(where);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(where, 'the manifest is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(where, 'the manifest is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.schemaVersion === 1) throw schema1(where);
  if (d.schemaVersion !== 2)
    throw invalid(where, `unsupported schemaVersion ${JSON.stringify(d.schemaVersion)}`);
  const field = typeof d.mediaType === 'string' ? d.mediaType : undefined;
  if (d.mediaType !== undefined && field === undefined) throw invalid(where, 'mediaType must be a string');
  const looksIndex = d.manifests !== undefined;
  const looksManifest = d.config !== undefined || d.layers !== undefined;
  if (looksIndex && looksManifest) {
    throw invalid(
      where,
      'the document has both "manifests" and "config"/"layers", so it is ambiguous (refused)',
    );
  }
  const typed =
    header === undefined || header === 'application/json' || header === 'application/octet-stream'
      ? undefined
      : header;
  if (field !== undefined && typed !== undefined && field !== typed) {
    throw invalid(
      where,
      `its mediaType ${JSON.stringify(field)} disagrees with the Content-Type ${JSON.stringify(typed)} (refused, CVE-2021-41190)`,
    );
  }
  const mediaType = field ?? typed ?? (looksIndex ? mediaTypes.ociIndex : mediaTypes.ociManifest);
  if (schema1Types.has(mediaType)) throw schema1(where);
  if (indexTypes.has(mediaType)) {
    if (looksManifest || !Array.isArray(d.manifests))
      throw invalid(where, `an index (${mediaType}) needs a "manifests" array`);
    const index: ImageIndex = {
      kind: 'index',
      mediaType,
      manifests: d.manifests.map((m, i) => descriptor(m, `manifests[${i}]`, where)),
    };
    const annotations = stringMap(d.annotations, 'annotations', where);
    if (annotations) index.annotations = annotations;
    return index;
  }
  if (manifestTypes.has(mediaType)) {
    if (looksIndex) throw invalid(where, `a manifest (${mediaType}) cannot have "manifests"`);
    if (!Array.isArray(d.layers)) throw invalid(where, 'the manifest has no "layers" array');
    const manifest: ImageManifest = {
      kind: 'manifest',
      mediaType,
      config: descriptor(d.config, 'config', where),
      layers: d.layers.map((l, i) => descriptor(l, `layers[${i}]`, where)),
    };
    const annotations = stringMap(d.annotations, 'annotations', where);
    if (annotations) manifest.annotations = annotations;
    return manifest;
  }
  throw new BerthError(
    'UNSUPPORTED',
    `${where}: unsupported manifest media type ${JSON.stringify(mediaType)}`,
    { mediaType },
  );
}

function descriptor(value: unknown, path: string, where: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(where, `${path} is not a descriptor`);
  const v = value as Record<string, unknown>;
  if (typeof v.mediaType !== 'string') throw invalid(where, `${path}.mediaType must be a string`);
  if (typeof v.digest !== 'string') throw invalid(where, `${path}.digest must be a string`);
  const problem = digestProblem(v.digest);
  if (problem !== undefined) throw invalid(where, `${path}.digest is invalid: ${problem}`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw invalid(where, `${path}.size must be a non-negative integer`);
  }
  const out: Descriptor = { mediaType: v.mediaType, digest: v.digest, size: v.size };
  if (Array.isArray(v.urls) && v.urls.every((u) => typeof u === 'string')) out.urls = v.urls;
  const annotations = stringMap(v.annotations, `${path}.annotations`, where);
  if (annotations) out.annotations = annotations;
  if (typeof v.artifactType === 'string') out.artifactType = v.artifactType;
  if (v.platform !== undefined) {
    const p = v.platform as Record<string, unknown> | null;
    if (
      typeof p !== 'object' ||
      p === null ||
      typeof p.os !== 'string' ||
      typeof p.architecture !== 'string'
    ) {
      throw invalid(where, `${path}.platform needs string "os" and "architecture"`);
    }
    const platform: NonNullable<Descriptor['platform']> = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string' && p.variant !== '') platform.variant = p.variant;
    if (typeof p['os.version'] === 'string') platform['os.version'] = p['os.version'];
    if (Array.isArray(p['os.features']))
      platform['os.features'] = p['os.features'].filter((f) => typeof f === 'string');
    out.platform = platform;
  }
  return out;
}

function stringMap(value: unknown, path: string, where: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'object' ||
    Array.isArray(value) ||
    !Object.values(value).every((s) => typeof s === 'string')
  ) {
    throw invalid(where, `${path} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function invalid(where: string, problem: string): BerthError {
  return new BerthError('MANIFEST_INVALID', `invalid manifest for ${where}: ${problem}`, {
    reference: where,
  });
}

function schema1(where: string): BerthError {
  return new BerthError(
    'UNSUPPORTED',
    `${where} is a Docker schema 1 manifest, which is deprecated and not supported; push the image again with a current client`,
    { reference: where },
  );
}
