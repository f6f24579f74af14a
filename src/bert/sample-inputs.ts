/**
 * Deterministic encoder inputs for a discovered model: token ids below the vocabulary size, a padded attention
 * mask, token types, fed through `model-inputs.ts` (the element type each graph input declares). Used to check that
 * a rewritten model still runs and computes the same thing, and by benchmarks.
 */
import { attrInt, type Dim, type Model } from '../onnx/graph.ts';
import type { IdInput } from '../runtime/feeds.ts';
import { modelInputs, tokenInputs, type TokenBatch } from './model-inputs.ts';
import type { BertStructure } from './structure.ts';
import { SettingsError } from '../errors.ts';
import { checkModelArg, checkOptionKinds, checkOptions, SEED_OPTION, type OptionKinds } from '../library-args.ts';

export interface SampleOptions {
  /** Rows (default 2), unless the graph fixes the batch size. */
  batch?: number;
  /** Sequence length (default 16), unless the graph fixes one; at most what the position table covers. */
  seq?: number;
  seed?: number;
}

/** SampleOptions' kinds, checked by sampleBatch and sampleInputs before any work (a JavaScript caller's batch 'x' made no rows). */
const SAMPLE_OPTION_KINDS = {
  batch: { is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1, expected: 'an integer 1 or greater (rows)' },
  seq: { is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1, expected: 'an integer 1 or greater (the sequence length)' },
  seed: SEED_OPTION,
} as const satisfies Record<keyof SampleOptions, OptionKinds[string]>;

/** `model` and `opts` of sampleBatch or sampleInputs (`fn`), checked by their kinds. */
function checkSampleArgs(fn: string, model: unknown, opts: unknown): asserts model is Model {
  checkModelArg(fn, model);
  checkOptionKinds(fn, checkOptions(fn, opts, '{batch, seq, seed}'), SAMPLE_OPTION_KINDS);
}

/** The token ids input's declared shape: [batch, sequence], or a multiple-choice export's [batch, choices, sequence]. */
function idsShape(model: Model, structure: Pick<BertStructure, 'inputs'>): readonly Dim[] | undefined {
  return model.graph.inputs.find((i) => i.name === structure.inputs.inputIds)?.shape;
}

/**
 * A fixed sequence length the graph demands (keras exports fix it), or undefined when dynamic: the last axis of the
 * token ids ([batch, sequence], a multiple-choice export's [batch, choices, sequence]).
 */
export function fixedSequenceLength(model: Model, structure: Pick<BertStructure, 'inputs'>): number | undefined {
  const shape = idsShape(model, structure);
  const d = shape && shape.length >= 2 ? shape[shape.length - 1] : undefined;
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/**
 * The choices per example a multiple-choice export's graph fixes (token ids [batch, choices, sequence]: transformers'
 * BertForMultipleChoice), or undefined where its choices axis is dynamic or the token ids are of another rank.
 */
export function fixedChoices(model: Model, structure: Pick<BertStructure, 'inputs'>): number | undefined {
  const shape = idsShape(model, structure);
  const d = shape?.length === 3 ? shape[1] : undefined;
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/**
 * The choices per example of a multiple-choice export's sample inputs (token ids [batch, choices, sequence]): the size
 * the graph fixes, else 2; undefined for token ids of another rank.
 */
export function sampleChoices(model: Model, structure: Pick<BertStructure, 'inputs'>): number | undefined {
  return idsShape(model, structure)?.length === 3 ? (fixedChoices(model, structure) ?? 2) : undefined;
}

/**
 * How token inputs of examples of one text or pair each ([rows, sequence]) are fed to `model`: as they are, or to a
 * multiple-choice export ([batch, choices, sequence]), one choice to an example ([rows, 1, sequence]: inChoices) where
 * its choices axis is dynamic. A graph of fixed choices is refused in one line (a SettingsError naming `example`, what
 * is fed: 'a calibration example', and the model as `named`: 'the teacher'), as such examples cannot fill them.
 */
export function oneChoiceEach(model: Model, structure: Pick<BertStructure, 'inputs'>, example: string, named = 'the model'): (inputs: IdInput[]) => IdInput[] {
  if (idsShape(model, structure)?.length !== 3) return (inputs) => inputs;
  const choices = fixedChoices(model, structure);
  if (choices !== undefined && choices !== 1) {
    throw new SettingsError(
      `${named} takes exactly ${choices} choices per example (token ids [batch, ${choices}, sequence]), and ${example} is one text or pair, fed as one choice: use a model exported with a dynamic choices axis`,
    );
  }
  return (inputs) => inChoices(model, inputs, 1);
}

/**
 * Token `inputs` ([rows, sequence] each) with those the graph declares of rank 3 (a multiple-choice export's
 * [batch, choices, sequence]) as [rows / choices, choices, sequence]: its rows `choices` to an example, in order.
 */
export function inChoices(model: Model, inputs: readonly IdInput[], choices: number): IdInput[] {
  const rank3 = new Set(model.graph.inputs.filter((v) => v.shape?.length === 3).map((v) => v.name));
  return inputs.map((i) => (rank3.has(i.name) ? { ...i, dims: [i.dims[0]! / choices, choices, i.dims[1]!] } : i));
}

/**
 * The longest sequence the position table covers (RoBERTa's positions start after padding_idx 1: two rows fewer);
 * undefined when positions are not looked up.
 */
export function positionLimit(structure: Pick<BertStructure, 'maxPositions' | 'family'>): number | undefined {
  const rows = structure.maxPositions;
  return rows === undefined ? undefined : structure.family === 'roberta' ? rows - 2 : rows;
}

/** A fixed batch size the graph demands (an export without a dynamic batch axis), or undefined when dynamic. */
export function fixedBatchSize(model: Model, structure: Pick<BertStructure, 'inputs'>): number | undefined {
  const d = model.graph.inputs.find((i) => i.name === structure.inputs.inputIds)?.shape?.[0];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/**
 * Seeded token rows, at the batch size and sequence length the graph's inputs fix when they fix them (a static-shape
 * export runs no other): the first row full, the others padded by different amounts, the second half of each row
 * token type 1. A multiple-choice export's batch has a row per choice of each example (sampleChoices).
 */
export function sampleBatch(
  model: Model,
  structure: Pick<BertStructure, 'inputs' | 'vocabSize' | 'typeVocabSize' | 'maxPositions' | 'family'>,
  opts: SampleOptions = {},
): TokenBatch {
  checkSampleArgs('sampleBatch', model, opts);
  const batch = (fixedBatchSize(model, structure) ?? opts.batch ?? 2) * (sampleChoices(model, structure) ?? 1);
  const seq = fixedSequenceLength(model, structure) ?? Math.min(opts.seq ?? 16, positionLimit(structure) ?? Number.POSITIVE_INFINITY);
  let s = (opts.seed ?? 12345) >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const lengths = Array.from({ length: batch }, (_, b) => (b === 0 ? seq : Math.max(2, seq - 1 - ((b * 5) % (seq - 1)))));
  const inputIds = new BigInt64Array(batch * seq);
  const attentionMask = new BigInt64Array(batch * seq);
  const tokenTypeIds = new BigInt64Array(batch * seq);
  const typeVocab = structure.typeVocabSize ?? 1;
  for (let b = 0, at = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++, at++) {
      if (t >= lengths[b]) continue;
      // ids from 1 up (0 is most tables' padding id), but a one-row table has only id 0
      inputIds[at] = structure.vocabSize > 1 ? BigInt(1 + Math.floor(rand() * (structure.vocabSize - 1))) : 0n;
      attentionMask[at] = 1n;
      if (typeVocab > 1 && t >= lengths[b] / 2) tokenTypeIds[at] = 1n;
    }
  }
  return { batch, seq, inputIds, attentionMask, tokenTypeIds };
}

/**
 * The model's encoder inputs filled with `sampleBatch`, each of the rank the graph declares it (a multiple-choice
 * export's [batch, choices, sequence]: its rows a choice each). Without a structure (a recurrent model:
 * src/bert/recurrent.ts) the inputs are read by name, and the ids stay below the rows of the word table (a Gather's
 * 2-D initializer).
 */
export function sampleInputs(model: Model, structure: BertStructure | undefined, opts: SampleOptions = {}): IdInput[] {
  checkSampleArgs('sampleInputs', model, opts);
  if (structure) {
    const inputs = tokenInputs(modelInputs(model, structure), sampleBatch(model, structure, opts));
    const choices = sampleChoices(model, structure);
    return choices === undefined ? inputs : inChoices(model, inputs, choices);
  }
  const inputs = modelInputs(model);
  const ids = inputs.find((i) => i.role === 'ids')!.name;
  return tokenInputs(inputs, sampleBatch(model, { inputs: { inputIds: ids }, vocabSize: idTableRows(model, ids) ?? 2, family: 'bert' }, opts));
}

/**
 * The rows of the tables a graph looks its token ids up in, the fewest: the initializers Gathers on axis 0 read with
 * the ids input `ids`, directly or through Casts (a word table, or an int8 one and its per-row scales); undefined
 * where none does. Ids from that many up are out of the graph's bounds (onnxruntime's Gather fails on them).
 */
export function idTableRows(model: Model, ids: string): number | undefined {
  const g = model.graph;
  const names = new Set([ids]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const n of g.nodes) {
      if ((n.opType === 'Cast' || n.opType === 'Identity') && names.has(n.inputs[0]!) && !names.has(n.outputs[0]!)) {
        names.add(n.outputs[0]!);
        grew = true;
      }
    }
  }
  const rows = g.nodes
    .filter((n) => n.opType === 'Gather' && attrInt(n, 'axis', 0) === 0 && names.has(n.inputs[1]!) && g.initializers.get(n.inputs[0]!)?.dims.length)
    .map((n) => g.initializers.get(n.inputs[0]!)!.dims[0]!);
  return rows.length ? Math.min(...rows) : undefined;
}
