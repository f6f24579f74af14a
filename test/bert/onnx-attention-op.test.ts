/**
 * ONNX's own Attention op (ai.onnx, opset 23: torch's exporter writes scaled_dot_product_attention as one at opset
 * ≥ 23) is not read: the refusal names the node and what to do, as com.microsoft attention ops discovery does not read are
 * refused (where it said the graph had no Attention node).
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, type Model } from '../../src/onnx/index.ts';
import { onnxNode, tinyBert } from '../helpers/models.ts';

/** `model` with each layer's Q·Kᵀ, scaling, mask, Softmax and context MatMul as one ai.onnx Attention (opset 23). */
function withOnnxAttention(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const producer = (v: string) => g.nodes.find((n) => n.outputs.includes(v))!;
  for (const [l, softmax] of g.nodes.filter((n) => n.opType === 'Softmax').entries()) {
    const add = producer(softmax.inputs[0]);
    const div = producer(add.inputs[0]);
    const qk = producer(div.inputs[0]);
    const keys = producer(qk.inputs[1]);
    const context = g.nodes.find((n) => n.opType === 'MatMul' && n.inputs[0] === softmax.outputs[0])!;
    const attention = [
      onnxNode(`attention${l}/Transpose`, 'Transpose', [keys.inputs[0]], [`attention${l}/keys`], { perm: { type: 'ints', value: [0, 2, 1, 3] } }),
      onnxNode(`attention${l}/Attention`, 'Attention', [qk.inputs[0], `attention${l}/keys`, context.inputs[1], add.inputs[1]], context.outputs),
    ];
    g.nodes.splice(g.nodes.indexOf(context), 1, ...attention);
    g.nodes = g.nodes.filter((n) => ![add, div, qk, keys, softmax].includes(n));
  }
  m.opsetImports = [{ domain: '', version: 23 }];
  return m;
}

describe("ONNX's Attention op", () => {
  it('is refused in one line naming the node and the opset to export at', () => {
    const m = withOnnxAttention(tinyBert());
    expect(m.graph.nodes.filter((n) => n.opType === 'Attention')).toHaveLength(2);
    expect(() => findBert(m, { label: 'm.onnx' })).toThrow(NotBertError);
    expect(() => findBert(m, { label: 'm.onnx' })).toThrow(
      /^m\.onnx: Attention node 'attention0\/Attention' \(ONNX's Attention op, opset 23\) is not supported: export at opset 22 or lower \(the attention as MatMul and Softmax nodes\)$/,
    );
  });
});
