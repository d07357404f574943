import type { ConfigDocument, ConfigHistory } from './image-facts';

type Loose = Record<string, unknown>;

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Copies `from` keeping each listed key only when `keep` accepts its value; other keys pass unchanged. */
function pruned(from: Loose, checks: Record<string, (v: unknown) => boolean>): Loose {
  const out: Loose = { ...from };
  for (const [key, keep] of Object.entries(checks)) if (key in out && !keep(out[key])) delete out[key];
  return out;
}

const str = (v: unknown): boolean => typeof v === 'string';
const strArrayOrNull = (v: unknown): boolean => v === null || isStringArray(v);
const stringRecordOrNull = (v: unknown): boolean =>
  v === null || (isObject(v) && Object.values(v).every((s) => typeof s === 'string'));

/**
 * A config from a registry or archive as the store's types promise it: every field Berth reads has its
 * declared type or is absent (a `history` that is a string, `os` as an array, `Env` as a number are dropped),
 * so no view downstream meets a value of the wrong shape. Fields Berth does not read are kept as they are.
 */
export function shapeConfig(doc: Loose): ConfigDocument {
  const out = pruned(doc, {
    created: str,
    author: str,
    architecture: str,
    os: str,
    variant: str,
    config: isObject,
    rootfs: isObject,
    history: Array.isArray,
  });
  if (isObject(out.config)) {
    out.config = pruned(out.config, {
      User: str,
      WorkingDir: str,
      Env: isStringArray,
      Entrypoint: strArrayOrNull,
      Cmd: strArrayOrNull,
      Labels: stringRecordOrNull,
      ExposedPorts: (v) => v === null || isObject(v),
    });
  }
  if (isObject(out.rootfs)) out.rootfs = pruned(out.rootfs, { type: str, diff_ids: isStringArray });
  if (Array.isArray(out.history)) {
    out.history = out.history.filter(isObject).map(
      (h): ConfigHistory =>
        pruned(h, {
          created: str,
          created_by: str,
          author: str,
          comment: str,
          empty_layer: (v) => typeof v === 'boolean',
        }) as ConfigHistory,
    );
  }
  return out;
}
