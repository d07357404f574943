import { Minimatch } from 'minimatch';
import { BerthError } from '../../../shared/error';
import type { EntryType } from './layer-entry';
import {
  MergedFilesystem,
  layerIndexes,
  type ChangeStatus,
  type LayerIndexSource,
} from './merged-filesystem';

/** What to look for: a glob over image paths (`usr/lib/libssl*`, `**\/*.so`) or a regex over `/`-rooted paths. */
export type PathPattern = { glob: string } | { regex: string | RegExp };

/** One layer's action on a matching path. */
export interface SearchHit {
  path: string;
  layer: number;
  change: ChangeStatus;
  type: EntryType;
  size: number;
}

/** Hits in layer order, then path order; `truncated` when the limit cut the list. */
export interface SearchResult {
  hits: SearchHit[];
  truncated: boolean;
}

/**
 * Builds a path predicate. A glob without `/` matches base names anywhere (`libssl*`); one with `/` matches
 * whole paths, a leading `/` optional. A regex is tested against the path with a leading `/`.
 */
export function pathMatcher(pattern: PathPattern): (path: string) => boolean {
  if ('glob' in pattern) {
    const glob = pattern.glob.replace(/^\/+/, '');
    if (glob === '') throw new BerthError('BAD_REQUEST', 'empty glob');
    const matcher = new Minimatch(glob, { dot: true, matchBase: !glob.includes('/') });
    return (path) => matcher.match(path);
  }
  let re: RegExp;
  try {
    re = typeof pattern.regex === 'string' ? new RegExp(pattern.regex) : pattern.regex;
  } catch (err) {
    throw new BerthError('BAD_REQUEST', `invalid regular expression: ${(err as Error).message}`);
  }
  return (path) => {
    re.lastIndex = 0;
    return re.test(`/${path}`);
  };
}

/** Finds which layers added, modified, rewrote unchanged or removed paths matching `pattern`. */
export async function searchLayers(
  source: LayerIndexSource,
  pattern: PathPattern,
  options: { limit?: number } = {},
): Promise<SearchResult> {
  const matches = pathMatcher(pattern);
  const limit = options.limit ?? 10_000;
  const fs = new MergedFilesystem();
  const hits: SearchHit[] = [];
  for await (const index of layerIndexes(source)) {
    const changes = fs.applyLayer(index);
    const layerHits: SearchHit[] = [];
    for (const [path, change] of changes.statuses) {
      if (!matches(path)) continue;
      const found = fs.lookup(path);
      layerHits.push({
        path,
        layer: changes.layer,
        change,
        type: found?.type ?? 'dir',
        size: found?.entry?.size ?? 0,
      });
    }
    for (const removed of changes.removed) {
      if (matches(removed.path)) {
        layerHits.push({
          path: removed.path,
          layer: changes.layer,
          change: 'removed',
          type: removed.type,
          size: removed.bytes,
        });
      }
    }
    layerHits.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const hit of layerHits) {
      if (hits.length >= limit) return { hits, truncated: true };
      hits.push(hit);
    }
  }
  return { hits, truncated: false };
}
