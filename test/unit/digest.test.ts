import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDigest, isBareSha256, isDigest, parseDigest, shortId } from '../../shared/digest';
import { BerthError } from '../../shared/error';

const hex64 = '0123456789abcdef'.repeat(4);
const hex128 = hex64 + hex64;

function problemOf(input: string): BerthError {
  try {
    parseDigest(input);
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('parseDigest', () => {
  it('splits sha256 and sha512 digests', () => {
    expect(parseDigest(`sha256:${hex64}`)).toEqual({ algorithm: 'sha256', hex: hex64 });
    expect(parseDigest(`sha512:${hex128}`)).toEqual({ algorithm: 'sha512', hex: hex128 });
  });

  it.each([
    ['', 'empty'],
    [hex64, 'missing "algorithm:" prefix'],
    [`:${hex64}`, 'algorithm is empty'],
    ['sha256:../x', 'invalid character "."'],
    ['sha256:../../etc/passwd', 'invalid character'],
    [`sha256:${hex64.toUpperCase()}`, 'must be lowercase'],
    [`SHA256:${hex64}`, 'unsupported algorithm "SHA256"'],
    [`sha384:${hex64}${hex64.slice(0, 32)}`, 'unsupported algorithm "sha384"'],
    [`md5:${hex64.slice(0, 32)}`, 'unsupported algorithm "md5"'],
    [`sha256:${hex64.slice(1)}`, 'must be 64 characters long, got 63'],
    [`sha256:${hex64}0`, 'must be 64 characters long, got 65'],
    [`sha512:${hex64}`, 'must be 128 characters long, got 64'],
    ['sha256:', 'must be 64 characters long, got 0'],
    [`sha256:${hex64.slice(0, 63)}g`, 'invalid character "g"'],
    [`sha256:${hex64} `, 'invalid character " "'],
    [`sha256::${hex64}`, 'invalid character ":"'],
    [`sha256+b64:${hex64}`, 'unsupported algorithm'],
    [`-sha256:${hex64}`, 'malformed algorithm'],
    [`sha256-:${hex64}`, 'malformed algorithm'],
    [`sha/256:${hex64}`, 'malformed algorithm'],
  ])('refuses %j (%s)', (input, problem) => {
    const err = problemOf(input);
    expect(err.code).toBe('INVALID_DIGEST');
    expect(err.message.startsWith(`invalid digest ${JSON.stringify(input)}: `)).toBe(true);
    expect(err.message).toContain(problem);
  });

  it('refuses non-string values that slip past the types', () => {
    for (const value of [undefined, null, 42, {}, Object.create(null)]) {
      expect(() => parseDigest(value as unknown as string)).toThrow(
        /^invalid digest "<\w+>": expected a string/,
      );
      expect(isDigest(value as unknown as string)).toBe(false);
    }
  });

  it('elides very long inputs in the message', () => {
    const err = problemOf(`sha256:${'a'.repeat(10_000)}`);
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).toContain('characters elided');
  });

  it('accepts exactly the strings it formats back unchanged', () => {
    fc.assert(
      fc.property(fc.constantFrom('sha256', 'sha512'), fc.nat(), (algorithm, seed) => {
        const length = algorithm === 'sha256' ? 64 : 128;
        const hex = Array.from({ length }, (_, i) => '0123456789abcdef'.charAt((seed + i * 7) % 16)).join('');
        const digest = parseDigest(`${algorithm}:${hex}`);
        expect(formatDigest(digest)).toBe(`${algorithm}:${hex}`);
      }),
    );
  });

  it('only ever throws BerthError INVALID_DIGEST, agreeing with isDigest', () => {
    const unit = fc.constantFrom(...'sha256:512abcdefABCDEF0123456789./-_+@ \n'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit, maxLength: 140 }), fc.string({ unit: 'binary' })), (input) => {
        let ok = true;
        try {
          parseDigest(input);
        } catch (err) {
          ok = false;
          expect(err).toBeInstanceOf(BerthError);
          expect((err as BerthError).code).toBe('INVALID_DIGEST');
        }
        expect(isDigest(input)).toBe(ok);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isDigest', () => {
  it('tells digests from other strings', () => {
    expect(isDigest(`sha256:${hex64}`)).toBe(true);
    expect(isDigest(`sha512:${hex128}`)).toBe(true);
    expect(isDigest(hex64)).toBe(false);
    expect(isDigest('sha256:abc')).toBe(false);
    expect(isDigest('alpine:3.20')).toBe(false);
  });
});

describe('shortId', () => {
  it('keeps the first 12 hex characters without the algorithm', () => {
    expect(shortId(`sha256:${hex64}`)).toBe('0123456789ab');
    expect(shortId(`sha512:${hex128}`)).toBe('0123456789ab');
  });

  it('accepts a bare 64-character image ID', () => {
    expect(shortId(hex64)).toBe('0123456789ab');
    expect(isBareSha256(hex64)).toBe(true);
    expect(isBareSha256(hex64.toUpperCase())).toBe(false);
  });

  it('refuses anything that is not a digest', () => {
    expect(() => shortId('sha256:abc')).toThrow(BerthError);
    expect(() => shortId('0123456789ab')).toThrow(/invalid digest "0123456789ab"/);
  });
});
