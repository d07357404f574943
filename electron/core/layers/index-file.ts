import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { BerthError } from '../../../shared/error';
import { comparePaths, type EntryType, type LayerEntry, type LayerIndex } from './layer-entry';

/*
 * Layout of a layer index file (all integers are unsigned LEB128 varints unless said otherwise):
 *   magic "BLIX" | version byte | header length | header JSON (everything in LayerIndex but `entries`)
 *   | entry count | entries, sorted by path, each:
 *       shared prefix (UTF-16 units with the previous path) | suffix length | suffix UTF-8
 *       | type byte | flags byte (1 = link target, 2 = content hash) | mode | uid | gid | size | mtime
 *       | [link target length | UTF-8] | [32 raw bytes of the content hash: sha256, BLAKE3 from 8 KiB (index-layer.ts)]
 * The file may be gzip'd as a whole; readLayerIndex tells by the gzip magic. Sorted paths share long prefixes, so paths
 * cost a few bytes each and a 200,000-entry index decodes in tens of milliseconds.
 */

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const magic = Buffer.from('BLIX');
/** Format 2: content hashes of files from 8 KiB are BLAKE3 (they were sha256 in format 1). */
const formatVersion = 2;
const typeCodes: readonly EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'];
/** Each type's byte in the file (its position in `typeCodes`). */
const typeCode = Object.fromEntries(typeCodes.map((type, code) => [type, code])) as Record<EntryType, number>;
const flagLink = 1;
const flagHash = 2;

class ByteWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  varint(value: number): void {
    this.reserve(10);
    // Most values (prefix lengths, small modes, ids) fit one byte: `| 0` floors them as Math.floor would.
    if (value >= 0 && value < 0x80) {
      this.buffer[this.length++] = value | 0;
      return;
    }
    let v = Math.max(0, Math.floor(value));
    while (v >= 0x80) {
      this.buffer[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.length++] = v;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /**
   * A length-prefixed UTF-8 string of `value` from unit `from` on, encoded straight into the buffer (no Buffer
   * per string). A short ASCII one (a path's suffix, mostly) is copied unit by unit: cheaper than a call into
   * `Buffer.write` for its few bytes. Otherwise the bytes go one past the length's first byte, and move up in
   * the rare case the length needs more than that byte.
   */
  text(value: string, from = 0): void {
    const units = value.length - from;
    if (units < 0x80) {
      this.reserve(units + 1);
      const buffer = this.buffer;
      let at = this.length + 1;
      let i = from;
      for (; i < value.length; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) break;
        buffer[at++] = unit;
      }
      if (i === value.length) {
        buffer[this.length] = units;
        this.length = at;
        return;
      }
    }
    if (from > 0) value = value.slice(from);
    this.reserve(value.length * 3 + 10);
    const written = this.buffer.write(value, this.length + 1, 'utf8');
    if (written < 0x80) {
      this.buffer[this.length] = written;
      this.length += 1 + written;
      return;
    }
    let lengthBytes = 1;
    for (let v = written; v >= 0x80; v = Math.floor(v / 0x80)) lengthBytes += 1;
    const start = this.length + 1;
    this.buffer.copyWithin(this.length + lengthBytes, start, start + written);
    this.varint(written);
    this.length += written;
  }

  /** Raw bytes given as hex (a content hash), written without an intermediate Buffer. */
  hex(value: string): void {
    this.reserve(value.length >> 1);
    this.length += this.buffer.write(value, this.length, 'hex');
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

class ByteReader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.buffer[this.offset++];
      if (b === undefined) throw truncated();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 63) throw new BerthError('STORE_CORRUPT', 'layer index holds a malformed number');
    }
  }

  byte(): number {
    const b = this.buffer[this.offset++];
    if (b === undefined) throw truncated();
    return b;
  }

  text(): string {
    const length = this.varint();
    const end = this.offset + length;
    if (end > this.buffer.length) throw truncated();
    const value = this.buffer.toString('utf8', this.offset, end);
    this.offset = end;
    return value;
  }

  hex(bytes: number): string {
    const end = this.offset + bytes;
    if (end > this.buffer.length) throw truncated();
    const value = this.buffer.toString('hex', this.offset, end);
    this.offset = end;
    return value;
  }
}

function truncated(): BerthError {
  return new BerthError('STORE_CORRUPT', 'layer index file is truncated');
}

function sharedPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i > 0 && i < b.length) {
    const last = a.charCodeAt(i - 1);
    if (last >= 0xd800 && last <= 0xdbff) i--;
  }
  return i;
}

/**
 * Rebuilds prefix-compressed paths. While paths are ASCII (UTF-16 units are bytes) each one is assembled in a
 * byte buffer and decoded once, giving one flat string instead of a slice, a suffix and their concatenation
 * (less garbage, and a flat string hashes and slices without flattening later).
 */
class PathDecoder {
  private bytes = Buffer.allocUnsafe(4096);
  private length = 0;
  private ascii = true;
  private previous = '';

  constructor(private readonly buffer: Buffer) {}

  next(shared: number, reader: ByteReader): string {
    const suffixLength = reader.varint();
    const start = reader.offset;
    const end = start + suffixLength;
    if (end > this.buffer.length) throw truncated();
    reader.offset = end;
    if (shared > this.previous.length) {
      throw new BerthError('STORE_CORRUPT', 'layer index path shares more than the previous path');
    }
    let path: string;
    if (this.ascii && isAscii(this.buffer, start, end)) {
      const total = shared + suffixLength;
      if (total > this.bytes.length) {
        const grown = Buffer.allocUnsafe(Math.max(total, this.bytes.length * 2));
        this.bytes.copy(grown, 0, 0, this.length);
        this.bytes = grown;
      }
      this.buffer.copy(this.bytes, shared, start, end);
      this.length = total;
      path = this.bytes.toString('latin1', 0, total);
    } else {
      path = this.previous.slice(0, shared) + this.buffer.toString('utf8', start, end);
      this.ascii = isAsciiText(path);
      if (this.ascii) this.length = this.bytes.write(path, 0, 'latin1');
      if (this.ascii && this.length < path.length) this.ascii = false;
    }
    this.previous = path;
    return path;
  }
}

function isAscii(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buffer[i] as number) >= 0x80) return false;
  return true;
}

function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Encodes a layer's entries one by one as its tar streams past, straight into the on-disk form: no record, path
 * string or hash string per entry outlives the entry, so a 200,000-file layer leaves the young generation nothing
 * to copy. Only strictly ascending paths can go this way (the file is sorted and has one entry per path); `add`
 * refuses any other, and the caller carries on with {@link entries} as objects.
 */
export class LayerEntryEncoder {
  private readonly writer = new ByteWriter();
  private previous = '';
  private awaitingHash = false;
  private count = 0;

  /**
   * Appends an entry (a file's content hash follows through {@link contentHash}); false, with nothing written,
   * when `path` does not sort after the previous one.
   */
  add(
    path: string,
    type: EntryType,
    fields: { mode: number; uid: number; gid: number; size: number; mtime: number },
    linkTarget?: string,
  ): boolean {
    if (this.awaitingHash) throw new Error(`the content hash of ${this.previous} was never given`);
    if (this.count > 0 && comparePaths(this.previous, path) >= 0) return false;
    const writer = this.writer;
    const shared = sharedPrefix(this.previous, path);
    writer.varint(shared);
    writer.text(path, shared);
    writer.byte(typeCode[type]);
    writer.byte((linkTarget !== undefined ? flagLink : 0) | (type === 'file' ? flagHash : 0));
    writer.varint(fields.mode);
    writer.varint(fields.uid);
    writer.varint(fields.gid);
    writer.varint(fields.size);
    writer.varint(fields.mtime);
    if (linkTarget !== undefined) writer.text(linkTarget);
    this.previous = path;
    this.awaitingHash = type === 'file';
    this.count += 1;
    return true;
  }

  /** The content hash (64 hex digits) of the file added last. */
  contentHash(hex: string): void {
    if (!this.awaitingHash || hex.length !== 64)
      throw new Error('a content hash came with no file to take it');
    this.writer.hex(hex);
    this.awaitingHash = false;
  }

  /** The entries added, as {@link decodeLayerIndex} gives them. */
  entries(): LayerEntry[] {
    this.settled();
    const buffer = this.writer.result();
    const reader = new ByteReader(buffer);
    const paths = new PathDecoder(buffer);
    const entries = new Array<LayerEntry>(this.count);
    for (let i = 0; i < this.count; i++) {
      const path = paths.next(reader.varint(), reader);
      entries[i] = readEntryFields(reader, path, typeCodes[reader.byte()] as EntryType);
    }
    return entries;
  }

  /**
   * The index with these entries: `entries` is decoded on first read, and {@link encodeLayerIndex} writes the
   * encoded bytes as they are, so an index that is only written never holds an object per entry.
   */
  index(header: Omit<LayerIndex, 'entries'>): LayerIndex {
    this.settled();
    let entries: LayerEntry[] | undefined;
    const index = { ...header } as LayerIndex;
    Object.defineProperty(index, 'entries', {
      enumerable: true,
      get: () => (entries ??= this.entries()),
    });
    encodedEntries.set(index, { header, count: this.count, bytes: this.writer.result() });
    return index;
  }

  private settled(): void {
    if (this.awaitingHash) throw new Error(`the content hash of ${this.previous} was never given`);
  }
}

/** Entries already in their on-disk form, by the index {@link LayerEntryEncoder.index} made for them. */
const encodedEntries = new WeakMap<
  LayerIndex,
  { header: Omit<LayerIndex, 'entries'>; count: number; bytes: Buffer }
>();

/** Encodes an index in the compact on-disk form described above. */
export function encodeLayerIndex(index: LayerIndex): Buffer {
  const writer = new ByteWriter();
  writer.bytes(magic);
  writer.byte(formatVersion);
  const encoded = encodedEntries.get(index);
  if (encoded) {
    writer.text(JSON.stringify(encoded.header));
    writer.varint(encoded.count);
    // One copy of the encoded entries, not one into the writer and another out of it.
    return Buffer.concat([writer.result(), encoded.bytes]);
  }
  const { entries, ...header } = index;
  writer.text(JSON.stringify(header));
  writer.varint(entries.length);
  let previous = '';
  for (const entry of entries) {
    const shared = sharedPrefix(previous, entry.path);
    writer.varint(shared);
    writer.text(entry.path, shared);
    previous = entry.path;
    writer.byte(typeCode[entry.type]);
    const hash = entry.contentHash !== undefined && entry.contentHash.length === 64;
    writer.byte((entry.linkTarget !== undefined ? flagLink : 0) | (hash ? flagHash : 0));
    writer.varint(entry.mode);
    writer.varint(entry.uid);
    writer.varint(entry.gid);
    writer.varint(entry.size);
    writer.varint(entry.mtime);
    if (entry.linkTarget !== undefined) writer.text(entry.linkTarget);
    if (hash) writer.hex(entry.contentHash ?? '');
  }
  return Buffer.from(writer.result());
}

/**
 * Checks magic and version, reads the header and the entry count; the reader is left at the first entry. With
 * `partial`, `buffer` may be only the file's beginning (the count is not checked against its length).
 */
function readHeader(
  buffer: Buffer,
  partial = false,
): {
  reader: ByteReader;
  header: Omit<LayerIndex, 'entries'>;
  count: number;
} {
  if (!buffer.subarray(0, magic.length).equals(magic)) {
    throw new BerthError('STORE_CORRUPT', 'not a Berth layer index file');
  }
  const reader = new ByteReader(buffer);
  reader.offset = magic.length;
  const version = reader.byte();
  if (version !== formatVersion) {
    throw new BerthError('STORE_CORRUPT', `layer index format ${version} is not supported`);
  }
  let header: Omit<LayerIndex, 'entries'>;
  try {
    header = JSON.parse(reader.text()) as Omit<LayerIndex, 'entries'>;
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('STORE_CORRUPT', 'layer index header is not valid JSON');
  }
  const count = reader.varint();
  if (!partial && count > buffer.length) throw truncated();
  return { reader, header, count };
}

/** The entry count an index file's header announces (magic, version and header checked, entries not read). */
export function layerIndexEntryCount(buffer: Buffer): number {
  return readHeader(buffer).count;
}

/** Decodes an index written by {@link encodeLayerIndex}; corrupt input is STORE_CORRUPT. */
export function decodeLayerIndex(buffer: Buffer): LayerIndex {
  const { reader, header, count } = readHeader(buffer);
  const entries: LayerEntry[] = new Array<LayerEntry>(count);
  const paths = new PathDecoder(buffer);
  for (let i = 0; i < count; i++) {
    const shared = reader.varint();
    const path = paths.next(shared, reader);
    const type = typeCodes[reader.byte()];
    if (type === undefined) throw new BerthError('STORE_CORRUPT', 'layer index holds an unknown entry type');
    entries[i] = readEntryFields(reader, path, type);
  }
  return { ...header, entries };
}

/** Reads an entry's fields after its type byte: flags, numbers, link target and content hash. */
function readEntryFields(reader: ByteReader, path: string, type: EntryType): LayerEntry {
  const flags = reader.byte();
  const entry: LayerEntry = {
    path,
    type,
    mode: reader.varint(),
    uid: reader.varint(),
    gid: reader.varint(),
    size: reader.varint(),
    mtime: reader.varint(),
  };
  if ((flags & flagLink) !== 0) entry.linkTarget = reader.text();
  if ((flags & flagHash) !== 0) entry.contentHash = reader.hex(32);
  return entry;
}

/**
 * An index file's entries as flat columns: no object and no string per entry, so a 200,000-entry layer decodes
 * without garbage. Read one entry whole with {@link layerEntryAt}.
 */
export interface LayerIndexColumns {
  header: Omit<LayerIndex, 'entries'>;
  count: number;
  /** Every path's UTF-8 bytes back to back: path `i` is `pathBytes[pathStarts[i], pathStarts[i + 1])`. */
  pathBytes: Buffer;
  pathStarts: Uint32Array;
  /** How many leading bytes path `i` shares with path `i - 1`. */
  sharedBytes: Uint32Array;
  types: EntryType[];
  /** Each entry's type as a position in `types`. */
  typeCodes: Uint8Array;
  sizes: Float64Array;
  /** True when the paths strictly ascend byte by byte (code point order), as a binary search over them needs. */
  ascending: boolean;
  /** Where each entry's type byte lies in `buffer`, for {@link layerEntryAt}. */
  fieldStarts: Uint32Array;
  buffer: Buffer;
}

/** Bytes of the first `units` UTF-16 code units of a UTF-8 path; STORE_CORRUPT when that splits a character. */
function bytesOfUnits(bytes: Buffer, start: number, end: number, units: number): number {
  let at = start;
  let seen = 0;
  while (seen < units && at < end) {
    const lead = bytes[at] as number;
    const length = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    seen += length === 4 ? 2 : 1;
    at += length;
  }
  if (seen < units) {
    throw new BerthError('STORE_CORRUPT', 'layer index path shares more than the previous path');
  }
  if (seen > units || at > end) {
    throw new BerthError('STORE_CORRUPT', 'layer index path shares part of a character');
  }
  return at - start;
}

/** Decodes an index written by {@link encodeLayerIndex} into columns; corrupt input is STORE_CORRUPT. */
export function decodeLayerIndexColumns(buffer: Buffer): LayerIndexColumns {
  const { reader, header, count } = readHeader(buffer);
  const pathStarts = new Uint32Array(count + 1);
  const sharedBytes = new Uint32Array(count);
  const typeCodesOf = new Uint8Array(count);
  const sizes = new Float64Array(count);
  const fieldStarts = new Uint32Array(count);
  let paths = Buffer.allocUnsafe(Math.max(4096, buffer.length * 2));
  let length = 0;
  let previousStart = 0;
  let previousAscii = true;
  let ascending = true;
  for (let i = 0; i < count; i++) {
    const sharedUnits = reader.varint();
    const suffixLength = reader.varint();
    const suffixStart = reader.offset;
    const suffixEnd = suffixStart + suffixLength;
    if (suffixEnd > buffer.length) throw truncated();
    reader.offset = suffixEnd;
    const previousLength = length - previousStart;
    let shared = sharedUnits;
    if (!previousAscii) shared = bytesOfUnits(paths, previousStart, length, sharedUnits);
    else if (sharedUnits > previousLength) {
      throw new BerthError('STORE_CORRUPT', 'layer index path shares more than the previous path');
    }
    const start = length;
    const pathLength = shared + suffixLength;
    if (start + pathLength > paths.length) {
      if (start + pathLength > 0xffffffff) {
        throw new BerthError('TOO_LARGE', 'layer index paths exceed 4 GiB once expanded');
      }
      const grown = Buffer.allocUnsafe(Math.min(0xffffffff, Math.max(paths.length * 2, start + pathLength)));
      paths.copy(grown, 0, 0, length);
      paths = grown;
    }
    for (let k = 0; k < shared; k++) paths[start + k] = paths[previousStart + k] as number;
    let ascii: boolean = previousAscii || isAscii(paths, start, start + shared);
    for (let k = 0; k < suffixLength; k++) {
      const byte = buffer[suffixStart + k] as number;
      if (byte >= 0x80) ascii = false;
      paths[start + shared + k] = byte;
    }
    if (i > 0 && ascending) {
      let k = shared;
      while (k < previousLength && k < pathLength && paths[previousStart + k] === paths[start + k]) k++;
      if (
        k === pathLength ||
        (k < previousLength && (paths[previousStart + k] as number) > (paths[start + k] as number))
      )
        ascending = false;
    }
    length = start + pathLength;
    pathStarts[i] = start;
    pathStarts[i + 1] = length;
    sharedBytes[i] = shared;
    previousStart = start;
    previousAscii = ascii;
    fieldStarts[i] = reader.offset;
    const code = reader.byte();
    if (code >= typeCodes.length) {
      throw new BerthError('STORE_CORRUPT', 'layer index holds an unknown entry type');
    }
    typeCodesOf[i] = code;
    const flags = reader.byte();
    reader.varint();
    reader.varint();
    reader.varint();
    sizes[i] = reader.varint();
    reader.varint();
    if ((flags & flagLink) !== 0) {
      const linkLength = reader.varint();
      reader.offset += linkLength;
    }
    if ((flags & flagHash) !== 0) reader.offset += 32;
    if (reader.offset > buffer.length) throw truncated();
  }
  return {
    header,
    count,
    pathBytes: paths.subarray(0, length),
    pathStarts,
    sharedBytes,
    types: [...typeCodes],
    typeCodes: typeCodesOf,
    sizes,
    ascending,
    fieldStarts,
    buffer,
  };
}

/** Entry `i` of decoded columns as {@link decodeLayerIndex} would have returned it. */
export function layerEntryAt(columns: LayerIndexColumns, i: number): LayerEntry {
  const path = columns.pathBytes.toString('utf8', columns.pathStarts[i], columns.pathStarts[i + 1]);
  const reader = new ByteReader(columns.buffer);
  reader.offset = (columns.fieldStarts[i] as number) + 1;
  return readEntryFields(reader, path, columns.types[columns.typeCodes[i] as number] as EntryType);
}

/** Writes an index file atomically (temp file, then rename). */
export async function writeLayerIndex(
  file: string,
  index: LayerIndex,
  options: { gzip?: boolean } = {},
): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const encoded = encodeLayerIndex(index);
    await writeFile(temp, options.gzip === true ? await gzip(encoded) : encoded);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The decoded bytes of an index file (gunzipped when the file is gzip'd); NOT_FOUND when it does not exist or is in an older format. */
export async function readLayerIndexBytes(file: string): Promise<Buffer> {
  try {
    const stored = await readFile(file);
    const bytes =
      stored[0] !== 0x1f || stored[1] !== 0x8b
        ? stored
        : await gunzip(stored).catch((err: unknown) => {
            throw new BerthError(
              'STORE_CORRUPT',
              `layer index file is not valid gzip: ${(err as Error).message}`,
            );
          });
    const version = bytes[magic.length];
    if (bytes.subarray(0, magic.length).equals(magic) && version !== undefined && version < formatVersion) {
      // Its hashes would not compare with a newer index's: callers index the blob again, as for a missing file.
      throw new BerthError('NOT_FOUND', `layer index ${file} is in the older format ${version}`);
    }
    return bytes;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BerthError('NOT_FOUND', `layer index ${file} does not exist`);
    }
    throw err;
  }
}

/** Bytes of an index file read first for its header; a longer header (many notices) reads the whole file. */
const headerReadBytes = 64 * 1024;

/**
 * The header of an index file (everything in LayerIndex but the entries: the DiffID, the uncompressed size),
 * reading only the file's beginning. NOT_FOUND as for {@link readLayerIndexBytes}.
 */
export async function readLayerIndexHeader(file: string): Promise<Omit<LayerIndex, 'entries'>> {
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(headerReadBytes);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new BerthError('NOT_FOUND', `layer index ${file} does not exist`);
    throw err;
  }
  try {
    // A gzip'd file's beginning inflates on its own when the inflater may stop mid-stream.
    const bytes =
      head[0] === 0x1f && head[1] === 0x8b
        ? zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : head;
    const version = bytes[magic.length];
    if (bytes.subarray(0, magic.length).equals(magic) && version !== undefined && version < formatVersion)
      throw new BerthError('NOT_FOUND', `layer index ${file} is in the older format ${version}`);
    return readHeader(bytes, true).header;
  } catch (err) {
    if (err instanceof BerthError && err.code === 'NOT_FOUND') throw err;
    return readHeader(await readLayerIndexBytes(file)).header;
  }
}

/** Reads an index file written by {@link writeLayerIndex}. */
export async function readLayerIndex(file: string): Promise<LayerIndex> {
  return decodeLayerIndex(await readLayerIndexBytes(file));
}
