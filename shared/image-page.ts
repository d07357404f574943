import type { ImagePage, ImagePageParams, ImageSummary } from './contract';
import { BerthError } from './error';

/** Most rows one `images:page` call returns: a few screens, far below the full list. */
export const maxImagePageRows = 1000;

const sortValue = (image: ImageSummary, key: 'created' | 'size'): number =>
  key === 'size' ? image.size : image.created ? Date.parse(image.created) || 0 : 0;

/**
 * The first `limit` images of `list` in the table's order for `sort` (ties keep list order, as the table's
 * stable sort does), or the first `limit` in list order without a sort, with the list's length.
 */
export function firstImagePage(list: ImageSummary[], { limit, sort }: ImagePageParams): ImagePage {
  if (!Number.isInteger(limit) || limit < 1 || limit > maxImagePageRows) {
    throw new BerthError('BAD_REQUEST', `page limit must be a whole number from 1 to ${maxImagePageRows}`, {
      limit,
    });
  }
  if (sort === undefined) return { images: list.slice(0, limit), total: list.length };
  const direction = sort.descending ? -1 : 1;
  const keyed = list.map((image, position) => ({ image, position, value: sortValue(image, sort.key) }));
  keyed.sort((a, b) =>
    a.value < b.value ? -direction : a.value > b.value ? direction : a.position - b.position,
  );
  return { images: keyed.slice(0, limit).map((k) => k.image), total: list.length };
}

/**
 * The renderer's first `images:page` call: the table's opening sort (newest first) and a few screens of rows.
 * `berth serve` answers it inside index.html, so the first screen needs no WebSocket round trip.
 */
export const firstImagePageParams = {
  limit: 200,
  sort: { key: 'created', descending: true },
} as const satisfies ImagePageParams;

/** Id of the `<script type="application/json">` that carries preloaded answers in index.html. */
export const preloadElementId = 'berth-preload';

/** One contract call answered ahead, inside the page: the call and its outcome as the WebSocket would send it. */
export interface PreloadedAnswer {
  op: string;
  params: unknown;
  outcome: unknown;
}
