/**
 * A graph that takes its position ids as an input (`position_ids`) is refused by discovery in one line naming the
 * input, where a graph with token types was refused as having three id lookups and one without them (DistilBERT) had
 * its position lookup taken for token types and was fed token types as its positions.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, DataType, pruneGraph, type Model } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

/** `model` with its position lookup reading a `name` graph input instead of arange(seq). */
function withPositionIdsInput(model: Model, name: string): Model {
  const m = cloneModel(model);
  const lookup = m.graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[0]!.includes('position_embeddings'))!;
  lookup.inputs[1] = name;
  m.graph.inputs.push({ name, elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] });
  pruneGraph(m.graph);
  return m;
}

/** `model` without its token type lookup and input (a DistilBERT-like graph). */
function withoutTokenTypes(model: Model): Model {
  const m = cloneModel(model);
  const types = m.graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[0]!.includes('token_type_embeddings'))!;
  const add = m.graph.nodes.find((n) => n.inputs.includes(types.outputs[0]!))!;
  const other = add.inputs.find((v) => v !== types.outputs[0])!;
  for (const n of m.graph.nodes) n.inputs = n.inputs.map((v) => (v === add.outputs[0] ? other : v));
  m.graph.inputs = m.graph.inputs.filter((v) => v.name !== 'token_type_ids');
  pruneGraph(m.graph);
  return m;
}

const refusal = (name: string) => new RegExp(`looks up graph input '${name}', position ids given as an input, which compress does not feed`);

describe('a graph with a position ids input', () => {
  it.each(['position_ids', 'pos_ids'])('with token types: refused in one line naming the input (%s)', (name) => {
    const m = withPositionIdsInput(tinyBert(), name);
    expect(() => findBert(m)).toThrow(NotBertError);
    expect(() => findBert(m)).toThrow(refusal(name));
  });

  it('without token types: refused, not read with its positions as token types', () => {
    const plain = withoutTokenTypes(tinyBert());
    expect(findBert(plain).inputs.tokenTypeIds).toBeUndefined();
    const m = withPositionIdsInput(plain, 'position_ids');
    expect(() => findBert(m)).toThrow(refusal('position_ids'));
  });
});
