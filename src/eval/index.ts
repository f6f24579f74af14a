/** Public API of GLUE evaluation: `evaluate` for a model and task list, plus the steps a sweep reuses. */
export {
  evaluate,
  prepareTask,
  scoreTask,
  predictionsFromRows,
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_LENGTH,
  type EvalOptions,
  type EvalResult,
  type EvalSplit,
  type PreparedTask,
  type ProgressEvent,
  type ProgressListener,
  type ScoreOptions,
  type TaskResult,
} from './evaluate.ts';
export { loadCalibration, DEFAULT_CALIBRATION_EXAMPLES, type CalibrationOptions } from './calibration.ts';
export { glueScore, taskScore, type GlueScore, type ScoredTask } from './glue-score.ts';
export { mapModelLabels, type LabelMapping } from './labels.ts';
export { METRICS, computeTaskMetrics, type Metric, type MetricName, type MetricValues } from './metrics/index.ts';
export { readModelConfig, type ModelConfig } from './model-files.ts';
export { toReport, reportJson, writeReport, formatTable, type EvalReport, type TaskReport } from './report.ts';
export { predictRows, type OutputRows } from './predict.ts';
export { writeSubmission, submissionText } from './submission.ts';
export { loadTokenizer, type TextTokenizer, type TextEncoding } from './tokenizer.ts';
// (EvalOptions.model takes an opened session)
export { openSession, type RuntimeOptions, type Session } from '../runtime/session.ts';
