/**
 * `compress distill --teacher T --student S --task TASK -o OUT`: trains a student on a GLUE task from the teacher's
 * outputs (cached) and the labels. The student is a model path, `every-other` (the teacher's even layers),
 * `bert:layers=L,hidden=H,heads=A,intermediate=I` (from scratch) or `bilstm:hidden=H[,embedding=E][,mlp=M]`. General
 * distillation (`--stage general --intermediate …`, TinyBERT's task-agnostic first stage) reads a corpus and needs
 * no --task (from a teacher without a classifier, the student is written encoder-only); the task stage gives a
 * student model with no classifier for the task a new one. Flags, checks, progress and the summary are shared with `train` (src/cli/training.ts).
 */
import type { Argv } from 'yargs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { choiceRefusal, errorLine, SettingsError, typedValueText, UsageError } from '../../errors.ts';
import { parseYamlText } from '../../files.ts';
import { settingText } from '../../pass/settings.ts';
import { getTask } from '../../glue/registry.ts';
import {
  INTERMEDIATE_PRESETS,
  type LayerMapName,
  parseLayerMap,
  parseMatches,
  type IntermediateMatch,
  type IntermediatePreset,
} from '../../train/intermediate.ts';
import { checkFolderFlags, commandLineCheck, missingFlag, type CliCommand } from '../command.ts';
import { checkModelRefs, localModel } from '../model-ref.ts';
import {
  checkedSettings,
  checkStudentSpec,
  checkTaskDataBeforeDownload,
  checkTrainingArgs,
  distillFlags,
  loadTrainingLibrary,
  runTrainingCommand,
  type DistillArgs,
} from '../training.ts';
import type { DistillSettings, TrainRunOptions } from '../../train/run.ts';
import { writtenAsPath } from '../../train/students/spec.ts';
import { isHubRef } from '../../hub/ref.ts';

/** The distillation settings a run is given (TrainRunOptions.distill). */
type DistillOptions = NonNullable<TrainRunOptions['distill']>;

/** The names a --intermediate file of matches is written with: a value of none of them, nor a folder in it, is a mistyped preset. */
const MATCHES_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** --intermediate: a preset name, or a JSON/YAML file holding a list of matches. */
export function readIntermediate(value: string): IntermediatePreset | IntermediateMatch[] {
  const preset = settingText(value) as string; // a preset reads as every word value does (' TinyBERT ' is tinybert)
  if ((INTERMEDIATE_PRESETS as readonly string[]).includes(preset)) return preset as IntermediatePreset;
  // (a path that is no file, none or a folder, in the words of every choice: the path as a shell takes it)
  const notFile = !existsSync(value) ? 'no such file' : statSync(value).isDirectory() ? 'a folder' : undefined;
  if (notFile !== undefined) {
    const line = choiceRefusal('--intermediate', value, INTERMEDIATE_PRESETS, { or: `a JSON or YAML file of matches (${notFile})` });
    // (a value written as no file, a mistyped preset, is a usage mistake, exit 2, as --student's: a file's path, one
    // missing or a folder, is what the command could not read)
    throw notFile === 'no such file' && !writtenAsPath(value, MATCHES_FILE_EXTENSIONS) ? new UsageError(line) : new SettingsError(line);
  }
  let data: unknown;
  try {
    data = parseYamlText(readFileSync(value, 'utf8'));
  } catch (e) {
    throw new SettingsError(`${value}: ${errorLine(e)}`); // (parseYamlText's line: 'not valid YAML: …' only where it is not)
  }
  return parseMatches(data, value);
}

/**
 * --layer-map's value (parseLayerMap), refused naming the flag (`--layer-map '1:x': the student layer 'x': …`) as a
 * usage mistake (exit 2), as every training setting's bad value.
 */
export function readLayerMap(value: string): LayerMapName | Array<[number, number]> {
  return commandLineCheck(() => parseLayerMap(value, `--layer-map ${typedValueText(value)}`));
}

/**
 * --temperature or --logit-loss given where the loss does not read it (distillUse): --temperature where no soft
 * cross-entropy uses it, either where --alpha 1 leaves no teacher term, --logit-loss ce on a regression task (one
 * output has no softmax; --logit-loss mse names the loss it runs): refused on the command line (a sweep file lets
 * them through, since one set of KD settings serves its classification and regression tasks alike).
 */
async function checkTemperature(args: DistillArgs): Promise<void> {
  if (args.stage === 'general') return; // (the general stage refuses both itself)
  const given = (['temperature', 'logitLoss'] as const).filter((k) => (k === 'temperature' ? args.temperature : args['logit-loss']) !== undefined);
  if (given.length === 0) return;
  const task = commandLineCheck(() => getTask(args.task!, 'train'));
  const { DEFAULT_DISTILL_SETTINGS, distillUse } = await loadTrainingLibrary();
  const logitLoss = (args['logit-loss'] ?? DEFAULT_DISTILL_SETTINGS.logitLoss) as DistillSettings['logitLoss'];
  const use = distillUse({ alpha: args.alpha ?? DEFAULT_DISTILL_SETTINGS.alpha, logitLoss, stage: 'task' }, task);
  const unread = given.find((k) => use.unused.includes(k) && !(k === 'logitLoss' && logitLoss === use.logitLoss));
  if (unread === undefined) return;
  const flag = unread === 'temperature' ? '--temperature' : '--logit-loss';
  if (use.because === 'alpha 1')
    throw new UsageError(
      `${flag} applies to the teacher's term of the loss, and --alpha 1 gives it no weight (the labels alone); leave out ${flag}, or give --alpha below 1`,
    );
  if (use.because === 'regression')
    throw new UsageError(
      `${unread === 'temperature' ? flag : `${flag} ${logitLoss}`} applies to classification: ${task.name} is a regression task, its teacher's score distilled by MSE`,
    );
  throw new UsageError('--temperature applies to --logit-loss ce (soft cross-entropy); --logit-loss mse compares raw logits');
}

export const distillCommand: CliCommand<DistillArgs> = {
  command: 'distill',
  describe:
    'Distil a teacher into a student on a GLUE task: prediction-layer KD (soft cross-entropy or logit MSE plus the labels), intermediate layers (TinyBERT, BERT-PKD), data augmentation, general distillation',
  builder: async (y: Argv) => (await distillFlags(y)) as unknown as Argv<DistillArgs>,
  run: async (args) => {
    if (!args.teacher) throw missingFlag('--teacher', 'the model to distil from');
    if (!args.student) throw missingFlag('--student', 'a model path, every-other, bert:… or bilstm:…');
    const general = args.stage === 'general'; // (task-agnostic: --task optional)
    checkTrainingArgs(args, [], general); // the flags, before any download
    checkFolderFlags({ '--cache-dir': args['cache-dir'] });
    checkModelRefs(args.teacher, args.student);
    // (every flag the teacher need not be read for, before an hf: model's download: the student's form, the settings,
    // the corpus file)
    if (!isHubRef(args.student)) await checkStudentSpec(args.student); // (an hf: student is a model path once downloaded)
    await checkTemperature(args);
    const distill: DistillOptions = {
      alpha: args.alpha,
      temperature: args.temperature,
      logitLoss: args['logit-loss'] as 'ce' | 'mse' | undefined,
      stage: args.stage as 'task' | 'general',
      ...(args.intermediate ? { intermediate: readIntermediate(args.intermediate) } : {}),
      ...(args['layer-map'] !== undefined ? { layerMap: readLayerMap(args['layer-map']) } : {}),
      ...(args['pkd-weight'] !== undefined ? { pkdWeight: args['pkd-weight'] } : {}),
      ...(args['intermediate-epochs'] !== undefined ? { intermediateEpochs: args['intermediate-epochs'] } : {}),
      ...(args['intermediate-phase'] !== undefined ? { intermediatePhase: args['intermediate-phase'] as 'first' | 'joint' } : {}),
      augment: args.augment,
      ...(args.corpus ? { corpus: args.corpus } : {}),
    };
    // (megabytes whose bytes pass float64's range, 1e303: no limit, as the largest number, where Infinity was refused in
    // the words of the library's option, 'featureCacheBytes Infinity', which the command line does not take)
    const featureCacheBytes = Math.min(args['feature-cache-mb'] * 2 ** 20, Number.MAX_VALUE);
    const settings = await checkedSettings(args, { distill, featureCacheBytes });
    if (general && args.corpus !== undefined) (await import('../../train/corpus.ts')).checkCorpusPath(args.corpus);
    checkTaskDataBeforeDownload(args, [args.teacher, args.student], general);
    const teacher = await localModel(args.teacher);
    const student = await localModel(args.student); // a spec (every-other, bert:…) stays as it is
    checkTrainingArgs(args, [teacher, student], general);
    return runTrainingCommand(args, settings, {
      teacher,
      student,
      distill,
      maxExamples: args['max-examples'],
      maxLength: args['max-length'],
      glueDir: args['glue-dir'],
      tokenizer: args.tokenizer,
      cacheDir: args['cache-dir'],
      featureCacheBytes,
    });
  },
};
