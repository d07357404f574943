import { describe, expect, it } from 'vitest';
import { digestOf, mediaTypes, parseManifest } from '../../../electron/core/registry/manifest';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('a'), size: 10 };
const config = { mediaType: mediaTypes.ociConfig, digest: d('b'), size: 20 };

function bytes(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('parseManifest', () => {
  it('accepts an OCI manifest and a Docker schema 2 manifest', () => {
    const oci = parseManifest(
      bytes({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers: [layer] }),
      mediaTypes.ociManifest,
      'x',
    );
    expect(oci).toMatchObject({
      kind: 'manifest',
      mediaType: mediaTypes.ociManifest,
      config,
      layers: [layer],
    });
    const docker = parseManifest(
      bytes({ schemaVersion: 2, mediaType: mediaTypes.dockerManifest, config, layers: [] }),
      `${mediaTypes.dockerManifest}; charset=utf-8`,
      'x',
    );
    expect(docker.kind).toBe('manifest');
  });

  it('accepts an OCI index and a Docker manifest list with platforms', () => {
    const child = {
      ...layer,
      mediaType: mediaTypes.ociManifest,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    };
    const index = parseManifest(
      bytes({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [child] }),
      mediaTypes.ociIndex,
      'x',
    );
    expect(index).toMatchObject({ kind: 'index', manifests: [child] });
    const list = parseManifest(
      bytes({ schemaVersion: 2, mediaType: mediaTypes.dockerManifestList, manifests: [] }),
      mediaTypes.dockerManifestList,
      'x',
    );
    expect(list.kind).toBe('index');
  });

  it('infers the kind of an OCI document without mediaType from the Content-Type or its fields', () => {
    expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), 'application/json', 'x').kind).toBe(
      'index',
    );
    expect(parseManifest(bytes({ schemaVersion: 2, config, layers: [] }), undefined, 'x').mediaType).toBe(
      mediaTypes.ociManifest,
    );
    expect(
      parseManifest(bytes({ schemaVersion: 2, config, layers: [] }), mediaTypes.dockerManifest, 'x')
        .mediaType,
    ).toBe(mediaTypes.dockerManifest);
  });

  it('refuses schema 1 by Content-Type and by schemaVersion, naming it', () => {
    expect(() => parseManifest(bytes({ schemaVersion: 1 }), mediaTypes.dockerSchema1Signed, 'r/x:1')).toThrow(
      /schema 1/,
    );
    expect(
      codeOf(() => parseManifest(bytes({ schemaVersion: 1, fsLayers: [] }), 'application/json', 'x')),
    ).toBe('UNSUPPORTED');
  });

  it('refuses a document that is both a manifest and an index', () => {
    const ambiguous = { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [], config, layers: [] };
    expect(() => parseManifest(bytes(ambiguous), mediaTypes.ociIndex, 'x')).toThrow(/ambiguous/);
    expect(codeOf(() => parseManifest(bytes({ ...ambiguous, mediaType: undefined }), undefined, 'x'))).toBe(
      'MANIFEST_INVALID',
    );
  });

  it('refuses a mediaType that disagrees with the Content-Type (CVE-2021-41190)', () => {
    const doc = bytes({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers: [] });
    expect(() => parseManifest(doc, mediaTypes.ociIndex, 'x')).toThrow(/CVE-2021-41190/);
    expect(() => parseManifest(doc, mediaTypes.dockerManifest, 'x')).toThrow(/disagrees/);
  });

  it('refuses malformed descriptors before their digests reach a URL', () => {
    const bad = (l: unknown): string | undefined =>
      codeOf(() =>
        parseManifest(
          bytes({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers: [l] }),
          undefined,
          'x',
        ),
      );
    expect(bad({ ...layer, digest: 'sha256:../../etc/passwd' })).toBe('MANIFEST_INVALID');
    expect(bad({ ...layer, digest: d('A') })).toBe('MANIFEST_INVALID');
    expect(bad({ ...layer, digest: 'md5:abc' })).toBe('MANIFEST_INVALID');
    expect(bad({ ...layer, size: -1 })).toBe('MANIFEST_INVALID');
    expect(bad({ ...layer, size: 1.5 })).toBe('MANIFEST_INVALID');
    expect(bad('layer')).toBe('MANIFEST_INVALID');
  });

  it('refuses non-JSON, non-objects and unknown schema versions', () => {
    expect(codeOf(() => parseManifest(Buffer.from('{'), undefined, 'x'))).toBe('MANIFEST_INVALID');
    expect(codeOf(() => parseManifest(bytes([1]), undefined, 'x'))).toBe('MANIFEST_INVALID');
    expect(codeOf(() => parseManifest(bytes({ schemaVersion: 3, config, layers: [] }), undefined, 'x'))).toBe(
      'MANIFEST_INVALID',
    );
    expect(
      codeOf(() => parseManifest(bytes({ schemaVersion: 2, mediaType: 'text/plain' }), undefined, 'x')),
    ).toBe('UNSUPPORTED');
  });
});

describe('digestOf', () => {
  it('hashes with the algorithm of the expected digest', () => {
    expect(digestOf(Buffer.from(''))).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(digestOf(Buffer.from(''), `sha512:${'0'.repeat(128)}`)).toMatch(/^sha512:cf83e1357eefb8bd/);
  });
});
