import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

function keystream(seed: string | number): ReturnType<typeof createCipheriv> {
  const key = createHash('sha256')
    .update(`berth-fixture:${String(seed)}`)
    .digest()
    .subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

/** `size` pseudo-random, incompressible bytes fixed by `seed`: the same seed always gives the same bytes. */
export function deterministicBytes(size: number, seed: string | number = 0): Buffer {
  const cipher = keystream(seed);
  const out = Buffer.allocUnsafe(size);
  for (let offset = 0; offset < size; offset += CHUNK) {
    const length = Math.min(CHUNK, size - offset);
    cipher.update(length === CHUNK ? ZEROS : ZEROS.subarray(0, length)).copy(out, offset);
  }
  return out;
}

/** The same bytes as {@link deterministicBytes}, streamed in 1 MiB chunks so memory stays flat. */
export function deterministicStream(size: number, seed: string | number = 0): Readable {
  const cipher = keystream(seed);
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= size) {
        this.push(null);
        return;
      }
      const length = Math.min(CHUNK, size - offset);
      offset += length;
      this.push(cipher.update(length === CHUNK ? ZEROS : ZEROS.subarray(0, length)));
    },
  });
}

/** `sha256:<hex>` of some bytes, the digest form OCI descriptors use. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
