import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Header, Pax, type HeaderData } from 'tar';
import type { EntryType } from '../layers/layer-entry';

/** The header of one entry Berth writes into a tar. */
export interface TarEntryHeader {
  /** Normalized image path (no leading `/`); directories get their trailing `/` here. */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Body bytes; only regular files have any. */
  size: number;
  mtime?: Date;
  /** Symlink target as written, or hardlink target as a normalized image path. */
  linkpath?: string;
  uname?: string;
  gname?: string;
  devmaj?: number;
  devmin?: number;
}

const typeNames: Record<EntryType, HeaderData['type']> = {
  file: 'File',
  dir: 'Directory',
  symlink: 'SymbolicLink',
  hardlink: 'Link',
  char: 'CharacterDevice',
  block: 'BlockDevice',
  fifo: 'FIFO',
};

const block = 512;

/**
 * Writes a POSIX tar to a stream one entry at a time, waiting on the stream's backpressure, so a whole
 * filesystem passes through it with memory at one chunk. Long names and links go into PAX headers.
 */
export class TarWriter {
  private finished = false;

  constructor(private readonly out: Writable) {}

  private async put(chunk: Buffer): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  /** Writes one entry; a file's body is read from `body` and must hold exactly `header.size` bytes. */
  async entry(header: TarEntryHeader, body?: AsyncIterable<Buffer | Uint8Array>): Promise<void> {
    const name = header.type === 'dir' ? `${header.path}/` : header.path;
    const size = header.type === 'file' ? header.size : 0;
    const fields: HeaderData = {
      path: name,
      mode: header.mode & 0o7777,
      uid: header.uid,
      gid: header.gid,
      size,
      mtime: header.mtime ?? new Date(0),
      type: typeNames[header.type],
      linkpath: header.linkpath ?? '',
      uname: header.uname ?? '',
      gname: header.gname ?? '',
    };
    if (header.devmaj !== undefined) fields.devmaj = header.devmaj;
    if (header.devmin !== undefined) fields.devmin = header.devmin;
    const encoded = Buffer.alloc(block);
    if (new Header(fields).encode(encoded)) {
      const pax: HeaderData = { path: name, mtime: fields.mtime };
      if (header.linkpath !== undefined && header.linkpath !== '') pax.linkpath = header.linkpath;
      await this.put(new Pax(pax).encode());
    }
    await this.put(encoded);
    if (size === 0) return;
    let written = 0;
    if (body) {
      for await (const chunk of body) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        written += bytes.length;
        if (written > size) throw new Error(`tar body of ${header.path} is longer than ${size} bytes`);
        await this.put(bytes);
      }
    }
    if (written !== size) throw new Error(`tar body of ${header.path} has ${written} of ${size} bytes`);
    const pad = (block - (size % block)) % block;
    if (pad > 0) await this.put(Buffer.alloc(pad));
  }

  /** Writes the end-of-archive marker (two zero blocks); the caller ends the stream. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.put(Buffer.alloc(block * 2));
  }
}
