/**
 * Models stored quantized, which training cannot read (the canonical rebuild refuses their int8 or int4 weights; a
 * Distilled BiLSTM stored in int8 has no float LSTM to import): said where a refusal would otherwise send the user to
 * train such a model (`compress train --new-head`), as the way through is to train the float model it was quantized
 * from and quantize the result.
 */
import type { Model } from '../onnx/graph.ts';
import { recurrentModelLstm } from './recurrent.ts';
import type { BertStructure, Linear, Quantization } from './structure.ts';

/**
 * The first weight of `s` stored quantized, in words ('the word embedding is stored quantized (gather-scale)'), which
 * the rebuild (training) cannot read; undefined for a float model.
 */
export function quantizedWeight(s: BertStructure): string | undefined {
  const stored: Array<[string, Quantization | undefined]> = [];
  const check = (what: string, q: Quantization | undefined) => stored.push([what, q]);
  const linear = (what: string, l: Linear | undefined) => check(what, l?.quantization);
  const e = s.embeddings;
  check('the word embedding', e.word.quantization);
  linear('the word embedding projection', e.word.projection);
  linear('the embeddings mapping', e.mapping);
  check('the position embedding', e.position?.quantization);
  check('the token type embedding', e.tokenType?.quantization);
  for (const l of s.layers) {
    const a = l.attention;
    check(`layer ${l.index} attention`, a?.fused?.quantization);
    for (const [role, lin] of [
      ['query', a?.q],
      ['key', a?.k],
      ['value', a?.v],
      ['attention output', a?.output],
    ] as const)
      linear(`layer ${l.index} ${role}`, lin);
    linear(`layer ${l.index} FFN input`, l.ffn.in);
    linear(`layer ${l.index} FFN output`, l.ffn.out);
  }
  linear('the pooler', s.pooler?.dense);
  s.head?.linears.forEach((l, i) => linear(`head projection ${i}`, l));
  const found = stored.find(([, q]) => q);
  return found && `${found[0]} is stored quantized (${found[1]!.kind})`;
}

/**
 * What of `model` is stored quantized, in words, where training cannot read it: quantizedWeight of its structure
 * (discovery's, when given), or a Distilled BiLSTM's LSTM stored in int8; undefined for a float model.
 */
export function storedQuantized(model: Model, structure: BertStructure | undefined): string | undefined {
  if (structure) return quantizedWeight(structure);
  return recurrentModelLstm(model)?.opType === 'DynamicQuantizeLSTM' ? 'its LSTM is stored in int8 (DynamicQuantizeLSTM)' : undefined;
}
