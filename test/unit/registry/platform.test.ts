import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../../../electron/core/registry/manifest';
import {
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  platformsOf,
  selectPlatform,
} from '../../../electron/core/registry/platform';
import type { Platform } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';

let n = 0;
function entry(os: string, architecture: string, variant?: string): Descriptor {
  n++;
  const platform: Platform = variant === undefined ? { os, architecture } : { os, architecture, variant };
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    size: 100,
    platform,
  };
}

function pick(manifests: Descriptor[], request: string): string {
  return formatPlatform(
    selectPlatform(manifests, parsePlatform(request), 'example/app').platform as Platform,
  );
}

describe('parsePlatform', () => {
  it('normalizes aliases and default variants', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('Linux/ARM/V6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(parsePlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
  });

  it('refuses malformed input with BAD_REQUEST', () => {
    for (const bad of ['', 'linux//amd64', 'a/b/c/d', 'linux/am d64']) {
      expect(() => parsePlatform(bad)).toThrow(BerthError);
    }
  });

  it('maps the Node host to OCI names', () => {
    expect(hostPlatform('linux', 'x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('darwin', 'arm64')).toEqual({ os: 'darwin', architecture: 'arm64', variant: 'v8' });
    expect(hostPlatform('win32', 'ia32')).toEqual({ os: 'windows', architecture: '386' });
  });
});

describe('compatiblePlatforms', () => {
  it('falls back through older arm variants and from amd64 to 386', () => {
    expect(compatiblePlatforms(parsePlatform('linux/arm/v7')).map(formatPlatform)).toEqual([
      'linux/arm/v7',
      'linux/arm/v6',
      'linux/arm/v5',
    ]);
    expect(compatiblePlatforms(parsePlatform('linux/amd64')).map(formatPlatform)).toEqual([
      'linux/amd64',
      'linux/386',
    ]);
    expect(compatiblePlatforms(parsePlatform('linux/amd64/v3')).map(formatPlatform)).toEqual([
      'linux/amd64/v3',
      'linux/amd64/v2',
      'linux/amd64',
      'linux/386',
    ]);
  });
});

describe('selectPlatform', () => {
  const index = [
    entry('linux', 'amd64'),
    entry('linux', 'arm64', 'v8'),
    entry('linux', 'arm', 'v7'),
    entry('linux', 'arm', 'v6'),
    entry('windows', 'amd64'),
  ];

  it('chooses the exact platform', () => {
    expect(pick(index, 'linux/amd64')).toBe('linux/amd64');
    expect(pick(index, 'linux/arm/v6')).toBe('linux/arm/v6');
    expect(pick(index, 'windows/amd64')).toBe('windows/amd64');
  });

  it('treats arm64 as arm64/v8 both ways', () => {
    expect(pick(index, 'linux/arm64')).toBe('linux/arm64/v8');
    expect(pick([entry('linux', 'arm64')], 'linux/arm64/v8')).toBe('linux/arm64');
  });

  it('falls back arm v7 → v6 → v5 and amd64 → 386', () => {
    expect(pick([entry('linux', 'arm', 'v5'), entry('linux', 'arm', 'v6')], 'linux/arm/v7')).toBe(
      'linux/arm/v6',
    );
    expect(pick([entry('linux', 'arm', 'v5')], 'linux/arm/v7')).toBe('linux/arm/v5');
    expect(pick([entry('linux', '386'), entry('linux', 'arm64', 'v8')], 'linux/amd64')).toBe('linux/386');
  });

  it('lets an image without a variant match a request with one, but prefers the exact variant', () => {
    expect(pick([entry('linux', 'arm')], 'linux/arm/v6')).toBe('linux/arm');
    expect(pick([entry('linux', 'arm'), entry('linux', 'arm', 'v7')], 'linux/arm/v7')).toBe('linux/arm/v7');
  });

  it('never picks a newer variant than asked for', () => {
    expect(() => pick([entry('linux', 'arm', 'v7')], 'linux/arm/v6')).toThrow(
      /has no image for linux\/arm\/v6/,
    );
    expect(() => pick([entry('linux', 'amd64', 'v3')], 'linux/amd64')).toThrow(BerthError);
  });

  it('ignores attestation entries and lists the platforms present when nothing matches', () => {
    const attestation: Descriptor = {
      ...entry('unknown', 'unknown'),
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    };
    const manifests = [entry('linux', 'amd64'), entry('linux', 'arm64', 'v8'), attestation];
    expect(platformsOf(manifests).map(formatPlatform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    try {
      selectPlatform(manifests, parsePlatform('linux/s390x'), 'example/app:1');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).code).toBe('PLATFORM_UNAVAILABLE');
      expect((err as BerthError).message).toBe(
        'example/app:1 has no image for linux/s390x; it has: linux/amd64, linux/arm64/v8',
      );
      expect((err as BerthError).detail).toEqual({
        requested: 'linux/s390x',
        available: ['linux/amd64', 'linux/arm64/v8'],
      });
    }
  });
});
