/** Public API of quantization: the `quantize` pass, its options, and the numeric building blocks tests reuse. */
export { quantizePass, quantizeModel, type Plan } from './pass.ts';
export {
  parseQuantizeSettings,
  parseMode,
  parseBudget,
  parseRangeMethod,
  MODE_SYNTAX,
  type QuantizeOptions,
  type QuantizeMode,
  type Int8Granularity,
  type SizeBudget,
  type RangeMethod,
  type DynamicFormat,
} from './settings.ts';
export { quantizeInt8, dequantizeInt8, int8WeightBytes, type Int8Matrix } from './int8-weights.ts';
export { quantizeInt4Blocks, dequantizeInt4Blocks, packNibbles, nibble, int4WeightBytes, type Int4Blocks } from './int4-blocks.ts';
export { applyPlan, type PlanResult } from './apply.ts';
export { quantizationTargets, type Target } from './targets.ts';
export { allocateBits, type LayerBits, type LayerCost } from './mixed.ts';
export { INTEGER_OPS, QDQ_OPS, NBITS_OPS, REGISTRIES } from './tables.ts';
export type { TensorRecord, FloatRecord, WeightScheme, NodeFormat, Assignment } from './registry.ts';
export { quantizedProjections, quantizedEmbeddings, type QuantizedProjection, type QuantizedEmbedding } from './inspect.ts';
