/**
 * runTraining as the package exports it: its refusals name the options a library caller gives (`settings.lr -1:
 * expected a number greater than 0`, `give newHead to replace its classifier`), where they named the flags of
 * `compress train` and `distill` (`--lr -1`, `give --new-head`), as a sweep's train step names its file's settings
 * (src/flag-names.ts). `compress train`, `distill` and sweep points run runTraining of ./run.ts.
 */
import { namingSettings } from '../flag-names.ts';
import { runTraining as runTrainingNamingFlags, type TrainRunOptions, type TrainRunResult } from './run.ts';

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
  ...Object.fromEntries(
    (
      [
        ['epochs', 'epochs'],
        ['batch-size', 'batchSize'],
        ['lr', 'lr'],
        ['embedding-lr', 'embeddingLr'],
        ['weight-decay', 'weightDecay'],
        ['warmup', 'warmupRatio'],
        ['clip', 'maxGradNorm'],
        ['dropout', 'dropout'],
        ['seed', 'seed'],
        ['checkpoint-every', 'checkpointEvery'],
        ['threads', 'threads'],
      ] as const
    ).map(([flag, key]) => [`--${flag}`, `settings.${key}`]),
  ),
  ...Object.fromEntries(
    (
      [
        ['alpha', 'alpha'],
        ['temperature', 'temperature'],
        ['logit-loss', 'logitLoss'],
        ['stage', 'stage'],
        ['intermediate', 'intermediate'],
        ['layer-map', 'layerMap'],
        ['pkd-weight', 'pkdWeight'],
        ['intermediate-epochs', 'intermediateEpochs'],
        ['intermediate-phase', 'intermediatePhase'],
        ['augment', 'augment'],
        ['corpus', 'corpus'],
      ] as const
    ).map(([flag, key]) => [`--${flag}`, `distill.${key}`]),
  ),
};

/** Fine-tunes or distils a model (see runTraining in ./run.ts), its refusals naming the options given (TRAINING_OPTION_NAMES). */
export function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  return namingSettings(TRAINING_OPTION_NAMES, () => runTrainingNamingFlags(o));
}
