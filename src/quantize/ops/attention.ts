/**
 * Fused com.microsoft Attention → QAttention (onnxruntime's AttentionQuant): the input is quantized to uint8 at run
 * time (DynamicQuantizeLinear), the packed Q/K/V weight [hidden, 3·width] becomes int8 with per-column (or one)
 * scales, the bias stays float. Like AttentionQuant, an Attention with attributes or inputs QAttention does not
 * take (qkv_hidden_sizes, rotary dims, attention_bias…) is left as it is.
 */
import type { Attribute } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { float32Tensor, int8Tensor, readFloat32 } from '../../onnx/tensor.ts';
import { MS_DOMAIN, withoutTrailingEmpty } from '../graph-edit.ts';
import { int8Qmax, quantizeInt8 } from '../int8-weights.ts';
import { schemeName, type OpQuantizer, type WeightScheme } from '../registry.ts';
import { dynamicQuantized } from './dynamic-matmul.ts';

/** Attention attributes QAttention also takes. */
const SHARED_ATTRIBUTES = new Set(['num_heads', 'unidirectional', 'do_rotary', 'mask_filter_value', 'scale', 'past_present_share_buffer']);

export const qAttention: OpQuantizer = {
  check(node, target, scheme, ctx) {
    if (!ctx.options.attention) return 'fused Attention quantization is off (attention: false)';
    if (target.kind !== 'attention') return 'not a fused attention target';
    if (scheme.kind !== 'int8') return 'QAttention takes int8 weights only';
    if (ctx.edit.opset() < 11) return 'DynamicQuantizeLinear needs opset 11';
    const extra = Object.keys(node.attributes).filter((a) => !SHARED_ATTRIBUTES.has(a));
    if (extra.length) return `attribute ${extra.join(', ')} has no QAttention equivalent`;
    if (node.inputs.slice(5).some(Boolean)) return 'attention_bias / past_sequence_length inputs have no QAttention equivalent';
    if (!node.inputs[2]) return 'Attention without a bias';
    const w = ctx.edit.graph.initializers.get(node.inputs[1]);
    if (w?.dims.length !== 2 || w.dataType !== DataType.FLOAT) return 'the packed weight is not a float32 2-D initializer';
    return undefined;
  },
  rewrite(node, target, scheme, ctx) {
    if (target.kind !== 'attention') throw new Error('qAttention: not an attention target');
    const { edit } = ctx;
    const s = scheme as WeightScheme & { kind: 'int8' };
    const name = node.inputs[1];
    const t = edit.graph.initializers.get(name)!;
    const [rows, cols] = t.dims;
    const q = quantizeInt8(readFloat32(t), rows, cols, 1, s.granularity, int8Qmax(s.reduceRange));
    const weight = edit.addInitializer(`${name}_int8`, int8Tensor('', [rows, cols], q.values));
    const perTensor = s.granularity.kind === 'tensor';
    const scale = edit.addInitializer(`${name}_scale`, float32Tensor('', perTensor ? [] : [cols], q.scales));
    const [xq, xs, xz] = dynamicQuantized(node.inputs[0], node, ctx);
    const attributes: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(node.attributes)) if (SHARED_ATTRIBUTES.has(k)) attributes[k] = v;
    const past = node.inputs[4] ?? '';
    const inputs = withoutTrailingEmpty([xq, weight, node.inputs[2], xs, scale, node.inputs[3] ?? '', xz, '', past]);
    edit.importDomain(MS_DOMAIN);
    const qa = edit.makeNode('QAttention', inputs, [...node.outputs], attributes, MS_DOMAIN);
    edit.replaceNode(node, [qa]);
    return [
      {
        target: target.id,
        tensor: name,
        node: qa.name,
        op: 'QAttention',
        scheme: schemeName(s),
        dims: [rows, cols],
        bytesBefore: 4 * rows * cols,
        bytesAfter: q.values.byteLength + 4 * q.scales.length,
        maxAbsError: q.maxAbsError,
        maxAbs: q.maxAbs,
      },
    ];
  },
};
