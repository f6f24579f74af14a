/** Public API of sweeps: parse a sweep file, plan its points, run them into a store, read the store back. */
export {
  parseSweepFile,
  parseSweep,
  BASELINE,
  type SweepSpec,
  type ModelSpec,
  type PipelineSpec,
  type BenchSpec,
  type EvalSpec,
  type CalibrationSpec,
} from './spec.ts';
export { expandPipeline, gridAxes, cartesian, autoLabel, type Axis } from './expand.ts';
export { planSweep, slug, type SweepPoint, type PointBench, type PlanOptions, type PointData, type PointTraining, type PointTrainingStep } from './plan.ts';
export { runPoint, type PointResult, type PointStage, type RunPointOptions } from './point.ts';
export { runSweep, SWEEP_OPTION_NAMES } from './library.ts';
export {
  planAgainstStore,
  planSweepFile,
  defaultWorkDir,
  defaultCacheDir,
  RERUN_CONTENDED_JOBS,
  type SweepOptions,
  type SweepEvent,
  type SweepSummary,
  type StorePlan,
} from './run.ts';
export { SweepStore, StoreWriteError, HEARTBEAT_STALE_MS, type StoredPoint, type PointStatus } from './store.ts';
export { createSweepProgress, planLine, BestTracker, pointLine, pointName, pointNames, stoppedTrainingNote, type SweepProgress } from './progress.ts';
export { canonicalJson, hashOf, toolVersion, pointKey, pointFamily, pointIdentity, currentVersions, type PointVersions, type SeedForm } from './key.ts';
export { findStale, staleChange, type RefusedAgain, type StaleMatch } from './stale.ts';
export type { FileStamp } from '../files.ts';
export type { TrainingStop } from '../train/run.ts';
export { TRAINING_STEPS, isTrainingStep, parseTrainingStep, trainingStepKeys, type TrainingKind, type TrainingStepSpec } from './train-step.ts';
export { StageTracker, machineStageBoard, contendedBy, timedContended, type Overlap, type StageTrackerOptions } from './contention.ts';
