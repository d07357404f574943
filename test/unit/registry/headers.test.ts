import { describe, expect, it } from 'vitest';
import { parseNextLink, parseRateLimit } from '../../../electron/core/registry/client';
import { normalizeRegistryHost } from '../../../electron/core/registry/connect';

describe('parseNextLink', () => {
  it('finds the rel="next" target among Link entries', () => {
    expect(parseNextLink('</v2/_catalog?last=b&n=2>; rel="next"')).toBe('/v2/_catalog?last=b&n=2');
    expect(parseNextLink('<https://r.example/v2/x/tags/list?last=1>; rel=next')).toBe(
      'https://r.example/v2/x/tags/list?last=1',
    );
    expect(parseNextLink('</a>; rel="prev", </b?x=1,2>; rel="next"; title="more"')).toBe('/b?x=1,2');
  });

  it('returns undefined without a next entry', () => {
    expect(parseNextLink(undefined)).toBeUndefined();
    expect(parseNextLink('</a>; rel="prev"')).toBeUndefined();
    expect(parseNextLink('garbage')).toBeUndefined();
    expect(parseNextLink('</a>; rel="nextpage"')).toBeUndefined();
  });
});

describe('parseRateLimit', () => {
  it('reads Docker Hub rate-limit headers with their window', () => {
    expect(
      parseRateLimit({ headers: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' } }),
    ).toEqual({
      limit: 100,
      remaining: 76,
      windowSeconds: 21600,
    });
    expect(parseRateLimit({ headers: { 'ratelimit-remaining': '5' } })).toEqual({ remaining: 5 });
    expect(parseRateLimit({ headers: {} })).toBeUndefined();
  });
});

describe('normalizeRegistryHost', () => {
  it('accepts what users type for a registry and folds Docker Hub names', () => {
    expect(normalizeRegistryHost('https://GHCR.io/')).toBe('ghcr.io');
    expect(normalizeRegistryHost('index.docker.io')).toBe('docker.io');
    expect(normalizeRegistryHost('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeRegistryHost('localhost:5000')).toBe('localhost:5000');
    expect(normalizeRegistryHost('[::1]:5000')).toBe('[::1]:5000');
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'a b', 'user@host', 'host:port', '-x.example', 'x..example']) {
      expect(() => normalizeRegistryHost(bad)).toThrow(/invalid registry/);
    }
  });
});
