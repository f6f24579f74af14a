/**
 * Deterministic encoder inputs for a discovered model: token ids below the vocabulary size, a padded attention
 * mask, token types, in the element type each graph input declares. Used to check that a rewritten model still
 * runs and computes the same thing, and by benchmarks.
 */
import type { Model } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import type { BertStructure } from './structure.ts';

export interface SampleInput {
  name: string;
  type: 'int64' | 'int32';
  dims: [number, number];
  values: number[];
}

/** A fixed sequence length the graph demands (keras2onnx exports fix it), or undefined when dynamic. */
export function fixedSequenceLength(model: Model, structure: BertStructure): number | undefined {
  const v = model.graph.inputs.find((i) => i.name === structure.inputs.inputIds);
  const d = v?.shape?.[1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

export function sampleInputs(model: Model, structure: BertStructure, opts: { batch?: number; seq?: number; seed?: number } = {}): SampleInput[] {
  const batch = opts.batch ?? 2;
  const seq = fixedSequenceLength(model, structure) ?? opts.seq ?? 16;
  let s = (opts.seed ?? 12345) >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const vocab = Math.max(2, structure.vocabSize);
  const lengths = Array.from({ length: batch }, (_, b) => (b === 0 ? seq : Math.max(2, seq - 1 - ((b * 5) % (seq - 1)))));
  const ids: number[] = [], mask: number[] = [], types: number[] = [];
  const typeVocab = structure.typeVocabSize ?? 1;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      const pad = t >= lengths[b];
      ids.push(pad ? 0 : 1 + Math.floor(rand() * (vocab - 1)));
      mask.push(pad ? 0 : 1);
      types.push(!pad && typeVocab > 1 && t >= lengths[b] / 2 ? 1 : 0);
    }
  }
  const typeOf = (name: string): 'int64' | 'int32' =>
    model.graph.inputs.find((i) => i.name === name)?.elemType === DataType.INT32 ? 'int32' : 'int64';
  const out: SampleInput[] = [{ name: structure.inputs.inputIds, type: typeOf(structure.inputs.inputIds), dims: [batch, seq], values: ids }];
  if (structure.inputs.attentionMask) out.push({ name: structure.inputs.attentionMask, type: typeOf(structure.inputs.attentionMask), dims: [batch, seq], values: mask });
  if (structure.inputs.tokenTypeIds) out.push({ name: structure.inputs.tokenTypeIds, type: typeOf(structure.inputs.tokenTypeIds), dims: [batch, seq], values: types });
  return out;
}
