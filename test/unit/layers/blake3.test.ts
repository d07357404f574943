import * as blakeHash from '@napi-rs/blake-hash';
import { describe, expect, it } from 'vitest';
import { Blake3Hasher, blake3 } from '../../../electron/core/layers/blake3';

describe('BLAKE3 loaded by its platform binding', () => {
  it('is the very functions the package entry exports (a package that renames its bindings fails here)', () => {
    expect(blake3).toBe(blakeHash.blake3);
    expect(Blake3Hasher).toBe(blakeHash.Blake3Hasher);
  });

  it('hashes the empty input to the published BLAKE3 test vector', () => {
    expect(blake3(Buffer.alloc(0)).toString('hex')).toBe(
      'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    );
    expect(new Blake3Hasher().update(Buffer.from('')).digest('hex')).toBe(
      'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    );
  });
});
