import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deterministicBytes } from '../../support/fixture-content.js';
import { indexEntries } from './layer-fixtures.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('file content hashes', () => {
  it('are right for empty files, one-chunk files and files spread over many decoder chunks', async () => {
    const big = deterministicBytes(3 * 1024 * 1024 + 17, 'spread');
    const small = deterministicBytes(700, 'small');
    const index = await indexEntries([
      { path: 'empty', content: Buffer.alloc(0) },
      { path: 'small', content: small },
      { path: 'big', content: big },
      { path: 'after', content: 'after\n' },
    ]);
    const hashes = Object.fromEntries(index.entries.map((e) => [e.path, e.contentHash]));
    expect(hashes).toEqual({
      after: sha256(Buffer.from('after\n')),
      big: sha256(big),
      empty: sha256(Buffer.alloc(0)),
      small: sha256(small),
    });
  });
});
