/**
 * Training examples from a GLUE task: the split read by the GLUE layer, tokenized with the model's tokenizer (the
 * evaluation tokenizer, so training and evaluation see the same ids and truncation), labels mapped to the model's
 * output order through config.json's id2label, as evaluation maps them. Batches are padded to their longest
 * example by evaluation's `tokenBatch`.
 *
 * A set carries a SHA-256 of everything its examples depend on (the file's bytes, the options, and the token ids and
 * labels themselves, which capture the tokenizer), so outputs computed on it can be cached under that key.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Rng } from '../bert/random.ts';
import { checkIntegerFlag, SettingsError, quotedText } from '../errors.ts';
import { tokenBatch } from '../eval/batching.ts';
import { defaultMaxLength } from '../eval/evaluate.ts';
import { checkMaxLength } from '../eval/graph-checks.ts';
import { mapModelLabels, type LabelMapping } from '../eval/labels.ts';
import { EMPTY_MODEL_CONFIG, readModelConfig, type ModelConfig } from '../eval/model-files.ts';
import { loadTokenizer, type TextEncoding, type TextTokenizer } from '../eval/tokenizer.ts';
import { loadSplit, skippedRowsNote } from '../glue/dataset.ts';
import { glueDirOf } from '../glue/glue-dir.ts';
import { getTask } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import { permutation } from './random.ts';

/** The splits a model can be trained on (test has no labels). */
export type TrainingSplit = 'train' | 'dev';

export interface TrainingSetOptions {
  /** A task name (case-insensitive, as `--task`) or definition; one task, not a group. */
  task: string | TaskDefinition;
  /** Default 'train'. */
  split?: TrainingSplit;
  /** Default: $GLUE_DIR, else ../shared/glue. */
  glueDir?: string;
  /** A loaded tokenizer, or the folder / file to load it from. */
  tokenizer: TextTokenizer | string;
  /** The student's config.json (path, folder or parsed): its id2label orders the labels. Default: canonical order. */
  modelConfig?: ModelConfig | string;
  /** Truncation length in tokens, special tokens included. Default: the config's max_length, else 128 capped at the tokenizer's model_max_length. */
  maxLength?: number;
  /** Use only the first N examples of a seeded permutation of the split (kept in file order). Default: all. */
  maxExamples?: number;
  /** Seed of the `maxExamples` permutation. Default 0. */
  seed?: number;
}

/** One tokenized example: token ids and types (no padding) and the target. */
export interface TrainingExample {
  readonly ids: Int32Array;
  readonly typeIds: Int32Array;
  /** The model output index of the class (classification) or the score (regression). */
  readonly label: number;
}

export interface TrainingSet {
  /** The task of the examples; absent for a general-distillation corpus read for no task (its examples unlabelled). */
  readonly task?: TaskDefinition;
  readonly split: TrainingSplit;
  /** Absolute path of the file read. */
  readonly file: string;
  readonly regression: boolean;
  /** Model outputs: 1 for regression, else the number of classes. */
  readonly numLabels: number;
  /** Model output j scores task label `labelMapping.outputToLabel[j]`. */
  readonly labelMapping: LabelMapping;
  readonly maxLength: number;
  /** The tokenizer's padding id. */
  readonly padId: number;
  readonly examples: readonly TrainingExample[];
  /** For each example, its 0-based row in the file. */
  readonly sourceRows: Int32Array;
  /** The split's rows of an empty label left out, said as eval says it (skippedRowsNote); absent where none was. */
  readonly skippedNote?: string;
  /** Hex SHA-256 of the file's bytes, the options and the examples' ids, types and labels. */
  readonly sha256: string;
}

/**
 * The set's task, for what needs one (labels, dev evaluation, teacher logits, augmentation from the task's file);
 * `what` names that use in the error a corpus read for no task gets (the CLI never gets there).
 */
export function taskOf(set: TrainingSet, what: string): TaskDefinition {
  if (!set.task) throw new Error(`${what} needs the task of the examples: ${set.file} was read for no task`);
  return set.task;
}

/** Reads, subsets and tokenizes a task's train (or dev) split. */
export function loadTrainingSet(o: TrainingSetOptions): TrainingSet & { readonly task: TaskDefinition } {
  const task = typeof o.task === 'string' ? getTask(o.task) : o.task;
  const split = o.split ?? 'train';
  if (split !== 'train' && split !== 'dev') throw new SettingsError(`cannot train on split ${quotedText(String(split))}: use train or dev`);
  const config = typeof o.modelConfig === 'string' ? readModelConfig(o.modelConfig) : (o.modelConfig ?? EMPTY_MODEL_CONFIG);
  const tokenizer = typeof o.tokenizer === 'string' ? loadTokenizer(o.tokenizer) : o.tokenizer;
  const maxLength = o.maxLength ?? config.maxLength ?? defaultMaxLength(tokenizer.modelMaxLength);
  // (a length that is the tokenizer's model_max_length, the default where no --max-length is given, is left to the
  // tokenizer, which refuses one leaving no room for text naming tokenizer_config.json as well as --max-length)
  if (maxLength !== tokenizer.modelMaxLength) checkMaxLength(maxLength);
  const seed = o.seed ?? 0;
  const numLabels = task.regression ? 1 : (config.numLabels ?? task.labels.length);
  const labelMapping = mapModelLabels(task, config.id2label, numLabels, config.numLabels !== null ? (config.file ?? undefined) : undefined);

  const data = loadSplit(task, split, glueDirOf(o.glueDir));
  if (!data.labelled) throw new SettingsError(`${task.name} ${split}: the split has no labels to train on`);
  const rows = chooseRows(data.examples.length, o.maxExamples, seed);
  const skippedNote = skippedRowsNote(data);
  const labelToOutput = new Map(labelMapping.outputToLabel.map((label, output) => [label, output]));
  const chosen = Array.from(rows, (row) => data.examples[row]!);
  const examples = tokenizeTexts(chosen, tokenizer, maxLength, (i) => (task.regression ? chosen[i]!.label! : labelToOutput.get(chosen[i]!.label!)!));
  const options = {
    format: 'training-set/1',
    task: task.name,
    split,
    maxLength,
    maxExamples: o.maxExamples ?? null,
    seed,
    numLabels,
    outputToLabel: labelMapping.outputToLabel,
  };
  return {
    task,
    split,
    file: data.file,
    regression: task.regression,
    numLabels,
    labelMapping,
    maxLength,
    padId: tokenizer.padId,
    examples,
    sourceRows: rows,
    ...(skippedNote !== undefined ? { skippedNote } : {}),
    sha256: examplesDigest([createHash('sha256').update(readFileSync(data.file)).digest(), JSON.stringify(options)], examples),
  };
}

/** What a `--max-examples` takes: an integer from 1 (the training set's subset, chooseRows). */
export const MAX_EXAMPLES_RANGE = { min: 1 } as const;

/**
 * Rows to use of `n`: all, or the first `maxExamples` of a seeded permutation (stream `stream`), sorted back into
 * file order, so a smaller budget is a subset of a larger one.
 */
export function chooseRows(n: number, maxExamples: number | undefined, seed: number, stream = 'train/subset'): Int32Array {
  if (maxExamples !== undefined) checkIntegerFlag('--max-examples', maxExamples, MAX_EXAMPLES_RANGE.min);
  if (maxExamples === undefined || maxExamples >= n) return Int32Array.from({ length: n }, (_, i) => i);
  return permutation(n, new Rng(seed, stream)).slice(0, maxExamples).sort();
}

/** Texts tokenized as evaluation tokenizes them (longest-first truncation to `maxLength`), with their targets. */
export function tokenizeTexts(
  texts: ReadonlyArray<{ textA: string; textB?: string | null }>,
  tokenizer: TextTokenizer,
  maxLength: number,
  label: (index: number) => number,
): TrainingExample[] {
  return texts.map((t, i) => {
    const enc = tokenizer.encode(t.textA, t.textB ?? null, maxLength);
    return { ids: Int32Array.from(enc.ids), typeIds: Int32Array.from(enc.typeIds), label: label(i) };
  });
}

/**
 * SHA-256 of `header` (strings or bytes: what the examples come from) and every example's length, ids, types and
 * label: the key of outputs computed on a set.
 */
export function examplesDigest(header: ReadonlyArray<string | Uint8Array>, examples: readonly TrainingExample[]): string {
  const h = createHash('sha256');
  for (const part of header) h.update(part);
  let total = 0;
  for (const e of examples) total += 1 + 2 * e.ids.length;
  const ints = new Int32Array(total);
  const labels = new Float64Array(examples.length);
  let at = 0;
  examples.forEach((e, i) => {
    ints[at++] = e.ids.length;
    ints.set(e.ids, at);
    ints.set(e.typeIds, at + e.ids.length);
    at += 2 * e.ids.length;
    labels[i] = e.label;
  });
  h.update(new Uint8Array(ints.buffer));
  h.update(new Uint8Array(labels.buffer));
  return h.digest('hex');
}

/** The examples as evaluation's encodings (plain arrays), for `tokenBatch` and `predictRows`. */
export function textEncodings(examples: readonly TrainingExample[]): TextEncoding[] {
  return examples.map((e) => ({ ids: Array.from(e.ids), typeIds: Array.from(e.typeIds) }));
}

/** One batch, padded to its longest example; every id tensor is [size, seq] int64, row-major. */
export interface Batch {
  /** Examples in the batch. */
  readonly size: number;
  /** Padded length: the longest example in the batch. */
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  /** 1 on tokens, 0 on padding. */
  readonly attentionMask: BigInt64Array;
  /** 0 on padding. */
  readonly tokenTypeIds: BigInt64Array;
  /** Per example: the class's output index, or the score. */
  readonly labels: Float32Array;
  /** Indices into `set.examples`, for looking up cached teacher outputs. */
  readonly indices: Int32Array;
}

/** The batch of the examples at `indices` (into `set.examples`), in that order. */
export function makeBatch(set: TrainingSet, indices: ArrayLike<number>): Batch {
  const idx = Int32Array.from(indices);
  if (idx.length === 0) throw new RangeError('a batch needs at least one example');
  const chosen = Array.from(idx, (i) => {
    const e = set.examples[i];
    if (!e) throw new RangeError(`example index ${i} is outside the set (${set.examples.length} examples)`);
    return e;
  });
  const rows = tokenBatch(
    textEncodings(chosen),
    chosen.map((_, r) => r),
    set.padId,
  );
  return {
    size: idx.length,
    seq: rows.seq,
    inputIds: rows.inputIds,
    attentionMask: rows.attentionMask,
    tokenTypeIds: rows.tokenTypeIds,
    labels: Float32Array.from(chosen, (e) => e.label),
    indices: idx,
  };
}

/**
 * Batch `b` of `order` (example indices, e.g. from `shuffledOrder`) cut into consecutive batches of `batchSize`: the
 * examples order[b × batchSize …], the last batch of the order shorter (as the Trainer's dataloader without
 * `drop_last`). The training loop makes each as its step comes: an epoch's batches made at once were held through
 * the epoch (SST-2's 67,349 examples: 66 MB of padded int64 ids, masks and types).
 */
export function epochBatch(set: TrainingSet, order: Int32Array, batchSize: number, b: number): Batch {
  if (!(Number.isSafeInteger(batchSize) && batchSize > 0)) throw new RangeError(`'batchSize' must be a positive integer, got ${batchSize}`);
  const count = Math.ceil(order.length / batchSize);
  if (!(Number.isSafeInteger(b) && b >= 0 && b < count)) throw new RangeError(`batch ${b} is outside the order's ${count} batches`);
  return makeBatch(set, order.subarray(b * batchSize, Math.min((b + 1) * batchSize, order.length)));
}
