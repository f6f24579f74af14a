/** Cross-layer weight sharing (ALBERT). */
export {
  shareLayersPass,
  shareLayers,
  checkGroupShapes,
  checkGroupAttention,
  checkGroupWidths,
  type ShareLayersOptions,
  type ShareLayersDetails,
} from './layers.ts';
export { layerGroups, parseShareSpec, parseSourceSpec, formatShareSpec, formatSourceSpec, type ShareSpec, type SourceSpec } from './spec.ts';
export { layerWeights, type LayerWeight } from './roles.ts';
export { indexGraph, layerRegion, weightReaders, type GraphIndex } from './readers.ts';
export { meanTensor, squaredNormAndDistance } from './combine.ts';
