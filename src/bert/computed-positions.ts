/**
 * A graph that takes its position ids as an input (see EncoderInputs.positionIds), rewritten to compute them from its
 * token ids, for a runtime that feeds only token ids, mask and token types (transformers.js): arange(seq) as one row
 * [1, seq] (BERT), or RoBERTa's padding-aware positions padding_idx + cumsum(ids ≠ padding_idx) · (ids ≠ padding_idx)
 * (Hugging Face's create_position_ids_from_input_ids), what modelInputs feeds them. The input is removed.
 */
import { SettingsError, quotedText } from '../errors.ts';
import { DataType } from '../onnx/dtype.ts';
import { cloneModel, graphValueNames, type Model, type Node } from '../onnx/graph.ts';
import { int64Tensor } from '../onnx/tensor.ts';
import { attr } from './build-graph.ts';
import type { BertStructure } from './structure.ts';

/** `model` computing the position ids it takes as an input (a copy), or `model` itself when it takes none. */
export function withComputedPositions(model: Model, structure: BertStructure, name: string): Model {
  const input = structure.inputs.positionIds;
  if (!input) return model;
  if (structure.opset < 11) {
    throw new SettingsError(
      `${name}: input ${quotedText(input)} gives the position ids, and computing them in a graph of opset ${structure.opset} (below 11: no Range, CumSum) is not supported`,
    );
  }
  const m = cloneModel(model);
  const g = m.graph;
  const taken = graphValueNames(g);
  const fresh = (base: string) => {
    let v = base;
    for (let i = 1; taken.has(v); i++) v = `${base}_${i}`;
    taken.add(v);
    return v;
  };
  const nodes: Node[] = [];
  const op = (opType: string, inputs: string[], attributes: Node['attributes'] = {}) => {
    const out = fresh(`/embeddings/computed_positions/${opType}_output`);
    nodes.push({ name: fresh(`/embeddings/computed_positions/${opType}`), opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  };
  const constant = (value: number, dims: number[] = []) => {
    const v = fresh('/embeddings/computed_positions/constant');
    g.initializers.set(v, int64Tensor(v, dims, [value]));
    return v;
  };
  const idsType = g.inputs.find((v) => v.name === structure.inputs.inputIds)?.elemType;
  const ids = idsType === DataType.INT64 ? structure.inputs.inputIds : op('Cast', [structure.inputs.inputIds], { to: attr.int(DataType.INT64) });
  let positions: string;
  const pad = structure.inputs.positionPadding;
  if (pad === undefined) {
    // arange(seq) as [1, seq]
    const seq = op('Gather', [op('Shape', [ids]), constant(1)], { axis: attr.int(0) });
    const range = op('Range', [constant(0), seq, constant(1)]);
    positions = structure.opset < 13 ? op('Unsqueeze', [range], { axes: attr.ints([0]) }) : op('Unsqueeze', [range, constant(0, [1])]);
  } else {
    const notPad = op('Cast', [op('Not', [op('Equal', [ids, constant(pad)])])], { to: attr.int(DataType.INT32) });
    const counted = op('Cast', [op('Mul', [op('CumSum', [notPad, constant(1)]), notPad])], { to: attr.int(DataType.INT64) });
    positions = op('Add', [counted, constant(pad)]);
  }
  const declared = g.inputs.find((v) => v.name === input)?.elemType;
  if (declared !== undefined && declared !== DataType.INT64) positions = op('Cast', [positions], { to: attr.int(declared) });
  for (const n of g.nodes) n.inputs = n.inputs.map((v) => (v === input ? positions : v));
  g.nodes.unshift(...nodes);
  g.inputs = g.inputs.filter((v) => v.name !== input);
  g.valueInfo = g.valueInfo.filter((v) => v.name !== input);
  return m;
}
