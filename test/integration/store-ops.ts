/** One step of the two-process naming test. */
export interface TagOp {
  kind: 'tag' | 'untag';
  name: string;
}

/** A deterministic mix of tags and untags: every name is tagged, every third one untagged right after. */
export function tagOps(prefix: string, count: number): TagOp[] {
  const ops: TagOp[] = [];
  for (let i = 0; ops.length < count; i++) {
    const name = `${prefix}-${i}`;
    ops.push({ kind: 'tag', name });
    if (i % 3 === 0 && ops.length < count) ops.push({ kind: 'untag', name });
  }
  return ops;
}

/** The names left after running `ops` from an image with no such names. */
export function namesAfter(ops: TagOp[]): Set<string> {
  const names = new Set<string>();
  for (const op of ops) {
    if (op.kind === 'tag') names.add(op.name);
    else names.delete(op.name);
  }
  return names;
}
