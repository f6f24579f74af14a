/**
 * The GLUE evaluation harness. `evaluate` takes a model (an .onnx path or model folder, serialized model bytes, or
 * an opened Session), a task list and a split, and returns per-task metrics, timings, predictions and the GLUE
 * score. The steps are separate so a sweep can tokenize a task once (`prepareTask`) and score many models on it
 * (`scoreTask`).
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { existsSync } from 'node:fs';
import { checkIntegerFlag, choiceRefusal, counted, DataError, SettingsError, valueText } from '../errors.ts';
import { glueDirOf } from '../glue/glue-dir.ts';
import { loadSplit, officialRowsNote, skippedRowsNote, checkSplitFound, type GlueDataset } from '../glue/dataset.ts';
import { lookupTasks, normalizeTaskName, resolveTasks, taskNameList } from '../glue/registry.ts';
import { trainingTask, type Split, type TaskDefinition } from '../glue/tasks.ts';
import { checkThreads, openSession, type Session } from '../runtime/session.ts';
import { glueScore, type GlueScore } from './glue-score.ts';
import { anotherTasksLabels, ignoredLabelsNote, mapModelLabels, type LabelMapping } from './labels.ts';
import { computeTaskMetrics, undefinedMetrics } from './metrics/index.ts';
import type { MetricValues, UndefinedMetrics } from './metrics/metric.ts';
import { EMPTY_MODEL_CONFIG, locateRunModel, readModelConfig, type ModelConfig, type RunModelLocation } from './model-files.ts';
import type { ModelLocation } from '../onnx/locate.ts';
import { decodeModel, loadModel } from '../onnx/load.ts';
import { sessionInputs, type ModelInput } from '../bert/model-inputs.ts';
import { GIVE_CLASSIFIER, encoderOnlyNote, isEncoderOnly, newHeadAdvice, noClassifierWay } from '../bert/classifier.ts';
import { storedQuantized } from '../bert/stored-quantized.ts';
import { quantizedFrom } from '../bench/lineage.ts';
import {
  checkConfigLabels,
  checkConfigLengthRoom,
  checkEncodings,
  checkTemplateTypes,
  checkTextKind,
  checkMaxLength,
  checkModelLengthRoom,
  chooseMaxLength,
  graphFacts,
  lengthLimits,
  namedOtherHead,
  otherHeadLine,
  outputsLine,
  type GraphFacts,
} from './graph-checks.ts';
import type { Model } from '../onnx/graph.ts';
import { predictRows, type OutputRows } from './predict.ts';
import { checkBatchFits } from './batching.ts';
import { checkSubmissionFiles, writeSubmission } from './submission.ts';
import { loadTokenizer, unknownTokensNote, type TextEncoding, type TextTokenizer } from './tokenizer.ts';
import { checkOptions } from '../library-args.ts';
import { cpuInfo, int8Saturates } from '../bench/machine.ts';
import { exactInt8Graph, saturatingInt8Weights } from '../runtime/int8-products.ts';
import { encodeModel } from '../onnx/save.ts';

/** The splits evaluation runs on (train is for training, not evaluation). */
export type EvalSplit = Extract<Split, 'dev' | 'test'>;

export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_MAX_LENGTH = 128;

/**
 * The length to tokenize at when neither the user nor config.json's `max_length` gives one: 128, capped at the
 * tokenizer's `model_max_length` (tokenizer_config.json) when that is smaller, as Hugging Face's run_glue does.
 */
export function defaultMaxLength(modelMaxLength: number | null | undefined): number {
  return Math.min(DEFAULT_MAX_LENGTH, modelMaxLength ?? DEFAULT_MAX_LENGTH);
}

/** Progress of one task: `done` of `total` examples scored (`done` is 0 when the task starts). */
export interface ProgressEvent {
  readonly task: TaskDefinition;
  readonly done: number;
  readonly total: number;
}
export type ProgressListener = (event: ProgressEvent) => void;

export interface EvalOptions {
  /** An .onnx file or model folder, serialized model bytes, or an opened session (left open). */
  model: string | Uint8Array | Session;
  /** Task names (case-insensitive; 'MNLI' means MNLI-m and MNLI-mm) or 'all'. */
  tasks: readonly string[] | 'all';
  /** Default 'dev'. */
  split?: EvalSplit;
  /** Default: $GLUE_DIR, else ../shared/glue. */
  glueDir?: string;
  /** Tokenizer folder or file; defaults to the model's folder (required for bytes or a session). */
  tokenizer?: string | TextTokenizer;
  /** config.json path or folder, or parsed config; defaults to the model's folder. */
  modelConfig?: string | ModelConfig;
  /** Default 32. */
  batchSize?: number;
  /** Default: config.json's max_length, else 128 capped at the tokenizer's model_max_length. */
  maxLength?: number;
  /** onnxruntime intra-op threads; default one per physical core. */
  threads?: number;
  /** Count WNLI in the GLUE score (default true). */
  includeWnli?: boolean;
  /**
   * Score int8 models as CPUs with AVX-512 VNNI / AVX-VNNI do (default false): on an x86 CPU without it, whose
   * onnxruntime int8 kernels add pairs of products in saturating 16 bits, with onnxruntime's x64quantprecision, its
   * products added in 32 bits (slower: runtime/int8-products.ts); elsewhere nothing changes. A model file or bytes,
   * not an opened session.
   */
  exactInt8?: boolean;
  /** With split 'test': write GLUE server submission files here. */
  submissionDir?: string;
  /** How the model is named in the result (default: its path, or '<in-memory model>'). */
  modelName?: string;
  /**
   * A transformers.js folder's model file by its dtype (fp32, q8, q4…); default: the dtype its config.json names, as
   * transformers.js loads it (see locateRunModel).
   */
  dtype?: string;
  onProgress?: ProgressListener;
}

export interface TaskResult {
  readonly task: TaskDefinition;
  readonly split: EvalSplit;
  readonly file: string;
  /** Empty for an unlabelled split (test). */
  readonly metrics: MetricValues;
  /** Why a metric of `metrics` is NaN: 'constant predictions' (absent when every metric is a number). */
  readonly undefinedMetrics?: UndefinedMetrics;
  readonly examples: number;
  /** Wall time for reading, tokenizing, running and scoring the task. */
  readonly seconds: number;
  /** Example ids in file order (the submission's `index` column). */
  readonly ids: readonly string[];
  /** Per example: class index into `task.labels`, or the score of a regression task. */
  readonly predictions: Float64Array;
  readonly labelMapping: LabelMapping;
}

export interface SkippedTask {
  readonly task: string;
  readonly reason: string;
}

export interface EvalResult {
  readonly model: string;
  /** For a transformers.js folder: the dtype whose file was evaluated, and where it came from. */
  readonly transformersJs?: RunModelLocation['transformersJs'];
  readonly split: EvalSplit;
  readonly maxLength: number;
  readonly tasks: readonly TaskResult[];
  readonly glue: GlueScore;
  /** Tasks of `all` this model could not be scored on, each with the reason (empty when tasks were named). */
  readonly skipped: readonly SkippedTask[];
  /** Submission files written (empty unless `submissionDir` was given). */
  readonly submissionFiles: readonly string[];
  /**
   * For a model with full-range int8 products (runtime/int8-products.ts saturatingInt8Weights): whether its products
   * were added in saturating 16-bit pairs (an x86 CPU without AVX-512 VNNI / AVX-VNNI, without `exactInt8`), so that
   * its scores can differ from a VNNI CPU's; absent for other models.
   */
  readonly int8Saturated?: boolean;
  /**
   * What the user should know about the data (absent when nothing): a file whose example count is not the official
   * GLUE split's (a dev file replaced by the train file, a cut test file), whose scores do not compare with GLUE's;
   * a tokenizer whose vocabulary spells little of a task's text (unknownTokensNote).
   */
  readonly warnings?: readonly string[];
}

/** A task's split read and tokenized, ready to be scored by any number of models. */
export interface PreparedTask {
  readonly dataset: GlueDataset;
  readonly encodings: readonly TextEncoding[];
  readonly maxLength: number;
  readonly padId: number;
  /** Seconds spent reading and tokenizing. */
  readonly seconds: number;
}

/** Reads and tokenizes one task's split. */
export function prepareTask(task: TaskDefinition, split: EvalSplit, glueDir: string, tokenizer: TextTokenizer, maxLength: number): PreparedTask {
  const start = performance.now();
  const dataset = loadSplit(task, split, glueDir);
  const encodings = dataset.examples.map((e) => tokenizer.encode(e.textA, e.textB, maxLength));
  return { dataset, encodings, maxLength, padId: tokenizer.padId, seconds: (performance.now() - start) / 1000 };
}

export interface ScoreOptions {
  batchSize?: number;
  /** The session's encoder inputs (default: by the names exporters use; see `sessionInputs`). */
  inputs?: readonly ModelInput[];
  /** Pad every batch to this length (a graph whose inputs fix the sequence length). */
  padTo?: number;
  /** Feed every batch with this many rows (a graph whose inputs fix the batch size; see PredictOptions.batchRows). */
  batchRows?: number;
  /** config.json's labels, to map outputs to the task's label order. */
  modelConfig?: ModelConfig;
  onProgress?: ProgressListener;
  /** The output to read the scores from (graph-checks' scoresOutput); default predict's scoresOutputName. */
  output?: string;
}

/** Runs a session over a prepared task and computes its metrics (none for an unlabelled split). */
export async function scoreTask(session: Session, prepared: PreparedTask, opts: ScoreOptions = {}): Promise<TaskResult> {
  const start = performance.now();
  const { dataset } = prepared;
  const task = dataset.task;
  const total = dataset.examples.length;
  opts.onProgress?.({ task, done: 0, total });
  const rows = await predictRows(session, prepared.encodings, {
    batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE,
    padId: prepared.padId,
    ...(opts.inputs ? { inputs: opts.inputs } : {}),
    ...(opts.padTo !== undefined ? { padTo: opts.padTo } : {}),
    ...(opts.batchRows !== undefined ? { batchRows: opts.batchRows } : {}),
    ...(opts.output !== undefined ? { output: opts.output } : {}),
    onBatch: (done) => opts.onProgress?.({ task, done, total }),
  });
  const config = opts.modelConfig ?? EMPTY_MODEL_CONFIG;
  checkConfigLabels(config, rows.width, 'the model');
  const labelMapping = mapModelLabels(task, config.id2label, rows.width);
  const predictions = predictionsFromRows(task, rows, labelMapping);
  let metrics: MetricValues = {};
  let undefinedOnes: UndefinedMetrics = {};
  if (dataset.labelled && total > 0) {
    const references = Float64Array.from(dataset.examples, (e) => e.label!);
    metrics = computeTaskMetrics(task, predictions, references);
    undefinedOnes = undefinedMetrics(metrics, predictions, references);
  }
  return {
    task,
    split: dataset.split as EvalSplit,
    file: dataset.file,
    metrics,
    ...(Object.keys(undefinedOnes).length > 0 ? { undefinedMetrics: undefinedOnes } : {}),
    examples: total,
    seconds: prepared.seconds + (performance.now() - start) / 1000,
    ids: dataset.examples.map((e) => e.id),
    predictions,
    labelMapping,
  };
}

/**
 * Class index (argmax over outputs, mapped to the task's label order) or score, per example; NaN for an example whose
 * scores are not all finite (NaN or ±Infinity: an overflowing or broken model), which has no prediction: an argmax
 * over NaN would silently pick a class, and metrics and submissions must not count it as one.
 */
export function predictionsFromRows(task: TaskDefinition, rows: OutputRows, mapping: LabelMapping): Float64Array {
  const out = new Float64Array(rows.count);
  const { values, width } = rows;
  for (let i = 0; i < rows.count; i++) {
    const base = i * width;
    let finite = true;
    for (let j = 0; j < width; j++) if (!Number.isFinite(values[base + j]!)) finite = false;
    if (!finite) {
      out[i] = NaN;
      continue;
    }
    if (task.regression) {
      out[i] = values[base]!;
      continue;
    }
    let best = 0;
    for (let j = 1; j < width; j++) if (values[base + j]! > values[base + best]!) best = j;
    out[i] = mapping.outputToLabel[best]!;
  }
  return out;
}

/**
 * The checks of `opts`' settings that read no file (split, --submission's split, batch size, threads, task names), as
 * evaluate makes them first: the CLI makes them before it reads the model, its refusals usage mistakes.
 */
export function evalSettings(opts: Pick<EvalOptions, 'split' | 'submissionDir' | 'batchSize' | 'threads' | 'tasks' | 'maxLength'>): {
  split: EvalSplit;
  batchSize: number;
  tasks: TaskDefinition[];
} {
  const split: EvalSplit = opts.split ?? 'dev';
  if (split !== 'dev' && split !== 'test') throw new SettingsError(choiceRefusal('split', split, ['dev', 'test'], { from: 'code' }));
  if (opts.submissionDir !== undefined && split !== 'test') {
    throw new SettingsError('--submission writes GLUE server files from test predictions: add --split test');
  }
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  checkIntegerFlag('--batch-size', batchSize, 1);
  checkThreads(opts.threads);
  checkMaxLength(opts.maxLength);
  return { split, batchSize, tasks: resolveTasks(opts.tasks, split) };
}

/**
 * The tasks `tasks` names: with `all`, the tasks also named beside it (refused, never skipped); undefined without
 * `all` (every task is named).
 */
function namedTasks(tasks: EvalOptions['tasks'], split: EvalSplit): Set<TaskDefinition> | undefined {
  const names = taskNameList(tasks);
  const isAll = (n: string) => normalizeTaskName(n) === 'all';
  const explicit = names.filter((n) => !isAll(n));
  return names.some(isAll) ? new Set(explicit.length ? resolveTasks(explicit, split) : []) : undefined;
}

/**
 * The GLUE data evaluate refuses to go without, checked before it reads the model (and by `compress eval` before an
 * `hf:` model's download): every named task's split file (without `all`, every task's), and with `all` the GLUE
 * folder (one short line, not one 'file not found' per task); a DataError naming the first missing one. The tasks
 * of `all` not named are checked later, skipped when their file is absent.
 */
export function checkNamedTaskData(opts: Pick<EvalOptions, 'tasks' | 'split' | 'glueDir'>): void {
  const split: EvalSplit = opts.split ?? 'dev';
  const named = namedTasks(opts.tasks, split);
  const glueDir = glueDirOf(opts.glueDir);
  if (named && !existsSync(glueDir)) {
    throw new DataError(`GLUE folder ${glueDir} not found: set --glue-dir or GLUE_DIR (compress data download fetches the data)`);
  }
  for (const task of resolveTasks(opts.tasks, split)) if (!named || named.has(task)) checkSplitFound(task, split, glueDir);
}

/** Evaluates a model on GLUE tasks: see EvalOptions. */
export async function evaluate(opts: EvalOptions): Promise<EvalResult> {
  checkOptions('evaluate', opts, '{model, tasks, …}');
  if (opts.model === undefined || opts.model === null) throw new SettingsError('evaluate: model: missing; expected a model path, its bytes or an open session');
  const settings = evalSettings(opts);
  const { split, batchSize } = settings;
  let tasks = settings.tasks;
  // `all` asks for every task this model can be scored on: a task it cannot (its data absent, its labels not the
  // model's) is skipped with the reason; a task named is refused instead.
  const named = namedTasks(opts.tasks, split);
  const skipped: SkippedTask[] = [];
  const order: readonly string[] = tasks.map((t) => t.name);
  /** The tasks for which `check` does not throw; with `all`, the others are skipped with its message. */
  const keep = (check: (task: TaskDefinition) => void) => {
    tasks = tasks.filter((task) => {
      try {
        check(task);
        return true;
      } catch (e) {
        if (!named || named.has(task) || !(e instanceof SettingsError || e instanceof DataError)) throw e;
        skipped.push({ task: task.name, reason: e.message });
        return false;
      }
    });
    // (listed in the tasks' order, whichever check skipped each)
    skipped.sort((a, b) => order.indexOf(a.task) - order.indexOf(b.task));
    if (!tasks.length) throw new SettingsError(`no GLUE task can be scored on this model: ${skipped.map((s) => `${s.task}: ${s.reason}`).join('; ')}`);
  };
  // the model before the data: a folder holding no ONNX model (a safetensors checkpoint to export first) is refused
  // in its one line, not for a GLUE file it would never get to read
  if (opts.dtype !== undefined && typeof opts.model !== 'string')
    throw new SettingsError('--dtype picks a file of a model folder; the model given is not a path');
  if (opts.exactInt8 === true && isSession(opts.model))
    throw new SettingsError('--exact-int8 opens the model with its own session options; the model given is an opened session: give its path or bytes');
  const location: RunModelLocation | null = typeof opts.model === 'string' ? locateRunModel(opts.model, opts.dtype) : null;
  const glueDir = glueDirOf(opts.glueDir);
  const dataFound = (task: TaskDefinition) => checkSplitFound(task, split, glueDir);
  // a task named: its data before any work; the other tasks of `all` once the model's reasons to skip them are
  // said (a model fine-tuned on SST-2 skips CoLA for that, not for a GLUE folder without CoLA)
  checkNamedTaskData(opts);

  const modelConfig = resolveModelConfig(opts.modelConfig, location);
  const modelName = opts.modelName ?? (location ? location.onnx : '<in-memory model>');
  const tokenizerSource = opts.tokenizer ?? location?.dir;
  if (tokenizerSource === undefined) {
    throw new SettingsError('evaluating model bytes or an opened session needs a tokenizer (--tokenizer DIR)');
  }
  const bytes = opts.model instanceof Uint8Array ? opts.model : undefined;
  let graph: Model | undefined;
  const readGraph = location || bytes ? () => (graph ??= inlineLocalFunctions(location ? loadModel(location.onnx) : decodeModel(bytes!))) : undefined;
  const facts: GraphFacts = readGraph ? graphFacts(readGraph()) : { limits: null, scoreWidth: null, fixedBatch: null, fixedSequence: null };
  // A model without a classifier: one line for every task (not a reason per task from its config.json or its shape).
  if (facts.structure && isEncoderOnly(facts.structure)) {
    const way = noClassifierWay(readGraph!(), facts.structure, location ? () => quantizedFrom(location.onnx) : undefined) ?? `${GIVE_CLASSIFIER} gives it one`;
    throw new SettingsError(`${modelName}: ${encoderOnlyNote(readGraph!())}: eval needs a classifier; ${way}`);
  }
  // A graph none of whose outputs can hold scores (hidden states and pooler output only, under other names)
  if (facts.scoresName === null) {
    throw new SettingsError(
      `${modelName}: none of its outputs (${outputsLine(readGraph!())}) is [batch, labels] scores: eval reads a sequence classifier's scores`,
    );
  }
  // Fail before any work when config.json or the graph already shows the model cannot do a task or take the inputs.
  if (modelConfig.numLabels !== null) {
    keep((task) => {
      const numLabels = modelConfig.numLabels!;
      try {
        mapModelLabels(task, modelConfig.id2label, numLabels, modelConfig.file ?? 'config.json');
      } catch (e) {
        // another GLUE task's labels (an SST-2 model on RTE): a classifier of that task, which no id2label makes this one's;
        // the advice trains on the task's training set (AX, test only: MNLI-m's)
        const other = e instanceof SettingsError ? anotherTasksLabels(task, modelConfig.id2label, numLabels) : undefined;
        if (!other) throw e;
        const quantized = readGraph && storedQuantized(readGraph(), facts.structure);
        throw new SettingsError(
          `${(e as Error).message}; its labels are ${other}: ${newHeadAdvice(trainingTask(task).name, location?.dir ?? 'MODEL', quantized, false, location ? () => quantizedFrom(location.onnx) : undefined)}`,
        );
      }
    });
  }
  const head = facts.structure?.head?.kind;
  if (head && head !== 'sequence-classification' && head !== 'unknown') {
    throw new SettingsError(`${modelName}: a ${head} head; GLUE tasks need a sequence classifier (one score per label, or one for regression)`);
  }
  // config.json naming another head's class (BertForMultipleChoice, whose graph looks like a one-label classifier):
  // refused unless the graph shows a sequence classifier by itself
  const otherHead = namedOtherHead(modelConfig.architectures, readGraph?.(), facts.structure);
  if (otherHead)
    throw new SettingsError(`${otherHeadLine(modelConfig.file ?? 'config.json', otherHead)}; GLUE tasks need one (one score per label, or one for regression)`);
  const tokenizer = typeof tokenizerSource === 'string' ? loadTokenizer(tokenizerSource) : tokenizerSource;
  // (a graph discovery does not read, a BiLSTM: only the length its inputs may fix)
  const sizes = lengthLimits(facts);
  keep((task) => checkModelLengthRoom(sizes, tokenizer, task.textColumns.length === 2, modelName));
  const maxLength = chooseMaxLength(opts.maxLength, modelConfig, sizes, defaultMaxLength(tokenizer.modelMaxLength), modelName);
  // (a template tokenizers fails on refuses every text of its kind, whatever the length: a task of `all` is skipped)
  keep((task) => checkTextKind(tokenizer, task.textColumns.length === 2));
  keep((task) => checkConfigLengthRoom(opts.maxLength, modelConfig, maxLength, tokenizer, task.textColumns.length === 2));
  checkConfigLabels(modelConfig, facts.scoreWidth, modelName);
  if (modelConfig.numLabels === null && facts.scoreWidth !== null) keep((task) => mapModelLabels(task, modelConfig.id2label, facts.scoreWidth!));
  // `all` on a model whose config.json names the GLUE task it was fine-tuned on: its head fits the other tasks of as
  // many labels by shape only, and a GLUE score over tasks it never learnt means nothing; a task also named is scored
  const tuned = named ? fineTunedModelTasks(modelConfig) : undefined;
  if (tuned) {
    keep((task) => {
      if (named!.has(task) || tuned.has(task.modelTask)) return;
      throw new SettingsError(
        `${modelConfig.file}: finetuning_task ${valueText(modelConfig.finetuningTask)}: the model was fine-tuned on ${[...tuned].join(', ')}, not ${task.modelTask} (name ${task.name} to score it anyway)`,
      );
    });
  }

  // a model of fewer token types than the tokenizer's template gives a task's texts (one token type under a BERT
  // template's pair, two under a Funnel tokenizer's [CLS] of type 2): refused before any task is scored, as its
  // encodings would be (one pair or text encoded: its types alone)
  keep((task) => checkTemplateTypes(tokenizer, maxLength, facts.limits, modelName, task.textColumns.length === 2));

  keep(dataFound);
  if (opts.submissionDir !== undefined) checkSubmissionFiles(opts.submissionDir, tasks);

  // int8 products this CPU adds in saturating 16-bit pairs: added in 32 bits with exactInt8, else said
  const int8 = readGraph ? saturatingInt8Weights(readGraph()) : [];
  const saturates = int8.length > 0 && int8Saturates(cpuInfo().flags);
  const exact = saturates && opts.exactInt8 === true;
  const source = location ? location.onnx : (opts.model as Uint8Array);
  const ownSession = isSession(opts.model)
    ? null
    : exact
      ? await openSession(exactInt8Source(readGraph!(), source), { threads: opts.threads, x64QuantPrecision: true })
      : await openSession(source, { threads: opts.threads });
  const session = ownSession ?? (opts.model as Session);
  const results: TaskResult[] = [];
  const warnings: string[] = [];
  if (saturates && !exact) warnings.push(saturatingInt8Note(modelName, int8.length, '--exact-int8'));
  try {
    const inputs = sessionInputs(session, readGraph, facts.structure);
    graph = undefined; // the weights are in the session now
    const padTo = facts.fixedSequence ?? undefined;
    // A graph that fixes the batch size (an export without a dynamic batch axis) is fed batches of that size.
    const batchRows = facts.fixedBatch ?? undefined;
    const taskBatchSize = batchRows ?? batchSize;
    for (const task of tasks) {
      const prepared = prepareTask(task, split, glueDir, tokenizer, maxLength);
      for (const note of [skippedRowsNote(prepared.dataset), officialRowsNote(prepared.dataset)]) if (note !== undefined) warnings.push(note);
      const unknown = unknownTokensNote(prepared.encodings, tokenizer, `${task.name} ${split}`);
      if (unknown !== undefined) warnings.push(unknown);
      checkEncodings(prepared.encodings, facts.limits, tokenizer.source, modelName);
      // (a --batch-size of the whole dev set, QQP's 40,430 examples, would be one batch)
      if (facts.structure) {
        const lengths = prepared.encodings.map((e) => e.ids.length);
        checkBatchFits(facts.structure, taskBatchSize, lengths, padTo, { what: `${task.name} ${split}`, model: modelName });
      }
      results.push(
        await scoreTask(session, prepared, {
          batchSize: taskBatchSize,
          inputs,
          modelConfig,
          ...(padTo !== undefined ? { padTo } : {}),
          ...(batchRows !== undefined ? { batchRows } : {}),
          ...(facts.scoresName ? { output: facts.scoresName } : {}),
          onProgress: opts.onProgress,
        }),
      );
    }
  } finally {
    await ownSession?.release();
  }
  // (names nobody knows, read in GLUE's order: one line for the tasks that read them so)
  const ignoring = results.filter((r) => r.labelMapping.ignored?.length);
  if (ignoring.length > 0) {
    warnings.push(
      ignoredLabelsNote(
        ignoring.map((r) => r.task),
        modelConfig.file ?? 'config.json',
        ignoring[0]!.labelMapping.ignored!,
      ),
    );
  }
  const guessed = results.filter((r) => r.labelMapping.from === 'canonical' && !r.labelMapping.ignored?.length && r.task.labels.length > 2);
  if (guessed.length > 0)
    warnings.push(
      canonicalOrderNote(
        guessed.map((r) => r.task),
        modelConfig,
        guessed[0]!.labelMapping.outputToLabel,
      ),
    );

  const submissionFiles = opts.submissionDir !== undefined ? writeSubmission(opts.submissionDir, results) : [];
  return {
    model: modelName,
    ...(location?.transformersJs ? { transformersJs: location.transformersJs } : {}),
    split,
    maxLength,
    tasks: results,
    glue: glueScore(results, { includeWnli: opts.includeWnli ?? true }),
    skipped,
    submissionFiles,
    ...(int8.length > 0 ? { int8Saturated: saturates && !exact } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * The model as onnxruntime's x64quantprecision rewrite takes it: `graph`'s bytes where exactInt8Graph copies weights
 * for it (several products reading one), else `source` as given.
 */
function exactInt8Source(graph: Model, source: string | Uint8Array): string | Uint8Array {
  const copy = exactInt8Graph(graph);
  return copy ? encodeModel(copy) : source;
}

/**
 * The warning for a model of `count` full-range int8 weights evaluated on a CPU whose int8 products saturate; `exact`:
 * the setting that scores it as VNNI CPUs do.
 */
export function saturatingInt8Note(model: string, count: number, exact: string): string {
  return (
    `${model}: this CPU has no AVX-512 VNNI / AVX-VNNI, so onnxruntime adds the products of the model's ${counted(count, 'full-range int8 weight')} ` +
    `in saturating 16-bit pairs: its scores can differ from a VNNI CPU's; ${exact} scores as VNNI CPUs do (slower)`
  );
}

/**
 * The note for tasks of more than two classes (MNLI, AX) scored by a model whose config names no classes: its outputs
 * were read in GLUE's order, but MNLI models come in several orders (contradiction, neutral, entailment for
 * roberta-large-mnli), and a wrong one scores near chance with nothing else to show it.
 */
export function canonicalOrderNote(tasks: readonly TaskDefinition[], config: ModelConfig, outputToLabel?: readonly number[]): string {
  const where = config.file ?? 'the model (no config.json)';
  const names = config.id2label && config.id2label.size > 0 ? "'s id2label names no classes (LABEL_0…)" : ' has no id2label';
  const labels = tasks[0]!.labels;
  const permuted = outputToLabel?.some((label, j) => label !== j);
  const read = permuted
    ? `read by their LABEL_k numbers in GLUE's order ${labels.join(', ')}, as ${outputToLabel!.map((l) => labels[l]).join(', ')}`
    : `read in GLUE's order ${labels.join(', ')}`;
  return (
    `${tasks.map((t) => t.name).join(', ')}: ${where}${names}, so the model's ${labels.length} outputs were ${read}; ` +
    'models are trained in other orders too: if the scores are near chance, name the classes in id2label'
  );
}

/**
 * The GLUE tasks (by `modelTask`: 'SST-2', 'MNLI') config.json's `finetuning_task` names ('sst2', 'sst-2', 'mnli'), or
 * undefined when it names none or no GLUE task (then nothing is left out by it).
 */
export function fineTunedModelTasks(config: Pick<ModelConfig, 'finetuningTask'>): Set<string> | undefined {
  const name = config.finetuningTask;
  if (!name || normalizeTaskName(name) === 'all') return undefined;
  try {
    return new Set(lookupTasks(name).map((t) => t.modelTask));
  } catch (e) {
    if (e instanceof SettingsError) return undefined;
    throw e;
  }
}

/**
 * The given config (parsed, or a path to read), else config.json beside the model, else an empty config. A path given
 * that names nothing (a typo) is refused, where it was read as an empty config: the scores' labels then mapped by the
 * task's order, not the model's id2label, with no word said.
 */
function resolveModelConfig(given: EvalOptions['modelConfig'], location: ModelLocation | null): ModelConfig {
  if (typeof given === 'object') return given;
  if (given !== undefined && !existsSync(given)) throw new DataError(`modelConfig ${given}: no such file or folder`);
  if (given !== undefined) return readModelConfig(given);
  return location ? readModelConfig(location.dir) : EMPTY_MODEL_CONFIG;
}

function isSession(model: EvalOptions['model']): model is Session {
  return typeof model === 'object' && !(model instanceof Uint8Array) && typeof (model as Session).run === 'function';
}
