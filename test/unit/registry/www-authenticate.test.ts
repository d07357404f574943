import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findChallenge, parseWwwAuthenticate } from '../../../electron/core/registry/www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('reads a Docker Hub bearer challenge', () => {
    const [challenge] = parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    );
    expect(challenge).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull',
      },
    });
  });

  it('reads Basic with a quoted realm and lowercases scheme and parameter names', () => {
    expect(parseWwwAuthenticate('BASIC Realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
  });

  it('splits several challenges in one header and across header lines', () => {
    const parsed = parseWwwAuthenticate([
      'Basic realm="a", Bearer realm="https://t/token", service=svc',
      'Negotiate',
    ]);
    expect(parsed.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(findChallenge(parsed, 'Bearer')?.params).toEqual({ realm: 'https://t/token', service: 'svc' });
  });

  it('keeps commas and escaped quotes inside quoted values', () => {
    const [challenge] = parseWwwAuthenticate(
      'Bearer realm="https://t/token",scope="repository:a/b:pull,push",error="insufficient_scope",x="say \\"hi\\""',
    );
    expect(challenge?.params.scope).toBe('repository:a/b:pull,push');
    expect(challenge?.params.error).toBe('insufficient_scope');
    expect(challenge?.params.x).toBe('say "hi"');
  });

  it('tolerates spaces around "=" and keeps the first of repeated parameters', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm = "r1" , realm="r2"');
    expect(challenge?.params.realm).toBe('r1');
  });

  it('accepts token68 credentials and empty input', () => {
    expect(parseWwwAuthenticate('Custom abc123==, Basic realm="x"').map((c) => c.scheme)).toEqual([
      'custom',
      'basic',
    ]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (input) => {
        expect(Array.isArray(parseWwwAuthenticate(input))).toBe(true);
      }),
    );
  });
});
