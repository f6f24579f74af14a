/**
 * bert-compress as a library: the calls the CLI makes (README, "Library"). Each layer is an entry point of its own
 * too: `bert-compress/onnx`, `/bert`, `/passes`, `/eval`, `/bench`, `/sweep`, `/report`,
 * `/gradients`.
 */
export { loadModel, saveModel, locateModel, type Model } from './onnx/index.ts';
export { findBert, inspectModel, modelInputs, type BertStructure } from './bert/index.ts';
export { runPipeline, registerAllPasses, ALL_PASSES, type CalibrationProvenance, type PassStep, type SharedPrefix } from './pass/index.ts';
export { compressFile, compressToTransformersJs, exportHuggingFaceFolder, exportToTransformersJs } from './export/library.ts';
export type {
  CompressOptions,
  CompressResult,
  ConfigRecord,
  InputCheck,
  Lineage,
  LoadedModel,
  SharedInput,
} from './export/compress.ts';
export type { OutputDrift, RunCheck } from './export/check.ts';
export type {
  CompressedTransformersJsFolder,
  TransformersJsCompressOptions,
  TransformersJsDtype,
  TransformersJsExportOptions,
  TransformersJsFolder,
} from './export/transformers-js.ts';
export { loadCalibration, DEFAULT_CALIBRATION_EXAMPLES, type CalibrationOptions } from './eval/index.ts';
export type { ExportOptions, ExportResult } from './export/from-huggingface.ts';
export { resolveModelRef, resolveModelSource, type ModelRefOptions, type ResolvedModelRef } from './export/model-ref.ts';
export {
  downloadSnapshot,
  hubSettings,
  parseHubRef,
  isHubRef,
  HubError,
  type FetchLike,
  type HubRef,
  type HubSettings,
  type Snapshot,
  type SnapshotOptions,
  type WeightsKind,
} from './hub/index.ts';
export { evaluate, type EvalOptions, type EvalResult, type SkippedTask } from './eval/index.ts';
export { openSession, type Feeds, type Fetches, type GraphOptimizationLevel, type RuntimeOptions, type Session } from './runtime/session.ts';
export { benchModels, type BenchOptions, type BenchResult, type FixedSize } from './bench/index.ts';
export { buildGradientGraph } from './gradients/index.ts';
export {
  DEFAULT_DISTILL_SETTINGS,
  type DistillAsUsed,
  type DistillSettings,
  type PhaseRecord,
  type TrainLineage,
  type TrainingStop,
  type TrainRunOptions,
  type TrainRunResult,
} from './train/run.ts';
export type { EmbeddingLr } from './train/embedding-lr.ts';
export type { IntermediateMatch, MatchFeature, MatchLoss } from './train/intermediate.ts';
export type { SideFilesRecord } from './train/output-folder.ts';
export { runTraining } from './train/library.ts';
export { DEFAULT_TRAIN_SETTINGS, type EpochRecord, type StepProgress, type TrainSettings } from './train/trainer.ts';
export { runSweep, type SweepOptions, type SweepSummary } from './sweep/index.ts';
export { loadReport, renderReport, writeReportFiles } from './report/index.ts';
export { UserError, ModelLoadError, NotBertError, SettingsError, DataError } from './errors.ts';
export { toolVersion } from './version.ts';
