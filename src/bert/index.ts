/** The BERT layer: discovery (`findBert`), the graph builder, inspection, and a model's encoder inputs and feeds. */
export { findBert, type FindBertOptions } from './discover.ts';
export type * from './structure.ts';
export { inspectModel, type InspectReport, type IoInfo, type LayerInfo } from './inspect.ts';
export { summarize, type ModelSummary } from './summary.ts';
export { buildBert, BERT_INPUTS, type BuildOptions } from './build.ts';
export { bertConfig, configFromHuggingFace, configToHuggingFace, countParameters, BERT_BASE, type BertConfig, type ExtendedBertConfig } from './config.ts';
export { buildFromHuggingFaceFolder, loadHuggingFaceFolder, writeHuggingFaceFolder } from './build-hf.ts';
export { canonicalBert, rebuildCanonical, type CanonicalBert } from './canonical.ts';
export { readSafetensors, writeSafetensors, type SafetensorsFile } from './safetensors.ts';
export { modelInputs, sessionInputs, tokenFeeds, tokenInputs, type InputRole, type ModelInput, type TokenBatch } from './model-inputs.ts';
export { sampleBatch, sampleInputs, fixedSequenceLength } from './sample-inputs.ts';
