import type { ImageSummary } from '../../../shared/contract';
import { formatPlatform } from '../../../shared/format';
import { imageNames } from './image-names';
import type { AppState } from './store';
import type { ImageFilters, ImageSort } from './ui-slice';

function memoLast<A extends readonly unknown[], R>(compute: (...args: A) => R): (...args: A) => R {
  let lastArgs: A | undefined;
  let lastResult: R | undefined;
  return (...args) => {
    if (lastArgs && lastArgs.length === args.length && lastArgs.every((arg, i) => Object.is(arg, args[i]))) {
      return lastResult as R;
    }
    lastArgs = args;
    lastResult = compute(...args);
    return lastResult;
  };
}

const hexOf = (digest: string): string => digest.slice(digest.indexOf(':') + 1);

interface SearchEntry {
  /** Names, labels and platform, lowercased: matched anywhere. */
  text: string;
  /** Image ID and manifest digest hex: matched by prefix only, as docker matches IDs. */
  ids: string[];
}

const searchEntry = (image: ImageSummary): SearchEntry => {
  const names = imageNames(image);
  const text = [
    ...image.repoTags,
    ...image.repoDigests.map((name) => name.slice(0, name.indexOf('@'))),
    ...names.tags.map((tag) => tag.label),
    names.repository,
    formatPlatform(image.platform),
    ...Object.entries(image.labels).map(([key, value]) => `${key}=${value}`),
    image.dangling ? '<none> dangling' : '',
  ]
    .join('\n')
    .toLowerCase();
  return { text, ids: [image.id, hexOf(image.id), image.digest, hexOf(image.digest)] };
};

const searchIndex = memoLast((byId: Record<string, ImageSummary>) => {
  const index = new Map<string, SearchEntry>();
  for (const [id, image] of Object.entries(byId)) index.set(id, searchEntry(image));
  return index;
});

const matches = (entry: SearchEntry, term: string): boolean =>
  entry.text.includes(term) || entry.ids.some((id) => id.startsWith(term));

const sortValue = (image: ImageSummary, sort: ImageSort): string | number => {
  switch (sort.key) {
    case 'name':
      return image.dangling ? '\uffff' : imageNames(image).primary;
    case 'created':
      return image.created ? Date.parse(image.created) || 0 : 0;
    case 'size':
      return image.size;
  }
};

/** A label filter as typed (`key`, `key=value`, `!key`, `!key=value`) turned into a test. */
export function labelTest(input: string): (labels: Record<string, string>) => boolean {
  const text = input.trim();
  if (text === '') return () => true;
  const negated = text.startsWith('!');
  const body = negated ? text.slice(1) : text;
  const eq = body.indexOf('=');
  const key = eq < 0 ? body : body.slice(0, eq);
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  return (labels) => {
    const has = Object.hasOwn(labels, key) && (value === undefined || labels[key] === value);
    return negated ? !has : has;
  };
}

const passesFilters = (
  image: ImageSummary,
  filters: ImageFilters,
  label: (l: Record<string, string>) => boolean,
) =>
  (filters.dangling === 'any' || image.dangling === (filters.dangling === 'only')) &&
  (!filters.inUse || image.inUse === true) &&
  label(image.labels);

const visibleIds = memoLast(
  (
    byId: Record<string, ImageSummary>,
    order: string[],
    query: string,
    sort: ImageSort,
    filters: ImageFilters,
  ): string[] => {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    let ids = order;
    if (terms.length > 0) {
      const index = searchIndex(byId);
      ids = ids.filter((id) => {
        const entry = index.get(id);
        return entry !== undefined && terms.every((term) => matches(entry, term));
      });
    }
    if (filters.dangling !== 'any' || filters.inUse || filters.label.trim() !== '') {
      const label = labelTest(filters.label);
      ids = ids.filter((id) => {
        const image = byId[id];
        return image !== undefined && passesFilters(image, filters, label);
      });
    }
    const keyed = ids.map((id, position) => {
      const image = byId[id];
      return { id, position, value: image ? sortValue(image, sort) : 0 };
    });
    const direction = sort.descending ? -1 : 1;
    keyed.sort((a, b) => {
      if (a.value < b.value) return -direction;
      if (a.value > b.value) return direction;
      return a.position - b.position;
    });
    return keyed.map((entry) => entry.id);
  },
);

/**
 * IDs of the images the table shows, after search, filters and sort; memoized on its inputs. Every
 * whitespace-separated term must match: anywhere in a name, label or platform, or as a prefix of the image
 * ID or manifest digest.
 */
export const selectVisibleImageIds = (s: AppState): string[] =>
  visibleIds(s.images.byId, s.images.order, s.ui.imageQuery, s.ui.imageSort, s.ui.imageFilters);

/** One line of the table: a repository heading (when grouping) or an image. */
export type TableLine =
  { kind: 'group'; repository: string; count: number; size: number } | { kind: 'image'; id: string };

const tableLines = memoLast(
  (ids: string[], byId: Record<string, ImageSummary>, grouped: boolean): TableLine[] => {
    if (!grouped) return ids.map((id) => ({ kind: 'image', id }));
    const groups = new Map<string, string[]>();
    for (const id of ids) {
      const image = byId[id];
      if (!image) continue;
      const repository = imageNames(image).repository;
      const members = groups.get(repository);
      if (members) members.push(id);
      else groups.set(repository, [id]);
    }
    const names = [...groups.keys()].sort((a, b) =>
      a === '<none>' ? 1 : b === '<none>' ? -1 : a < b ? -1 : a > b ? 1 : 0,
    );
    return names.flatMap((repository) => {
      const members = groups.get(repository) ?? [];
      const size = members.reduce((sum, id) => sum + (byId[id]?.size ?? 0), 0);
      return [
        { kind: 'group' as const, repository, count: members.length, size },
        ...members.map((id) => ({ kind: 'image' as const, id })),
      ];
    });
  },
);

/** The table's lines: the visible images, under a heading per repository when grouping is on. */
export const selectTableLines = (s: AppState): TableLine[] =>
  tableLines(selectVisibleImageIds(s), s.images.byId, s.ui.groupByRepository);

/** True when any filter beyond the search is set. */
export const selectFiltersActive = (s: AppState): boolean =>
  s.ui.imageFilters.dangling !== 'any' || s.ui.imageFilters.inUse || s.ui.imageFilters.label.trim() !== '';

/** How many images the store holds. */
export const selectImageCount = (s: AppState): number => s.images.order.length;

const totalSize = memoLast((byId: Record<string, ImageSummary>) =>
  Object.values(byId).reduce((sum, image) => sum + image.size, 0),
);

/** Sum of the listed images' sizes (shared layers counted once per image, as `docker images` does). */
export const selectTotalSize = (s: AppState): number => totalSize(s.images.byId);

/** How many images survive the search and filters. */
export const selectVisibleImageCount = (s: AppState): number => selectVisibleImageIds(s).length;
