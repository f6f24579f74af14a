/**
 * Benchmark inputs: the encoder's graph inputs at each (batch, seq) shape, built by `sampleInputs` from the
 * discovered BERT structure. A model discovery cannot read (an int8-quantized graph, a BiLSTM student) borrows the
 * structure of its baseline, or of the model its lineage sidecar says it was compressed, trained or distilled from
 * (the teacher, whose tokenizer and vocabulary a student reads): the graph inputs are the same.
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { findBert } from '../bert/discover.ts';
import { lineageWalk, memoizedSha256Sync, type SourceRecord } from './lineage.ts';
import { type InputLimits, inputLimits, largestActivationBytes, sequenceProblem } from '../bert/input-limits.ts';
import { gigabytes } from '../units.ts';
import { fixedBatchSize, fixedSequenceLength, idTableRows, sampleChoices, sampleInputs } from '../bert/sample-inputs.ts';
import type { BertStructure } from '../bert/structure.ts';
import { MemoryRefusal, NotBertError, SettingsError, UsageError, counted, groupedDigits, quotedText, shownFlagValue, valueText } from '../errors.ts';
import { outputsLine, scoresOutput } from '../eval/graph-checks.ts';
import { encoderOnlyNote, isEncoderOnly } from '../bert/classifier.ts';
import { loadModel } from '../onnx/load.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { attrInt, cloneModel, type Model, type Tensor } from '../onnx/graph.ts';
import { float32Tensor, readFloat32 } from '../onnx/tensor.ts';
import { type InputRole, type ModelInput, modelInputs } from '../bert/model-inputs.ts';
import { tableRowsProblem } from '../eval/vocabulary-rows.ts';
import { recurrentModelLstm } from '../bert/recurrent.ts';
import type { Feeds } from '../runtime/session.ts';
import { idFeeds } from '../runtime/feeds.ts';

/** A (batch, seq) input shape. */
export interface Shape {
  batch: number;
  seq: number;
}

/** A model to benchmark: its graph and the structure whose inputs feed it. */
export interface BenchSubject {
  /** The .onnx path onnxruntime opens. */
  path: string;
  model: Model;
  /**
   * Undefined for a recurrent model (a Distilled BiLSTM student, float or int8) given without a baseline: its inputs
   * are read by name and its ids drawn below its word table's rows (sampleInputs), as eval feeds it.
   */
  structure?: BertStructure;
}

/**
 * Loads `path` and finds its encoder inputs: by discovery, else from `fallback` (the baseline's structure), else
 * by name for a recurrent model (no structure), else from the model its lineage sidecar (`PATH.json`) names as input.
 * A SettingsError when none works.
 */
export function benchSubject(path: string, fallback?: BertStructure): BenchSubject {
  return subjectOf(path, inlineLocalFunctions(loadModel(path)), fallback);
}

/**
 * benchSubject of `model`, the model at `path` as read (with its weights' values, or without them as a sweep's plan
 * reads it, which asks it of a model discovery refuses: its baseline point's benchmark finds its inputs so, or fails).
 */
export function subjectOf(path: string, model: Model, fallback?: BertStructure): BenchSubject {
  try {
    return { path, model, structure: findBert(model, { label: path }) };
  } catch (e) {
    if (!(e instanceof NotBertError)) throw e;
    // (a BiLSTM student needs no model of its lineage, whose paths may not be found from here, or at all where only the student was copied)
    if (recurrentModelLstm(model)) return fallback ? { path, model, structure: fallback } : { path, model };
    const borrowed = castWeightsStructure(model, path) ?? fallback ?? structureFromLineage(path);
    if (!borrowed) {
      throw new SettingsError(`${path}: cannot find the encoder's inputs (${e.message}); give --baseline the model it was compressed from`);
    }
    return { path, model, structure: borrowed };
  }
}

/**
 * The structure of a model whose float16 weights a Cast to float32 reads before each product (float32 compute over
 * float16 storage, which discovery refuses, as the passes cannot rewrite it), found in the same graph with those
 * weights stored as float32 under the Casts' outputs: the same inputs, tables and sizes, all a benchmark reads of
 * it. Each such weight's float32 values are made only where discovery reads them (castOnRead): discovery reads
 * weights' dims, so a model's weights are neither copied nor, where it was read without them (loadModelShapes: a
 * sweep's plan), read from its file. Undefined for a model with no such Cast, or whose graph discovery refuses even so.
 */
function castWeightsStructure(model: Model, path: string): BertStructure | undefined {
  const g = model.graph;
  const isCastWeight = (n: (typeof g.nodes)[number]) =>
    n.opType === 'Cast' && attrInt(n, 'to') === DataType.FLOAT && g.initializers.get(n.inputs[0]!)?.dataType === DataType.FLOAT16;
  if (!g.nodes.some(isCastWeight)) return undefined;
  const stored32 = cloneModel(model);
  for (const n of stored32.graph.nodes.filter(isCastWeight)) {
    stored32.graph.initializers.set(n.outputs[0]!, castOnRead(stored32.graph.initializers.get(n.inputs[0]!)!, n.outputs[0]!));
  }
  stored32.graph.nodes = stored32.graph.nodes.filter((n) => !isCastWeight(n));
  try {
    return findBert(stored32, { label: path });
  } catch (e) {
    if (e instanceof NotBertError) return undefined;
    throw e;
  }
}

/** Float16 tensor `t` as a float32 tensor named `name`, its values converted the first time its data is read. */
function castOnRead(t: Tensor, name: string): Tensor {
  const out = { name, dataType: DataType.FLOAT, dims: [...t.dims] } as Tensor;
  let data: Uint8Array | undefined;
  Object.defineProperty(out, 'data', { enumerable: true, get: () => (data ??= float32Tensor(name, t.dims, readFloat32(t)).data) });
  return out;
}

/**
 * The structure of the first discoverable model up the lineage chain of `path` (each record's input, else its
 * teacher: a distilled student's), if any: each the file its record hashed (lineageSource), none read twice. A
 * folder stands for its model.onnx.
 */
function structureFromLineage(path: string): BertStructure | undefined {
  const lineage = lineageWalk(path, memoizedSha256Sync());
  for (let file = resolve(path); ; ) {
    const record = lineage.record(file) as { input?: SourceRecord | null; teacher?: SourceRecord | null } | null | undefined;
    if (record === undefined) return undefined;
    const named = [record?.input, record?.teacher].find((s) => typeof s?.path === 'string');
    const parent = named ? lineage.follow(named, file) : undefined;
    if (!parent) return undefined;
    try {
      return findBert(inlineLocalFunctions(loadModel(parent)), { label: parent });
    } catch (e) {
      if (!(e instanceof NotBertError)) throw e;
    }
    file = parent;
  }
}

/** The inputs that feed a subject: its structure's, or a recurrent model's by name. */
function fedBy(s: BenchSubject): Pick<BertStructure, 'inputs'> {
  return s.structure ?? { inputs: { inputIds: modelInputs(s.model).find((i) => i.role === 'ids')!.name } };
}

/** The sequence limits of a subject (inputLimits): a recurrent model without a structure has no position table. */
export function subjectLimits(s: BenchSubject): Pick<InputLimits, 'maxSequence' | 'fixedSequence'> {
  return s.structure ? inputLimits(s.model, s.structure) : { maxSequence: null, fixedSequence: fixedSequenceLength(s.model, fedBy(s)) ?? null };
}

/**
 * The largest activation of a recurrent model (bytes, float32, for the whole batch): its LSTM's gates, both
 * directions, or its word vectors.
 */
function recurrentActivationBytes(model: Model, batch: number, seq: number): number {
  const lstm = recurrentModelLstm(model);
  const hidden = (lstm && attrInt(lstm, 'hidden_size')) ?? 0;
  const width = Math.max(0, ...[...model.graph.initializers.values()].filter((t) => t.dims.length === 2).map((t) => t.dims[1]!));
  return 4 * batch * seq * Math.max(8 * hidden, width, 2);
}

/** The sizes of `dim` the subjects' graphs fix, in the subjects' order, duplicates removed (none where all are dynamic). */
function fixedSizesOf(subjects: readonly BenchSubject[], dim: 'batch' | 'seq'): number[] {
  const sizes = subjects.map((s) => (dim === 'seq' ? fixedSequenceLength(s.model, fedBy(s)) : fixedBatchSize(s.model, fedBy(s))));
  return [...new Set(sizes.filter((v) => v !== undefined))];
}

/**
 * Why the subjects cannot be timed at one shape, or undefined where they can: two of them fix different batch sizes or
 * sequence lengths ('the models fix different seq sizes (160, 64)').
 */
export function fixedDimsConflict(subjects: readonly BenchSubject[]): string | undefined {
  for (const dim of ['batch', 'seq'] as const) {
    const sizes = fixedSizesOf(subjects, dim);
    if (sizes.length > 1) return `the models fix different ${dim} sizes (${sizes.join(', ')})`;
  }
  return undefined;
}

/**
 * The batch size and sequence length the subjects' graphs fix (undefined where dynamic); two subjects that fix
 * different sizes cannot be compared: a SettingsError (fixedDimsConflict).
 */
export function fixedDims(subjects: readonly BenchSubject[]): { batch: number | undefined; seq: number | undefined } {
  const conflict = fixedDimsConflict(subjects);
  if (conflict) throw new SettingsError(`${conflict}: they cannot be compared`);
  return { batch: fixedSizesOf(subjects, 'batch')[0], seq: fixedSizesOf(subjects, 'seq')[0] };
}

/**
 * Every (batch, seq) of `batches` × `seqs`, in that order, with a dimension the graphs fix (keras exports fix the
 * sequence) replacing the asked values; duplicates removed. Two subjects that fix different sizes cannot be
 * compared: a SettingsError.
 */
export function benchShapes(batches: readonly number[], seqs: readonly number[], subjects: readonly BenchSubject[]): Shape[] {
  return shapesWith(batches, seqs, fixedDims(subjects));
}

/** benchShapes with the subjects' fixed dimensions (fixedDims) already known. */
export function shapesWith(batches: readonly number[], seqs: readonly number[], dims: ReturnType<typeof fixedDims>): Shape[] {
  const { seq: fixedSeq, batch: fixedBatch } = dims;
  const shapes: Shape[] = [];
  for (const b of fixedBatch !== undefined ? [fixedBatch] : batches) {
    for (const s of fixedSeq !== undefined ? [fixedSeq] : seqs) {
      if (!shapes.some((x) => x.batch === b && x.seq === s)) shapes.push({ batch: b, seq: s });
    }
  }
  return shapes;
}

/**
 * The longest typed array Node.js 20 makes, of any element type (later versions make longer ones): a benchmark's
 * inputs (sampleInputs: one of batch × rows × seq ids per input) and the copy of a shape's latencies the statistics
 * sort (shapeStats) must each fit in one.
 */
const LONGEST_TYPED_ARRAY = 2 ** 32;

/**
 * Throws a SettingsError when a shape's sequence length is beyond a subject's position table; a UsageError (a bad
 * --batch or --seq value: exit 2, as a --repeats whose latencies no machine keeps) when its inputs would hold more ids
 * each than the longest typed array (LONGEST_TYPED_ARRAY), which no machine makes whatever its memory (a queued plan,
 * which leaves memory to its workers, refuses it too; a sweep's plan names it as its file's setting, exit 1 as every
 * refusal of a sweep file's values); and a MemoryRefusal when one of its activations alone (FFN units, attention
 * scores or hidden states, float32, for the whole batch: of a multiple-choice export, its rows of every choice) would
 * not fit in `memoryBytes` (the machine's memory): such a run cannot finish, and building its inputs would first
 * exhaust the memory (`--batch 100000000` ran until killed).
 */
export function checkShapesFit(shapes: readonly Shape[], subjects: readonly BenchSubject[], memoryBytes: number = totalmem()): void {
  for (const subject of subjects) {
    const limits = subjectLimits(subject);
    for (const shape of shapes) {
      // (each size as typed on the command line: --batch 1e8, not 100000000)
      const sizes = `--batch ${shownFlagValue('--batch', shape.batch)} --seq ${shownFlagValue('--seq', shape.seq)}`;
      const problem = sequenceProblem(shape.seq, limits, `--seq ${shownFlagValue('--seq', shape.seq)}`);
      if (problem) throw new SettingsError(`${subject.path}: ${problem}`);
      // (a multiple-choice export's batch is of examples, a row per choice each: sampleInputs)
      const rows = shape.batch * (fedChoices(subject) ?? 1);
      if (rows * shape.seq > LONGEST_TYPED_ARRAY)
        throw new UsageError(
          `${sizes}: the inputs of ${subject.path} would hold ${groupedDigits(rows * shape.seq)} ids each, more than the longest typed array Node.js 20 makes (${groupedDigits(LONGEST_TYPED_ARRAY)}), on any machine; give a smaller --batch or --seq`,
        );
      const largest = subject.structure
        ? largestActivationBytes(subject.structure, rows, shape.seq)
        : recurrentActivationBytes(subject.model, shape.batch, shape.seq);
      if (largest > memoryBytes) {
        throw new MemoryRefusal(
          `${sizes}: one activation of ${subject.path} would take ${gigabytes(largest)}, more than this machine's ${gigabytes(memoryBytes)} of memory; give a smaller --batch or --seq`,
        );
      }
    }
  }
}

/**
 * The longest Float64Array Node.js 20 makes (LONGEST_TYPED_ARRAY): the statistics sort a copy of a shape's latencies in
 * one (shapeStats), so that the latencies of more runs cannot be kept on any machine.
 */
const MOST_SORTED = LONGEST_TYPED_ARRAY;

/** What bounds the runs kept at MOST_SORTED, in words. */
const SORTED_BOUND = 'the longest Float64Array Node.js 20 makes, which the statistics sort';

/**
 * The most runs whose latencies can be kept, and what bounds them, in words: a float64 each per model timed
 * (`models`), off the V8 heap (Latencies), and one more for the working copy the statistics sort (shapeStats), in
 * `memoryBytes` (the machine's memory); or the longest Float64Array (MOST_SORTED), whatever the memory.
 */
export function keptRepeats(models: number, memoryBytes: number = totalmem()): { most: number; bound: string } {
  const inMemory = Math.floor(memoryBytes / (8 * (models + 1)));
  return inMemory < MOST_SORTED ? { most: inMemory, bound: `with ${gigabytes(memoryBytes)} of memory` } : { most: MOST_SORTED, bound: SORTED_BOUND };
}

/**
 * Throws when the latencies of `repeats` runs (keptRepeats' arithmetic) could not be held and no time budget
 * (`maxSeconds`, --max-time) stops the runs before: beyond the longest Float64Array (MOST_SORTED), a SettingsError,
 * for no machine can; beyond `memoryBytes` (the machine's memory), a MemoryRefusal, which a machine
 * with more may run (a queue's worker gives such a point back). Such a run cannot finish, and would hold the
 * machine-wide timing lock until it failed (`--repeats 1e12`). With a budget, `repeats` is a ceiling: the timing
 * stops at the most runs it can keep (keptRepeats), saying so (BenchResult.keptRuns).
 */
export function checkRepeats(
  { repeats, maxSeconds }: { repeats: number; maxSeconds: number | undefined },
  models: number,
  memoryBytes: number = totalmem(),
): void {
  if (maxSeconds !== undefined) return;
  const refusal = (most: number, bound: string): string =>
    `--repeats ${shownFlagValue('--repeats', repeats)}: the latencies of that many runs could not be kept (at most ${groupedDigits(most)}${bound}); give a smaller --repeats, or a --max-time`;
  if (repeats > MOST_SORTED) throw new SettingsError(refusal(MOST_SORTED, `, ${SORTED_BOUND}`));
  // (within the longest Float64Array, only memory bounds them: keptRepeats' words for it)
  const kept = keptRepeats(models, memoryBytes);
  if (repeats > kept.most) throw new MemoryRefusal(refusal(kept.most, ` ${kept.bound}`));
}

/** The encoder inputs a graph declares (initializers listed as inputs left out), by name, with their element type. */
function declaredInputs(model: Model): Map<string, number | undefined> {
  return new Map(model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name)).map((v) => [v.name, v.elemType]));
}

/**
 * Throws a SettingsError when `baseline` is not a model `model` can be compared with (incomparable's reason).
 */
export function checkComparable(model: BenchSubject, baseline: BenchSubject): void {
  const why = incomparable(model, baseline);
  if (why)
    throw new SettingsError(
      `--baseline ${baseline.path} is not comparable with ${model.path}: ${why}; a speed-up compares a model with the one it was compressed or distilled from`,
    );
}

/**
 * Why `baseline` is not a model `model` can be compared with, or undefined where it is: a speed-up compares a model
 * with the one it was compressed or distilled from, which reads the same inputs, by role where each is fed by its own
 * names (inputsDifference: the model may read fewer, as a BiLSTM student reads no token types), is fed as many rows per example (a multiple-choice export a row per choice:
 * fedChoices), gives the same scores per example (not asked where `scores` is false: a
 * sweep's plan asks the rest of the model a trained student takes its inputs and vocabulary from, whose classifier
 * training replaces), and looks up the same vocabulary.
 */
export function incomparable(model: BenchSubject, baseline: BenchSubject, scores = true): string | undefined {
  // (a model that borrowed the baseline's structure, a BiLSTM student, or one without any: fed by the baseline's names)
  const borrowed = !model.structure || model.structure === baseline.structure;
  const inputs = inputsDifference(model, baseline, borrowed);
  if (inputs !== undefined) return inputs;
  // (a multiple-choice export is fed a row per choice of each example, sampleInputs: a batch of N examples runs N ×
  // choices rows in it, N in a model of one row per example, which would time as that many times faster)
  const [mine, theirsFed] = [fedChoices(model), fedChoices(baseline)];
  if (mine !== theirsFed) {
    const perChoice = ' (a row per choice of each example: token ids [batch, choices, sequence])';
    const fed = mine === undefined ? 'one row per example' : `${mine} rows per example${perChoice}`;
    return `the model is fed ${fed}, the baseline ${theirsFed === undefined ? 'one' : `${theirsFed}${perChoice}`}`;
  }
  if (scores) {
    const a = scoresOutput(model.model);
    const b = scoresOutput(baseline.model);
    if (a.name !== b.name) return scoresDifference(model, a.name, baseline, b.name);
    if (a.width !== null && b.width !== null && a.width !== b.width) return `the model gives ${counted(a.width, 'score')} per example, the baseline ${b.width}`;
  }
  // (a model that borrowed the baseline's structure: the rows of its own table)
  const modelVocab = borrowed ? tableRows(model) : model.structure!.vocabSize;
  const baselineVocab = baseline.structure?.vocabSize ?? tableRows(baseline);
  // (other rows each holding every id the tokenizers beside them give are fed below their own rows: benchFeeds)
  const rows =
    modelVocab === undefined || baselineVocab === undefined
      ? undefined
      : tableRowsProblem(
          [
            { who: 'the model', rows: modelVocab },
            { who: 'the baseline', rows: baselineVocab },
          ],
          [dirname(baseline.path), dirname(model.path)],
        );
  if (rows) {
    const differ = `the model's vocabulary has ${modelVocab} tokens, the baseline's ${baselineVocab}`;
    return rows.past === undefined ? differ : `${differ}, and ${rows.past}`;
  }
  // (such a model is fed the token types of the baseline's structure: below the rows of its own token-type table)
  const types = baseline.structure?.inputs.tokenTypeIds;
  if (borrowed && types !== undefined && declaredInputs(model.model).has(types)) {
    const rows = idTableRows(model.model, types);
    const fed = baseline.structure!.typeVocabSize ?? 1;
    if (rows !== undefined && rows < fed) return `the model has ${counted(rows, 'token type')}, the baseline ${fed}`;
  }
  return undefined;
}

/** Each input role in words, as a model reads it. */
const ROLE_WORDS: Readonly<Record<InputRole, string>> = {
  ids: 'token ids',
  mask: 'an attention mask',
  types: 'token types',
  positions: 'position ids',
};

/**
 * How the inputs `model` is fed differ from those of `baseline`, or undefined where each of the model's inputs has
 * one in the baseline (it may read fewer, as a BiLSTM student reads no token types) of the same element type. A model
 * fed by its own structure (not `borrowed`) is compared by role, as each is fed by its own names (a student exported
 * with 'ids' or keras' 'input_mask'); one fed by the baseline's structure, or whose inputs modelInputs does not tell
 * apart (an input of no role), by name (namesDifference).
 */
function inputsDifference(model: BenchSubject, baseline: BenchSubject, borrowed: boolean): string | undefined {
  const mine = borrowed ? undefined : fedInputs(model);
  const theirs = mine && fedInputs(baseline);
  if (!mine || !theirs) return namesDifference(model, baseline);
  for (const input of mine) {
    const other = theirs.find((i) => i.role === input.role);
    if (!other)
      return `the model reads ${ROLE_WORDS[input.role]} (input ${quotedText(input.name)}), which the baseline does not (its inputs: ${theirs.map((i) => i.name).join(', ')})`;
    if (other.elementType !== input.elementType) {
      const theirName = other.name === input.name ? '' : ` (${quotedText(other.name)})`;
      return `input ${quotedText(input.name)} is ${input.elementType} in the model and ${other.elementType} in the baseline${theirName}`;
    }
  }
  return undefined;
}

/** The inputs a subject is fed (modelInputs of its structure), or undefined where one of them has no role. */
function fedInputs(s: BenchSubject): readonly ModelInput[] | undefined {
  try {
    return modelInputs(s.model, s.structure);
  } catch (e) {
    if (e instanceof SettingsError) return undefined;
    throw e;
  }
}

/** How the declared inputs of `model` differ from those of `baseline` by name and element type, or undefined. */
function namesDifference(model: BenchSubject, baseline: BenchSubject): string | undefined {
  const theirs = declaredInputs(baseline.model);
  for (const [name, type] of declaredInputs(model.model)) {
    if (!theirs.has(name)) return `the model reads input ${quotedText(name)}, which the baseline does not have (${[...theirs.keys()].join(', ')})`;
    if (theirs.get(name) !== type) {
      const typeName = (t: number | undefined) => (t === undefined ? 'of no declared type' : dataTypeName(t));
      return `input ${quotedText(name)} is ${typeName(type)} in the model and ${typeName(theirs.get(name))} in the baseline`;
    }
  }
  return undefined;
}

/**
 * How a model's scores output (`mine`, scoresOutput's name) differs from its baseline's (`theirs`): both names, or,
 * where one of them gives no scores (null), what it gives instead: an encoder-only model's outputs (encoderOnlyNote),
 * else the outputs it has.
 */
function scoresDifference(model: BenchSubject, mine: string | null, baseline: BenchSubject, theirs: string | null): string {
  if (mine !== null && theirs !== null) return `the model's scores output is ${valueText(mine)}, the baseline's ${valueText(theirs)}`;
  const none = (s: BenchSubject) =>
    s.structure && isEncoderOnly(s.structure) ? `is ${encoderOnlyNote(s.model)}` : `gives no class scores (outputs ${outputsLine(s.model)})`;
  return mine === null
    ? `the model ${none(model)}, the baseline gives class scores (${valueText(theirs)})`
    : `the model gives class scores (${valueText(mine)}), the baseline ${none(baseline)}`;
}

/** The rows a subject is fed per example: a multiple-choice export's choices (sampleChoices), undefined for one row. */
function fedChoices(s: BenchSubject): number | undefined {
  return s.structure ? sampleChoices(s.model, s.structure) : undefined;
}

/** The rows of the table a subject's graph looks its token ids up in (idTableRows), if it has one. */
function tableRows(s: BenchSubject): number | undefined {
  const ids = s.structure?.inputs.inputIds ?? modelInputs(s.model).find((i) => i.role === 'ids')?.name;
  return ids === undefined ? undefined : idTableRows(s.model, ids);
}

/**
 * The subject's inputs at `shape` as onnxruntime tensors (deterministic: the same seed gives the same ids), its ids
 * below the rows of its own word table where the structure it borrowed (its baseline's) has more.
 */
export function benchFeeds(subject: BenchSubject, shape: Shape, seed = 12345): Feeds {
  const s = subject.structure;
  const rows = s && tableRows(subject);
  const structure = s && rows !== undefined && rows < s.vocabSize ? { ...s, vocabSize: rows } : s;
  return idFeeds(sampleInputs(subject.model, structure, { batch: shape.batch, seq: shape.seq, seed }));
}
