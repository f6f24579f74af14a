/**
 * `compress train` and `compress distill` as library calls: settings checked before any work, the student made
 * (students/), the training set tokenized, the teacher's logits cached, the loss chosen, the loop run (trainer.ts),
 * and the best student written as a model folder (model, config.json, tokenizer files) with a lineage sidecar
 * `OUT.json` recording the settings, the data hash, steps and the dev metric of each epoch.
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { environmentPath } from '../environment.ts';
import { saveModel } from '../onnx/save.ts';
import {
  checkNotInTransformersJsFolder,
  checkOutputFolder,
  checkOutputKinds,
  folderLabel,
  lineagePath,
  lineageSourcePath,
  modelOutputFiles,
} from '../destination.ts';
import { memoizedSha256, writeFileAtomic } from '../files.ts';
import { floatStorage, modelSize, type ModelSize } from '../onnx/size.ts';
import { loadModel } from '../onnx/load.ts';
import { MODEL_SIDE_FILES, checkNotSideFileNames, readJsonObject, parseModelConfig, type ModelConfig } from '../eval/model-files.ts';
import { locateModel, type ModelLocation } from '../onnx/locate.ts';
import { loadTokenizer, tokenizerFolder } from '../eval/tokenizer.ts';
import { anotherTasksLabels, ignoredLabelNames, ignoredLabelsNote, isGenericLabel, mapModelLabels, type LabelMapping } from '../eval/labels.ts';
import { outputModelConfig } from '../eval/output-config.ts';
import { skippedRowsNote } from '../glue/dataset.ts';
import { glueDirOf } from '../glue/glue-dir.ts';
import { getTask } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import {
  checkIntegerFlag,
  checkNumberFlag,
  choiceRefusal,
  counted,
  FS_REASONS,
  type IntegerRange,
  NonFiniteInputError,
  nonFiniteText,
  type NumberRange,
  quotedText,
  SettingsError,
  UserError,
} from '../errors.ts';
import { someNames } from '../some-names.ts';
import { toolVersion } from '../version.ts';
import { trainingVersion } from './versions.ts';
import { loadTrainingSet, MAX_EXAMPLES_RANGE } from './data.ts';
import { teacherLogits } from './teacher-cache.ts';
import { modelSha256 } from '../onnx/identity.ts';
import {
  checkStepCount,
  DEFAULT_TRAIN_SETTINGS,
  StoppedBetweenBatches,
  train,
  type EpochRecord,
  type StepProgress,
  type TrainResult,
  type TrainSettings,
} from './trainer.ts';
import { bertStudent, checkStudentVocabulary, checkTaskTeacher, isStudentSpec, makeStudent, studentClassifier, teacherShape } from './students/index.ts';
import { savedBilstmOutputs } from './students/bilstm.ts';
import { nonFiniteInitialParameter, type Student } from './student.ts';
import { nonFiniteWeight, weightRole } from './weight-role.ts';
import type { Model } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { checkEncodings, checkMaxLength, graphFacts, MAX_LENGTH_RANGE, namedOtherHead, otherHeadLine, type GraphFacts } from '../eval/graph-checks.ts';
import { prepareTask } from '../eval/evaluate.ts';
import { checkTrainingTemplateTypes } from './max-length.ts';
import { runMaxLength } from '../eval/max-length.ts';
import { findBert } from '../bert/discover.ts';
import { discovered } from '../bert/model-inputs.ts';
import type { BertStructure } from '../bert/structure.ts';
import { canonicalBert } from '../bert/canonical.ts';
import { aHead } from '../bert/classifier.ts';
import {
  DEFAULT_PKD_WEIGHT,
  INTERMEDIATE_PRESETS,
  LAYER_MAP_NAMES,
  presetMatches,
  type IntermediateMatch,
  type IntermediatePreset,
  type LayerMapName,
} from './intermediate.ts';
export { DEFAULT_PKD_WEIGHT } from './intermediate.ts';
import { intermediatePlan, TeacherFeatures } from './teacher-features.ts';
import { corpusSet, glueSentences, readCorpusChoice } from './corpus.ts';
import { augmentedSize, withAugmented } from './augment-set.ts';
import { checkOutputSideFiles, writeOutputSideFiles, type SideFilesRecord } from './output-folder.ts';
import { checkEmbeddingLrFactor, parseEmbeddingLr } from './embedding-lr.ts';
import { checkThreads, defaultThreads, THREADS_RANGE } from '../runtime/threads.ts';
import { tryFileLock } from '../file-lock.ts';
import { originalIo, outputsBesideScores, withOriginalIo } from './original-io.ts';
import { checkOptionalString, checkOptions, checkStringOption } from '../library-args.ts';
import { projects, TEMPERATURE_RANGE, type LossTerm } from '../gradients/index.ts';
import { carriedProjections, learnedProjections, projectionsPath, withCarried, writeProjections, type StoredProjection } from './projections.ts';
import { ensureFolder, removingFoldersMadeOnFailure } from '../folders.ts';
import { shellWord } from '../shell-word.ts';

/** Distillation settings (TextBrewer's DistillationConfig for prediction-layer KD). */
export interface DistillSettings {
  /** Weight of the hard-label loss; 1 − alpha goes to the teacher term. */
  alpha: number;
  /** Softmax temperature of the teacher term (classification with logitLoss 'ce'). */
  temperature: number;
  /** 'ce': soft cross-entropy (Hinton, DistilBERT); 'mse': MSE between logits (Distilled BiLSTM). */
  logitLoss: 'ce' | 'mse';
  /**
   * 'task' (default): distil on the task's train split, intermediate KD first when matches are given, then
   * prediction-layer KD (TinyBERT's order); 'general': intermediate KD only, on a plain-text corpus, no labels.
   */
  stage: 'task' | 'general';
  /**
   * Intermediate-layer matches (intermediate.ts): a preset ('tinybert', 'pkd-skip', 'pkd-last') or explicit
   * {teacherLayer, studentLayer, feature, loss, weight} entries; none: prediction-layer KD only.
   */
  intermediate?: IntermediatePreset | IntermediateMatch[];
  /** Layer map of a preset (default: uniform for tinybert, skip / last for PKD). */
  layerMap?: LayerMapName | Array<[number, number]>;
  /** BERT-PKD's β, the weight of each PKD term of a pkd-skip / pkd-last preset (default 100, DEFAULT_PKD_WEIGHT). */
  pkdWeight?: number;
  /** Epochs of the intermediate phase of the task stage, and of the general stage (default: epochs). */
  intermediateEpochs?: number;
  /**
   * Task stage with intermediate matches: 'first' trains them alone, then prediction KD (TinyBERT's order, the
   * default); 'joint' trains both losses together in one phase (BERT-PKD's way, the default of the PKD presets).
   */
  intermediatePhase?: 'first' | 'joint';
  /** Augmented variants per training example (TinyBERT's data augmentation; 0: none). */
  augment: number;
  /** General stage: the corpus file (default: every sentence of the GLUE train and dev files present). */
  corpus?: string;
}

export const DEFAULT_DISTILL_SETTINGS: Readonly<DistillSettings> = Object.freeze({
  alpha: 0.5,
  temperature: 2,
  logitLoss: 'ce',
  stage: 'task',
  augment: 0,
});

/**
 * The distillation settings that take words, and their words: a flag's or sweep step's value reads as one of them
 * whatever its letter case and spaces around it (settingWord), and is quoted as typed when it is none.
 */
export const DISTILL_WORDS = {
  logitLoss: ['ce', 'mse'],
  stage: ['task', 'general'],
  intermediate: INTERMEDIATE_PRESETS,
  layerMap: LAYER_MAP_NAMES,
  intermediatePhase: ['first', 'joint'],
} as const satisfies Partial<Record<keyof DistillSettings, readonly string[]>>;

/** One training phase: its loss and intermediate matches. */
interface Phase {
  name: string;
  loss: LossTerm[];
  /** Resolved against the teacher and student layer counts. */
  matches: IntermediateMatch[];
  epochs: number;
  /** The setting `epochs` comes from, as a refusal to resume names it (intermediateEpochs); default 'epochs'. */
  epochsKey?: string;
  /** Evaluate on dev after each epoch (not for an intermediate-only phase: the classifier is not trained yet). */
  evaluate: boolean;
}

export interface PhaseRecord {
  name: string;
  loss: LossTerm[];
  matches: IntermediateMatch[];
  steps: number;
  examplesSeen: number;
  epochs: EpochRecord[];
  bestEpoch: number;
}

export interface TrainRunOptions {
  /**
   * The GLUE task to train on. General distillation (task-agnostic) needs none: given there, it only sizes a
   * from-scratch student's classifier (and a student model's must have its outputs).
   */
  task?: string;
  /** The student: a model path, or (with a teacher) every-other, bert:…, bilstm:…. */
  student: string;
  /** The teacher's model path; absent: plain fine-tuning on the labels. */
  teacher?: string;
  /** Output .onnx path (its folder gets config.json and tokenizer files). */
  output: string;
  /**
   * Fine-tuning only (no teacher): replace the model's classifier by a new one of the task's outputs, seeded by the
   * settings' seed (an MNLI checkpoint fine-tuned on RTE, a classifier on STS-B); config.json names the task's labels.
   * Without it a classifier of another width than the task's is refused.
   */
  newHead?: boolean;
  /** Write over another model's config.json and tokenizer files in the output's folder (see output-folder.ts). */
  force?: boolean;
  settings?: Partial<TrainSettings>;
  distill?: Partial<DistillSettings>;
  /** Use the first N of a seeded permutation of the train split. */
  maxExamples?: number;
  /**
   * Default: the model's config.json max_length, else the length the teacher's or the student model's inputs fix (a
   * static-shape export's, as eval reads it), else 128 (capped at tokenizer_config.json's model_max_length).
   */
  maxLength?: number;
  glueDir?: string;
  /**
   * Tokenizer folder (tokenizer.json, else vocab.txt, else vocab.json with merges.txt, else a SentencePiece model; a file given names its folder); default: the teacher's folder
   * when distilling, else the model's.
   */
  tokenizer?: string;
  /** Teacher logits cache (default $BERT_COMPRESS_CACHE, else $XDG_CACHE_HOME/bert-compress, else ~/.cache/bert-compress). */
  cacheDir?: string;
  /**
   * Bytes the on-disk cache of teacher intermediate features (under cacheDir) may hold in all, batches past it
   * computed and not stored (default 0: computed on every step, not stored). Batches repeat only when a run with
   * the same teacher, data, seed and batch size is rerun or resumed, since each epoch shuffles anew; the cache saves
   * the teacher's forward pass then.
   */
  featureCacheBytes?: number;
  /** Checkpoints (default OUT.train/ beside the output; removed after success unless `keepWorkDir`). */
  workDir?: string;
  /**
   * Leave workDir's checkpoints after success, for the caller to remove once it has recorded the output (a sweep's
   * stage: killed before its record, the rerun resumes from the last checkpoint instead of training again).
   */
  keepWorkDir?: boolean;
  /**
   * Checkpoints in workDir of a run with other settings, data, teacher or student: refused in one line saying what
   * differs, the checkpoints kept ('refuse', the default), or ignored and replaced ('start-over': a sweep's point,
   * whose stage before the step was run again).
   */
  otherJob?: 'refuse' | 'start-over';
  signal?: AbortSignal;
  log?: (line: string) => void;
  onStep?: (p: StepProgress) => void;
}

/** The lineage sidecar of a trained model. */
export interface TrainLineage {
  tool: { name: 'bert-compress'; version: string };
  createdAt: string;
  kind: 'train' | 'distill';
  /** The version of `kind`'s code that trained it (trainingVersion: the highest of its students' kinds; absent in lineages written before steps had versions: 1). */
  version: number;
  /** Absent for general distillation run for no task. */
  task?: string;
  /**
   * `newClassifier`: the student model had no classifier for the task (none, another width, another task's labels:
   * `reason`), and was given a new one of `outputs` outputs, seeded by `seed` (the run's --seed).
   */
  student: {
    spec: string;
    description: string;
    sha256?: string;
    newClassifier?: { outputs: number; seed: number; reason: string };
    /**
     * The matches (by key: `t2s1.mse`) whose projections started from those in `from`, beside the student model (the
     * run that wrote it learned them), in place of new ones; `learnedAgainst`: the teacher they were learned against
     * (its identity, modelSha256, and where the run that wrote them read it when its lineage says), `otherTeacher`
     * when that is not this run's teacher (TinyBERT's task stage after a general stage against BERT-base).
     */
    projections?: { from: string; matches: string[]; learnedAgainst: { sha256: string; path?: string }; otherTeacher?: true };
  };
  teacher?: { path: string; sha256: string };
  /** The examples trained on: `examples` counts the `augmented` ones (--augment) with the file's. */
  data: { file: string; sha256: string; examples: number; augmented?: number; maxLength: number };
  /**
   * The settings as used. `epochs`: those of the phase whose model is written (`epochs` below): --epochs, but in the
   * general stage the --intermediate-epochs it runs when given (also in `distill.intermediateEpochs`); the
   * intermediate phase before a task stage's prediction phase runs `distill.intermediateEpochs` (see `phases`).
   * `threads`: the onnxruntime threads the run's steps ran with (--threads, or for 0 one per physical core: the count
   * that was), which the model's bytes can depend on (test/runtime/matmul-threads.test.ts); of a run resumed at
   * another count, the last steps' (all of them in `trainedThreads`).
   */
  settings: TrainSettings;
  /**
   * Where the run's steps ran at more than one thread count (stopped, then resumed at another --threads, or on another
   * machine's cores): the counts in the order the processes ran them, a count repeated by the next one once
   * (TrainResult.threads, over the phases); absent otherwise.
   */
  trainedThreads?: number[];
  /** The distillation settings as used (no temperature where none applies; a regression task's loss is mse). */
  distill?: DistillAsUsed;
  loss: LossTerm[];
  /** Every phase (one unless intermediate KD ran first). */
  phases: PhaseRecord[];
  /** Optimizer steps of all phases together (each phase's own in `phases`). */
  steps: number;
  /** Training examples of all phases together. */
  examplesSeen: number;
  /** The epochs of the last phase, the one whose model is written (and evaluated on dev). */
  epochs: EpochRecord[];
  bestEpoch: number;
  /**
   * Over all phases' steps: a resumed run's over those the processes before it ran too (up to the checkpoint it
   * resumed from, as recorded there), so that it reads as an uninterrupted run's.
   */
  examplesPerSecond: number;
  after: ModelSize;
  /**
   * `encoderOnly`: written without a classifier (general distillation from a teacher without one, no task):
   * transformers' BertModel, outputs `last_hidden_state` and `pooler_output`; its config.json names no labels.
   * dataFile: the external data file beside the model that holds its weights (a model past protobuf's 2 GiB).
   * projections: the file of the projections the run learned (hidden features of two widths), which a run from this
   * model with the same teacher starts from (projections.ts).
   */
  output: { path: string; sha256: string; dataFile?: string; encoderOnly?: boolean; projections?: string };
  /** config.json and the tokenizer files written beside the model (absent in lineages of earlier versions). */
  sideFiles?: SideFilesRecord;
}

export interface TrainRunResult {
  lineage?: TrainLineage;
  /** Set when stopped before the end (state checkpointed in workDir). */
  interrupted: boolean;
  /** Where a stopped run stopped (set with `interrupted`): what its log line says, as data. */
  stopped?: TrainingStop;
}

/**
 * Where a stopped training run stopped: in its loop, with a checkpoint a rerun resumes from; or while `recomputes` (its
 * teacher's outputs, its augmented examples) were computed, before its first step, which a rerun computes again.
 */
export type TrainingStop = { checkpoint: true } | { recomputes: string };

/** What a run stopped before its first step computes again (its log line's and TrainingStop's words). */
const AUGMENTED_EXAMPLES = 'the augmented examples';
const TEACHER_OUTPUTS = "the teacher's outputs";

/** The log line of a training run stopped with a checkpoint (a sweep run by a queue worker rewords its advice). */
export function interruptedLine(steps: number, workDir: string): string {
  return `interrupted at step ${steps}; rerun the same command to resume from ${workDir}`;
}

/** The log line of a training run stopped while `what` (its teacher's outputs, its augmented examples) were computed. */
export function stoppedBeforeTrainingLine(what: string): string {
  return `interrupted while ${what} were computed, before any training step: a rerun computes them again`;
}

/** Where userCacheDir looks, as --help and the docs say it. */
export const DEFAULT_CACHE_DIR_RULE = '$BERT_COMPRESS_CACHE, else $XDG_CACHE_HOME/bert-compress, else ~/.cache/bert-compress';

/** The user's cache folder of teacher outputs, features and augmented sets (a sweep's store has its own: sweep's defaultCacheDir): DEFAULT_CACHE_DIR_RULE (a blank variable unset: environmentValue; a leading `~` or `~user` and `$NAME` expanded as huggingface_hub expands them: environmentPath). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  // (a `~` or `$NAME` a shell did not expand, a Dockerfile's `ENV XDG_CACHE_HOME=~/.cache`, read as the hub cache reads
  // it: it named a folder `~` in the working folder, where the hub's cache of the same variable was the home folder's)
  return environmentPath(env, 'BERT_COMPRESS_CACHE') ?? join(environmentPath(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'bert-compress');
}

/**
 * The numbers each training setting that takes fractions takes (numberRange's words: 'a number greater than 0'), by
 * settings key: what checkSettings holds them to, the flags of compress train and distill declare (numberFlags) and a
 * sweep file's train and distill steps take.
 */
export const TRAINING_NUMBER_RANGES = {
  lr: { min: 0, above: true },
  // (finite: an infinite decay turns every weight to -Infinity or NaN at the first step)
  weightDecay: { min: 0 },
  warmupRatio: { min: 0, max: 1 },
  maxGradNorm: { min: 0 },
  dropout: { min: 0, max: 1, below: true },
  alpha: { min: 0, max: 1 },
  temperature: TEMPERATURE_RANGE,
  pkdWeight: { min: 0 },
} as const satisfies Record<string, NumberRange>;

/**
 * The integers each integer training setting takes (integerRange's words: 'integer from 1 to 2^53 − 1'), by settings
 * key: what checkSettings (and the training set's subset, the examples' length) holds them to, the flags of compress
 * train and distill declare (integerFlags) and a sweep file's train and distill steps take.
 */
export const TRAINING_INTEGER_RANGES = {
  epochs: { min: 1 },
  batchSize: { min: 1 },
  seed: { min: 0 },
  checkpointEvery: { min: 0 },
  threads: THREADS_RANGE,
  maxExamples: MAX_EXAMPLES_RANGE,
  maxLength: MAX_LENGTH_RANGE,
  intermediateEpochs: { min: 1 },
  augment: { min: 0 },
} as const satisfies Record<string, IntegerRange>;

/** The megabytes --feature-cache-mb takes (TrainRunOptions.featureCacheBytes in MB), and the bytes featureCacheBytes takes: from 0. */
export const FEATURE_CACHE_MB_RANGE: NumberRange = { min: 0 };

/** Settings with defaults, each checked (one-line SettingsError naming the flag). */
export function checkSettings(s: Partial<TrainSettings>, d: Partial<DistillSettings> | undefined): { settings: TrainSettings; distill?: DistillSettings } {
  const settings: TrainSettings = { ...DEFAULT_TRAIN_SETTINGS, ...dropUndefined(s) };
  const i = TRAINING_INTEGER_RANGES;
  checkIntegerFlag('--epochs', settings.epochs, i.epochs.min);
  checkIntegerFlag('--batch-size', settings.batchSize, i.batchSize.min);
  const r = TRAINING_NUMBER_RANGES;
  checkNumberFlag('--lr', settings.lr, r.lr);
  if (settings.embeddingLr !== undefined) settings.embeddingLr = parseEmbeddingLr(settings.embeddingLr);
  if (typeof settings.embeddingLr === 'number') checkEmbeddingLrFactor(settings.embeddingLr, settings.lr);
  checkNumberFlag('--weight-decay', settings.weightDecay, r.weightDecay);
  checkNumberFlag('--warmup', settings.warmupRatio, r.warmupRatio);
  checkNumberFlag('--clip', settings.maxGradNorm, r.maxGradNorm);
  checkNumberFlag('--dropout', settings.dropout, r.dropout);
  checkIntegerFlag('--seed', settings.seed, i.seed.min);
  checkIntegerFlag('--checkpoint-every', settings.checkpointEvery, i.checkpointEvery.min);
  // (onnxruntime makes the threads it is given: a million fails to load the model with std::bad_alloc)
  checkThreads(settings.threads);
  if (!d) return { settings };
  checkGivenFlags(dropUndefined(d));
  const distill: DistillSettings = { ...DEFAULT_DISTILL_SETTINGS, ...dropUndefined(d) };
  // The lineage records the β a PKD preset runs with, given or not.
  if (isPkdPreset(distill.intermediate) && distill.pkdWeight === undefined) distill.pkdWeight = DEFAULT_PKD_WEIGHT;
  checkNumberFlag('--alpha', distill.alpha, r.alpha);
  checkNumberFlag('--temperature', distill.temperature, r.temperature);
  // (each word as the flag's value: a library caller's value of another kind after the choices with its kind)
  if (!(DISTILL_WORDS.logitLoss as readonly unknown[]).includes(distill.logitLoss))
    throw new SettingsError(choiceRefusal('--logit-loss', distill.logitLoss, DISTILL_WORDS.logitLoss));
  if (!(DISTILL_WORDS.stage as readonly unknown[]).includes(distill.stage))
    throw new SettingsError(choiceRefusal('--stage', distill.stage, DISTILL_WORDS.stage));
  if (typeof distill.intermediate === 'string' && !(INTERMEDIATE_PRESETS as readonly string[]).includes(distill.intermediate)) {
    throw new SettingsError(choiceRefusal('--intermediate', distill.intermediate, INTERMEDIATE_PRESETS, { or: 'a list of matches' }));
  }
  if (distill.stage === 'general' && !distill.intermediate) throw new SettingsError('--stage general distils intermediate layers only: give --intermediate');
  checkStageFlags(distill);
  checkIntegerFlag('--augment', distill.augment, i.augment.min);
  if (distill.intermediatePhase !== undefined && !(DISTILL_WORDS.intermediatePhase as readonly unknown[]).includes(distill.intermediatePhase)) {
    throw new SettingsError(choiceRefusal('--intermediate-phase', distill.intermediatePhase, DISTILL_WORDS.intermediatePhase));
  }
  if (distill.pkdWeight !== undefined) checkNumberFlag('--pkd-weight', distill.pkdWeight, r.pkdWeight);
  if (distill.intermediateEpochs !== undefined) checkIntegerFlag('--intermediate-epochs', distill.intermediateEpochs, i.intermediateEpochs.min);
  return { settings, distill };
}

/** Whether `intermediate` names one of BERT-PKD's presets (patient terms weighted by --pkd-weight, joint phase). */
function isPkdPreset(intermediate: DistillSettings['intermediate']): boolean {
  return intermediate === 'pkd-skip' || intermediate === 'pkd-last';
}

/** The distillation settings of a lineage: the prediction-layer ones only where that loss ran. */
export type DistillAsUsed = Omit<DistillSettings, 'temperature' | 'alpha' | 'logitLoss'> &
  Partial<Pick<DistillSettings, 'temperature' | 'alpha' | 'logitLoss'>>;

/** The prediction-layer settings of distillation: those a run's loss may leave unread (DistillUse). */
export type PredictionSetting = 'alpha' | 'temperature' | 'logitLoss';

/**
 * How a distill run's loss (lossTerms, phasePlan) reads its prediction-layer settings: `unused`, the ones it does not
 * read, and `because` why (each reader words it: the sweep plan's note, `compress distill`'s refusal); `logitLoss`,
 * the loss of its teacher term where it has one (a regression task's: mse, whatever logitLoss says). The general stage
 * (intermediate layers only) reads none of them; alpha 1 leaves no teacher term (temperature and logitLoss unread); a
 * regression task (STS-B) distils the teacher's score by MSE (temperature and logitLoss unread); logitLoss mse
 * compares raw logits (temperature unread). Whatever the student (a BiLSTM takes prediction-layer KD alone, by the
 * same loss). The one definition of the lineage's settings as used (asUsed), of the sweep plan's steps that train one
 * model though their settings differ (plan.ts), and of the flags `compress distill` refuses as unread.
 */
export interface DistillUse {
  unused: PredictionSetting[];
  because?: 'general stage' | 'alpha 1' | 'regression' | 'logit mse';
  logitLoss?: DistillSettings['logitLoss'];
}

export function distillUse(d: Pick<DistillSettings, 'alpha' | 'logitLoss' | 'stage'>, task: Pick<TaskDefinition, 'regression'> | undefined): DistillUse {
  if (d.stage === 'general') return { unused: ['alpha', 'temperature', 'logitLoss'], because: 'general stage' };
  if (d.alpha === 1) return { unused: ['temperature', 'logitLoss'], because: 'alpha 1' };
  if (task?.regression) return { unused: ['temperature', 'logitLoss'], because: 'regression', logitLoss: 'mse' };
  if (d.logitLoss === 'mse') return { unused: ['temperature'], because: 'logit mse', logitLoss: 'mse' };
  return { unused: [], logitLoss: d.logitLoss };
}

/** The distillation settings as the run used them, for the lineage (distillUse): the loss's logitLoss, without the settings it does not read. */
function asUsed(d: DistillSettings, task: TaskDefinition | undefined): DistillAsUsed {
  const use = distillUse(d, task);
  const unused: readonly string[] = use.unused;
  return Object.fromEntries(
    Object.entries(d).flatMap(([k, v]) => (k === 'logitLoss' && use.logitLoss !== undefined ? [[k, use.logitLoss]] : unused.includes(k) ? [] : [[k, v]])),
  ) as DistillAsUsed;
}

/**
 * Settings given that the run would not use, refused (one line) rather than ignored. Checked on the settings as
 * given, before defaults fill them: the prediction-layer terms with --stage general (which distils intermediate
 * layers only) and --pkd-weight without a PKD preset. (--temperature with --logit-loss mse or a regression task is
 * let through here, as sweep files share one set of KD settings, YAML anchors included, across students and tasks;
 * `compress distill` refuses it itself.)
 */
function checkGivenFlags(d: Partial<DistillSettings>): void {
  if (d.stage === 'general') {
    for (const [key, flag] of [
      ['alpha', '--alpha'],
      ['temperature', '--temperature'],
      ['logitLoss', '--logit-loss'],
    ] as const) {
      if (d[key] !== undefined) throw new SettingsError(`${flag} applies to --stage task (the general stage distils intermediate layers only)`);
    }
  }
  if (d.pkdWeight !== undefined && !isPkdPreset(d.intermediate)) {
    throw new SettingsError(
      Array.isArray(d.intermediate)
        ? '--pkd-weight applies to the pkd-skip and pkd-last presets; a list of matches gives each its weight'
        : '--pkd-weight applies with --intermediate pkd-skip or pkd-last',
    );
  }
}

/**
 * Settings that only apply with --intermediate or to one stage are refused without it (one line naming both
 * flags), never silently ignored.
 */
function checkStageFlags(d: DistillSettings): void {
  const general = d.stage === 'general';
  if (d.layerMap !== undefined && typeof d.intermediate !== 'string') {
    throw new SettingsError(
      d.intermediate
        ? '--layer-map applies to an --intermediate preset; a list of matches names its layers itself'
        : `--layer-map applies with --intermediate (${INTERMEDIATE_PRESETS.join(', ')})`,
    );
  }
  if (d.intermediatePhase !== undefined && (!d.intermediate || general)) {
    throw new SettingsError(general ? '--intermediate-phase applies to --stage task' : '--intermediate-phase applies with --intermediate');
  }
  if (d.intermediateEpochs !== undefined) {
    if (!d.intermediate) throw new SettingsError('--intermediate-epochs applies with --intermediate');
    if (!general && jointPhase(d)) {
      throw new SettingsError('--intermediate-epochs with --intermediate-phase joint (the default of pkd-skip and pkd-last): the one phase runs --epochs');
    }
  }
  if (d.corpus !== undefined && !general) throw new SettingsError('--corpus applies to --stage general');
  if (d.augment > 0 && general) throw new SettingsError('--augment applies to --stage task (the general stage reads its corpus as it is)');
}

/** Whether the task stage trains intermediate and prediction KD together (given, or the default of the PKD presets). */
function jointPhase(d: DistillSettings): boolean {
  return (d.intermediatePhase ?? (isPkdPreset(d.intermediate) ? 'joint' : 'first')) === 'joint';
}

/**
 * The checks of distillation settings that depend on the task (one-line SettingsError naming the flags): augmented
 * examples of a regression task have no gold score, so with augmentation the teacher must be the only target.
 */
export function checkTaskSettings(task: TaskDefinition, distill: DistillSettings): void {
  if (distill.stage === 'task' && distill.augment > 0 && distill.alpha > 0 && task.regression) {
    // (not 'as in TinyBERT': its task_distill.py regresses STS-B on the gold scores alone, which its augmentation
    // copies from each source sentence to its variants)
    throw new SettingsError(
      `--augment with --alpha ${distill.alpha}${distill.alpha === DEFAULT_DISTILL_SETTINGS.alpha ? ' (the default)' : ''}: augmented ${task.name} examples have no gold score to regress on; use --alpha 0 (the teacher's score is then the only target)`,
    );
  }
}

/**
 * Why a task stage's augmented examples add nothing to its loss, or undefined where they do: they carry no gold label
 * (their label row is zero), so with alpha 1, no teacher term, and no intermediate-layer KD (whose losses read them,
 * TinyBERT's intermediate phase included) they only take time and dilute each batch's labelled rows (the hard-label
 * term divides by the whole batch). A warning, not a refusal: the run is what was asked, only not what was meant. The
 * settings are named as `named` gives them: the flags (--augment 2, as the run warns) or a sweep's settings (augment=2,
 * as a sweep's plan warns before any point runs).
 */
export function unreadAugmentation(
  distill: Pick<DistillSettings, 'stage' | 'augment' | 'alpha' | 'intermediate'>,
  named: 'flags' | 'settings' = 'flags',
): string | undefined {
  if (distill.stage !== 'task' || distill.augment === 0 || distill.alpha !== 1 || distill.intermediate) return undefined;
  const name = (key: 'augment' | 'alpha') => (named === 'flags' ? `--${key}` : key);
  const given = (key: 'augment' | 'alpha', value: number) => (named === 'flags' ? `--${key} ${value}` : `${key}=${value}`);
  return `${given('augment', distill.augment)} with ${given('alpha', 1)}: augmented examples have no gold label and alpha 1 gives the teacher no weight, so they add nothing to the loss but time (and dilute each batch's labelled rows); give ${name('alpha')} below 1 for the teacher's term to read them, or leave out ${name('augment')}`;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The loss terms of plain training or prediction-layer distillation. */
export function lossTerms(regression: boolean, distill: DistillSettings | undefined): LossTerm[] {
  const gold: LossTerm['kind'] = regression ? 'score-mse' : 'hard-ce';
  if (!distill) return [{ kind: gold, weight: 1 }];
  const teacher: LossTerm = regression
    ? { kind: 'teacher-score-mse', weight: 1 - distill.alpha }
    : distill.logitLoss === 'mse'
      ? { kind: 'logit-mse', weight: 1 - distill.alpha }
      : { kind: 'soft-ce', weight: 1 - distill.alpha, temperature: distill.temperature };
  return [{ kind: gold, weight: distill.alpha }, teacher].filter((t) => t.weight > 0);
}

/**
 * Why a Distilled BiLSTM student cannot take intermediate-layer KD (`distill` with --intermediate or --stage general):
 * it has no layers to match (said so, not that its graph has no attention blocks). Also what a sweep's distill step
 * with a bilstm:… student and intermediate is refused with when its file is read.
 */
export function bilstmIntermediateRefusal(distill: Pick<DistillSettings, 'stage'>): SettingsError {
  return new SettingsError(
    distill.stage === 'general'
      ? '--stage general distils intermediate layers, and a Distilled BiLSTM student has none: distil it on --task (prediction-layer KD)'
      : '--intermediate matches encoder layers, and a Distilled BiLSTM student has none: leave out --intermediate (prediction-layer KD)',
  );
}

/**
 * The phases of a run: plain training or prediction KD (one phase); PKD (prediction and PKD terms together, one
 * phase, as BERT-PKD trains); TinyBERT's task stage (intermediate KD, then prediction KD); general distillation
 * (intermediate KD only).
 */
function phasePlan(
  regression: boolean,
  distill: DistillSettings | undefined,
  teacher: Model | undefined,
  teacherStructure: BertStructure | undefined,
  student: Student,
  settings: TrainSettings,
): Phase[] {
  const prediction = lossTerms(regression, distill);
  if (!distill?.intermediate)
    return [{ name: distill ? 'prediction-layer distillation' : 'fine-tuning', loss: prediction, matches: [], epochs: settings.epochs, evaluate: true }];
  if (student.kind === 'bilstm') throw bilstmIntermediateRefusal(distill);
  const n = (teacherStructure ?? findBert(teacher!, { label: 'teacher' })).numLayers;
  const m = findBert(student.forward(false), { label: 'student' }).numLayers;
  const matches =
    typeof distill.intermediate === 'string'
      ? presetMatches(distill.intermediate, n, m, { pkdWeight: distill.pkdWeight, layerMap: distill.layerMap })
      : distill.intermediate;
  const intermediateEpochs = distill.intermediateEpochs ?? settings.epochs;
  const epochsKey = distill.intermediateEpochs !== undefined ? { epochsKey: 'intermediateEpochs' } : {};
  if (distill.stage === 'general') return [{ name: 'general distillation', loss: [], matches, epochs: intermediateEpochs, ...epochsKey, evaluate: false }];
  if (jointPhase(distill)) {
    const what = typeof distill.intermediate === 'string' ? distill.intermediate : 'intermediate';
    return [{ name: `prediction + ${what} KD`, loss: prediction, matches, epochs: settings.epochs, evaluate: true }];
  }
  return [
    { name: 'intermediate-layer distillation', loss: [], matches, epochs: intermediateEpochs, ...epochsKey, evaluate: false },
    { name: 'prediction-layer distillation', loss: prediction, matches: [], epochs: settings.epochs, evaluate: true },
  ];
}

/** The config.json fields that say what a classifier's outputs mean. */
const LABEL_FIELDS = ['id2label', 'label2id', 'num_labels', 'problem_type'] as const;

/**
 * The config.json a run reads labels and lengths from, and writes beside the student: the teacher's (or the trained
 * model's) `json`, except that a student model folder whose config.json has an `id2label` keeps its own labels. Its
 * head's outputs mean what that id2label says (a checkpoint fine-tuned with another label order): the training set,
 * the teacher's outputs and the dev evaluation follow its order, and its labels are written with it (generic ones,
 * LABEL_k, as the name of the task's label k).
 */
function withStudentLabels(
  json: Record<string, unknown>,
  file: string,
  student: { dir: string; task: TaskDefinition } | undefined,
): { json: Record<string, unknown>; config: ModelConfig } {
  const studentFile = student === undefined ? undefined : join(student.dir, 'config.json');
  const task = student?.task;
  const own = studentFile !== undefined && existsSync(studentFile) ? readJsonObject(studentFile) : undefined;
  const config = parseModelConfig(json, existsSync(file) ? file : '<none>');
  if (!own || own.id2label === undefined) return { json, config };
  const labels = parseModelConfig(own, studentFile!);
  const merged = withoutLabels(json);
  for (const k of LABEL_FIELDS) if (own[k] !== undefined) merged[k] = own[k];
  // generic names (LABEL_k: the task's label k) are written as the task's names, in the outputs' order
  if (task && !task.regression && labels.id2label && [...labels.id2label.values()].every(isGenericLabel) && labels.id2label.size === task.labels.length) {
    const names = mapModelLabels(task, labels.id2label, task.labels.length, studentFile).outputToLabel.map((l) => task.labels[l]!);
    merged.id2label = Object.fromEntries(names.map((l, j) => [String(j), l]));
    merged.label2id = Object.fromEntries(names.map((l, j) => [l, j]));
  }
  return { json: merged, config: { ...labels, maxLength: config.maxLength } };
}

/** The reason classifierFor gives for a student model with no classifier at all (a bare encoder). */
const NO_CLASSIFIER = 'it has none';
/** The reason classifierFor gives for a classifier `compress train --new-head` replaces. */
const NEW_HEAD = '--new-head';

/** A config.json without the fields that say what a classifier's outputs mean (LABEL_FIELDS). */
function withoutLabels(json: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(json).filter(([k]) => !(LABEL_FIELDS as readonly string[]).includes(k)));
}

/**
 * Why a student model needs a new classifier for `task`, or undefined when it keeps its own: a bare encoder (a
 * general-distilled student) always gets one; in the distillation stages (`mode` 'task' or 'general'), so does a
 * classifier of another width (a general student sized for SST-2, distilled on MNLI; the general stage trains no
 * head, its --task only sizes it); in the task stage, so does one whose config.json id2label names another GLUE
 * task's labels (anotherTask). Labels that name no task's (`bad`, `good` for SST-2) are read in the task's order, as
 * `compress eval` reads them (with a warning): the classifier is not thrown away for a spelling. `compress train` (`keep`) keeps a classifier and
 * refuses one of the wrong width or of another GLUE task's labels (naming --new-head); `compress train --new-head` (`new`)
 * replaces it whatever its width. A sweep's plan asks it of a distill step's student model, read without weight values.
 */
export function classifierFor(
  model: Model,
  dir: string,
  task: TaskDefinition,
  mode: 'task' | 'general' | 'keep' | 'new',
  structure?: BertStructure,
): string | undefined {
  // (a saved Distilled BiLSTM: its last MLP layer is its classifier, which a new one replaces as a BERT's)
  const bilstm = savedBilstmOutputs(model);
  const own = bilstm !== undefined ? ({ kind: 'classifier', numLabels: bilstm } as const) : studentClassifier(model, structure);
  if (!own) return undefined; // (not a BERT-family encoder: makeStudent says why it cannot train it)
  if (own.kind === 'none') return NO_CLASSIFIER;
  if (mode === 'new') return NEW_HEAD;
  // (stored quantized: makeStudent refuses it, saying to train the float model; --new-head, named below, is refused so too)
  if (mode === 'keep' && 'quantized' in own && own.quantized) return undefined;
  // (config.json naming another head's class, BertForMultipleChoice, whose graph looks like a one-label classifier:
  // kept by no run, unless the graph shows a sequence classifier by itself)
  const file = join(dir, 'config.json');
  // (read once, for the head its architectures name and the labels its id2label names: a classifier's, outside the
  // general stage, which reads neither)
  const json = own.kind === 'classifier' && mode !== 'general' && existsSync(file) ? readJsonObject(file) : undefined;
  const other = json ? namedOtherHead(json.architectures, model) : undefined;
  if (other && mode === 'keep')
    throw new SettingsError(`--task ${task.name}: ${otherHeadLine(file, other)}: give --new-head to replace it by a new classifier for ${task.name}`);
  if (other) return `${file} names ${other.name}, ${other.head}`;
  if (own.kind === 'other') {
    // (another head, a pretraining graph's: --new-head puts a classifier on its pooler in its place; the rebuild
    // refuses it otherwise)
    if (mode === 'keep' && own.pooled) {
      throw new SettingsError(
        `--task ${task.name}: the model has ${aHead(own.head)}, not a classifier: give --new-head to replace it by a new classifier for ${task.name} on its pooler`,
      );
    }
    // (distillation's task stage gives it one, as it gives a bare encoder one)
    return mode === 'task' && own.pooled ? `it has ${aHead(own.head)}` : undefined;
  }
  const outputs = task.regression ? 1 : task.labels.length;
  if (mode === 'keep') {
    // (a classifier of the task's width whose labels are another GLUE task's: an SST-2 checkpoint on MRPC, which
    // --new-head fine-tunes, not the label check's advice to fix config.json)
    const other = own.numLabels === outputs ? otherTaskLabels(json, file, task, own.numLabels) : undefined;
    if (other) {
      throw new SettingsError(
        `--task ${task.name}: the model's classifier is another task's (${other}, in ${file}): give --new-head to replace it by a new one for ${task.name}`,
      );
    }
    return undefined;
  }
  if (own.numLabels !== outputs) return `its classifier has ${counted(own.numLabels, 'output')}`;
  if (mode === 'general') return undefined; // (the general stage reads no labels)
  return otherTaskLabels(json, file, task, own.numLabels);
}

/**
 * 'its labels are …' when config.json (`json`, read from `file`) names another GLUE task's labels for a classifier of
 * `numLabels` outputs (as wide as `task` needs); undefined when they fit `task` (or there is no config.json), names
 * that are no task's labels too (read in the task's order); labels that contradict that order are refused as
 * `compress eval` refuses them.
 */
function otherTaskLabels(json: Record<string, unknown> | undefined, file: string, task: TaskDefinition, numLabels: number): string | undefined {
  if (!json) return undefined;
  const { id2label } = parseModelConfig(json, file);
  if (anotherTasksLabels(task, id2label, numLabels)) return `its labels are ${[...id2label!.values()].join(', ')}`;
  mapModelLabels(task, id2label, numLabels, file); // (labels that name no task's: refused as eval refuses them)
  return undefined;
}

/**
 * The output order of the classifier the general stage sizes for `task`: the teacher's config.json names, which are
 * written beside it. A teacher whose labels are another GLUE task's (an SST-2 teacher with --task MRPC) is refused in
 * one line naming its config.json and the way through: without --task the student keeps the teacher's classifier,
 * and the task stage on `task` gives it a new one.
 */
function generalStageLabels(task: TaskDefinition, id2label: ReadonlyMap<number, string> | null, numLabels: number, file: string): LabelMapping {
  try {
    return mapModelLabels(task, id2label, numLabels);
  } catch (e) {
    // (by the labels' own count: the classifier is sized for `task`, the names are the teacher's)
    const other = e instanceof SettingsError ? anotherTasksLabels(task, id2label, id2label?.size ?? numLabels) : undefined;
    if (!other) throw e;
    throw new SettingsError(
      `--stage general --task ${task.name}: the teacher's labels (${file}: ${[...id2label!.values()].join(', ')}) are ${other}, and the general stage writes the teacher's labels beside the student's classifier; leave out --task (the student keeps the teacher's classifier, and the task stage on ${task.name} gives it a new one)`,
    );
  }
}

/**
 * What an optimizer wrote into a BERT model that the canonical rebuild leaves out: its com.microsoft fused ops (by
 * type) and a last layer computing the first token only; undefined for a plain graph.
 */
function optimizedForm(model: Model, structure = findBert(model)): string | undefined {
  const fused = [...new Set(model.graph.nodes.filter((n) => n.domain === 'com.microsoft').map((n) => n.opType))];
  const firstToken = structure.layers.some((l) => l.firstToken !== undefined);
  const parts = [...(fused.length ? [`com.microsoft ${fused.join(', ')}`] : []), ...(firstToken ? ['a first-token last layer'] : [])];
  return parts.length ? parts.join('; ') : undefined;
}

/**
 * Refuses a feature cache size (TrainRunOptions.featureCacheBytes) below 0 or not finite, naming the option in its
 * bytes ('featureCacheBytes -1: expected a number 0 or greater'), where it named --feature-cache-mb, a flag the library
 * caller cannot pass, with the bytes in megabytes ('--feature-cache-mb -9.5367431640625e-7'). The command line refuses
 * its --feature-cache-mb first, in its megabytes (FEATURE_CACHE_MB_RANGE, the flags' middleware). A cache given where
 * no intermediate-layer KD computes teacher features (`distill` without intermediate, or fine-tuning) is refused too.
 */
export function checkFeatureCacheBytes(bytes: number | undefined, distill?: Pick<Partial<DistillSettings>, 'intermediate'>): void {
  checkNumberFlag('featureCacheBytes', bytes ?? 0, FEATURE_CACHE_MB_RANGE);
  // (a cache of what no run computes without intermediate-layer KD: refused, as --layer-map and --pkd-weight are without
  // it, where it was taken and never read)
  if ((bytes ?? 0) > 0 && !distill?.intermediate) throw new SettingsError(FEATURE_CACHE_UNREAD);
}

/** The refusal of a feature cache where no teacher intermediate features are computed (checkFeatureCacheBytes). */
export const FEATURE_CACHE_UNREAD = "--feature-cache-mb applies with --intermediate (it caches the teacher's intermediate-layer features)";

/** A run's work folder: the one its caller gave (workDir), else OUTPUT.train beside its output. */
function workFolder(o: Pick<TrainRunOptions, 'output' | 'workDir'>): string {
  return o.workDir ?? `${resolve(o.output)}.train`;
}

/**
 * The model whose folder gives a training run its labels and, unless --tokenizer (`tokenizer`) names another folder,
 * the tokenizer it reads and copies beside its output: the teacher's when distilling (students share its vocabulary),
 * else the student's.
 */
export function trainingLabelSource(o: Pick<TrainRunOptions, 'teacher' | 'student'>): ModelLocation {
  return locateModel(o.teacher ?? o.student);
}

export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const dirs = typeof o?.output === 'string' ? [dirname(resolve(o.output))] : [];
  if (typeof o?.output === 'string') dirs.push(workFolder(o));
  if (typeof o?.cacheDir === 'string') dirs.push(o.cacheDir);
  // (a run failing after its output, work or cache folder was made: those left empty removed again, its work folder's
  // lock released first; a work folder whose lock could not be taken among them)
  return removingFoldersMadeOnFailure(dirs, async () => {
    const held: { lock?: string } = {};
    try {
      return await trainInto(o, held);
    } finally {
      if (held.lock !== undefined) releaseWorkFolder(held.lock);
    }
  });
}

/** The lock file in a run's work folder, held by the run that trains into it (holdWorkFolder). */
const WORK_LOCK = '.run.lock';

/**
 * Takes the lock of the work folder `workDir` for this run (`held.lock`, released by runTraining): one run at a time
 * trains into it, and writes the output beside it. A second run of the same output while the first runs is refused in
 * one line, where it resumed, pruned and removed the first's checkpoints and best epoch, and the two wrote one model,
 * lineage and projections file, mixed. A killed run's lock is taken over (its rerun resumes from its checkpoints).
 * `chosen`: the caller gave the work folder (workDir: a sweep's point), which another -o would not change.
 */
function holdWorkFolder(workDir: string, chosen: boolean, output: string, held: { lock?: string }): void {
  ensureFolder(workDir, `the work folder ${workDir}`);
  const lock = join(workDir, WORK_LOCK);
  let other: ReturnType<typeof tryFileLock>;
  try {
    other = tryFileLock(lock);
  } catch (e) {
    // (a full disk, a read-only folder: one line naming the lock, not the temporary file it is written through)
    const reason = FS_REASONS[(e as NodeJS.ErrnoException).code ?? ''];
    if (reason === undefined) throw e;
    throw new UserError(`-o ${output}: cannot write the lock ${lock} of its work folder: ${reason}`, { cause: e });
  }
  if (other !== undefined) {
    const who = other.holder !== undefined ? `process ${other.holder.pid}` : 'another process';
    const elsewhere = chosen ? 'train into another work folder' : 'give another -o';
    throw new SettingsError(`-o ${output}: ${who} is training into it now (its work folder ${workDir}): wait for it to end, or ${elsewhere}`);
  }
  held.lock = lock;
}

/** Releases a work folder's lock (holdWorkFolder), and the folder when nothing else is in it (stopped before a checkpoint). */
function releaseWorkFolder(lock: string): void {
  rmSync(lock, { force: true });
  try {
    rmdirSync(dirname(lock));
  } catch {
    // (not empty: its checkpoints stay, for the rerun to resume from)
  }
}

/**
 * The refusal of a student (`spec`: a model path, or a student made from the teacher `teacher`) whose weight `bad`
 * holds NaN or Infinity (nonFiniteInitialParameter), with its role where it has one (`role`: weightRole's,
 * 'layer0.attention.q', 'layer0.attentionNorm.scale'), as a name such as a torch export's 'onnx::MatMul_100' says
 * nothing of where it is.
 */
function nonFiniteStudentLine(
  bad: NonNullable<ReturnType<typeof nonFiniteInitialParameter>>,
  role: string | undefined,
  spec: string,
  teacher: string | undefined,
): string {
  const held = `weight ${quotedText(bad.name)}${role === undefined ? '' : ` (${role})`} holds ${nonFiniteText(bad)}`;
  if (teacher !== undefined && isStudentSpec(spec)) {
    return `--student ${spec}: its ${held}, taken from --teacher ${teacher}: fix or retrain the teacher before distilling from it`;
  }
  return `${spec}: ${held}: fix or retrain the model before ${teacher !== undefined ? 'distilling into' : 'training'} it`;
}

/**
 * The role in the teacher of a student weight (`name`, its role `role`) made from the teacher (`spec`): every-other's
 * layer i is the teacher's layer 2i, its other weights the teacher's of the same role; a BiLSTM's embedding table the
 * teacher's word embeddings. Undefined where the weight is the student's own (a bert: student, a BiLSTM's LSTM).
 */
function teacherRoleOf(spec: string, name: string, role: string | undefined): string | undefined {
  if (spec === 'every-other' && role !== undefined) return role.replace(/^layer(\d+)\./, (_, i: string) => `layer${2 * Number(i)}.`);
  if (spec.startsWith('bilstm:') && name === 'embedding.weight') return 'embeddings.word';
  return undefined;
}

/** The refusal of a student made from the teacher whose weight `bad` (the teacher's, by its name and role there) holds NaN or Infinity. */
function nonFiniteTeacherWeightLine(bad: NonNullable<ReturnType<typeof nonFiniteWeight>>, spec: string, teacher: string): string {
  return `--student ${spec}: it takes --teacher ${teacher}'s weight ${quotedText(bad.name)} (${bad.role}), which holds ${nonFiniteText(bad)}: fix or retrain the teacher before distilling from it`;
}

/** runTraining's work; `held`: the work folder's lock, once taken. */
async function trainInto(o: TrainRunOptions, held: { lock?: string }): Promise<TrainRunResult> {
  checkOptions('runTraining', o, '{student, output, task, …}');
  checkStringOption('runTraining', 'student', o.student, 'the student: a model path, every-other, bert:… or bilstm:…');
  checkStringOption('runTraining', 'output', o.output, 'the output .onnx path');
  checkOptionalString('runTraining', 'task', o.task, "a GLUE task name (e.g. 'SST-2')");
  checkOptionalString('runTraining', 'teacher', o.teacher, 'the teacher model path');
  const task = o.task === undefined ? undefined : getTask(o.task, 'train');
  // before any work: the model files are not named like the side files written beside them, and every file the
  // run writes is a regular file or absent (never a device such as /dev/null)
  const label = `-o ${o.output}`;
  const files = modelOutputFiles(o.output);
  checkNotSideFileNames(files, label);
  const outDir = dirname(resolve(o.output));
  checkOutputKinds([...files.map(([path]) => path), ...MODEL_SIDE_FILES.map((f) => join(outDir, f))], label);
  checkNotInTransformersJsFolder(o.output, label); // (its config.json and tokenizer would be written into onnx/)
  const isDistill = o.teacher !== undefined;
  const { settings, distill } = checkSettings(o.settings ?? {}, isDistill ? (o.distill ?? {}) : undefined);
  checkMaxLength(o.maxLength); // (the CLI's, a sweep's and eval's rule: 2 at least, before any file is read)
  const general = distill?.stage === 'general';
  // general distillation is task-agnostic (a corpus, intermediate layers only); everything else reads a task
  if (!task && !general) throw new SettingsError('no task given: the GLUE task to train on (only the general distillation stage runs without one)');
  if (distill && task) checkTaskSettings(task, distill);
  checkFeatureCacheBytes(o.featureCacheBytes, isDistill ? (o.distill ?? {}) : undefined);
  const cacheBytes = o.featureCacheBytes ?? 0;
  if (!isDistill && !existsSync(o.student)) throw new SettingsError(`${o.student}: no such model (train needs a model path)`);
  if (o.newHead && isDistill) {
    throw new SettingsError('--new-head is for compress train: compress distill gives a student model a new classifier where its own is not for --task');
  }
  const log = o.log ?? (() => {});
  const unread = distill && task ? unreadAugmentation(distill) : undefined;
  if (unread) log(`warning: ${unread}`);
  const glueDir = glueDirOf(o.glueDir);

  const labelSource = trainingLabelSource(o);
  // --tokenizer names the tokenizer's folder (a model file alone in its folder has none); a tokenizer file given names
  // its folder: the data, the vocabulary check and the copied files then agree
  const tokenizerDir = o.tokenizer === undefined ? labelSource.dir : resolve(tokenizerFolder(o.tokenizer));
  const configFile = join(labelSource.dir, 'config.json');
  checkOutputSideFiles(o.output, tokenizerDir, workFolder(o), label, o.force);
  // a student model (read once here): a new classifier when it has none for the task (classifierFor)
  // (let: dropped once the student is made from it, see below)
  let studentModel = !isDistill || !isStudentSpec(o.student) ? inlineLocalFunctions(loadModel(locateModel(o.student).onnx)) : undefined;
  // (its structure, discovered once here for every use of it below; undefined where discovery does not read it)
  const studentStructure = studentModel ? discovered(studentModel) : undefined;
  const outputs = task ? (task.regression ? 1 : task.labels.length) : undefined;
  const fresh =
    task && studentModel
      ? classifierFor(
          studentModel,
          locateModel(o.student).dir,
          task,
          !isDistill ? (o.newHead ? 'new' : 'keep') : general ? 'general' : 'task',
          studentStructure,
        )
      : undefined;
  // (a head replaced by --new-head: the model's labels name its old classifier's outputs, read no more)
  const readConfig = existsSync(configFile) ? readJsonObject(configFile) : undefined;
  const configJson = readConfig && fresh === NEW_HEAD ? withoutLabels(readConfig) : readConfig;
  // (what --new-head replaces: a classifier, or another head, a pretraining graph's MLM and NSP)
  const replaced = fresh === NEW_HEAD && studentModel ? studentClassifier(studentModel, studentStructure) : undefined;
  const { json: sourceConfig, config: modelConfig } = withStudentLabels(
    configJson ?? {},
    configFile,
    // (the general stage reads no labels: its student may come from any task; a new classifier has the teacher's)
    isDistill && !general && !fresh && !isStudentSpec(o.student) ? { dir: locateModel(o.student).dir, task: task! } : undefined,
  );
  const tokenizer = loadTokenizer(tokenizerDir);
  // (let: dropped before training when no phase runs it, see below)
  let teacherModel = o.teacher ? inlineLocalFunctions(loadModel(locateModel(o.teacher).onnx)) : undefined;
  // (each graph's limits, not the graphs: a list of the models would keep the student model for the whole run)
  const studentLimits = studentModel ? graphFacts(studentModel, studentStructure).limits : undefined;
  // (the teacher's structure, discovered once here for every use of it below; undefined where discovery does not read it)
  const teacherFacts = teacherModel ? graphFacts(teacherModel) : undefined;
  const teacherStructure = teacherFacts?.structure;
  const sized: Array<[GraphFacts['limits'], string]> = [
    ...(teacherFacts && o.teacher ? [[teacherFacts.limits, locateModel(o.teacher).onnx] as [GraphFacts['limits'], string]] : []),
    ...(studentLimits !== undefined ? [[studentLimits, locateModel(o.student).onnx] as [GraphFacts['limits'], string]] : []),
  ];
  // What no --max-length mends is refused before the length is fitted to the models' position tables, where a length
  // refusal came first and, once mended, the real fault. The student's classifier: the task's outputs; with no task
  // (general distillation), a new student gets the teacher's and a student model keeps its own (none: encoder-only, as
  // with a teacher without one)
  if (teacherModel && task && !general) {
    // (a teacher's scores are the soft targets: a head config.json names as another's is refused, as eval refuses it)
    const other = namedOtherHead(readConfig?.architectures, teacherModel);
    if (other) throw new SettingsError(`--teacher ${o.teacher}: ${otherHeadLine(configFile, other)}; distillation reads a teacher's class scores`);
    const teacherLabels = !task.regression && configJson ? parseModelConfig(configJson, configFile).id2label : null;
    checkTaskTeacher(task, teacherShape(teacherModel, teacherStructure).head, teacherLabels, o.teacher!, configFile, teacherModel, teacherStructure);
  }
  // (a student model fed the teacher's token ids: the same rows, and tokenizer files beside it of the same vocabulary)
  if (teacherModel && studentLimits) {
    checkStudentVocabulary(teacherShape(teacherModel, teacherStructure).vocabSize, studentLimits.vocabSize, {
      student: locateModel(o.student).dir,
      teacher: tokenizerDir,
    });
  }
  // (general distillation, of a task or none, reads single texts)
  const pairs = !general && task?.textColumns.length === 2;
  // (a text's token types past a model's token-type table, a sentence pair's or a single text's (a Funnel tokenizer's
  // [CLS], type 2), as evaluation checks them before any task)
  checkTrainingTemplateTypes(tokenizer, sized, pairs);
  // The length must fit the position tables of the teacher (its logits are computed at it) and of a student model
  // given by path: checked here in one line, and a default (config's, else the length their inputs fix, else 128 capped at the
  // tokenizer's model_max_length) is capped as evaluation caps it.
  // (config.json's max_length is the teacher's when distilling, named so where a student model's config.json gives the labels)
  const lengthConfig: ModelConfig = { ...modelConfig, file: readConfig ? configFile : null };
  const maxLength = runMaxLength(o.maxLength, lengthConfig, sized, tokenizer, pairs);
  const { student, folder } = makeStudent({
    spec: o.student,
    teacher: teacherModel,
    ...(teacherStructure ? { teacherStructure } : {}),
    maxLength,
    seed: settings.seed,
    ...(outputs !== undefined ? { numLabels: outputs } : {}),
    ...(fresh ? { newClassifier: true } : {}),
    ...(studentModel ? { model: studentModel, ...(studentStructure ? { modelStructure: studentStructure } : {}) } : {}),
  });
  if (student.encoderOnly && !general) throw new Error('an encoder-only student trains by general distillation only');
  // a weight holding NaN or Infinity stays so through every update (a step's loss is NaN, or the end of the epoch finds
  // it): refused here, before any work (data, the teacher's outputs), naming it, not blamed on the loss or --lr later
  const broken = nonFiniteInitialParameter(student.forward(false));
  if (broken) {
    // (a BERT student's weight by its role, LayerNorms and biases too; a BiLSTM's names are its own. A model file's
    // weight by its name and index in that file: the rebuilt student names and lays out its weights anew)
    const inFile = studentModel && student.kind === 'bert' ? nonFiniteWeight(studentModel, studentStructure ?? findBert(studentModel)) : undefined;
    const role = inFile?.role ?? (student.kind === 'bert' ? weightRole(findBert(student.forward(false)), broken.name) : undefined);
    // (a student made from the teacher: the teacher's weight it was copied from, by the teacher file's name and index)
    const taken = !inFile && teacherModel && isStudentSpec(o.student) ? teacherRoleOf(o.student, broken.name, role) : undefined;
    const fromTeacher = taken !== undefined ? nonFiniteWeight(teacherModel!, teacherStructure ?? findBert(teacherModel!), (r) => r === taken) : undefined;
    if (fromTeacher) throw new NonFiniteInputError(nonFiniteTeacherWeightLine(fromTeacher, o.student, o.teacher!));
    throw new NonFiniteInputError(nonFiniteStudentLine(inFile ?? broken, role, o.student, isDistill ? o.teacher : undefined));
  }
  // a student model --optimize (or onnxruntime's optimizer) rewrote is trained as the plain graph: said, as its output
  // is not optimized, which would otherwise surface only as a slower benchmark
  const optimized = studentModel && student.kind === 'bert' ? optimizedForm(studentModel, studentStructure) : undefined;
  if (optimized) {
    log(
      `note: ${locateModel(o.student).onnx} is optimized (${optimized}); training rebuilds the plain graph, so ${o.output} is not: optimize it again (compress ${shellWord(o.output)} --optimize -o …)`,
    );
  }
  // (so are graph outputs beside its scores, an export's hidden states: the rebuild computes the classifier's scores alone)
  const besideScores = studentModel && student.kind === 'bert' ? outputsBesideScores(studentModel, studentStructure) : [];
  if (besideScores.length) {
    log(
      `note: ${locateModel(o.student).onnx} has ${counted(besideScores.length, 'graph output')} beside its scores (${someNames(besideScores.map(quotedText), 3)}); training rebuilds the classifier, whose one output is its scores, so ${o.output} has none of them`,
    );
  }
  // (so is a float16 one: trained in float32 and written in float32, twice the bytes, which the user did not ask for)
  if (studentModel && student.kind === 'bert' && floatStorage(studentModel) === DataType.FLOAT16) {
    log(
      `note: ${locateModel(o.student).onnx} stores its weights in float16; training computes in float32, so ${o.output} is float32: convert it again (compress ${shellWord(o.output)} --quantize float16 -o …)`,
    );
  }
  // (a student is trained through a graph of int64 inputs with dynamic axes: written with the inputs and outputs of the
  // original, the student model's, else the teacher's it was made from (fixed sizes, input names and order, int32 ids,
  // the scores output's name), so it drops in where the original ran; a BiLSTM, which reads no token types or position
  // ids and is fed by its input names, declares those unread: see original-io.ts)
  // (the model is not held in a variable of its own: it would live as long as this function, through training)
  const io = studentModel ? originalIo(studentModel, studentStructure) : teacherModel ? originalIo(teacherModel, teacherStructure) : undefined;
  // The student holds its own copy of the student model's weights: the model read is not kept through training (its
  // weights once more: 1× of a 7× run)
  studentModel = undefined;
  const newClassifier = fresh && task ? { outputs: student.numLabels, seed: settings.seed, reason: fresh } : undefined;
  if (task && student.numLabels !== outputs) {
    // (compress train keeps a model's classifier unless asked: one of another width is another task's, which
    // --new-head replaces, as fine-tuning an MNLI checkpoint on RTE does)
    const advice = isDistill ? '' : `: give --new-head to replace its classifier by a new one of ${counted(outputs!, 'output')}`;
    throw new SettingsError(`${task.name} needs ${counted(outputs!, 'output')}; the ${isDistill ? 'student' : 'model'} has ${student.numLabels}${advice}`);
  }
  // the phases and their intermediate matches, checked against both models before any work (data, augmentation,
  // teacher logits): a match the models cannot serve is refused in one line here, not when its phase starts
  const phases = phasePlan(task?.regression ?? false, distill, teacherModel, teacherStructure, student, settings);
  const planned = phases.map((phase) =>
    phase.matches.length ? intermediatePlan(phase.matches, teacherModel!, student.forward(false), teacherStructure) : undefined,
  );
  const learnsProjections = planned.some((p) => p?.terms.some(projects));
  // (the teacher's files are hashed once: for the teacher-logits cache's key, the lineage, the checkpoints' identity
  // and the projections' owner; so is a student model's: for the projections beside it and the lineage)
  const hash = memoizedSha256();
  const teacherOnnx = o.teacher ? locateModel(o.teacher).onnx : undefined;
  // the projections the run that wrote a student model learned beside it (the general stage's), which the matches of
  // the same layers start from, as TinyBERT's task stage starts from the general stage's fit_dense: read before any work
  const studentOnnx = isStudentSpec(o.student) && isDistill ? undefined : locateModel(o.student).onnx;
  const carried = learnsProjections && studentOnnx && teacherOnnx ? await carriedProjections(studentOnnx, teacherOnnx, hash) : undefined;
  const sidecar = projectionsPath(o.output);
  if (learnsProjections) checkOutputKinds([sidecar], label);
  const workDir = workFolder(o);
  const threads = settings.threads || undefined;
  // (before the corpus is read: the whole GLUE text when no --corpus is given)
  const generalLabels = general && task ? generalStageLabels(task, modelConfig.id2label, student.numLabels, configFile) : undefined;
  // (a corpus file: only the texts --max-examples keeps are held)
  const corpus = general && distill!.corpus ? readCorpusChoice(distill!.corpus, o.maxExamples, settings.seed) : undefined;
  const set = general
    ? corpusSet({
        ...(corpus ?? { texts: glueSentences(glueDir) }),
        tokenizer,
        maxLength,
        ...(task ? { task } : {}),
        numLabels: student.numLabels,
        maxExamples: o.maxExamples,
        seed: settings.seed,
        // (no labels are read; with a task, the teacher's config.json must still name its labels, as the student's
        // classifier is sized for it and the labels written with it are the teacher's)
        labelMapping: task ? generalLabels! : { outputToLabel: Array.from({ length: student.numLabels }, (_, j) => j), from: 'canonical' },
        file: distill!.corpus ?? glueDir,
      })
    : loadTrainingSet({ task: task!, glueDir, tokenizer, modelConfig, maxLength, maxExamples: o.maxExamples, seed: settings.seed });
  // (config.json's names nobody knows: the task's canonical order, said once, as eval says it)
  const ignored = set.labelMapping.ignored;
  if (task && ignored?.length) log(`warning: ${ignoredLabelsNote([task], modelConfig.file ?? configFile, ignored)}`);
  // (a student keeping its own labels: the teacher's outputs are read by the teacher's, said so too)
  const teacherIgnored =
    o.teacher && task && !general && configJson && modelConfig.file !== configFile
      ? ignoredLabelNames(task, parseModelConfig(configJson, configFile).id2label, task.labels.length)
      : undefined;
  if (teacherIgnored?.length) log(`warning: ${ignoredLabelsNote([task!], configFile, teacherIgnored)}`);
  // (rows of an empty label the train file leaves out, said in eval's line)
  if (set.skippedNote !== undefined) log(`warning: ${set.skippedNote}`);
  // the tokenizer's ids and token types fit the embedding tables of the teacher and of a student model (a --tokenizer
  // of another vocabulary): refused in one line, as evaluation refuses it, not by onnxruntime's Gather mid-run
  for (const [limits, path] of sized) checkEncodings(set.examples, limits, tokenizer.source, path);
  // the dev split each epoch is scored on, read and tokenized here and checked as the training set is: a missing or
  // malformed dev file, or a token id the models have no row for, is refused before the augmentation and the teacher's
  // logits (hours on a large task), not when the first epoch ends (onnxruntime's Gather error, the epoch's steps lost)
  const dev = general ? undefined : prepareTask(task!, 'dev', glueDir, tokenizer, maxLength);
  const devSkipped = dev && skippedRowsNote(dev.dataset);
  if (devSkipped !== undefined) log(`warning: ${devSkipped}`);
  if (dev) for (const [limits, path] of sized) checkEncodings(dev.encodings, limits, tokenizer.source, path);
  // the settings, the student, the task and its labels agree: before the first write (caches, checkpoints), the
  // cache folder of a distillation and the output folder are created (when missing) and must take files (checked
  // one level at a time: Node's recursive mkdir spins for ever under /proc)
  if (o.teacher) {
    const cacheRoot = o.cacheDir ?? userCacheDir();
    checkOutputFolder(cacheRoot, folderLabel('--cache-dir', o.cacheDir, 'cache folder', cacheRoot));
  }
  checkOutputFolder(outDir, label);
  holdWorkFolder(workDir, o.workDir !== undefined, o.output, held);
  // (said once the data and the folders are checked: a run refused for them initialises nothing)
  if (newClassifier) {
    const n = newClassifier.outputs;
    const what = `a new one (${task!.regression ? `${n} output` : counted(n, 'label')}) is initialised (seed ${settings.seed})`;
    log(
      fresh === NEW_HEAD
        ? `--new-head: the model's ${replaced?.kind === 'other' ? `${replaced.head} head is replaced by a classifier` : 'classifier is replaced'} for ${task!.name}: ${what}`
        : `the ${isDistill ? 'student' : 'model'} has no classifier for ${task!.name}${fresh === NO_CLASSIFIER ? '' : ` (${fresh})`}: ${what}`,
    );
  }
  const augment = distill && distill.augment > 0 && !general ? distill.augment : 0;
  // (Ctrl-C while the augmented examples or the teacher's outputs are computed, which takes hours on a large task:
  // stopped between two of their batches, nothing cached or written, rather than after both and a first training step)
  const signal = o.signal;
  const stopOnSignal = signal
    ? () => {
        if (signal.aborted) throw new StoppedBetweenBatches();
      }
    : undefined;
  /** `work`'s result, or undefined when a stop came between its batches (logged: a rerun computes `what` again). */
  const unlessStopped = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (e) {
      if (!(e instanceof StoppedBetweenBatches)) throw e;
      log(stoppedBeforeTrainingLine(what));
      return undefined;
    }
  };
  // (every phase's steps, over the examples it trains on (with --augment, the augmented set's), before the variants are
  // made, the teacher's scores computed and the first phase trains: a later phase's epochs were refused only once the
  // phases before it had run, any epochs only once the variants were made and cached)
  const trainExamples = augment > 0 ? augmentedSize(set, augment) : set.examples.length;
  for (const phase of phases)
    checkStepCount(trainExamples, { epochs: phase.epochs, batchSize: settings.batchSize }, phase.epochsKey, { file: set.file, variants: augment });
  let trainSet = set;
  if (augment > 0) {
    // (a teacher's word table holding NaN or Infinity, whose every row the neighbour search reads: refused before the
    // augmented examples are made and cached, where its scores were refused only after)
    const table = nonFiniteWeight(teacherModel!, teacherStructure ?? findBert(teacherModel!), (r) => r === 'embeddings.word');
    if (table) {
      throw new NonFiniteInputError(
        `${o.teacher}: its weight ${quotedText(table.name)} (${table.role}) holds ${nonFiniteText(table)}, and --augment's neighbour search reads every row: fix or retrain the teacher before distilling from it`,
      );
    }
    const augmented = await unlessStopped(AUGMENTED_EXAMPLES, () =>
      withAugmented(set, {
        teacher: teacherModel!,
        tokenizer,
        n: augment,
        seed: settings.seed,
        cacheDir: join(o.cacheDir ?? userCacheDir(), 'augment'),
        threads,
        log,
        ...(stopOnSignal ? { onBlock: stopOnSignal } : {}),
      }),
    );
    if (!augmented) return { interrupted: true, stopped: { recomputes: AUGMENTED_EXAMPLES } };
    trainSet = augmented;
  }
  const needsLogits = phases.some((ph) => ph.loss.some((t) => t.kind !== 'hard-ce' && t.kind !== 'score-mse'));
  let teacher: Float32Array | undefined;
  if (o.teacher && needsLogits) {
    const teacherPath = o.teacher;
    teacher = await unlessStopped(TEACHER_OUTPUTS, () =>
      teacherLogits({
        teacherPath,
        set: trainSet,
        cacheDir: join(o.cacheDir ?? userCacheDir(), 'teacher-logits'),
        threads,
        log,
        hashFile: hash,
        ...(stopOnSignal ? { onBatch: stopOnSignal } : {}),
      }),
    );
    if (!teacher) return { interrupted: true, stopped: { recomputes: TEACHER_OUTPUTS } };
  }
  // (the teacher is part of what makes a run the one its checkpoints are of: its .onnx file's hash for the lineage,
  // with external data the weights' files too for the identity, as the teacher-logits cache keys it; the .onnx hashed once)
  const teacherSha256 = teacherOnnx ? await hash(teacherOnnx) : undefined;
  const teacherIdentity = teacherOnnx ? await modelSha256(teacherOnnx, hash) : undefined;
  // The teacher's graph is needed through training only to match its layers (intermediate distillation): its logits
  // are computed above, so otherwise it is not kept while the student trains (the teacher's weights: often the
  // largest model of the run)
  const headlessTeacher = teacherModel !== undefined && teacherShape(teacherModel, teacherStructure).numLabels === undefined;
  if (!phases.some((ph) => ph.matches.length > 0)) teacherModel = undefined;
  let current = student;
  let result: TrainResult | undefined;
  /** The matches whose projections started from `carried`'s; the projections the last phase that has any learned. */
  let startedFrom: string[] = [];
  let learned: Map<string, StoredProjection> | undefined;
  const phaseRecords: PhaseRecord[] = [];
  // (over the phases' steps, a resumed phase's counting those of the processes before it: TrainResult.seconds)
  let examplesTrained = 0;
  let trainingSeconds = 0;
  // (the thread counts the phases' steps ran with, in order, a count repeated once: TrainResult.threads)
  const ranThreads: number[] = [];
  for (const [i, phase] of phases.entries()) {
    if (phases.length > 1) log(`phase ${i + 1} of ${phases.length}: ${phase.name}`);
    let matches = phase.matches.length ? intermediatePlan(phase.matches, teacherModel!, current.forward(false), teacherStructure) : undefined;
    // (the student the projections beside it were learned with: the first phase's)
    if (matches && carried && current === student) {
      if ('notCarried' in carried) log(`${carried.file}: not carried (${carried.notCarried}): the projections start new`);
      else {
        const c = withCarried(matches.terms, phase.matches, carried.projections);
        matches = { ...matches, terms: c.terms };
        startedFrom = c.carried;
        // (learned against another teacher, as TinyBERT's task stage starts from the fit_dense its general stage learned
        // against BERT-base: carried all the same, and said)
        const against = carried.otherTeacher
          ? `, learned against another teacher than this run's (${carried.teacherPath ?? `sha256 ${carried.teacher.slice(0, 12)}`})`
          : '';
        if (c.carried.length) log(`projections ${c.carried.join(', ')} start from ${carried.file}${against}`);
        if (c.fresh.length) log(`projections ${c.fresh.join(', ')} start new (${carried.file} has none of their layers and widths)`);
      }
    }
    const features = matches
      ? await TeacherFeatures.open(
          teacherModel!,
          matches.requests,
          threads,
          cacheBytes > 0 ? { dir: join(o.cacheDir ?? userCacheDir(), 'teacher-features'), budgetBytes: cacheBytes, log } : undefined,
          teacherStructure,
        )
      : undefined;
    try {
      result = await train({
        student: current,
        set: trainSet,
        loss: phase.loss,
        teacherLogits: teacher,
        intermediate:
          matches && features
            ? { terms: matches.terms, teacher: features, ...(carried && matches.terms.some((t) => t.projection) ? { carriedFrom: carried.file } : {}) }
            : undefined,
        settings: { ...settings, epochs: phase.epochs, evalEachEpoch: settings.evalEachEpoch && phase.evaluate && !general },
        ...(teacherIdentity ? { teacher: teacherIdentity } : {}),
        version: trainingVersion(isDistill ? 'distill' : 'train'),
        // (each phase trains a student of its own: the next phase's is made from this one's result)
        trainsOnce: true,
        workDir: phases.length > 1 ? join(workDir, `phase-${i + 1}`) : workDir,
        ...(o.otherJob ? { otherJob: o.otherJob } : {}),
        ...(phase.epochsKey ? { epochsKey: phase.epochsKey } : {}),
        signal: o.signal,
        log,
        onStep: o.onStep,
        dev: dev ? { modelConfig, prepared: dev } : undefined,
      });
    } finally {
      await features?.release();
    }
    if (result.interrupted) {
      log(interruptedLine(result.steps, workDir));
      return { interrupted: true, stopped: { checkpoint: true } };
    }
    for (const n of result.threads) if (ranThreads.at(-1) !== n) ranThreads.push(n);
    if (matches?.terms.some(projects)) learned = learnedProjections(matches.terms, phase.matches, result.projections);
    phaseRecords.push({
      name: phase.name,
      loss: phase.loss,
      matches: phase.matches,
      steps: result.steps,
      examplesSeen: result.examplesSeen,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
    });
    examplesTrained += result.examplesPerSecond * result.seconds;
    trainingSeconds += result.seconds;
    // (the next phase's student keeps this one's identity: its checkpoints name no path, as this phase's do not)
    if (i < phases.length - 1)
      current = bertStudent(
        canonicalBert(current.export(result.params)),
        current.description,
        current.identity !== undefined ? { identity: current.identity } : {},
      );
  }
  if (!result) throw new Error('no training phase ran');
  const loss = phases[phases.length - 1].loss;
  const model = io ? withOriginalIo(current.export(result.params), io, { fedByName: student.kind === 'bilstm' }) : current.export(result.params);
  ensureFolder(outDir, label);
  // an earlier run's lineage goes first: a run killed while writing leaves a model without one, never a new model
  // beside a lineage that describes the old (the rerun resumes from the checkpoints and writes both)
  rmSync(lineagePath(o.output), { force: true });
  // (so are an earlier run's projections: a model written by a run that learned none has none beside it)
  rmSync(sidecar, { force: true });
  const saved = saveModel(model, o.output);
  // config.json describes the written model: its shape read from the graph, the task it was trained on and its labels
  // (the general stage trains no head: a classifier sized by --task is written with the task's labels in its output
  // order (the teacher's names where it gives them), but with no finetuning_task)
  const labelled = { task: task!, outputToLabel: set.labelMapping.outputToLabel };
  const fineTuned = general ? (task && !student.encoderOnly ? labelled : null) : labelled;
  // (a new classifier, or one on a student of a teacher without one: the class is the graph's, not a base model's
  // the source config may name)
  const { architectures: _, ...unnamed } = sourceConfig;
  const named = newClassifier || (headlessTeacher && !student.encoderOnly) ? unnamed : sourceConfig;
  // (names nobody knows, read in the task's order: written as the task's names, as transformers' run_glue writes them)
  const { id2label: _names, label2id: _ids, ...nameless } = named;
  const relabelled = ignored?.length && fineTuned ? nameless : named;
  const { config } = outputModelConfig(student.configJson({ ...relabelled, max_length: maxLength }), model, { fineTuned });
  if (general) delete config.finetuning_task;
  const sideFiles = writeOutputSideFiles(o.output, config, tokenizerDir);
  // (the written model hashed once: for the projections' owner and the lineage)
  const outputHash = memoizedSha256();
  if (learned?.size) writeProjections(sidecar, { teacher: teacherIdentity!, student: await modelSha256(o.output, outputHash), projections: learned });
  const lineage: TrainLineage = {
    tool: { name: 'bert-compress', version: toolVersion() },
    createdAt: new Date().toISOString(),
    kind: isDistill ? 'distill' : 'train',
    version: trainingVersion(isDistill ? 'distill' : 'train'),
    ...(task ? { task: task.name } : {}),
    student: {
      spec: o.student,
      description: student.description,
      ...(folder ? { sha256: await hash(locateModel(o.student).onnx) } : {}),
      ...(newClassifier ? { newClassifier } : {}),
      ...(startedFrom.length && carried && !('notCarried' in carried)
        ? {
            projections: {
              from: lineageSourcePath(carried.file),
              matches: startedFrom,
              learnedAgainst: { sha256: carried.teacher, ...(carried.teacherPath ? { path: carried.teacherPath } : {}) },
              ...(carried.otherTeacher ? { otherTeacher: true as const } : {}),
            },
          }
        : {}),
    },
    ...(o.teacher ? { teacher: { path: lineageSourcePath(o.teacher), sha256: teacherSha256! } } : {}),
    data: {
      file: set.file,
      sha256: trainSet.sha256,
      examples: trainSet.examples.length,
      ...(augment > 0 ? { augmented: trainSet.examples.length - set.examples.length } : {}),
      maxLength,
    },
    // (the general stage runs --intermediate-epochs in place of --epochs: the epochs that ran are recorded)
    settings: { ...settings, epochs: phases[phases.length - 1].epochs, threads: ranThreads.at(-1) ?? threads ?? defaultThreads() },
    ...(new Set(ranThreads).size > 1 ? { trainedThreads: ranThreads } : {}),
    ...(distill ? { distill: asUsed(distill, task) } : {}),
    loss,
    phases: phaseRecords,
    steps: phaseRecords.reduce((n, p) => n + p.steps, 0),
    examplesSeen: phaseRecords.reduce((n, p) => n + p.examplesSeen, 0),
    epochs: result.epochs,
    bestEpoch: result.bestEpoch,
    examplesPerSecond: examplesTrained / Math.max(trainingSeconds, 1e-9),
    after: modelSize(model),
    output: {
      path: o.output,
      sha256: await outputHash(o.output),
      ...(saved.data ? { dataFile: saved.data } : {}),
      ...(student.encoderOnly ? { encoderOnly: true } : {}),
      ...(learned?.size ? { projections: sidecar } : {}),
    },
    sideFiles,
  };
  writeFileAtomic(lineagePath(o.output), Buffer.from(JSON.stringify(lineage, null, 2) + '\n'));
  if (!o.keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  return { lineage, interrupted: false };
}
