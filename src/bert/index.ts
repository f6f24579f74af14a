/** The BERT layer: discovery (`findBert`), the graph builder, inspection, and a model's encoder inputs and feeds. */
export { findBert, type FindBertOptions } from './discover.ts';
export type * from './structure.ts';
export { inspectModel, type ComponentSize, type InspectReport, type IoInfo, type LayerInfo } from './inspect.ts';
export {
  summarize,
  type AttentionSummary,
  type EmbeddingsSummary,
  type FeedForwardSummary,
  type LayerSummary,
  type ModelSummary,
  type Size,
} from './summary.ts';
export { buildBert, BERT_INPUTS, type BuildOptions } from './build.ts';
export type { RandomInit, WeightSource } from './build-weights.ts';
export {
  bertConfig,
  configFromHuggingFace,
  configToHuggingFace,
  countParameters,
  BERT_BASE,
  type BertActivation,
  type BertConfig,
  type ExtendedBertConfig,
  type LayerSizes,
  type ProblemType,
} from './config.ts';
export { buildFromHuggingFaceFolder, loadHuggingFaceFolder, writeHuggingFaceFolder, type FolderBuildOptions, type HuggingFaceFolder } from './build-hf.ts';
export { canonicalBert, rebuildCanonical, type CanonicalBert, type RebuildOptions } from './canonical.ts';
export {
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsInput,
  type SafetensorsTensor,
} from './safetensors.ts';
export { modelInputs, sessionInputs, tokenFeeds, tokenInputs, type IdElementType, type InputRole, type ModelInput, type TokenBatch } from './model-inputs.ts';
export { sampleBatch, sampleInputs, fixedSequenceLength, type SampleOptions } from './sample-inputs.ts';
// (the feeds of tokenFeeds and sampleInputs)
export type { IdInput } from '../runtime/feeds.ts';
export type { Feeds } from '../runtime/session.ts';
