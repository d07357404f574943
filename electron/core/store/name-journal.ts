import { open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { editOf } from './catalog';
import {
  annotations,
  ignoreMissing,
  syncDir,
  writeAtomic,
  type Descriptor,
  type IndexDocument,
} from './layout';

/*
 * The name journal: `.berth/index-journal.jsonl`, an append-only, fsynced log of edits to `index.json` that
 * only move names (tag, untag). Rewriting a 2 MB `index.json` per tag costs tens of milliseconds; appending
 * one line costs one small write and one fsync. Invariants:
 * - The store's contents are `index.json` with every complete journal line applied in order. A line is
 *   complete when it ends in a newline and parses; anything after the first incomplete line is a write cut
 *   short by a crash, never acknowledged, and ignored (the next writer truncates it away before appending).
 * - Applying a line is idempotent and commutes with compaction: a line says "these entries are absent,
 *   these entries are present (last)", keyed by digest, name and manifest annotation. So replaying the
 *   journal on top of an `index.json` it was already folded into changes nothing, and a crash between
 *   compaction's rename of `index.json` and its unlink of the journal loses and duplicates nothing.
 * - Writers hold the store lock; readers read the journal before `index.json`, so a compaction between the
 *   two reads yields the new `index.json` plus lines already in it, which is the same state.
 * - Any change other than a rename (commit, remove, prune) first compacts (writes `index.json` with the
 *   journal applied, unlinks the journal), then writes its own `index.json`: a removal never races with a
 *   journal line that would bring back an entry of the removed image.
 */

/** One journal line: entries to drop (by key) and entries to (re)add at the end, in order. */
export interface JournalOp {
  remove: string[];
  add: Descriptor[];
}

/** The complete lines of a journal and how many bytes they span. */
export interface JournalReading {
  ops: JournalOp[];
  /** Bytes of complete lines; the file may be longer when a write was cut short. */
  validBytes: number;
  /** Bytes in the file. */
  fileBytes: number;
}

const keys = new WeakMap<Descriptor, string>();

/** The identity of an `index.json` entry for the journal: digest, name annotation, manifest annotation. */
export function entryKey(entry: Descriptor): string {
  let key = keys.get(entry);
  if (key === undefined) {
    const notes = entry.annotations;
    key = `${entry.digest}\n${notes?.[annotations.refName] ?? ''}\n${notes?.[annotations.manifest] ?? ''}`;
    keys.set(entry, key);
  }
  return key;
}

/**
 * The journal line that turns `before` into `after`, when `after` keeps some of `before`'s entries in order
 * and appends new ones (as every catalog edit does); undefined for an edit a line cannot express.
 */
export function diffOp(before: IndexDocument, after: IndexDocument): JournalOp | undefined {
  const edit = editOf(before.manifests, after.manifests);
  if (!edit) return undefined;
  return {
    remove: edit.removed.map((i) => entryKey(before.manifests[i]!)),
    add: after.manifests.slice(edit.keptFrom.length),
  };
}

/**
 * `doc` with `ops` applied in order: every entry whose key a line touched is dropped, then each key's last
 * added entry is appended in the order of those additions. Untouched entries keep their place.
 */
export function applyOps(doc: IndexDocument, ops: readonly JournalOp[]): IndexDocument {
  if (ops.length === 0) return doc;
  const last = new Map<string, Descriptor | null>();
  for (const op of ops) {
    for (const key of op.remove) {
      last.delete(key);
      last.set(key, null);
    }
    for (const entry of op.add) {
      const key = entryKey(entry);
      last.delete(key);
      last.set(key, entry);
    }
  }
  const manifests = doc.manifests.filter((e) => !last.has(entryKey(e)));
  for (const entry of last.values()) if (entry) manifests.push(entry);
  return { ...doc, manifests };
}

/** Reads the journal's complete lines; a missing journal is an empty one. */
export async function readJournal(file: string): Promise<JournalReading> {
  const bytes = await readFile(file).catch(ignoreMissing);
  if (!bytes) return { ops: [], validBytes: 0, fileBytes: 0 };
  const ops: JournalOp[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) break;
    const op = parseOp(bytes.subarray(start, end).toString('utf8'));
    if (!op) break;
    ops.push(op);
    start = end + 1;
  }
  return { ops, validBytes: start, fileBytes: bytes.length };
}

function parseOp(line: string): JournalOp | undefined {
  try {
    const op = JSON.parse(line) as Partial<JournalOp>;
    if (!Array.isArray(op.remove) || !Array.isArray(op.add)) return undefined;
    if (!op.remove.every((k) => typeof k === 'string')) return undefined;
    const descriptor = (d: Descriptor) =>
      typeof d?.digest === 'string' && typeof d.size === 'number' && typeof d.mediaType === 'string';
    if (!op.add.every(descriptor)) return undefined;
    return op as JournalOp;
  } catch {
    return undefined;
  }
}

/**
 * Appends one line and fsyncs it; call under the store lock with the journal's `validBytes` as last read, so
 * a tail left by a killed writer is cut off first. Returns the journal's new size.
 */
export async function appendOp(file: string, op: JournalOp, validBytes: number): Promise<number> {
  const line = Buffer.from(JSON.stringify(op) + '\n');
  if (validBytes === 0) {
    // The first line makes the file whole (temp file, fsync, rename, folder fsync): watchers never see an
    // empty journal, and the new directory entry is as durable as the line.
    await writeAtomic(file, line);
    return line.length;
  }
  const handle = await open(file, 'a');
  try {
    const { size } = await handle.stat();
    if (size !== validBytes) await handle.truncate(validBytes);
    await handle.write(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return validBytes + line.length;
}

/** Deletes the journal once `index.json` holds all of it; durable before the caller goes on. */
export async function removeJournal(file: string): Promise<void> {
  if ((await stat(file).catch(ignoreMissing)) === undefined) return;
  await unlink(file).catch(ignoreMissing);
  await syncDir(dirname(file));
}
