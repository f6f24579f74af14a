/**
 * int8 graphs the int8-formulations benchmark compares the pass's output against, written here from a float or an
 * int8 model (they are references, not forms the library offers):
 * - `ortQuantizeDynamic`: what onnxruntime's `quantize_dynamic(model, out, weight_type=QuantType.QInt8,
 *   op_types_to_quantize=['MatMul'])` writes (quantization/operators/matmul.py, MatMulInteger with the default
 *   MatMulConstBOnly of dynamic mode): every MatMul with a constant float weight becomes
 *   MatMulInteger(x_q, W_int8, x_zero_point, w_zero_point) → Cast(float) → Mul(·, Mul(x_scale, w_scale)), the
 *   activation quantized by one DynamicQuantizeLinear per value (shared by Q, K and V), the weight int8 symmetric
 *   per tensor with an int8 zero point 0; the bias Adds, Gemms (pooler, classifier) and embedding tables stay float;
 * - `perProjectionDynamicMatMul`: the pass's former default, one com.microsoft DynamicQuantizeMatMul(x, W, scale)
 *   per projection (each quantizing its own input) with the bias Add after it, made from the pass's current
 *   default by un-sharing the activation quantizer and un-fusing the bias.
 */
import type { Model } from '../src/onnx/graph.ts';
import { producers } from '../src/onnx/analysis.ts';
import { DataType } from '../src/onnx/dtype.ts';
import { float32Tensor, int8Tensor, readFloat32 } from '../src/onnx/tensor.ts';
import { attr, finishEdit, GraphEditor, MS_DOMAIN } from '../src/quantize/graph-edit.ts';
import { quantizeInt8 } from '../src/quantize/int8-weights.ts';

/** onnxruntime quantize_dynamic's graph of `model` (MatMuls with constant weights only; see the module comment). */
export function ortQuantizeDynamic(model: Model): Model {
  const edit = new GraphEditor(model);
  const g = edit.graph;
  const activations = new Map<string, [string, string, string]>();
  const weights = new Map<string, [string, string, string]>();
  for (const n of [...g.nodes]) {
    if (n.domain !== '' || n.opType !== 'MatMul') continue;
    const t = g.initializers.get(n.inputs[1]);
    if (!t || t.dataType !== DataType.FLOAT || t.dims.length !== 2) continue;
    const x = n.inputs[0];
    let xq = activations.get(x);
    if (!xq) {
      xq = [edit.fresh(`${x}_quantized`), edit.fresh(`${x}_scale`), edit.fresh(`${x}_zero_point`)];
      edit.insertBefore(n, [edit.makeNode('DynamicQuantizeLinear', [x], [...xq])]);
      activations.set(x, xq);
    }
    let w = weights.get(t.name);
    if (!w) {
      const [K, N] = t.dims;
      const q = quantizeInt8(readFloat32(t), K, N, 1, { kind: 'tensor' });
      w = [
        edit.addInitializer(`${t.name}_quantized`, int8Tensor('', [K, N], q.values)),
        edit.addInitializer(`${t.name}_scale`, float32Tensor('', [], q.scales)),
        edit.addInitializer(`${t.name}_zero_point`, int8Tensor('', [], [0])),
      ];
      weights.set(t.name, w);
    }
    const y = n.outputs[0];
    const acc = edit.fresh(`${y}_output_quantized`);
    const asFloat = edit.fresh(`${acc}_cast_output`);
    const scales = edit.fresh(`${n.name}_quant_scales_mul:0`);
    edit.replaceNode(n, [
      edit.makeNode('MatMulInteger', [xq[0], w[0], xq[2], w[2]], [acc]),
      edit.makeNode('Cast', [acc], [asFloat], { to: attr.int(DataType.FLOAT) }),
      edit.makeNode('Mul', [xq[1], w[1]], [scales]),
      edit.makeNode('Mul', [asFloat, scales], [y]),
    ]);
  }
  return finishEdit(edit, 'int8-forms');
}

/** The pass's former default made from its current one (see the module comment). */
export function perProjectionDynamicMatMul(model: Model): Model {
  const edit = new GraphEditor(model);
  const producer = producers(edit.graph);
  for (const n of [...edit.graph.nodes]) {
    if (n.domain !== MS_DOMAIN) continue;
    let x: string, w: string, scale: string, bias: string | undefined;
    if (n.opType === 'MatMulIntegerToFloat') {
      const dql = producer.get(n.inputs[0]);
      if (dql?.opType !== 'DynamicQuantizeLinear') continue;
      [x, w, scale, bias] = [dql.inputs[0], n.inputs[1], n.inputs[3], n.inputs[6]];
    } else if (n.opType === 'DynamicQuantizeMatMul') {
      [x, w, scale, bias] = [n.inputs[0], n.inputs[1], n.inputs[2], n.inputs[4]];
    } else {
      continue;
    }
    const y = n.outputs[0];
    const product = bias ? edit.fresh(`${y}_product`) : y;
    const nodes = [edit.makeNode('DynamicQuantizeMatMul', [x, w, scale], [product], {}, MS_DOMAIN)];
    if (bias) nodes.push(edit.makeNode('Add', [product, bias], [y]));
    edit.replaceNode(n, nodes);
  }
  return finishEdit(edit, 'int8-forms');
}

/**
 * `Attention` over int8 weights, the alternative to QAttention the benchmark measures: every QAttention(DynamicQuantizeLinear(x),
 * W_int8, b, x_scale, w_scale, mask, x_zero_point) becomes Attention(x, DequantizeLinear(W_int8, w_scale, axis 1), b, mask),
 * the same int8 bytes with a float product.
 */
export function attentionOverInt8(model: Model): Model {
  const edit = new GraphEditor(model);
  const producer = producers(edit.graph);
  for (const n of [...edit.graph.nodes]) {
    if (n.domain !== MS_DOMAIN || n.opType !== 'QAttention') continue;
    const dql = producer.get(n.inputs[0]);
    if (dql?.opType !== 'DynamicQuantizeLinear') continue;
    const w = edit.fresh(`${n.inputs[1]}_dequantized`);
    const scalar = edit.graph.initializers.get(n.inputs[4])!.dims.length === 0;
    edit.replaceNode(n, [
      edit.makeNode('DequantizeLinear', [n.inputs[1], n.inputs[4]], [w], scalar ? {} : { axis: attr.int(1) }),
      edit.makeNode('Attention', [dql.inputs[0], w, n.inputs[2], n.inputs[5] ?? ''], [...n.outputs], n.attributes, MS_DOMAIN),
    ]);
  }
  return finishEdit(edit, 'int8-forms');
}
