import type { ImageSummary } from '../../../shared/contract';
import { formatPlatform } from '../../../shared/format';
import { imageNames } from './image-names';
import type { AppState } from './store';
import type { ImageSort } from './ui-slice';

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

const visibleIds = memoLast(
  (byId: Record<string, ImageSummary>, order: string[], query: string, sort: ImageSort): string[] => {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    let ids = order;
    if (terms.length > 0) {
      const index = searchIndex(byId);
      ids = ids.filter((id) => {
        const entry = index.get(id);
        return entry !== undefined && terms.every((term) => matches(entry, term));
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
 * IDs of the images the table shows, after search and sort; memoized on its inputs. Every whitespace-separated
 * term must match: anywhere in a name, label or platform, or as a prefix of the image ID or manifest digest.
 */
export const selectVisibleImageIds = (s: AppState): string[] =>
  visibleIds(s.images.byId, s.images.order, s.ui.imageQuery, s.ui.imageSort);

/** How many images the store holds. */
export const selectImageCount = (s: AppState): number => s.images.order.length;

const totalSize = memoLast((byId: Record<string, ImageSummary>) =>
  Object.values(byId).reduce((sum, image) => sum + image.size, 0),
);

/** Sum of the listed images' sizes (shared layers counted once per image, as `docker images` does). */
export const selectTotalSize = (s: AppState): number => totalSize(s.images.byId);

/** How many images survive the search. */
export const selectVisibleImageCount = (s: AppState): number => selectVisibleImageIds(s).length;
