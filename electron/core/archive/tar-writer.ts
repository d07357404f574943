import type { Writable } from 'node:stream';
import { Header, Pax } from 'tar';
import { BerthError } from '../../../shared/error';

const block = 512;
/** A fixed time for every entry so the same images always make the same archive bytes. */
const epoch = new Date(0);

/**
 * Writes a tar stream entry by entry onto a Writable, waiting for it to drain, so memory holds at most
 * one chunk whatever the entry sizes. Every entry's size must be known before its bytes are written; a
 * body shorter or longer than announced is refused, because it would shift every later header.
 */
export class TarWriter {
  constructor(private readonly out: Writable) {}

  /** Writes one whole in-memory file (manifests, configs, index.json). */
  async file(path: string, bytes: Uint8Array): Promise<void> {
    await this.entry(path, bytes.length, async (write) => write(Buffer.from(bytes)));
  }

  /** Writes a file whose `size` bytes `body` produces through `write`. */
  async entry(
    path: string,
    size: number,
    body: (write: (chunk: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    await this.header(path, size);
    let written = 0;
    await body(async (chunk) => {
      written += chunk.length;
      if (written > size)
        throw new BerthError('SIZE_MISMATCH', `${path} produced more than the ${size} bytes announced`);
      await this.write(chunk);
    });
    if (written !== size)
      throw new BerthError('SIZE_MISMATCH', `${path} produced ${written} bytes, ${size} were announced`);
    const pad = (block - (size % block)) % block;
    if (pad > 0) await this.write(Buffer.alloc(pad));
  }

  /** Writes the end-of-archive marker (two zero blocks). */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(block * 2));
  }

  private async header(path: string, size: number): Promise<void> {
    const fields = { path, size, mode: 0o644, mtime: epoch, type: 'File' as const, uid: 0, gid: 0 };
    const header = new Header(fields);
    if (header.encode()) await this.write(new Pax({ ...fields, atime: epoch, ctime: epoch }).encode());
    await this.write(header.block!);
  }

  /** Writes with backpressure; fails (never hangs) when the output is destroyed underneath. */
  private async write(chunk: Buffer): Promise<void> {
    if (this.out.destroyed) throw closedEarly(this.out);
    if (this.out.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        this.out.off('drain', onDrain);
        this.out.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(closedEarly(this.out));
      this.out.on('drain', onDrain);
      this.out.on('close', onClose);
    });
  }
}

function closedEarly(out: Writable): Error {
  return (
    out.errored ?? new BerthError('INTERNAL', 'the archive output closed before the archive was complete')
  );
}
