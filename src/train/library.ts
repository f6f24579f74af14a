/**
 * runTraining as the package exports it: its refusals name the options a library caller gives (`settings.lr -1:
 * expected a number greater than 0`, `give newHead to replace its classifier`), where they named the flags of
 * `compress train` and `distill` (`--lr -1`, `give --new-head`), as a sweep's train step names its file's settings
 * (src/flag-names.ts). `compress train`, `distill` and sweep points run runTraining of ./run.ts.
 */
import { SettingsError } from '../errors.ts';
import { namingSettings } from '../flag-names.ts';
import { checkOptionKinds, checkOptions, type OptionKind, type OptionKinds } from '../library-args.ts';
import { LOCAL_MODEL } from '../hub/ref.ts';
import { runTraining as runTrainingNamingFlags, type DistillSettings, type TrainRunOptions, type TrainRunResult } from './run.ts';
import type { TrainSettings } from './trainer.ts';

/** A string, or a list (of matches, of layer pairs): what distill.intermediate and layerMap take, read further by checkSettings. */
const WORD_OR_LIST: OptionKind = { is: (v) => typeof v === 'string' || Array.isArray(v), expected: 'a preset name or a list' };

/** runTraining's options by their kinds (checkOptionKinds), before any work; numbers and words read by checkSettings. */
const TRAINING_OPTION_KINDS = {
  task: 'string',
  student: { kind: 'string', ...LOCAL_MODEL },
  teacher: { kind: 'string', ...LOCAL_MODEL },
  output: 'string',
  newHead: 'boolean',
  force: 'boolean',
  settings: {
    options: {
      epochs: 'checked',
      batchSize: 'checked',
      lr: 'checked',
      weightDecay: 'checked',
      warmupRatio: 'checked',
      maxGradNorm: 'checked',
      dropout: 'checked',
      seed: 'checked',
      checkpointEvery: 'checked',
      evalEachEpoch: 'boolean',
      threads: 'checked',
      sparseEmbeddings: 'boolean',
      embeddingLr: 'checked',
    } satisfies Record<keyof TrainSettings, OptionKind>,
  },
  distill: {
    options: {
      alpha: 'checked',
      temperature: 'checked',
      logitLoss: 'checked',
      stage: 'checked',
      intermediate: WORD_OR_LIST,
      layerMap: WORD_OR_LIST,
      pkdWeight: 'checked',
      intermediateEpochs: 'checked',
      intermediatePhase: 'checked',
      augment: 'checked',
      corpus: 'string',
    } satisfies Record<keyof DistillSettings, OptionKind>,
  },
  maxExamples: 'checked',
  maxLength: 'checked',
  glueDir: 'string',
  tokenizer: { kind: 'string', ...LOCAL_MODEL },
  cacheDir: 'string',
  featureCacheBytes: 'checked',
  workDir: 'string',
  keepWorkDir: 'boolean',
  otherJob: ['refuse', 'start-over'],
  signal: 'signal',
  log: 'function',
  onStep: 'function',
} as const satisfies Record<keyof TrainRunOptions, OptionKind> satisfies OptionKinds;

/**
 * The flag of `compress train` / `distill` that sets each TrainSettings key as it is (not sparseEmbeddings, whose
 * --dense-embeddings is its opposite): the words of runTraining's refusals (checkSettings names the flags) by option.
 */
export const TRAIN_SETTING_FLAGS: Readonly<Partial<Record<keyof TrainSettings, string>>> = {
  epochs: '--epochs',
  batchSize: '--batch-size',
  lr: '--lr',
  embeddingLr: '--embedding-lr',
  weightDecay: '--weight-decay',
  warmupRatio: '--warmup',
  maxGradNorm: '--clip',
  dropout: '--dropout',
  seed: '--seed',
  checkpointEvery: '--checkpoint-every',
  threads: '--threads',
};

/** The flag of `compress distill` that sets each DistillSettings key (TRAIN_SETTING_FLAGS' twin for distill). */
export const DISTILL_SETTING_FLAGS: Readonly<Record<keyof DistillSettings, string>> = {
  alpha: '--alpha',
  temperature: '--temperature',
  logitLoss: '--logit-loss',
  stage: '--stage',
  intermediate: '--intermediate',
  layerMap: '--layer-map',
  pkdWeight: '--pkd-weight',
  intermediateEpochs: '--intermediate-epochs',
  intermediatePhase: '--intermediate-phase',
  augment: '--augment',
  corpus: '--corpus',
};

/** `flags` (an option key → its flag) as flag → `prefix` and key. */
function namesOf(flags: Readonly<Record<string, string | undefined>>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(flags).flatMap(([key, flag]) => (flag === undefined ? [] : [[flag, `${prefix}${key}`]])));
}

/**
 * runTraining's options by the flags of `compress train` / `distill` its refusals name: the flags that set an option
 * as it is (not --feature-cache-mb, in other units than featureCacheBytes, nor --dense-embeddings, the opposite of
 * settings.sparseEmbeddings, nor the flags of `compress` its advice names, --quantize, --optimize).
 */
export const TRAINING_OPTION_NAMES: Readonly<Record<string, string>> = {
  '--task': 'task',
  '--student': 'student',
  // (`-o OUT`: its refusals of the output, '-o OUT: OUT is a folder; give a file name', 'give another -o')
  '-o': 'output',
  '--teacher': 'teacher',
  '--new-head': 'newHead',
  '--force': 'force',
  '--max-examples': 'maxExamples',
  '--max-length': 'maxLength',
  '--glue-dir': 'glueDir',
  '--tokenizer': 'the tokenizer option',
  '--cache-dir': 'cacheDir',
  '--work-dir': 'workDir',
  ...namesOf(TRAIN_SETTING_FLAGS, 'settings.'),
  ...namesOf(DISTILL_SETTING_FLAGS, 'distill.'),
  // (phrases that read well in a library caller's words: 'an --intermediate preset' is not 'an distill.intermediate
  // preset'; a refusal naming the commands, compress train and distill, names what tells them apart in the call)
  'an --intermediate preset': 'a distill.intermediate preset',
  // (--feature-cache-mb's refusal without intermediate KD, which names no value in its megabytes)
  '--feature-cache-mb applies with --intermediate': 'featureCacheBytes applies with distill.intermediate',
  '--new-head is for compress train: compress distill gives a student model a new classifier where its own is not for --task':
    'newHead is for fine-tuning on the labels (no teacher): with a teacher, runTraining gives a student model a new classifier where its own is not for task',
};

/**
 * Fine-tunes or distils a model (see runTraining in ./run.ts), its refusals naming the options given
 * (TRAINING_OPTION_NAMES). Distillation settings without a teacher are refused: the run fine-tuned on the labels alone,
 * its `distill` unread, with no word said (`compress distill` needs --teacher; a sweep's distill step always has one).
 */
export function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  return namingSettings(TRAINING_OPTION_NAMES, async () => {
    checkOptionKinds('runTraining', checkOptions('runTraining', o, '{student, output, task, …}'), TRAINING_OPTION_KINDS);
    if (o.distill !== undefined && o.teacher === undefined)
      throw new SettingsError('distill: given without teacher; give teacher, the model to distil from (or leave distill out to fine-tune on the labels)');
    return runTrainingNamingFlags(o);
  });
}
