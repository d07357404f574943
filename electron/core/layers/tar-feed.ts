import type { ReadEntry } from 'tar';
import { BerthError } from '../../../shared/error';
import { elideInput } from '../../../shared/digest';
import type { EntryType } from './layer-entry';

/** Caps on a tar's structure, checked entry by entry. */
export interface TarLimits {
  /** Most entries (including skipped ones) a layer may hold. */
  maxEntries: number;
  /** Largest PAX or GNU long-name header accepted. */
  maxPaxHeaderBytes: number;
  /** Longest entry name or link target, in UTF-8 bytes. */
  maxPathBytes: number;
  /** Most path components in one entry name. */
  maxPathDepth: number;
}

/** Defaults far above any real layer and far below what would hurt. */
export const defaultTarLimits: TarLimits = {
  maxEntries: 4_000_000,
  maxPaxHeaderBytes: 1024 * 1024,
  maxPathBytes: 4096,
  maxPathDepth: 512,
};

const entryTypes: Partial<Record<ReadEntry['type'], EntryType>> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'dir',
  GNUDumpDir: 'dir',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  CharacterDevice: 'char',
  BlockDevice: 'block',
  FIFO: 'fifo',
};

/** The entry type a tar header type stands for; undefined for types Berth does not index. */
export function entryTypeOf(type: ReadEntry['type']): EntryType | undefined {
  return entryTypes[type];
}

/** Called for each unsupported entry type the parser skipped. */
export type SkippedEntryHandler = (name: string, type: string) => void;

/** Throws when an entry name or link target holds a NUL or crosses the length or depth cap. */
export function checkEntryName(name: string, what: string, limits: TarLimits): void {
  if (name.includes('\0')) throw new BerthError('ARCHIVE_INVALID', `tar ${what} contains a NUL byte`);
  if (name.length * 3 > limits.maxPathBytes && Buffer.byteLength(name) > limits.maxPathBytes) {
    throw new BerthError('TOO_LARGE', `tar ${what} is longer than ${limits.maxPathBytes} bytes`, {
      name: elideInput(name),
      maxPathBytes: limits.maxPathBytes,
    });
  }
  let depth = 1;
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) depth += 1;
  if (depth > limits.maxPathDepth) {
    throw new BerthError('TOO_LARGE', `tar ${what} is nested deeper than ${limits.maxPathDepth} levels`, {
      name: elideInput(name),
      maxPathDepth: limits.maxPathDepth,
    });
  }
}

/** One tar member's header, with GNU long names and PAX records (local and global) applied. */
export interface TarHeader {
  /** The entry name exactly as the tar holds it (after PAX `path`, GNU `L` or the ustar prefix). */
  path: string;
  /** The header type, named as the `tar` package names it (`File`, `Directory`, `SymbolicLink` ...). */
  type: ReadEntry['type'];
  /** Content bytes that follow the header (0 for a directory). */
  size: number;
  /** Permission bits (`mode & 0o7777`), undefined when the field is blank. */
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  /** Modification time in seconds since the epoch (PAX may give fractions), undefined when blank. */
  mtime: number | undefined;
  /** Link target of a hardlink or symlink. */
  linkpath: string | undefined;
}

/**
 * Receives one entry's content in order. Chunks are views of the fed buffer (never copies), not to be mutated,
 * and valid only during the call: the fed buffer may be reused once write() returns. `last` says no more content
 * follows for this entry.
 */
export interface TarBodySink {
  data(chunk: Uint8Array, last: boolean): void;
  end(): void;
}

/** Called for each indexable entry; returns where its content goes, or undefined to skip it. */
export type TarHeaderHandler = (header: TarHeader) => TarBodySink | undefined;

const typeNames: Record<string, ReadEntry['type']> = {
  '0': 'File',
  '': 'OldFile',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
  '7': 'ContiguousFile',
  g: 'GlobalExtendedHeader',
  x: 'ExtendedHeader',
  A: 'SolarisACL',
  D: 'GNUDumpDir',
  I: 'Inode',
  K: 'NextFileHasLongLinkpath',
  L: 'NextFileHasLongPath',
  M: 'ContinuationFile',
  N: 'OldGnuLongPath',
  S: 'SparseFile',
  V: 'TapeVolumeHeader',
  X: 'OldExtendedHeader',
};
/** Header type codes whose entries PAX records and GNU long names apply to. */
const fileSystemCodes = new Set(['0', '', '1', '2', '3', '4', '5', '6', '7', 'D']);
/** Header type codes that carry metadata for the next entry (or all later ones). */
const metaCodes = new Set(['g', 'x', 'X', 'K', 'L', 'N']);

/** Bits of `flagClasses`: the type flag names a type the `tar` package knows, a file-system entry, metadata. */
const knownFlag = 1;
const fileSystemFlag = 2;
const metaFlag = 4;
/** The class bits of each header type-flag byte, so a header is classified with one lookup instead of sets. */
const flagClasses = new Uint8Array(256);
for (const [codes, bit] of [
  [Object.keys(typeNames), knownFlag],
  [fileSystemCodes, fileSystemFlag],
  [metaCodes, metaFlag],
] as const) {
  for (const code of codes) flagClasses[code === '' ? 0 : code.charCodeAt(0)]! |= bit;
}

/** Fields a PAX record or GNU long-name header sets for the next entry. */
interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

/** The bytes of a NUL-terminated header field as a string. */
function fieldString(block: Buffer, off: number, size: number): string {
  let end = off;
  const limit = off + size;
  while (end < limit && block[end] !== 0) end += 1;
  return end === off ? '' : block.toString('utf8', off, end);
}

/** An octal or base-256 header number; undefined when blank; throws on a bad base-256 field. */
function fieldNumber(block: Buffer, off: number, size: number): number | undefined {
  const first = block[off] ?? 0;
  if (first & 0x80) return base256(block, off, size);
  let i = off;
  const limit = off + size;
  let c = block[i] ?? 0;
  while (i < limit && (c === 0x20 || (c >= 0x09 && c <= 0x0d))) c = block[++i] ?? 0;
  let sign = 1;
  if (i < limit && (c === 0x2b || c === 0x2d)) {
    if (c === 0x2d) sign = -1;
    c = block[++i] ?? 0;
  }
  let value = 0;
  let digits = 0;
  while (i < limit && c >= 0x30 && c <= 0x37) {
    value = value * 8 + (c - 0x30);
    digits += 1;
    c = block[++i] ?? 0;
  }
  return digits === 0 ? undefined : sign * value;
}

/** GNU base-256: 0x80 then a big-endian positive number, or 0xff then a two's-complement negative one. */
function base256(block: Buffer, off: number, size: number): number {
  const first = block[off];
  let value = 0;
  if (first === 0x80) {
    for (let i = off + 1; i < off + size; i++) value = value * 256 + (block[i] ?? 0);
  } else if (first === 0xff) {
    for (let i = off; i < off + size; i++) value = value * 256 + (0xff - (block[i] ?? 0));
    value = -(value + 1);
  } else {
    throw new BerthError('ARCHIVE_INVALID', 'layer tar is invalid: invalid base256 encoding');
  }
  if (!Number.isSafeInteger(value)) {
    throw new BerthError(
      'ARCHIVE_INVALID',
      'layer tar is invalid: parsed number outside of javascript safe integer range',
    );
  }
  return value;
}

/** A 4-byte-aligned copy of a header that lies unaligned in its chunk, read a word at a time. */
const sumScratch = new Uint32Array(128);
const sumScratchBytes = Buffer.from(sumScratch.buffer);

/**
 * The ustar checksum of the 512-byte header at word `at` of `words`: the byte sum with the checksum field counted
 * as spaces. Adds two bytes per 16-bit lane of each 32-bit word (at most 128 × 510 per lane, so lanes never
 * carry), four times fewer steps than a byte loop; this runs once per entry.
 */
function headerSum(words: Uint32Array, at: number): number {
  let lanes = 0;
  for (let i = at; i < at + 37; i++) {
    const word = words[i]!;
    lanes = (lanes + (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff)) | 0;
  }
  for (let i = at + 39; i < at + 128; i++) {
    const word = words[i]!;
    lanes = (lanes + (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff)) | 0;
  }
  return 8 * 0x20 + (lanes & 0xffff) + (lanes >>> 16);
}

/** The 32-bit words of a chunk from its first 4-byte boundary on, so aligned headers are summed in place. */
function wordsOf(chunk: Buffer): { words: Uint32Array; skew: number } {
  const skew = (4 - (chunk.byteOffset & 3)) & 3;
  const count = Math.max(0, chunk.length - skew) >>> 2;
  return { words: new Uint32Array(chunk.buffer, chunk.byteOffset + skew, count), skew };
}

/** The checksum of the header at `off` of `block`, read in place when `words` covers it aligned. */
function blockSum(block: Buffer, off: number, words: Uint32Array | undefined, skew: number): number {
  if (words !== undefined && ((off - skew) & 3) === 0) return headerSum(words, (off - skew) >>> 2);
  block.copy(sumScratchBytes, 0, off, off + 512);
  return headerSum(sumScratch, 0);
}

/** Whether the header at `off` carries the POSIX `ustar\0` magic and `00` version (GNU tar writes `ustar  \0`). */
function isUstar(block: Buffer, off: number): boolean {
  return (
    block[off + 257] === 0x75 &&
    block[off + 258] === 0x73 &&
    block[off + 259] === 0x74 &&
    block[off + 260] === 0x61 &&
    block[off + 261] === 0x72 &&
    block[off + 262] === 0 &&
    block[off + 263] === 0x30 &&
    block[off + 264] === 0x30
  );
}

/** Applies PAX records (`<length> <key>=<value>\n`) to `into`; path and linkpath must hold no NUL. */
function applyPax(text: Buffer, into: Overrides, global: boolean): void {
  let pos = 0;
  while (pos < text.length) {
    const space = text.indexOf(0x20, pos);
    const length = space > pos ? Number(text.toString('latin1', pos, space)) : NaN;
    const end = pos + length;
    if (
      !Number.isSafeInteger(length) ||
      length <= space - pos ||
      end > text.length ||
      text[end - 1] !== 0x0a
    ) {
      const newline = text.indexOf(0x0a, pos);
      if (newline < 0) return;
      pos = newline + 1;
      continue;
    }
    const record = text.toString('utf8', space + 1, end - 1);
    pos = end;
    const equals = record.indexOf('=');
    if (equals <= 0) continue;
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    switch (key) {
      case 'path':
      case 'linkpath':
        if (value.includes('\0'))
          throw new BerthError('ARCHIVE_INVALID', 'tar entry name contains a NUL byte');
        if (!global) into[key] = value;
        break;
      case 'size': {
        const size = Number(value);
        if (value !== '' && size >= 0) into.size = size;
        break;
      }
      case 'mtime':
      case 'mode':
      case 'uid':
      case 'gid': {
        const n = Number(value);
        if (value !== '' && !Number.isNaN(n)) into[key] = n;
        break;
      }
    }
  }
}

/** The text of a GNU long-name header: up to its first NUL, refusing a NUL before trailing padding. */
function gnuLongName(text: Buffer): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === 0) end -= 1;
  if (text.subarray(0, end).includes(0))
    throw new BerthError('ARCHIVE_INVALID', 'tar entry name contains a NUL byte');
  return text.toString('utf8', 0, end);
}

type FeedState = 'header' | 'body' | 'meta';

/**
 * A streaming tar reader made for indexing: it decodes headers itself (ustar, GNU long names and links,
 * PAX local and global records, base-256 numbers) and hands content to a sink as views of the fed chunk,
 * with no stream or object per entry. It enforces the same caps and refuses the same broken or hostile
 * tars as TarFeed, synchronously: write() and end() throw the BerthError.
 */
export class TarHeaderFeed {
  private state: FeedState = 'header';
  private partial: Buffer | undefined;
  private failure: Error | undefined;
  private sawEof = false;
  private sawNullBlock = false;
  private sawValidEntry = false;
  private entries = 0;
  /** Content bytes still to come for the current entry, and the padded bytes including them. */
  private dataRemain = 0;
  private blockRemain = 0;
  private sink: TarBodySink | undefined;
  private metaCode = '';
  private metaChunks: Buffer[] = [];
  private local: Overrides | undefined;
  private global: Overrides | undefined;

  constructor(
    private readonly onEntry: TarHeaderHandler,
    private readonly limits: TarLimits = defaultTarLimits,
    private readonly onSkipped?: SkippedEntryHandler,
  ) {}

  /** Parses one chunk of uncompressed tar; throws the first failure, now or on any later call. */
  write(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (this.sawEof) return;
    try {
      this.consume(chunk);
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw this.failure;
    }
  }

  /** Ends the tar; throws when it was truncated, lacked its end-of-archive marker, or failed earlier. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.sawEof) return;
    if (this.state !== 'header' && this.blockRemain > 0) {
      this.failure = new BerthError(
        'ARCHIVE_INVALID',
        `layer tar is invalid: Truncated input (needed ${this.blockRemain} more bytes, only 0 available)`,
        { tarCode: 'TAR_BAD_ARCHIVE' },
      );
    } else if (!this.sawValidEntry) {
      this.failure = new BerthError('ARCHIVE_INVALID', 'layer tar is invalid: Unrecognized archive format', {
        tarCode: 'TAR_BAD_ARCHIVE',
      });
    } else {
      this.failure = new BerthError(
        'ARCHIVE_INVALID',
        'layer tar is truncated: it ends without the end-of-archive marker',
      );
    }
    throw this.failure;
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    const length = chunk.length;
    const { words, skew } = wordsOf(chunk);
    while (pos < length && !this.sawEof) {
      if (this.state === 'header') {
        if (this.partial !== undefined) {
          const need = 512 - this.partial.length;
          const take = chunk.subarray(pos, pos + need);
          pos += take.length;
          if (take.length < need) {
            this.partial = Buffer.concat([this.partial, take]);
            return;
          }
          const block = Buffer.concat([this.partial, take]);
          this.partial = undefined;
          this.header(block, 0, undefined, 0);
        } else if (length - pos < 512) {
          this.partial = Buffer.from(chunk.subarray(pos));
          return;
        } else {
          this.header(chunk, pos, words, skew);
          pos += 512;
        }
      } else {
        const take = Math.min(this.blockRemain, length - pos);
        const data = Math.min(take, this.dataRemain);
        if (data > 0) {
          if (this.state === 'meta') this.metaChunks.push(Buffer.from(chunk.subarray(pos, pos + data)));
          else if (this.sink !== undefined) {
            // A plain Uint8Array view: a Buffer's subarray goes through Buffer's own constructor, once per file.
            const view = new Uint8Array(chunk.buffer, chunk.byteOffset + pos, data);
            this.sink.data(view, data === this.dataRemain);
          }
          this.dataRemain -= data;
        }
        pos += take;
        this.blockRemain -= take;
        if (this.blockRemain === 0) this.finishBody();
      }
    }
  }

  private finishBody(): void {
    const state = this.state;
    this.state = 'header';
    this.sawValidEntry = true;
    if (state === 'meta') {
      const text = this.metaChunks.length === 1 ? this.metaChunks[0]! : Buffer.concat(this.metaChunks);
      this.metaChunks = [];
      this.applyMeta(text);
      return;
    }
    const sink = this.sink;
    this.sink = undefined;
    sink?.end();
  }

  private applyMeta(text: Buffer): void {
    switch (this.metaCode) {
      case 'x':
      case 'X':
        this.local ??= {};
        applyPax(text, this.local, false);
        break;
      case 'g':
        this.global ??= {};
        applyPax(text, this.global, true);
        break;
      case 'L':
      case 'N':
        this.local ??= {};
        this.local.path = gnuLongName(text);
        break;
      case 'K':
        this.local ??= {};
        this.local.linkpath = gnuLongName(text);
        break;
    }
  }

  private invalid(message: string): never {
    throw new BerthError('ARCHIVE_INVALID', `layer tar is invalid: ${message}`, {
      tarCode: 'TAR_ENTRY_INVALID',
    });
  }

  private header(block: Buffer, off: number, words: Uint32Array | undefined, skew: number): void {
    const sum = blockSum(block, off, words, skew);
    const checksum = fieldNumber(block, off + 148, 8);
    if (checksum === undefined && sum === 8 * 0x20) {
      if (this.sawNullBlock) this.sawEof = true;
      else this.sawNullBlock = true;
      return;
    }
    this.sawNullBlock = false;
    if (checksum !== sum) this.invalid('checksum failure');
    const flag = block[off + 156] ?? 0;
    const flagClass = flagClasses[flag] ?? 0;
    const fileSystem = (flagClass & fileSystemFlag) !== 0;
    const local = fileSystem ? this.local : undefined;
    const global = fileSystem ? this.global : undefined;
    let path = local?.path;
    if (path === undefined) {
      path = fieldString(block, off, 100);
      if (isUstar(block, off)) {
        const prefix =
          block[off + 475] !== 0 ? fieldString(block, off + 345, 155) : fieldString(block, off + 345, 130);
        if (prefix !== '') path = `${prefix}/${path}`;
      }
    }
    if (path === '') this.invalid('path is required');
    let typeCode = (flagClass & knownFlag) === 0 ? undefined : flag === 0 ? '' : String.fromCharCode(flag);
    if (typeCode === '' || typeCode === '0') typeCode = path.endsWith('/') ? '5' : '0';
    const type: ReadEntry['type'] =
      typeCode === undefined ? 'Unsupported' : (typeNames[typeCode] ?? 'Unsupported');
    let size = local?.size ?? global?.size ?? fieldNumber(block, off + 124, 12) ?? 0;
    if (size < 0) size = 0;
    if (typeCode === '5') size = 0;
    const linkpath = local?.linkpath ?? (fieldString(block, off + 157, 100) || undefined);
    const isLink = typeCode === '1' || typeCode === '2';
    if (isLink && linkpath === undefined) this.invalid('linkpath required');
    if (!isLink && typeCode !== 'x' && typeCode !== 'g' && linkpath !== undefined)
      this.invalid('linkpath forbidden');
    this.dataRemain = size;
    this.blockRemain = 512 * Math.ceil(size / 512);
    if (typeCode !== undefined && (flagClass & metaFlag) !== 0) {
      if (size > this.limits.maxPaxHeaderBytes) {
        throw new BerthError(
          'TOO_LARGE',
          `tar extended header of ${size} bytes exceeds the ${this.limits.maxPaxHeaderBytes}-byte cap`,
          { size, maxPaxHeaderBytes: this.limits.maxPaxHeaderBytes },
        );
      }
      if (size > 0) {
        this.metaCode = typeCode;
        this.state = 'meta';
      } else {
        this.sawValidEntry = true;
      }
      return;
    }
    this.local = undefined;
    this.countEntry();
    if (typeCode === undefined || !fileSystem) {
      this.onSkipped?.(path, type);
      this.skipBody(undefined);
      return;
    }
    checkEntryName(path, 'entry name', this.limits);
    if (linkpath !== undefined) checkEntryName(linkpath, 'link target', this.limits);
    const mode = local?.mode ?? global?.mode ?? fieldNumber(block, off + 100, 8);
    const sink = this.onEntry({
      path,
      type,
      size,
      mode: mode === undefined ? undefined : mode & 0o7777,
      uid: local?.uid ?? global?.uid ?? fieldNumber(block, off + 108, 8),
      gid: local?.gid ?? global?.gid ?? fieldNumber(block, off + 116, 8),
      mtime: local?.mtime ?? global?.mtime ?? fieldNumber(block, off + 136, 12),
      linkpath,
    });
    this.skipBody(sink);
  }

  private skipBody(sink: TarBodySink | undefined): void {
    if (this.blockRemain > 0) {
      this.sink = sink;
      this.state = 'body';
    } else {
      this.sawValidEntry = true;
      sink?.end();
    }
  }

  private countEntry(): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new BerthError('TOO_LARGE', `layer holds more than ${this.limits.maxEntries} entries`, {
        maxEntries: this.limits.maxEntries,
      });
    }
  }
}
