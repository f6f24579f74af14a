/**
 * Calibration data for passes that measure a model (head ablation, quantization ranges and sensitivity): the
 * first N examples of a GLUE task's train split, tokenized with the
 * model's tokenizer, with labels mapped to the model's output order.
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { existsSync, readFileSync } from 'node:fs';
import { sha256Bytes } from '../files.ts';
import { checkIntegerFlag, counted, SettingsError } from '../errors.ts';
import { glueDirOf } from '../glue/glue-dir.ts';
import { loadSplit, splitFile } from '../glue/dataset.ts';
import { getTask } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import type { CalibrationBatch, CalibrationSource } from '../pass/pass.ts';
import { ignoredLabelsNote, mapModelLabels } from './labels.ts';
import { readModelConfig, type ModelConfig } from './model-files.ts';
import { locateModel } from '../onnx/locate.ts';
import { checkVocabularyRows, loadTokenizer, tokenizerFolder } from './tokenizer.ts';
import { tokenBatch } from './batching.ts';
import { checkEncodings, checkMaxLength, configLabelsProblem, graphFacts, lengthLimits, namedOtherHead, otherHeadLine } from './graph-checks.ts';
import { loadModel } from '../onnx/load.ts';
import type { Model } from '../onnx/graph.ts';
import { runMaxLength } from './max-length.ts';
import { checkOptions, checkStringOption } from '../library-args.ts';

/** Calibration examples when none are asked for: the same on the command line and in a sweep file. */
export const DEFAULT_CALIBRATION_EXAMPLES = 512;

export interface CalibrationOptions {
  /** The model (.onnx file or folder): its folder gives config.json and the tokenizer. */
  model: string;
  task: string;
  /** How many train examples (default `DEFAULT_CALIBRATION_EXAMPLES`). */
  examples?: number;
  glueDir?: string;
  tokenizer?: string;
  maxLength?: number;
  batchSize?: number;
  /** The model's graph when already loaded (by compress, which runs the passes on it), so it is not read twice. */
  graph?: Model;
}

/**
 * The task whose train examples calibration reads, by name: one task (getTask: MNLI, which names MNLI-m and MNLI-mm, is
 * refused asking for one), with a train split (never the dev examples: the model is judged on them, and choosing what to
 * keep by them would flatter it). A SettingsError otherwise, the train split's after `flag` and the task
 * ('--calibrate AX: …'; a sweep file names its field itself). What loadCalibration and a sweep's calibration.task read.
 */
export function calibrationTask(name: string, flag?: string): TaskDefinition {
  const task = getTask(name);
  if (!task.splits.train) {
    throw new SettingsError(
      `${flag ? `${flag} ${task.name}: ` : ''}${task.name} has no train split (calibration never uses the dev examples a model is evaluated on): calibrate on a task with one, e.g. the one the model was trained for`,
    );
  }
  return task;
}

/**
 * The checks of calibration's settings that read no file (the task, its train split, the number of examples and a
 * --max-length given): loadCalibration's, and the command line's before it reads the model, so that its refusal is a
 * usage mistake. The task and the number of examples to read.
 */
export function checkCalibrationSettings(o: Pick<CalibrationOptions, 'task' | 'examples' | 'maxLength' | 'batchSize'>): {
  task: TaskDefinition;
  count: number;
} {
  const count = o.examples ?? DEFAULT_CALIBRATION_EXAMPLES;
  checkIntegerFlag('--calibration-examples', count, 1);
  // (a library caller's: batches of 0 rows never ended the loop over the examples, 'x' made one batch of all of them)
  if (o.batchSize !== undefined) checkIntegerFlag('--batch-size', o.batchSize, 1);
  const task = calibrationTask(o.task, '--calibrate');
  checkMaxLength(o.maxLength);
  return { task, count };
}

/**
 * Why `examples` calibration examples of `task` (`count` asked, --calibration-examples) cannot calibrate `onnx`, whose
 * inputs fix its batch at `fixedBatch` rows (a batch of exactly that many: fewer make none); undefined where they can.
 * loadCalibration's refusal, and a sweep's plan's before any point calibrates.
 */
export function fewerThanBatch(count: number, examples: number, fixedBatch: number, onnx: string, task: string): string | undefined {
  if (examples >= fixedBatch) return undefined;
  return `--calibration-examples ${count}: ${onnx} fixes its batch at ${fixedBatch} rows, and ${task} gives ${counted(examples, 'calibration example')}: calibrate on at least ${fixedBatch}`;
}

/**
 * How the labels of calibration task `task` map to the outputs of model `onnx` (its config.json `config`, the graph's
 * score width `scoreWidth`), for the passes that measure a loss against them: `labelToOutput` and a note on the
 * labels config.json names that the task lacks (`labelsNote`), or why they cannot be read (`unlabelled`: config.json's
 * label count against the scores, a regression task on a model of several scores, labels of another task).
 * loadCalibration's reading, and a sweep's plan's for its steps that read the labels.
 */
export function calibrationLabels(
  task: TaskDefinition,
  config: ModelConfig,
  scoreWidth: number | null,
  onnx: string,
): { unlabelled?: string; labelToOutput: Map<string | number, number>; labelsNote?: string } {
  // the scores per example: config.json's labels, else the graph's score width (a model folder without config.json)
  const width = config.numLabels ?? scoreWidth;
  const numOutputs = task.regression ? 1 : (width ?? task.labels.length);
  // (config.json's label count against the graph's scores, as eval checks them: a label past the scores would make
  // every loss NaN, which the passes would blame on the model)
  const labelCount = configLabelsProblem(config, scoreWidth, onnx);
  if (labelCount !== undefined) return { unlabelled: labelCount, labelToOutput: new Map() };
  if (task.regression && width !== null && width > 1)
    return { unlabelled: `${task.name} is scored by regression and the model gives ${width} scores`, labelToOutput: new Map() };
  try {
    const mapping = mapModelLabels(task, config.id2label, numOutputs);
    const labelToOutput = new Map<string | number, number>(mapping.outputToLabel.map((label, output) => [label, output]));
    if (!mapping.ignored?.length) return { labelToOutput };
    return { labelToOutput, labelsNote: ignoredLabelsNote([task], config.file ?? 'config.json', mapping.ignored) };
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    return { unlabelled: e.message, labelToOutput: new Map() };
  }
}

export async function loadCalibration(o: CalibrationOptions): Promise<CalibrationSource> {
  checkOptions('loadCalibration', o, '{model, task, …}');
  checkStringOption('loadCalibration', 'model', o.model, 'the model path');
  checkStringOption('loadCalibration', 'task', o.task, "a GLUE task name (e.g. 'SST-2')");
  const { task, count } = checkCalibrationSettings(o);
  const glueDir = glueDirOf(o.glueDir);
  if (!existsSync(splitFile(task, 'train', glueDir).file)) {
    throw new SettingsError(
      `--calibrate ${task.name}: no train split in ${glueDir} (calibration never uses the dev examples a model is evaluated on): add ${task.name}'s train.tsv (compress data download --tasks ${task.name})`,
    );
  }
  const data = loadSplit(task, 'train', glueDir);
  const where = locateModel(o.model);
  const config = readModelConfig(where.dir);
  const tokenizer = loadTokenizer(o.tokenizer ?? where.dir);
  // The length, ids and token types must fit the graph: checked here, not by an onnxruntime error inside a pass.
  const graph = o.graph ?? inlineLocalFunctions(loadModel(where.onnx));
  const facts = graphFacts(graph);
  const { limits, scoreWidth, fixedBatch } = facts;
  // (the length its inputs fix, of a graph discovery does not read too: what evaluation chooses and pads to)
  const sizes = lengthLimits(facts);
  // (config.json naming another head's class, which the graph does not show to be a sequence classifier: eval refuses
  // the model, and a pass that measures a loss on its class scores refuses it by this line)
  const other = config.file ? namedOtherHead(config.architectures, graph) : undefined;
  // (another model's vocabulary, given with --tokenizer, as --format transformers.js refuses it: its ids past the word
  // embedding, which the examples' words may not reach, spelling them with [UNK] the model would not see)
  if (o.tokenizer !== undefined && limits) {
    checkVocabularyRows(tokenizerFolder(o.tokenizer), limits.vocabSize, `--tokenizer ${o.tokenizer}`, where.onnx);
  }
  // (a graph whose inputs fix the length is calibrated at it where nothing else gives one, as evaluation reads it)
  const maxLength = runMaxLength(o.maxLength, config, [[sizes, where.onnx]], tokenizer, task.textColumns.length === 2);
  // Labels only matter to the passes that measure a loss against them; the others calibrate on any task's text.
  const { unlabelled, labelToOutput, labelsNote } = calibrationLabels(task, config, scoreWidth, where.onnx);
  let examples = data.examples.filter((e) => e.label !== null).slice(0, count);
  if (!examples.length) throw new SettingsError(`--calibrate ${task.name}: the train split has no labelled examples`);
  // A graph whose inputs fix the batch size runs batches of exactly that many rows: whole batches of it, no remainder.
  const batchSize = fixedBatch ?? o.batchSize ?? 32;
  if (fixedBatch !== null) {
    const few = fewerThanBatch(count, examples.length, fixedBatch, where.onnx, task.name);
    if (few !== undefined) throw new SettingsError(few);
    examples = examples.slice(0, examples.length - (examples.length % fixedBatch));
  }
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const chunk = examples.slice(start, start + batchSize);
    const enc = chunk.map((e) => tokenizer.encode(e.textA, e.textB, maxLength));
    checkEncodings(enc, limits, tokenizer.source, where.onnx);
    const labels = Float32Array.from(chunk, (e) =>
      unlabelled !== undefined ? Number.NaN : task.regression ? Number(e.label) : (labelToOutput.get(e.label!) ?? Number(e.label)),
    );
    const rows = tokenBatch(
      enc,
      enc.map((_, i) => i),
      tokenizer.padId,
      sizes?.fixedSequence ?? 0,
    );
    batches.push({ ...rows, labels, regression: task.regression });
  }
  const provenance = {
    task: task.name,
    file: data.file,
    sha256: sha256Bytes([readFileSync(data.file)]),
    examples: examples.length,
    requested: count,
    maxLength,
  };
  return {
    task: task.name,
    batches,
    provenance,
    ...(unlabelled !== undefined ? { unlabelled } : {}),
    ...(labelsNote !== undefined ? { labelsNote } : {}),
    ...(other ? { otherHead: otherHeadLine(config.file!, other) } : {}),
  };
}
