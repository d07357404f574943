import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '@napi-rs/blake-hash';
import { describe, expect, it } from 'vitest';
import { encodeLayerIndex, readLayerIndex } from '../../../electron/core/layers/index-file';
import { blake3FromBytes, fileContentHash } from '../../../electron/core/layers/index-layer';
import { deterministicBytes } from '../../support/fixture-content.js';
import { indexEntries, rejection } from './layer-fixtures.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const blake3Hex = (bytes: Buffer): string => blake3(bytes).toString('hex');

describe('file content hashes', () => {
  it('are sha256 below 8 KiB and BLAKE3 from there', () => {
    expect(blake3FromBytes).toBe(8 * 1024);
    // Published test vectors pin the algorithms, not just this library against itself.
    expect(fileContentHash(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(blake3Hex(Buffer.from('abc'))).toBe(
      '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85',
    );
    const below = deterministicBytes(blake3FromBytes - 1, 'below');
    const at = deterministicBytes(blake3FromBytes, 'at');
    expect(fileContentHash(below)).toBe(sha256(below));
    expect(fileContentHash(at)).toBe(blake3Hex(at));
  });

  it('are right for empty files, one-chunk files and files spread over many decoder chunks', async () => {
    const big = deterministicBytes(3 * 1024 * 1024 + 17, 'spread');
    const small = deterministicBytes(700, 'small');
    const edge = deterministicBytes(blake3FromBytes, 'edge');
    const index = await indexEntries([
      { path: 'empty', content: Buffer.alloc(0) },
      { path: 'small', content: small },
      { path: 'edge', content: edge },
      { path: 'big', content: big },
      { path: 'after', content: 'after\n' },
    ]);
    const hashes = Object.fromEntries(index.entries.map((e) => [e.path, e.contentHash]));
    expect(hashes).toEqual({
      after: sha256(Buffer.from('after\n')),
      big: blake3Hex(big),
      edge: blake3Hex(edge),
      empty: sha256(Buffer.alloc(0)),
      small: sha256(small),
    });
  });

  it('of an older index format are never compared: the file reads as missing, so the layer is indexed again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-index-format-'));
    try {
      const index = await indexEntries([{ path: 'big', content: deterministicBytes(64 * 1024, 'old') }]);
      const current = encodeLayerIndex(index);
      await writeFile(join(dir, 'current.idx'), current);
      expect((await readLayerIndex(join(dir, 'current.idx'))).entries[0]?.contentHash).toBe(
        index.entries[0]?.contentHash,
      );
      const older = Buffer.from(current);
      older[4] = 1; // the version byte after "BLIX": format 1 held sha256 for every file
      await writeFile(join(dir, 'older.idx'), older);
      expect(await rejection(readLayerIndex(join(dir, 'older.idx')))).toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('older format 1') as unknown,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
