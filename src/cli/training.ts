/**
 * What `compress train` and `compress distill` share: the training flags (defaults read from the library), the
 * checks that refuse bad settings before any work, Ctrl-C handling, and the summary. Training itself is the
 * library's `runTraining` (src/train/run.ts), loaded only when one of these commands runs.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { checkModelOutputName, realPathOf } from '../export/destination.ts';
import type { Argv } from 'yargs';
import { choiceRefusal, counted, groupedDigits, quotedText, SettingsError, UsageError } from '../errors.ts';
import { settingWord } from '../pass/settings.ts';
import { parseEmbeddingLr } from '../train/embedding-lr.ts';
import { locateModel } from '../onnx/locate.ts';
import { floatFolderFile } from '../eval/model-files.ts';
import { integerFlags, numberFlags } from './flag-values.ts';
import { checkTokenizerRef } from './model-ref.ts';
import { getTask, singleTaskNames } from '../glue/registry.ts';
import { checkSplitFound } from '../glue/dataset.ts';
import { glueDirOf } from '../glue/glue-dir.ts';
import { isHubRef } from '../hub/ref.ts';
import type { TrainLineage, TrainRunOptions } from '../train/run.ts';
import type { EpochRecord, TrainSettings } from '../train/trainer.ts';
import { METRIC_SHORT_NAMES, type MetricValues } from '../eval/metrics/metric.ts';
import { FORCE_FLAG, MAX_LENGTH_FLAG, commandLineCheck, listenForStop, missingFlag, out, err, tokenizerFlag } from './command.ts';
import { createTrainingProgress } from './training-progress.ts';
import { formatMB, times100 } from '../units.ts';
import { SIZED_STUDENT_FORMS, writtenAsPath } from '../train/students/spec.ts';
import { devScoreText, undefinedScoreText } from '../train/dev-score-words.ts';

/** Flags of both commands. */
export interface TrainingArgs {
  task?: string;
  output?: string;
  epochs: number;
  'batch-size': number;
  lr: number;
  'embedding-lr'?: string;
  'weight-decay': number;
  warmup: number;
  clip: number;
  dropout: number;
  seed: number;
  'max-examples'?: number;
  'max-length'?: number;
  'checkpoint-every': number;
  threads: number;
  'dense-embeddings': boolean;
  'glue-dir'?: string;
  tokenizer?: string;
  force: boolean;
  json: boolean;
}

/** The flags only `compress distill` has. */
export interface DistillArgs extends TrainingArgs {
  teacher?: string;
  student?: string;
  alpha?: number;
  temperature?: number;
  'logit-loss'?: string;
  'cache-dir'?: string;
  stage: string;
  intermediate?: string;
  'layer-map'?: string;
  'pkd-weight'?: number;
  'intermediate-epochs'?: number;
  'intermediate-phase'?: string;
  augment: number;
  corpus?: string;
  'feature-cache-mb': number;
}

/** The library modules, loaded when a training command runs (or its flags are listed). */
export async function loadTrainingLibrary() {
  const [run, trainer] = await Promise.all([import('../train/run.ts'), import('../train/trainer.ts')]);
  return { ...run, DEFAULT_TRAIN_SETTINGS: trainer.DEFAULT_TRAIN_SETTINGS };
}

/**
 * Adds the flags of both commands, each defaulting to the library's DEFAULT_TRAIN_SETTINGS; `tokenizerFrom` says where
 * the command reads its tokenizer when --tokenizer is not given.
 */
export async function trainingFlags(y: Argv, tokenizerFrom: string): Promise<Argv> {
  const { DEFAULT_TRAIN_SETTINGS: d, TRAINING_INTEGER_RANGES: i, TRAINING_NUMBER_RANGES: r } = await loadTrainingLibrary();
  const integers = {
    epochs: i.epochs,
    'batch-size': i.batchSize,
    seed: i.seed,
    'max-examples': i.maxExamples,
    'max-length': i.maxLength,
    'checkpoint-every': i.checkpointEvery,
    threads: i.threads,
  };
  const numbers = { lr: r.lr, 'weight-decay': r.weightDecay, warmup: r.warmupRatio, clip: r.maxGradNorm, dropout: r.dropout };
  return numberFlags(integerFlags(y, integers), numbers)
    .option('task', { type: 'string', describe: `GLUE task to train on (${singleTaskNames('train').join(', ')})` })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'output .onnx file (config.json and tokenizer beside it, lineage in OUT.json, checkpoints in OUT.train/)',
    })
    .option('epochs', { type: 'number', default: d.epochs, describe: 'passes over the training set (a whole number)' })
    .option('batch-size', { type: 'number', default: d.batchSize, describe: 'examples per optimizer step' })
    .option('lr', { type: 'number', default: d.lr, describe: 'peak learning rate (AdamW, linear warmup then linear decay)' })
    .option('embedding-lr', {
      type: 'string',
      describe:
        "peak lr of the word-embedding table: a number, or 'scaled' (--lr times the table's RMS over the weight matrices' RMS: for tables initialised far larger than the matrices, as torch's nn.Embedding's N(0,1)); default --lr",
    })
    .option('weight-decay', { type: 'number', default: d.weightDecay, describe: 'AdamW weight decay' })
    .option('warmup', { type: 'number', default: d.warmupRatio, describe: 'warmup steps as a fraction of all steps' })
    .option('clip', { type: 'number', default: d.maxGradNorm, describe: 'clip the global gradient norm to this (0: no clipping)' })
    .option('dropout', { type: 'number', default: d.dropout, describe: 'dropout probability (0: none)' })
    .option('seed', { type: 'number', default: d.seed, describe: 'seed of the data order, dropout, subset and new weights' })
    .option('max-examples', { type: 'number', describe: 'train on this many examples (a seeded subset; default all)' })
    .option('max-length', MAX_LENGTH_FLAG)
    .option('checkpoint-every', {
      type: 'number',
      default: d.checkpointEvery,
      describe: 'steps between checkpoints (0: epoch ends only); a rerun resumes from the last one',
    })
    .option('threads', { type: 'number', default: d.threads, describe: 'onnxruntime intra-op threads (0: one per physical core)' })
    .option('dense-embeddings', {
      type: 'boolean',
      default: !d.sparseEmbeddings,
      describe: 'dense embedding gradients and AdamW on every row each step (torch semantics; slower) instead of row-sparse lazy updates',
    })
    .option('glue-dir', { type: 'string', describe: 'GLUE data folder (default $GLUE_DIR, else ../shared/glue)' })
    .option('tokenizer', tokenizerFlag(`for the data and the output folder (default: ${tokenizerFrom})`))
    .option('force', FORCE_FLAG)
    .option('json', { type: 'boolean', default: false, describe: 'print the lineage record (OUT.json) as JSON instead of the summary' });
}

/** The --student forms other than a model path, as --help names them. */
const STUDENT_FORMS = `every-other, ${SIZED_STUDENT_FORMS}`;

/** Adds the distillation flags, defaulting to the library's DEFAULT_DISTILL_SETTINGS. */
export async function distillFlags(y: Argv): Promise<Argv> {
  const {
    DEFAULT_DISTILL_SETTINGS: d,
    DEFAULT_PKD_WEIGHT,
    DISTILL_WORDS: words,
    DEFAULT_CACHE_DIR_RULE,
    TRAINING_INTEGER_RANGES: i,
    TRAINING_NUMBER_RANGES: r,
    FEATURE_CACHE_MB_RANGE,
  } = await loadTrainingLibrary();
  // a word flag reads as its word whatever its case (' CE ' is ce); any other value stays as typed, for the refusal
  const withModels = y
    .option('teacher', { type: 'string', describe: 'the teacher: .onnx file, model folder or hf:org/name[@revision] (its tokenizer and labels are used)' })
    .option('student', {
      type: 'string',
      describe: `a model path or hf:org/name[@revision], ${STUDENT_FORMS}`,
    });
  return (
    numberFlags(integerFlags(await trainingFlags(withModels, "the teacher's folder"), { 'intermediate-epochs': i.intermediateEpochs, augment: i.augment }), {
      alpha: r.alpha,
      temperature: r.temperature,
      'pkd-weight': r.pkdWeight,
      'feature-cache-mb': FEATURE_CACHE_MB_RANGE,
    })
      // No yargs defaults for the flags that apply only to some runs: the library fills them, and refuses one given
      // where it would be ignored (--alpha with --stage general, --pkd-weight without a PKD preset).
      .option('alpha', { type: 'number', describe: `weight of the hard-label loss; 1 - alpha goes to the teacher term (default ${d.alpha})` })
      .option('temperature', { type: 'number', describe: `softmax temperature of the teacher term (--logit-loss ce; default ${d.temperature})` })
      .option('logit-loss', {
        type: 'string',
        coerce: (v: unknown) => settingWord(v, words.logitLoss),
        describe: `teacher term: ce (soft cross-entropy) | mse (MSE between logits) (default ${d.logitLoss})`,
      })
      .option('cache-dir', { type: 'string', describe: `teacher logits cache (default ${DEFAULT_CACHE_DIR_RULE})` })
      .option('stage', {
        type: 'string',
        default: d.stage,
        coerce: (v: unknown) => settingWord(v, words.stage),
        describe:
          "task: KD on --task (intermediate KD first when --intermediate, then prediction KD); a student with no classifier for the task (a bare encoder, another width, another task's labels) gets a new one, seeded from --seed. general: intermediate KD only, on --corpus, no labels, no --task needed; a --task given only sizes the student's classifier (a new one where it has none or another width, which config.json names with the task's labels); with no --task the student keeps the teacher's classifier (a student model its own), and from a teacher without a classifier it is written encoder-only (BertModel)",
      })
      .option('intermediate', {
        type: 'string',
        describe: 'intermediate-layer matches: tinybert, pkd-skip, pkd-last, or a JSON/YAML file of {teacherLayer, studentLayer, feature, loss, weight}',
      })
      .option('layer-map', {
        type: 'string',
        coerce: (v: unknown) => settingWord(v, words.layerMap),
        describe: 'layer map of a preset: uniform | skip | last | teacher:student pairs (3:1,6:2)',
      })
      .option('pkd-weight', {
        type: 'number',
        describe: `BERT-PKD's beta: the weight of the patient loss (the mean of the PKD terms over the matched layers) of --intermediate pkd-skip / pkd-last (default ${DEFAULT_PKD_WEIGHT})`,
      })
      .option('intermediate-epochs', {
        type: 'number',
        describe: 'epochs of the intermediate phase of the task stage, and of the general stage (default: --epochs)',
      })
      .option('intermediate-phase', {
        type: 'string',
        coerce: (v: unknown) => settingWord(v, words.intermediatePhase),
        describe:
          'first: intermediate KD alone, then prediction KD (TinyBERT; default) | joint: both losses in one phase (BERT-PKD; default of the pkd presets)',
      })
      .option('augment', {
        type: 'number',
        default: d.augment,
        describe:
          "TinyBERT data augmentation: variants per example from the teacher's word-embedding neighbours (labels: the teacher's; with --alpha > 0 the hard-label term reads the original examples only)",
      })
      .option('feature-cache-mb', {
        type: 'number',
        default: 0,
        describe:
          'MB the on-disk cache of teacher intermediate features (under --cache-dir) may hold in all; batches past it are computed, not stored (0: no cache); pays off when a run is rerun or resumed',
      })
      .option('corpus', {
        type: 'string',
        describe: '--stage general: a text file, one sentence (or tab-separated pair) per line (default: every GLUE train/dev sentence present)',
      })
  );
}

/** `settings` of TrainRunOptions from the flags. */
function settingsOf(a: TrainingArgs): Partial<TrainSettings> {
  return {
    epochs: a.epochs,
    batchSize: a['batch-size'],
    lr: a.lr,
    embeddingLr: a['embedding-lr'] === undefined ? undefined : parseEmbeddingLr(a['embedding-lr']),
    weightDecay: a['weight-decay'],
    warmupRatio: a.warmup,
    maxGradNorm: a.clip,
    dropout: a.dropout,
    seed: a.seed,
    checkpointEvery: a['checkpoint-every'],
    threads: a.threads,
    sparseEmbeddings: !a['dense-embeddings'],
  };
}

/**
 * The checks the CLI makes before calling the library (which checks the settings, the student, the vocabulary and
 * the task's outputs itself, also before any work): flags present, numbers in range, the output not overwriting
 * an input model or its folder's files (an empty value is refused before: src/cli/flag-values.ts). --task may be
 * left out of general distillation (`general`), which reads a corpus for no task.
 */
export function checkTrainingArgs(a: TrainingArgs, inputs: ReadonlyArray<string | undefined>, general = false): void {
  if (!a.task && !general) throw missingFlag('--task', 'the GLUE task to train on (e.g. --task SST-2)');
  checkTokenizerRef(a.tokenizer);
  if (a.task) commandLineCheck(() => getTask(a.task!, 'train'));
  if (!a.output) throw missingFlag('-o/--output', 'where to write the trained model (e.g. -o out/model.onnx)');
  const output = resolve(a.output);
  if (existsSync(output) && statSync(output).isDirectory()) {
    throw new UsageError(`-o ${a.output} is a folder: give the .onnx file to write (e.g. ${a.output.replace(/\/+$/, '')}/model.onnx)`);
  }
  commandLineCheck(() => checkModelOutputName(a.output!));
  // by real paths: a symlinked folder or file leading to an input is that input
  const realOutput = realPathOf(output);
  for (const input of inputs) {
    if (!input || !existsSync(input)) continue;
    const where = locateModel(input);
    if (realOutput === realPathOf(where.onnx)) throw new UsageError(`-o ${a.output}: refusing to overwrite the input model ${input}`);
    if (dirname(realOutput) === realPathOf(where.dir)) {
      throw new UsageError(
        `-o ${a.output}: the folder of the input model ${input} would get the output's config.json and tokenizer files; write to another folder`,
      );
    }
  }
}

/**
 * The GLUE files a task's run reads, its train and dev splits (checkSplitFound: a stat each), checked before an `hf:`
 * model among `refs` is downloaded: a missing one refused in its line (exit 1), not after the download. A local
 * model's own refusal comes first, as the library reads the model before the data; the general stage reads no split.
 */
export function checkTaskDataBeforeDownload(a: TrainingArgs, refs: ReadonlyArray<string | undefined>, general = false): void {
  if (!a.task || general || !refs.some((r) => r !== undefined && isHubRef(r))) return;
  const task = getTask(a.task, 'train');
  const glueDir = glueDirOf(a['glue-dir']);
  for (const split of ['train', 'dev'] as const) checkSplitFound(task, split, glueDir);
}

/**
 * The --student spec checked for form before any model is read: a path that exists, or a spec the library builds
 * from the teacher (every-other, bert:…, bilstm:…) that its parsers accept; a missing path (one naming a folder or
 * an .onnx file) is said to be missing rather than listed with the forms.
 */
export async function checkStudentSpec(spec: string): Promise<void> {
  const students = await import('../train/students/index.ts');
  // (a spec's form is the command line's: its refusal a usage mistake)
  // (named as the flag's other refusals name it: '--student 'bert:layers=x': …', as '--student 'ever-other': …')
  if (students.isStudentSpec(spec)) commandLineCheck(() => students.checkStudentSpec(spec, `--student ${quotedText(spec)}`));
  else if (!existsSync(spec)) {
    // (a spec written as a path, with a folder or an .onnx name, is a missing model, not a mistyped form)
    if (writtenAsPath(spec)) throw new SettingsError(`--student ${spec}: no such file or folder`);
    // (in the words of every choice, the value as a shell takes it: '--student ever-other: not a model path, …' showed it bare;
    // a usage mistake, as a bert:… spec's form is: README's exit 2 for a --student spec's form, where it exited 1 as a
    // file that could not be read)
    throw new UsageError(choiceRefusal('--student', spec, ['every-other'], { or: `a model path, ${SIZED_STUDENT_FORMS}` }));
  }
}

/**
 * The SIGINT / SIGTERM handler: the first signal aborts (a training run stops after its step and checkpoints; `stopping`
 * words what stops for other commands), the second quits. `how` names the signal as the user would send it again.
 */
export function ctrlC(on: {
  abort(): void;
  log(line: string): void;
  quit(): void;
  /** The line the first signal prints (default: a training run's, which stops after its step or batch, keeping a checkpoint). */
  stopping?: (how: string) => string;
}): (how?: string) => void {
  let pressed = 0;
  return (how = 'Ctrl-C') => {
    if (++pressed === 1) {
      on.abort();
      on.log(on.stopping ? on.stopping(how) : `stopping after this step or batch, keeping finished work (${how} again to quit at once)`);
    } else {
      on.quit();
    }
  };
}

/**
 * The run's settings from the flags, their values, ranges and combinations checked with the distillation settings and
 * the feature cache's bytes the command gives (`given`): the command line's alone, a refusal a usage mistake (exit 2,
 * nothing on stdout). Each command calls it before it reads or downloads a model: a typo is refused before an hf:
 * model's download.
 */
export async function checkedSettings(a: TrainingArgs, given: Pick<TrainRunOptions, 'distill' | 'featureCacheBytes'> = {}): Promise<Partial<TrainSettings>> {
  const lib = await loadTrainingLibrary();
  const settings = commandLineCheck(() => settingsOf(a));
  commandLineCheck(() => lib.checkSettings(settings, given.distill));
  commandLineCheck(() => lib.checkFeatureCacheBytes(given.featureCacheBytes, given.distill));
  return settings;
}

/** Runs the library with Ctrl-C handling and prints the result; resolves to the exit code. `settings`: checkedSettings'. */
export async function runTrainingCommand(
  a: TrainingArgs,
  settings: Partial<TrainSettings>,
  options: Omit<TrainRunOptions, 'output' | 'task' | 'signal' | 'log' | 'onStep' | 'settings'>,
): Promise<number> {
  const lib = await loadTrainingLibrary();
  const output = a.output!;
  // (a transformers.js folder as teacher or student: its float onnx/model.onnx, whichever dtype its config.json names)
  for (const path of [options.teacher, options.student]) {
    const onnx = path && existsSync(path) ? locateModel(path).onnx : undefined;
    const read = onnx ? floatFolderFile(path!, onnx) : undefined;
    if (read && !a.json) out(`read ${onnx} ${read}`);
  }
  const progress = createTrainingProgress();
  const controller = new AbortController();
  // SIGTERM (timeout, docker stop, systemd) stops the run as Ctrl-C does, after its step and a checkpoint; the exit
  // status then says which signal it was (130, 143)
  const stop = ctrlC({
    abort: () => controller.abort(),
    log: (line) => progress.log(line),
    quit: () => {
      progress.stop();
      err(`compress: stopped; rerun the same command to resume from the last checkpoint in ${output}.train`);
      process.exit(signals.exitCode());
    },
  });
  const signals = listenForStop(stop);
  let result: Awaited<ReturnType<typeof lib.runTraining>>;
  try {
    result = await lib.runTraining({
      ...options,
      ...(a.task ? { task: a.task } : {}),
      output,
      force: a.force,
      settings,
      signal: controller.signal,
      log: (line) => progress.log(line),
      onStep: (p) => progress.step(p),
    });
  } finally {
    progress.stop();
    signals.remove();
  }
  if (result.interrupted || !result.lineage) return signals.exitCode();
  if (a.json) out(JSON.stringify(result.lineage, null, 2));
  else for (const line of formatSummary(result.lineage, outputBytes(result.lineage.output))) out(line);
  return 0;
}

/** The bytes on disk of a written model: its .onnx and, when its weights are external, their data file. */
export function outputBytes(output: TrainLineage['output']): number {
  return statSync(output.path).size + (output.dataFile ? statSync(output.dataFile).size : 0);
}

/**
 * The human summary: what was trained, the steps (of all phases, each phase's named), one row per epoch (loss, dev
 * metrics ×100) of each phase, the best epoch, the output.
 */
export function formatSummary(l: TrainLineage, fileBytes: number): string[] {
  const phases = l.phases?.length ? l.phases : [{ name: '', steps: l.steps, epochs: l.epochs, bestEpoch: l.bestEpoch }];
  const teacher = l.teacher ? ` from ${l.teacher.path}` : '';
  // the epochs each phase ran (an intermediate phase runs --intermediate-epochs), and its steps
  const epochs =
    phases.length === 1 ? counted(phases[0]!.epochs.length, 'epoch', { grouped: true }) : `(${phases.map((p) => p.epochs.length).join(' + ')}) epochs`;
  const augmented = l.data.augmented ? ` (${groupedDigits(l.data.examples - l.data.augmented)} + ${groupedDigits(l.data.augmented)} augmented)` : '';
  const perPhase =
    phases.length === 1 ? '' : ` (${phases.map((p) => `${groupedDigits(p.steps)} ${p.name.split(' ')[0]!.replace(/-layer$/, '')}`).join(' + ')})`;
  const what = l.distill?.stage === 'general' ? `general distillation${l.task ? ` (classifier for ${l.task})` : ''}` : l.task;
  const lines = [
    `${l.kind} ${what}: ${l.student.description}${teacher}`,
    `${counted(l.data.examples, 'example', { grouped: true })}${augmented} × ${epochs} = ${counted(l.steps, 'step', { grouped: true })}${perPhase}, ${l.examplesPerSecond.toFixed(0)} ex/s`,
  ];
  for (const [i, phase] of phases.entries()) {
    lines.push('');
    if (phases.length > 1) lines.push(`phase ${i + 1} of ${phases.length}: ${phase.name}`);
    lines.push(...epochTable(phase.epochs, phase.bestEpoch));
  }
  const best = l.epochs.find((e) => e.epoch === l.bestEpoch);
  lines.push(
    '',
    // (no dev score: nothing chose among the epochs, the last one's model is written; no defined one, as every epoch's
    // Pearson of constant STS-B references: nothing chose either, the first is kept: beatsBest)
    best?.score === undefined
      ? `kept the last epoch (${l.bestEpoch}): no dev evaluation`
      : Number.isNaN(best.score)
        ? `kept epoch ${l.bestEpoch}: ${undefinedScoreText(l.task, best)}`
        : `best epoch: ${l.bestEpoch} (${devScoreText(l.task, best)})`,
    `wrote ${l.output.path}${l.output.dataFile ? ` with its weights in ${l.output.dataFile}` : ''} (${formatMB(fileBytes)}, ${groupedDigits(l.after.params)} parameters${l.output.encoderOnly ? '; encoder only, no classifier: outputs last_hidden_state, pooler_output' : ''}) and ${l.output.path}.json${besideModel(l)}`,
  );
  return lines;
}

/** The side files written beside the model, as `compress` says them: ` (and beside them: config.json …; from DIR: tokenizer files)`. */
function besideModel(l: TrainLineage): string {
  const side = l.sideFiles;
  if (!side) return '';
  const tokenizer = side.tokenizer.files.length
    ? [`from ${resolve(side.tokenizer.from) === resolve(side.folder) ? 'that folder' : side.tokenizer.from}: ${side.tokenizer.files.join(', ')}`]
    : [];
  // (the projections a distill run from this model starts from, whichever its teacher: the task stage after the general one)
  const projections = l.output.projections ? [`${basename(l.output.projections)}: the projections to the teacher's width it learned`] : [];
  return ` (and beside them: ${[`${side.config} of this model`, ...tokenizer, ...projections].join('; ')})`;
}

/** Epoch, mean training loss, each dev metric ×100, seconds; the best epoch marked when there are several ('kept' where no epoch's score is defined). */
function epochTable(epochs: readonly EpochRecord[], bestEpoch: number): string[] {
  const metricNames = [...new Set(epochs.flatMap((e) => Object.keys(e.metrics ?? {})))] as Array<keyof MetricValues>;
  const header = ['epoch', 'train loss', ...metricNames.map((m) => `dev ${METRIC_SHORT_NAMES[m] ?? m}`), 'seconds', ''];
  const rows = epochs.map((e) => [
    String(e.epoch),
    e.loss.toFixed(4),
    ...metricNames.map((m) => times100(e.metrics?.[m], '-')),
    e.seconds.toFixed(1),
    // (an epoch kept where no epoch's score is defined was chosen by none: beatsBest keeps the first)
    e.epoch === bestEpoch && epochs.length > 1 && e.score !== undefined ? (Number.isNaN(e.score) ? 'kept' : 'best') : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
