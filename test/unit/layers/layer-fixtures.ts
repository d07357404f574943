import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header, Pax, type HeaderData } from 'tar';
import { buildLayerTar, type FixtureEntry } from '../../support/fixture-tar.js';
import { indexLayer, type IndexLayerOptions } from '../../../electron/core/layers/index-layer.js';
import type { LayerIndex } from '../../../electron/core/layers/layer-entry.js';

/** A blob as a stream that arrives in small chunks, as a download would. */
export function chunked(bytes: Buffer, size = 1000): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return Readable.from(chunks);
}

/** Builds, gzips and indexes one layer. */
export function indexEntries(entries: FixtureEntry[], opts: IndexLayerOptions = {}): Promise<LayerIndex> {
  return indexLayer(chunked(gzipSync(buildLayerTar(entries))), opts);
}

/** Indexes each layer of an image spec in order. */
export async function indexImage(layers: FixtureEntry[][]): Promise<LayerIndex[]> {
  const indexes: LayerIndex[] = [];
  for (const entries of layers) indexes.push(await indexEntries(entries));
  return indexes;
}

/** One raw tar member, written without any of the normalizing buildLayerTar does. */
export interface RawMember {
  name: string;
  type?: HeaderData['type'];
  body?: Buffer;
  linkpath?: string;
  /** Force the name (and link) into a PAX header, even when it would fit the ustar fields. */
  pax?: boolean;
  /** Extra PAX record bytes, to make the extended header as large as wanted. */
  paxComment?: string;
}

/** Writes hostile or malformed tars: any name, any link, any PAX header, with or without the end marker. */
export function rawTar(members: RawMember[], { endMarker = true } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const member of members) {
    const body = member.body ?? Buffer.alloc(0);
    const fields: HeaderData = {
      path: member.name,
      mode: member.type === 'Directory' ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: new Date('2024-01-01T00:00:00Z'),
      type: member.type ?? 'File',
      linkpath: member.linkpath ?? '',
    };
    const block = Buffer.alloc(512);
    const header = new Header({ ...fields, path: member.pax === true ? 'pax-name' : member.name });
    const needsPax = header.encode(block) || member.pax === true || member.paxComment !== undefined;
    if (needsPax) {
      const pax: HeaderData = { path: member.name };
      if (member.linkpath !== undefined) pax.linkpath = member.linkpath;
      if (member.paxComment !== undefined) (pax as { comment?: string }).comment = member.paxComment;
      chunks.push(new Pax(pax).encode());
    }
    chunks.push(block);
    if (body.length > 0) {
      chunks.push(body);
      const pad = (512 - (body.length % 512)) % 512;
      if (pad > 0) chunks.push(Buffer.alloc(pad));
    }
  }
  if (endMarker) chunks.push(Buffer.alloc(1024));
  return Buffer.concat(chunks);
}

/** zstd-compresses bytes with the zstd CLI (installed on the dev machine and CI). */
export function zstdCompress(bytes: Buffer, level = 3): Buffer {
  const result = spawnSync('zstd', ['-q', '-c', `-${level}`], { input: bytes, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`zstd failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** True when the zstd CLI is on PATH. */
export function zstdCliAvailable(): boolean {
  return spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The error a promise rejects with; throws when it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}
