export * from './layer-entry';
export { indexLayer, type IndexLayerOptions } from './index-layer';
export {
  decodeLayer,
  detectCompression,
  defaultDecodeLimits,
  type DecodeLimits,
  type DecodedLayer,
} from './layer-stream';
export { defaultTarLimits, type TarLimits } from './tar-feed';
export {
  encodeLayerIndex,
  decodeLayerIndex,
  readLayerIndex,
  readLayerIndexBytes,
  writeLayerIndex,
} from './index-file';
export * from './merged-filesystem';
export * from './layer-view';
export { BottomLayerListings } from './bottom-layer-listings';
export * from './waste';
export * from './search';
export * from './extract';
