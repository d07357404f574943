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
export { encodeLayerIndex, decodeLayerIndex, readLayerIndex, writeLayerIndex } from './index-file';
export * from './merged-filesystem';
export * from './waste';
export * from './search';
export * from './extract';
