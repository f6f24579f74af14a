/** Public API of GLUE evaluation: `evaluate` for a model and task list, plus the steps a sweep reuses. */
import {
  evaluate as evaluateNamingFlags,
  prepareTask as prepareTaskNamingFlags,
  scoreTask as scoreTaskNamingFlags,
  type EvalOptions,
  type EvalResult,
  type EvalSplit,
  type PreparedTask,
  type ScoreOptions,
  type TaskResult,
} from './evaluate.ts';
import { SettingsError, valueAndKind } from '../errors.ts';
import { checkMaxLength } from './graph-checks.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import { getTask } from '../glue/registry.ts';
import type { Session } from '../runtime/session.ts';
import type { ModelConfig } from './model-files.ts';
import { loadTokenizer as loadTokenizerNamingFlags, type TextTokenizer } from './tokenizer.ts';
import { loadCalibration as loadCalibrationNamingFlags, type CalibrationOptions } from './calibration.ts';
import type { CalibrationSource } from '../pass/pass.ts';
import { namingSettings, renameFlags } from '../flag-names.ts';
import { checkOptionKinds, checkOptions, checkStringOption, isModelValue, type OptionKind } from '../library-args.ts';
import { hubRefLibraryRefusal, LOCAL_MODEL } from '../hub/ref.ts';

export {
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
  type SkippedTask,
  type TaskResult,
} from './evaluate.ts';
// (the task and examples prepareTask and scoreTask take)
export type { LabelFormat, Split, SplitFile, TaskDefinition, TaskName } from '../glue/tasks.ts';
export type { GlueDataset, GlueExample } from '../glue/dataset.ts';
export { DEFAULT_CALIBRATION_EXAMPLES, type CalibrationOptions } from './calibration.ts';

/** evaluate's options by the flags of `compress eval` its refusals name (src/flag-names.ts). */
export const EVAL_OPTION_NAMES: Readonly<Record<string, string>> = {
  '--max-length': 'maxLength',
  '--batch-size': 'batchSize',
  '--threads': 'threads',
  '--dtype': 'dtype',
  // ('give the tokenizer folder with the tokenizer option')
  '--tokenizer': 'the tokenizer option',
  // ('… needs a tokenizer (the tokenizer option)', where the flag's placeholder stayed: 'the tokenizer option DIR')
  '--tokenizer DIR': 'the tokenizer option',
  '--glue-dir': 'glueDir',
  '--split': 'split',
  '--submission': 'submissionDir',
  '--exact-int8': 'exactInt8',
  // ('…: add --split test': a flag and its value, an option and its value)
  'add --split test': "give split 'test'",
};

/** loadCalibration's options by the flags of `compress` its refusals name. */
export const CALIBRATION_OPTION_NAMES: Readonly<Record<string, string>> = {
  '--calibrate': 'task',
  '--calibration-examples': 'examples',
  '--max-length': 'maxLength',
  '--batch-size': 'batchSize',
  // ('give the tokenizer folder with the tokenizer option')
  '--tokenizer': 'the tokenizer option',
  '--glue-dir': 'glueDir',
};

/** A non-empty string (a path). */
const isPath = (v: unknown) => typeof v === 'string' && v !== '';

/**
 * evaluate's tokenizer: a folder or file (loadTokenizer reads it), or a tokenizer (what loadTokenizer returns: its
 * `encode`), where another object failed with a TypeError ('tokenizer.encode is not a function').
 */
const TOKENIZER = {
  is: (v: unknown) => isPath(v) || (typeof v === 'object' && v !== null && typeof (v as { encode?: unknown }).encode === 'function'),
  expected: 'a tokenizer folder or a tokenizer (what loadTokenizer returns)',
} as const;

/**
 * A config.json as readModelConfig reads it (its labels a Map, their count a number or null), where another object (the
 * file's JSON as JSON.parse gives it, `{}`) was read as a config of no labels: 'config.json says undefined labels'.
 */
function isModelConfig(v: unknown): boolean {
  const c = v as Partial<Record<keyof ModelConfig, unknown>> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    !Array.isArray(c) &&
    (c.id2label === null || c.id2label instanceof Map) &&
    (c.numLabels === null || typeof c.numLabels === 'number') &&
    (c.maxLength === null || typeof c.maxLength === 'number')
  );
}

/** evaluate's modelConfig: a config.json path (or its folder), or a config readModelConfig read. */
const MODEL_CONFIG = {
  is: (v: unknown) => isPath(v) || isModelConfig(v),
  expected: 'a config.json path or what readModelConfig returns',
} as const;

/**
 * evaluate's model: a path (not an `hf:org/name` reference), its bytes or an open session (openSession's: a `run`
 * function), where another value was read as bytes or a session ('evaluating model bytes or an opened session needs
 * a tokenizer') or refused naming a function the caller did not call ('openSession: model: …', an empty path
 * 'locateModel: model: …'); null is left to evaluate, which says it is missing.
 */
const EVAL_MODEL = {
  kind: {
    is: (v: unknown) =>
      v === null ||
      (typeof v === 'string' && v !== '') ||
      v instanceof Uint8Array ||
      (typeof v === 'object' && typeof (v as { run?: unknown }).run === 'function'),
    expected: 'a model path, its bytes or an open session (openSession)',
  },
  ...LOCAL_MODEL,
} as const;

/** evaluate's options by their kinds (checkOptionKinds), before any work; the model, numbers and words read by evaluate. */
const EVAL_OPTION_KINDS = {
  model: EVAL_MODEL,
  tasks: 'checked',
  split: 'checked',
  glueDir: 'string',
  tokenizer: { kind: TOKENIZER, ...LOCAL_MODEL },
  modelConfig: MODEL_CONFIG,
  batchSize: 'checked',
  maxLength: 'checked',
  threads: 'checked',
  includeWnli: 'boolean',
  exactInt8: 'boolean',
  submissionDir: 'string',
  modelName: 'string',
  dtype: 'checked',
  onProgress: 'function',
} as const satisfies Record<keyof EvalOptions, OptionKind>;

/** loadCalibration's options by their kinds (checkOptionKinds), before any work. */
const CALIBRATION_OPTION_KINDS = {
  model: LOCAL_MODEL,
  task: 'checked',
  examples: 'checked',
  glueDir: 'string',
  tokenizer: { kind: 'string', ...LOCAL_MODEL },
  maxLength: 'checked',
  batchSize: 'checked',
  // (another value was refused naming findBert, which the caller did not call: 'findBert: model: expected a model')
  graph: { is: isModelValue, expected: 'a model (what loadModel returns)' },
} as const satisfies Record<keyof CalibrationOptions, OptionKind>;

/**
 * GLUE scores of a model (see evaluate in ./evaluate.ts, which `compress eval` runs): its refusals name the options
 * given (`maxLength 1000 is beyond the model's position table`), not the command's flags (`--max-length 1000`).
 */
export function evaluate(opts: EvalOptions): Promise<EvalResult> {
  return namingSettings(EVAL_OPTION_NAMES, async () => {
    checkOptionKinds('evaluate', checkOptions('evaluate', opts, '{model, tasks, …}'), EVAL_OPTION_KINDS);
    const result = await evaluateNamingFlags(opts);
    // (its warnings too: `exactInt8 scores as VNNI CPUs do`, where compress eval says `--exact-int8 …`)
    return result.warnings === undefined ? result : { ...result, warnings: result.warnings.map((w) => renameFlags(w, EVAL_OPTION_NAMES)) };
  });
}

/**
 * Calibration examples of a task for a model (see loadCalibration in ./calibration.ts, which `--calibrate` runs):
 * its refusals name the options given (`examples 0: expected an integer from 1 …`), not the command's flags.
 */
export function loadCalibration(o: CalibrationOptions): Promise<CalibrationSource> {
  return namingSettings(CALIBRATION_OPTION_NAMES, async () => {
    checkOptionKinds('loadCalibration', checkOptions('loadCalibration', o, '{model, task, …}'), CALIBRATION_OPTION_KINDS);
    return loadCalibrationNamingFlags(o);
  });
}
/**
 * A task's split read and tokenized (see prepareTask in ./evaluate.ts, evaluate's step): its refusals name the
 * arguments given as evaluate names its options (`maxLength 1 leaves no room for text after 2 special tokens`, `set
 * glueDir or GLUE_DIR`), not the flags of `compress eval` (`--max-length 1`, `--glue-dir`); a maxLength that is no
 * integer from 2 is refused, where it cut no text, and one left out, where it cut each example to its special tokens.
 * The task is a GLUE task name ('SST-2') or a task definition (taskArgument); a task, GLUE folder or tokenizer of
 * another kind is refused naming prepareTask, where it failed with a TypeError.
 */
export function prepareTask(task: TaskDefinition | string, split: EvalSplit, glueDir: string, tokenizer: TextTokenizer, maxLength: number): PreparedTask {
  return namingSettings(EVAL_OPTION_NAMES, () => {
    const definition = taskArgument(task);
    checkStringOption('prepareTask', 'glueDir', glueDir, 'the GLUE data folder');
    if (typeof (tokenizer as Partial<TextTokenizer> | null)?.encode !== 'function')
      throw new SettingsError(`prepareTask: tokenizer: expected a tokenizer (what loadTokenizer returns), got ${valueAndKind(tokenizer)}`);
    // (left out, each example was cut to its special tokens alone: evaluate's default, the model's, is not known here)
    if (maxLength === undefined) throw new SettingsError('maxLength: missing; expected an integer from 2 (the tokens of an example, special tokens included)');
    checkMaxLength(maxLength);
    return prepareTaskNamingFlags(definition, split, glueDir, tokenizer, maxLength);
  });
}

/**
 * prepareTask's task: a GLUE task name as evaluate's tasks and loadCalibration's task take one ('SST-2', 'sst2';
 * getTask), or a task definition; another value is refused. The package exports no task definition, so a caller had
 * none to give, and a name failed with a TypeError ('Cannot read properties of undefined (reading 'dev')').
 */
function taskArgument(task: unknown): TaskDefinition {
  if (typeof task === 'string' && task !== '') return getTask(task);
  const t = task as Partial<TaskDefinition> | null;
  if (typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.splits === 'object' && t.splits !== null) return t as TaskDefinition;
  throw new SettingsError(`prepareTask: task: expected a GLUE task name (e.g. 'SST-2') or a task definition, got ${valueAndKind(task)}`);
}

/** An integer from 1 (a count of examples or rows, a length). */
const COUNT = { is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1, expected: 'an integer from 1' } as const;

/** scoreTask's options by their kinds (checkOptionKinds), before any work, as evaluate's are. */
const SCORE_OPTION_KINDS = {
  batchSize: COUNT,
  inputs: { is: (v: unknown) => Array.isArray(v), expected: "a list of the session's encoder inputs (sessionInputs)" },
  padTo: COUNT,
  batchRows: COUNT,
  modelConfig: { is: isModelConfig, expected: 'a parsed config.json (readModelConfig)' },
  onProgress: 'function',
  output: 'string',
} as const satisfies Record<keyof ScoreOptions, OptionKind>;

/**
 * A session run over a prepared task and scored (see scoreTask in ./evaluate.ts): its refusals name evaluate's
 * options, as prepareTask's do; its options are checked by their kinds, where a misspelt one was read as nothing and
 * a modelConfig given as a path mapped no labels, silently.
 */
export function scoreTask(session: Session, prepared: PreparedTask, opts?: ScoreOptions): Promise<TaskResult> {
  return namingSettings(EVAL_OPTION_NAMES, async () => {
    if (opts !== undefined) checkOptionKinds('scoreTask', checkOptions('scoreTask', opts, '{batchSize, modelConfig, …}'), SCORE_OPTION_KINDS);
    // (TypeErrors, where either was of another kind: 'Cannot read properties of undefined (reading 'map')')
    if (typeof (session as Partial<Session> | null)?.run !== 'function')
      throw new SettingsError(`scoreTask: session: expected an open session (what openSession returns), got ${valueAndKind(session)}`);
    const p = prepared as Partial<PreparedTask> | null;
    if (typeof p?.dataset !== 'object' || p.dataset === null || !Array.isArray(p.encodings))
      throw new SettingsError(`scoreTask: prepared: expected a prepared task (what prepareTask returns), got ${valueAndKind(prepared)}`);
    return scoreTaskNamingFlags(session, prepared, opts);
  });
}
export { glueScore, taskScore, type GlueScore, type ScoredTask } from './glue-score.ts';
export { mapModelLabels, type LabelMapping } from './labels.ts';
export { METRICS, computeTaskMetrics, type Metric, type MetricName, type MetricValues } from './metrics/index.ts';
export { readModelConfig, type ModelConfig } from './model-files.ts';
export { toReport, reportJson, writeReport, formatTable, type EvalReport, type TaskReport } from './report.ts';
export { predictRows, type OutputRows, type PredictOptions } from './predict.ts';
export { writeSubmission, submissionText, type TaskPredictions } from './submission.ts';
export type { TextTokenizer, TextEncoding } from './tokenizer.ts';

/** loadTokenizer's refusals by the words of `compress` they hold (`give the tokenizer folder with --tokenizer`). */
export const TOKENIZER_OPTION_NAMES: Readonly<Record<string, string>> = {
  'give the tokenizer folder with --tokenizer': 'give loadTokenizer the tokenizer folder',
  'tokenizer.json with --tokenizer': 'tokenizer.json',
  'give a folder with one with --tokenizer': 'give loadTokenizer a folder with one',
  '--tokenizer': 'loadTokenizer',
};

/**
 * A model or tokenizer folder's tokenizer (see loadTokenizer in ./tokenizer.ts, which `--tokenizer` reads): its
 * refusals say to give loadTokenizer the tokenizer folder, not the flag of `compress` (`with --tokenizer`).
 */
export function loadTokenizer(path: string): TextTokenizer {
  return namingSettings(TOKENIZER_OPTION_NAMES, () => {
    // (a value that is no path failed with node's TypeError ('The "path" argument must be of type string'), '' was
    // read as a folder of no name (': no tokenizer.json, …'), and an hf:org/name reference as a missing folder, where
    // evaluate's tokenizer option says to fetch it with resolveModelRef)
    checkStringOption('loadTokenizer', 'path', path, 'a tokenizer folder (or a model folder, or one of its tokenizer files)');
    const hub = hubRefLibraryRefusal(path);
    if (hub !== undefined) throw new SettingsError(`loadTokenizer: path ${hub}`);
    return loadTokenizerNamingFlags(path);
  });
}
// (EvalOptions.model takes an opened session)
export { openSession, type Feeds, type Fetches, type GraphOptimizationLevel, type RuntimeOptions, type Session } from '../runtime/session.ts';
