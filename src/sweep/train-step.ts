/**
 * `train` and `distill` as steps of a sweep pipeline. They are not graph passes (src/pass): the point runner
 * (point.ts) hands them to the training library (`runTraining`, src/train/run.ts) between runs of the passes.
 *
 * ```yaml
 * - {pass: distill, settings: {epochs: 1, maxExamples: 20000, alpha: 0.5, temperature: 2}}   # student: the model so far
 * - {pass: distill, settings: {student: 'bert:layers=1,hidden=128', teacher: ../teachers/sst2-L2H256}}
 * - {pass: train, settings: {maxExamples: 20000, seed: 2}}                                     # no teacher: labels only
 * ```
 *
 * Settings: the training settings (epochs, batchSize, lr, embeddingLr, weightDecay, warmupRatio, maxGradNorm, dropout, seed,
 * checkpointEvery, evalEachEpoch, threads), `maxExamples`, `maxLength`, `task` (for a model with several tasks, as
 * MNLI's MNLI-m and MNLI-mm);
 * distill also takes alpha, temperature, logitLoss, intermediate-layer KD (intermediate: a preset or a list of
 * matches, layerMap, pkdWeight, intermediateEpochs), augment, `teacher` (a path; default: the point's input model)
 * and `student` (every-other, bert:…, bilstm:… or a path: trained instead of the model so far, so only as the
 * first step). Paths resolve against the sweep file's folder. Ranges are the library's (`checkSettings`). The
 * general stage (stage, corpus) is not a sweep step. A step may not follow quantize (training reads float weights).
 */
import { existsSync } from 'node:fs';
import {
  choiceProblem,
  counted,
  type IntegerRange,
  integerProblem,
  type NumberRange,
  numberProblem,
  quotedText,
  SettingsError,
  shownNumber,
  valueAndKind,
  UserError,
} from '../errors.ts';
import { locateModel } from '../onnx/locate.ts';
import { getTask } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import {
  DISTILL_WORDS,
  TRAINING_INTEGER_RANGES as I,
  TRAINING_NUMBER_RANGES as R,
  bilstmIntermediateRefusal,
  checkSettings,
  type DistillSettings,
} from '../train/run.ts';
import type { EpochRecord, TrainSettings } from '../train/trainer.ts';
import { isHubRef, parseHubRef } from '../hub/index.ts';
import { checkStudentSpec, isStudentSpec } from '../train/students/index.ts';
import { SIZED_STUDENT_FORMS, writtenAsPath } from '../train/students/spec.ts';
import { INTERMEDIATE_PRESETS, isLayerMapForm, LAYER_MAP_NAMES, parseLayerMap, parseMatches, repeatedLayerPair } from '../train/intermediate.ts';
import { embeddingLrExpected, parseEmbeddingLr } from '../train/embedding-lr.ts';
import { POOL_THREADS_RANGE } from '../runtime/threads.ts';
import { EVAL_SETTING_NAMES } from './setting-names.ts';
import { renameFlags } from '../flag-names.ts';
import { sweepFilePath } from './file-path.ts';
import { settingText, settingWord } from '../pass/settings.ts';
import { devScoreText, undefinedScoreText } from '../train/dev-score-words.ts';
import { DISTILL_SETTING_FLAGS, TRAIN_SETTING_FLAGS } from '../train/library.ts';

export type TrainingKind = 'train' | 'distill';

/** The step names that train instead of rewriting the graph. */
export const TRAINING_STEPS: readonly TrainingKind[] = ['train', 'distill'];

export function isTrainingStep(pass: string): pass is TrainingKind {
  return (TRAINING_STEPS as readonly string[]).includes(pass);
}

/**
 * The graph passes whose output a later train / distill step cannot read, with why. Training rebuilds the model
 * so far as the float graph it differentiates (bert/canonical.ts), which refuses quantized weights; this is that
 * rule for pipelines, so a sweep file is refused when it is read, not after the passes before the step have run;
 * and the rewrites the rebuild drops (optimize's), whose pipeline would otherwise name a model it does not write.
 */
const NOT_TRAINABLE_AFTER: Readonly<Record<string, (step: string) => string>> = {
  quantize: (step) => `training needs float weights, and ${step} stores them quantized`,
  // (the rebuild reads an optimized graph, so the step would run, but its output is the plain graph: the point would
  // be named and benchmarked as optimized without being so)
  optimize: () => "training rebuilds the plain graph, so optimize's fused ops and first-token layer would not reach the trained model",
};

/**
 * The first step before step `index` of `steps` whose output training cannot read (see NOT_TRAINABLE_AFTER), named
 * (`pass`, and in `why`) by `named` (the pass's name unless given: a sweep file's 'quantize int8').
 */
export function untrainableBefore<S extends { pass: string }>(
  steps: readonly S[],
  index: number,
  named: (step: S) => string = (step) => step.pass,
): { index: number; pass: string; why: string } | undefined {
  for (let i = 0; i < index; i++) {
    const step = steps[i]!;
    const why = Object.hasOwn(NOT_TRAINABLE_AFTER, step.pass) ? NOT_TRAINABLE_AFTER[step.pass] : undefined;
    if (why !== undefined) {
      const pass = named(step);
      return { index: i, pass, why: why(pass) };
    }
  }
  return undefined;
}

/** A validated train/distill step: settings split by their destination, paths absolute. */
export interface TrainingStepSpec {
  kind: TrainingKind;
  /** Canonical task name, when the step names one (default: the model's task). */
  task?: string;
  /** distill only: the student to train instead of the model so far (a spec, or an absolute model path). */
  student?: string;
  /** True when `student` is a model path (its file hash is then part of the point key). */
  studentIsPath?: boolean;
  /** distill only: the teacher's absolute path (default: the point's input model). */
  teacher?: string;
  settings: Partial<TrainSettings>;
  distill?: Partial<DistillSettings>;
  maxExamples?: number;
  maxLength?: number;
}

/** A bad setting: `field` is the settings key it concerns ('' for the settings as a whole). */
export class StepSettingError extends SettingsError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Kind = 'int' | 'number' | 'boolean' | 'string' | 'data' | 'embeddingLr';
/** A setting's kind, and its range: an int's (TRAINING_INTEGER_RANGES), a number's (TRAINING_NUMBER_RANGES). */
type KeySpec = { kind: 'int'; range: IntegerRange } | { kind: 'number'; range: NumberRange } | { kind: Exclude<Kind, 'int' | 'number'> };
const TRAIN_KEYS: Record<keyof TrainSettings, KeySpec> = {
  epochs: { kind: 'int', range: I.epochs },
  batchSize: { kind: 'int', range: I.batchSize },
  lr: { kind: 'number', range: R.lr },
  weightDecay: { kind: 'number', range: R.weightDecay },
  warmupRatio: { kind: 'number', range: R.warmupRatio },
  maxGradNorm: { kind: 'number', range: R.maxGradNorm },
  dropout: { kind: 'number', range: R.dropout },
  seed: { kind: 'int', range: I.seed },
  checkpointEvery: { kind: 'int', range: I.checkpointEvery },
  evalEachEpoch: { kind: 'boolean' },
  // (0, as unset: the runner's share, as eval.threads and bench.threads 0 in a sweep file; train's --threads 0: one per core)
  threads: { kind: 'int', range: POOL_THREADS_RANGE },
  sparseEmbeddings: { kind: 'boolean' },
  /** A number or 'scaled'. */
  embeddingLr: { kind: 'embeddingLr' },
};

/**
 * How a sweep uses the output of `compress distill --stage general`: as the student of a distill step (the task stage,
 * which gives an encoder-only student its classifier), not as a model of the sweep (which every point evaluates).
 */
export const GENERAL_STAGE_STUDENT =
  'the student of a distill step that starts a pipeline, {pass: distill, settings: {student: DIR, …}} (the task stage gives it a classifier; see examples/tinybert-sst2.yaml)';

/** The general stage (intermediate KD on a text corpus) is not a sweep step: its data is not the task's. */
type NotInSweeps = 'stage' | 'corpus';
/**
 * `word`: a setting that takes words (DISTILL_WORDS), read as a pass's words are (settingWord: letter case and spaces
 * around do not matter; another value is quoted as written).
 */
const DISTILL_KEYS: Record<Exclude<keyof DistillSettings, NotInSweeps>, KeySpec & { word?: readonly string[] }> = {
  alpha: { kind: 'number', range: R.alpha },
  temperature: { kind: 'number', range: R.temperature },
  logitLoss: { kind: 'string', word: DISTILL_WORDS.logitLoss },
  /** A preset name, or a list of {teacherLayer, studentLayer, feature, loss, weight} (parseMatches). */
  intermediate: { kind: 'data', word: DISTILL_WORDS.intermediate },
  /** uniform | skip | last | 'T:S,T:S', or a list of [teacher, student] pairs. */
  layerMap: { kind: 'data', word: DISTILL_WORDS.layerMap },
  pkdWeight: { kind: 'number', range: R.pkdWeight },
  intermediateEpochs: { kind: 'int', range: I.intermediateEpochs },
  intermediatePhase: { kind: 'string', word: DISTILL_WORDS.intermediatePhase },
  augment: { kind: 'int', range: I.augment },
};
/** The distill settings that take words (DISTILL_KEYS' `word`): a point key reads them as the step does. */
export const TRAINING_WORD_KEYS: readonly string[] = Object.entries(DISTILL_KEYS)
  .filter(([, spec]) => spec.word)
  .map(([k]) => k);
const OTHER_KEYS = {
  task: { kind: 'string' },
  maxExamples: { kind: 'int', range: I.maxExamples },
  maxLength: { kind: 'int', range: I.maxLength },
} as const satisfies Record<string, KeySpec>;
const DISTILL_ONLY = ['student', 'teacher'] as const;

/** The settings keys a step of `kind` accepts. */
export function trainingStepKeys(kind: TrainingKind): string[] {
  return [...Object.keys(TRAIN_KEYS), ...Object.keys(OTHER_KEYS), ...(kind === 'distill' ? [...Object.keys(DISTILL_KEYS), ...DISTILL_ONLY] : [])];
}

/**
 * The settings a training step of `kind` takes in a sweep file, each with the flag of `compress train` /
 * `compress distill` whose value it is (none for the step's own keys: the student and the teacher of a pipeline).
 */
export function trainingStepSettings(kind: TrainingKind): Array<{ key: string; flag?: string }> {
  const flagOf = new Map<string, string>([
    ...Object.entries(FLAG_TO_KEY).map(([flag, key]) => [key, flag] as const),
    ['task', '--task'],
    ['maxExamples', '--max-examples'],
    ['maxLength', '--max-length'],
    ['threads', '--threads'],
    ['sparseEmbeddings', 'false: --dense-embeddings'],
  ]);
  return trainingStepKeys(kind).map((key) => {
    const flag = flagOf.get(key);
    return flag ? { key, flag } : { key };
  });
}

/**
 * checkSettings names its flags; the sweep names the settings keys: flag → key of runTraining's (TRAIN_SETTING_FLAGS,
 * DISTILL_SETTING_FLAGS) that a step takes (not the general stage's, stage and corpus).
 */
const FLAG_TO_KEY: Record<string, string> = Object.fromEntries(
  Object.entries({ ...TRAIN_SETTING_FLAGS, ...DISTILL_SETTING_FLAGS }).flatMap(([key, flag]) =>
    flag !== undefined && (Object.hasOwn(TRAIN_KEYS, key) || Object.hasOwn(DISTILL_KEYS, key)) ? [[flag, key]] : [],
  ),
);

/**
 * The sweep file's name of each flag of `compress train` / `compress distill` that a step of `kind` sets, for errors
 * raised while the step runs: '--teacher' → 'distill.teacher', '--max-examples' → 'distill.maxExamples'. A step that
 * gives no maxLength runs at the sweep's eval.maxLength where that is given (`evalLength`): its --max-length is named so.
 */
export function trainingSettingNames(kind: TrainingKind, evalLength = false): Record<string, string> {
  const keys = trainingStepKeys(kind);
  const flags: Record<string, string> = {
    ...FLAG_TO_KEY,
    '--teacher': 'teacher',
    '--student': 'student',
    '--task': 'task',
    '--max-examples': 'maxExamples',
    '--max-length': 'maxLength',
    '--threads': 'threads',
  };
  const names = Object.fromEntries(Object.entries(flags).flatMap(([flag, key]) => (keys.includes(key) ? [[flag, `${kind}.${key}`]] : [])));
  return evalLength ? { ...names, '--max-length': EVAL_SETTING_NAMES['--max-length']! } : names;
}

/** A message of the training library with its flags (`--alpha`) named as the sweep's settings keys (`alpha`). */
export function settingKeys(message: string): string {
  return renameFlags(message, FLAG_TO_KEY);
}

function typed(key: string, v: unknown, t: KeySpec & { word?: readonly string[] }): unknown {
  // (every refusal: its problem, then the value as the file gives it)
  const fail = (problem: string): never => {
    throw new StepSettingError(key, `${problem}, got ${valueAndKind(v, 'file')}`);
  };
  const refuse = (problem: string | undefined): void => {
    if (problem !== undefined) fail(problem);
  };
  switch (t.kind) {
    case 'int': {
      // (with the range's note, as the flag's: 'expected an integer from 0 to 256 (0: one per physical core)')
      const problem = integerProblem(v, t.range.min, t.range.max);
      refuse(problem === undefined ? undefined : `${problem}${t.range.note ? ` ${t.range.note}` : ''}`);
      return v;
    }
    case 'number': {
      // (the one number wording, as the flag's: 'expected a number greater than 0, got number 0')
      const problem = numberProblem(v, t.range);
      refuse(problem === undefined ? undefined : `${problem}${t.range.note ? ` ${t.range.note}` : ''}`);
      return v;
    }
    case 'boolean':
      refuse(typeof v === 'boolean' ? undefined : 'expected true or false');
      return v;
    case 'string':
      refuse(typeof v === 'string' && v.trim() !== '' ? undefined : 'expected a string');
      // (a word outside its choices as the file's every value: 'expected one of ce, mse, got string "kl"')
      if (t.word && !t.word.includes(v as string)) throw new StepSettingError(key, choiceProblem(v, t.word, { from: 'file' }));
      return v;
    case 'data':
      return parseData(key, v);
    case 'embeddingLr':
      // (a number is one in a sweep file, as lr's: the word 'scaled' is the one text it takes; its flag reads text)
      if (typeof v === 'string' && settingText(v) !== 'scaled') fail(embeddingLrExpected(v));
      try {
        return parseEmbeddingLr(v);
      } catch {
        return fail(embeddingLrExpected(v));
      }
  }
}

/**
 * What a grid's refusal of `key` adds when the point's `value` is one entry of a list the setting takes whole
 * (`intermediate`'s matches, `layerMap`'s [teacher, student] pairs): a grid makes each entry of a list its own point,
 * so the list was split; undefined for any other setting or value.
 */
export function gridListHint(key: string, value: unknown): string | undefined {
  const entry =
    key === 'intermediate'
      ? typeof value !== 'string' && !Array.isArray(value)
      : key === 'layerMap' && typeof value !== 'string' && !(Array.isArray(value) && value.every(Array.isArray));
  if (!entry) return undefined;
  return `a grid makes each entry of a list its own point: give ${key} as a list of one list ([[…]]) for one point of that list, or use steps`;
}

/** The forms a sweep file's layerMap takes besides its names, as its refusal words them. */
const LAYER_MAP_FILE_FORMS = "'T:S,T:S' or a list of [teacher, student] layer pairs";

/** `intermediate` and `layerMap`, which take a name or a list. */
function parseData(key: string, v: unknown): unknown {
  try {
    if (key === 'intermediate') {
      if (typeof v === 'string') {
        if (!(INTERMEDIATE_PRESETS as readonly string[]).includes(v))
          throw new StepSettingError(key, choiceProblem(v, INTERMEDIATE_PRESETS, { from: 'file', or: 'a list of matches' }));
        return v;
      }
      return parseMatches(v, 'intermediate');
    }
    // (text of no layer map's form, a value outside its choices: refused as a file's every such value, after the
    // choices with its kind, where parseLayerMap frames a flag's typed text)
    if (typeof v === 'string' && !isLayerMapForm(v))
      throw new StepSettingError(key, choiceProblem(v, LAYER_MAP_NAMES, { from: 'file', or: LAYER_MAP_FILE_FORMS }));
    // (the text alone before its fault, the place naming the setting: 'settings.layerMap: '2:x': …')
    if (typeof v === 'string') return parseLayerMap(v, quotedText(v));
    if (Array.isArray(v) && v.length > 0 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => typeof n === 'number'))) {
      const pairs = v.map((p) => [p[0], p[1]] as [number, number]);
      // (each layer an integer as every integer a user types: [1.5, 1] is refused naming the teacher layer)
      for (const pair of pairs) {
        for (const [i, who] of ['teacher', 'student'].entries()) {
          const problem = integerProblem(pair[i], 0);
          if (problem !== undefined) throw new StepSettingError(key, `the ${who} layer ${shownNumber(pair[i])} of [${pair.join(', ')}]: ${problem}`);
        }
      }
      const twice = repeatedLayerPair(pairs);
      if (twice) throw new StepSettingError(key, twice);
      return pairs;
    }
    throw new StepSettingError(key, choiceProblem(v, LAYER_MAP_NAMES, { from: 'file', or: LAYER_MAP_FILE_FORMS }));
  } catch (e) {
    if (e instanceof StepSettingError || !(e instanceof UserError)) throw e;
    const m = /^intermediate((?:\[\d+\])?(?:\.\w+)?): (.*)$/.exec(e.message);
    if (m) throw new StepSettingError(`intermediate${m[1]}`, m[2]!);
    throw new StepSettingError(key, e.message);
  }
}

/**
 * Validates the settings of a train/distill step. `base` is the folder paths resolve against; `first` says whether
 * the step is the pipeline's first (a `student` is only allowed there). Throws StepSettingError naming the key.
 */
export function parseTrainingStep(kind: TrainingKind, raw: Record<string, unknown>, base: string, first: boolean): TrainingStepSpec {
  const known = trainingStepKeys(kind);
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) {
      const hint =
        kind === 'train' && (Object.hasOwn(DISTILL_KEYS, k) || (DISTILL_ONLY as readonly string[]).includes(k))
          ? `${quotedText(k)} is a distill setting; `
          : k === 'stage' || k === 'corpus'
            ? `the general stage (intermediate KD on a corpus) is not a sweep step: run compress distill --stage general first and give its output as ${GENERAL_STAGE_STUDENT}; `
            : kind === 'train' && k === 'newHead'
              ? `a new classifier (compress train --new-head) is not a sweep step: every point evaluates the sweep's model on its tasks, its baseline too; run compress train MODEL --task TASK --new-head -o OUT first and sweep that model; `
              : '';
      throw new StepSettingError(k, `unknown ${kind} setting (${hint}known: ${known.join(', ')})`);
    }
  }
  const out: TrainingStepSpec = { kind, settings: {} };
  const settings: Record<string, unknown> = {};
  const distill: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (Object.hasOwn(TRAIN_KEYS, k)) settings[k] = typed(k, v, TRAIN_KEYS[k as keyof TrainSettings]);
    // a word (logitLoss mse, intermediate tinybert, layerMap uniform, intermediatePhase joint) reads as the flag's does
    else if (Object.hasOwn(DISTILL_KEYS, k)) {
      const spec = DISTILL_KEYS[k as keyof typeof DISTILL_KEYS];
      distill[k] = typed(k, spec.word ? settingWord(v, spec.word) : v, spec);
    }
  }
  try {
    checkSettings(settings as Partial<TrainSettings>, kind === 'distill' ? (distill as Partial<DistillSettings>) : undefined);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const m = /^(--[a-z-]+):? (.*)$/.exec(e.message);
    const key = m ? FLAG_TO_KEY[m[1]!] : undefined;
    throw key ? new StepSettingError(key, settingKeys(m![2]!)) : new StepSettingError('', settingKeys(e.message));
  }
  out.settings = settings as Partial<TrainSettings>;
  if (kind === 'distill') out.distill = distill as Partial<DistillSettings>;
  if (raw.maxExamples !== undefined) out.maxExamples = typed('maxExamples', raw.maxExamples, OTHER_KEYS.maxExamples) as number;
  if (raw.maxLength !== undefined) out.maxLength = typed('maxLength', raw.maxLength, OTHER_KEYS.maxLength) as number;
  if (raw.task !== undefined) {
    const name = typed('task', raw.task, OTHER_KEYS.task) as string;
    // (as compress train / distill --task reads it: one task with a train split; MNLI names MNLI-m and MNLI-mm,
    // whose dev sets differ in what picks the best epoch)
    try {
      out.task = getTask(name, 'train').name;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new StepSettingError('task', e.message);
    }
  }
  if (raw.teacher !== undefined) {
    const given = typed('teacher', raw.teacher, { kind: 'string' }) as string;
    const teacher = isHubRef(given) ? given : sweepFilePath(base, given); // hf:org/name[@revision]: resolved by the plan
    try {
      if (isHubRef(teacher)) parseHubRef(teacher);
      else locateModel(teacher);
    } catch (e) {
      throw new StepSettingError('teacher', (e as Error).message);
    }
    out.teacher = teacher;
  }
  if (raw.student !== undefined) {
    const spec = (typed('student', raw.student, { kind: 'string' }) as string).trim();
    if (!first)
      throw new StepSettingError(
        'student',
        `a student replaces the model so far, so this must be the pipeline's first step (or drop 'student' to ${kind} the output of the steps before it)`,
      );
    try {
      // (the value alone before its fault, the place naming the setting: 'settings.student: 'bert:layers=x': …', as layerMap's)
      checkStudentSpec(spec, quotedText(spec));
    } catch (e) {
      throw new StepSettingError('student', (e as Error).message);
    }
    if (isStudentSpec(spec)) {
      out.student = spec;
      // (a BiLSTM has no encoder layers to match: refused here, not by the point after its teacher's outputs are computed)
      if (spec.startsWith('bilstm:') && out.distill?.intermediate !== undefined)
        throw new StepSettingError('', settingKeys(bilstmIntermediateRefusal({ stage: 'task' }).message));
    } else {
      const path = isHubRef(spec) ? spec : sweepFilePath(base, spec);
      // (neither a form nor an existing model, and not written as a path: a value outside the forms, refused as the
      // command line refuses it, in a file's words, where it was said to be a missing model)
      if (!isHubRef(spec) && !existsSync(path) && !writtenAsPath(spec))
        throw new StepSettingError('student', choiceProblem(spec, ['every-other'], { from: 'file', or: `a model path, ${SIZED_STUDENT_FORMS}` }));
      try {
        if (isHubRef(path)) parseHubRef(path);
        else locateModel(path);
      } catch (e) {
        throw new StepSettingError('student', `${(e as Error).message} (a student is every-other, bert:…, bilstm:… or a model path)`);
      }
      out.student = path;
      out.studentIsPath = true;
    }
  }
  return out;
}

/** Whether a model's tasks all train on one file (MNLI-m and MNLI-mm share MNLI/train.tsv). */
export function oneTrainingTask(tasks: readonly TaskDefinition[]): boolean {
  return tasks.every((t) => t.splits.train?.path === tasks[0]?.splits.train?.path);
}

/**
 * One line for a finished training step, its dev score worded as `train`'s summary words it (devScoreText): '625 steps,
 * best epoch 1 of 1, dev SST-2 72.90' ('…, dev MRPC 80.00, the mean of acc and F1'; phases: 'intermediate-layer 300 +
 * prediction-layer 625 steps, …'); 'kept epoch 1 of 3: no epoch has a defined dev STS-B score (Pearson and Spearman
 * undefined)' where none chose among the epochs. A point's stored line (PointResult.passes), which no key holds: a
 * point stored before keeps its line.
 */
export function trainingSummary(
  l: {
    steps: number;
    bestEpoch: number;
    task?: string;
    epochs: ReadonlyArray<Pick<EpochRecord, 'epoch' | 'score' | 'metrics'>>;
    student: { description: string };
    phases?: ReadonlyArray<{ name: string; steps: number }>;
  },
  studentGiven: boolean,
): string {
  const best = l.epochs.find((e) => e.epoch === l.bestEpoch);
  const epoch = `${l.bestEpoch} of ${l.epochs.length}`;
  const kept =
    best?.score === undefined
      ? `best epoch ${epoch}`
      : Number.isNaN(best.score)
        ? `kept epoch ${epoch}: ${undefinedScoreText(l.task, best)}`
        : `best epoch ${epoch}, ${devScoreText(l.task, best)}`;
  const student = studentGiven ? ` (student: ${l.student.description})` : '';
  const steps = l.phases && l.phases.length > 1 ? `${l.phases.map((p) => `${p.name.split(' ')[0]} ${p.steps}`).join(' + ')} steps` : counted(l.steps, 'step');
  return `${steps}, ${kept}${student}`;
}
