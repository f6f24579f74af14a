/**
 * bert-compress as a library: the calls the CLI makes (README, "Library"). Each layer is an entry point of its own
 * too: `bert-compress/onnx`, `/bert`, `/passes`, `/eval`, `/bench`, `/sweep`, `/report`,
 * `/gradients`.
 */
export { loadModel, saveModel, locateModel, type Model } from './onnx/index.ts';
export { findBert, inspectModel, modelInputs, type BertStructure } from './bert/index.ts';
export { runPipeline, registerAllPasses, ALL_PASSES, type PassStep } from './pass/index.ts';
export { compressFile, type CompressOptions, type CompressResult, type Lineage } from './export/compress.ts';
export {
  compressToTransformersJs,
  exportToTransformersJs,
  type CompressedTransformersJsFolder,
  type TransformersJsCompressOptions,
  type TransformersJsFolder,
} from './export/transformers-js.ts';
export { loadCalibration, DEFAULT_CALIBRATION_EXAMPLES, type CalibrationOptions } from './eval/index.ts';
export { exportHuggingFaceFolder } from './export/from-huggingface.ts';
export { resolveModelRef, resolveModelSource, type ModelRefOptions, type ResolvedModelRef } from './export/model-ref.ts';
export { downloadSnapshot, hubSettings, parseHubRef, isHubRef, HubError, type HubRef, type HubSettings, type Snapshot } from './hub/index.ts';
export { evaluate, type EvalOptions, type EvalResult } from './eval/index.ts';
export { openSession, type RuntimeOptions, type Session } from './runtime/session.ts';
export { benchModels, type BenchOptions, type BenchResult } from './bench/index.ts';
export { buildGradientGraph } from './gradients/index.ts';
export { DEFAULT_DISTILL_SETTINGS, type DistillSettings, type TrainRunOptions, type TrainRunResult } from './train/run.ts';
export { runTraining } from './train/library.ts';
export { DEFAULT_TRAIN_SETTINGS, type TrainSettings } from './train/trainer.ts';
export { runSweep, type SweepOptions, type SweepSummary } from './sweep/index.ts';
export { loadReport, renderReport, writeReportFiles } from './report/index.ts';
export { UserError, ModelLoadError, NotBertError, SettingsError, DataError } from './errors.ts';
export { toolVersion } from './version.ts';
