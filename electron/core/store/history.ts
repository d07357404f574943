import { createHash } from 'node:crypto';
import type { HistoryEntry } from '../../../shared/contract';
import type { ConfigHistory } from './image-facts';

/** The ID column of history rows that belong to no local image, as docker prints it. */
export const missingId = '<missing>';

/** chainID(1) = diffID(1); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)), per the OCI image spec. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(
      parent === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`,
    );
  }
  return out;
}

/** What `historyOf` needs about the image and its neighbours. */
export interface HistoryInput {
  imageId: string;
  history: readonly ConfigHistory[];
  /** Size of each layer in rootfs order (uncompressed when known, else the blob size). */
  layerSizes: readonly number[];
  /** Chain ID of each layer, in rootfs order. */
  chainIds: readonly string[];
  /** Other local images by the chain ID of their top layer. */
  imageByTopChain: ReadonlyMap<string, string>;
}

/**
 * `docker history` rows, newest first. Non-empty history entries take the layers in order; `empty_layer`
 * entries have size 0. Layers left over when the config has fewer history entries than layers get rows of
 * their own (empty `createdBy`), so every layer's size is shown. The top row carries the image ID; a row
 * whose layer chain is the top of another local image carries that image's ID; the rest are `<missing>`.
 */
export function historyOf(input: HistoryInput): HistoryEntry[] {
  const rows: HistoryEntry[] = [];
  let layer = 0;
  const rowFor = (h: ConfigHistory, layerIndex: number | undefined): HistoryEntry => {
    const row: HistoryEntry = {
      id: missingId,
      createdBy: h.created_by ?? '',
      size: layerIndex === undefined ? 0 : (input.layerSizes[layerIndex] ?? 0),
      comment: h.comment ?? '',
      emptyLayer: layerIndex === undefined,
    };
    if (h.created !== undefined) row.created = h.created;
    if (layerIndex !== undefined) {
      const other = input.imageByTopChain.get(input.chainIds[layerIndex] ?? '');
      if (other !== undefined && other !== input.imageId) row.id = other;
    }
    return row;
  };
  for (const h of input.history) {
    if (h.empty_layer === true || layer >= input.layerSizes.length) rows.push(rowFor(h, undefined));
    else rows.push(rowFor(h, layer++));
  }
  for (; layer < input.layerSizes.length; layer++) rows.push(rowFor({}, layer));
  rows.reverse();
  if (rows[0]) rows[0].id = input.imageId;
  return rows;
}
