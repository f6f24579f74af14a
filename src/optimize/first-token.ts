/**
 * The first-token rewrite of the last layer: when nothing reads the last layer's output but a selection of its
 * first token (BERT's pooler, DistilBERT's and RoBERTa's heads take [:, 0]), only that token's output is computed.
 * Keys and values still read every token; the queries and the attention residual read x[:, 0:1] (a Slice), and so
 * everything after them does (scores, context, output projection, LayerNorms, feed-forward block). For BERT-base at
 * 128 tokens that removes about 5/6 of the last layer's work. Float logits are the same up to rounding; with dynamic
 * int8 the sliced activations are quantized with their own (tighter) ranges.
 *
 * Left as it is (with the reason in the report): a fused Attention (it queries every token), a last layer without
 * attention, an output read by anything else (token-level heads, hidden states as graph outputs), a query
 * projection written as MatMulInteger (format standard) or QDQ, a keras Tensordot, and head splits or merges whose
 * shapes come from the layer input rather than from the queries.
 */
import type { Node } from '../onnx/graph.ts';
import { attrInt } from '../onnx/graph.ts';
import { int64Tensor } from '../onnx/tensor.ts';
import { firstTokenOf } from '../bert/discover/attention.ts';
import { linearAt } from '../bert/discover/linear.ts';
import { attr, MS_DOMAIN, withoutTrailingEmpty } from '../quantize/graph-edit.ts';
import type { OptimizeContext } from './context.ts';
import { quotedText } from '../errors.ts';

/** True for a Gather of index 0 or a Slice [0:1] along the sequence axis (axis 1). */
function selectsFirstToken(oc: OptimizeContext, n: Node): boolean {
  const { view } = oc;
  if (n.domain !== '') return false;
  if (n.opType === 'Gather') {
    const idx = view.constNumbers(n.inputs[1]);
    return (attrInt(n, 'axis', 0) ?? 0) === 1 && idx !== undefined && idx.length === 1 && idx[0] === 0;
  }
  return n.opType === 'Slice' && firstTokenOf(view, n.outputs[0]) !== undefined;
}

/** Why the shapes of `reshape` may depend on the layer input's sequence length rather than the queries', or undefined. */
function shapeProblem(oc: OptimizeContext, reshape: Node | undefined, queryNodes: ReadonlySet<Node>, what: string): string | undefined {
  if (reshape?.opType !== 'Reshape') return `the ${what} is not a Reshape`;
  const { view } = oc;
  // Walk back from the shape to the Shape nodes it is computed from (not past them: their data is not used).
  const stack = [reshape.inputs[1]];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || seen.size > 200) continue;
    seen.add(v);
    const p = view.producer(v);
    if (!p) continue;
    if (p.opType !== 'Shape') {
      stack.push(...p.inputs.filter(Boolean));
      continue;
    }
    const of = view.producer(p.inputs[0]);
    if (!of || !queryNodes.has(of)) return `the ${what} ${quotedText(reshape.name)} takes its shape from ${quotedText(p.inputs[0])}, not from the queries`;
  }
  return undefined;
}

/** Computes the last layer for its first token only, or records why not. */
export function firstTokenOnly(oc: OptimizeContext): void {
  const { view, edit } = oc;
  const l = oc.structure.layers.at(-1);
  if (!l || l.firstToken) return;
  const where = `layer ${l.index}`;
  const skip = (reason: string) => oc.skip('first-token', where, reason);
  const a = l.attention;
  if (!a) return skip('the last layer has no attention block');
  if (a.kind !== 'unfused' || !a.q) return skip('the last layer has a fused Attention, which queries every token');
  const x = view.source(l.input);
  if (view.graph.outputs.some((o) => view.source(o.name) === view.source(l.output))) return skip(`its output ${quotedText(l.output)} is a graph output`);
  const readers = view.consumers(l.output);
  if (!readers.length || readers.some((r) => !selectsFirstToken(oc, r))) return skip('something other than a selection of the first token reads its output');

  const qNode = oc.inputNode(a.q.node)!;
  const q = linearAt(view, qNode);
  if (!q || q.flatten || view.source(q.input) !== x) return skip(`the query projection ${quotedText(qNode.name)} does not read the layer input directly`);
  const isDefault = qNode.domain === '';
  const direct =
    (isDefault && ['MatMul', 'Gemm'].includes(qNode.opType) && !a.q.quantization) ||
    (qNode.domain === MS_DOMAIN && ['DynamicQuantizeMatMul', 'MatMulNBits', 'FusedGemm'].includes(qNode.opType));
  const viaDql = qNode.domain === MS_DOMAIN && qNode.opType === 'MatMulIntegerToFloat';
  if (!direct && !viaDql)
    return skip(`the query projection is ${qNode.opType}${a.q.quantization ? ` (${a.q.quantization.kind})` : ''}, which this rewrite does not slice`);

  const queryNodes = new Set([qNode, ...view.descendantNodes(qNode.outputs[0])]);
  const split = view.consumers(a.q.output).find((n) => n.opType === 'Reshape');
  const context = oc.projectionInput(a.output);
  const problem =
    shapeProblem(oc, split, queryNodes, 'query head split') ?? shapeProblem(oc, context ? view.producer(context) : undefined, queryNodes, 'head merge');
  if (problem) return skip(problem);

  const m = oc.norms.producing(l.attentionNorm.output);
  const residualNode = m && (m.skip !== undefined ? view.producerOf(m.norm.output) : view.producerOf(m.input));
  const residualAt = residualNode ? residualNode.inputs.findIndex((v, i) => i < 2 && view.source(v) === x) : -1;
  if (!residualNode || (m!.skip === undefined && residualNode.opType !== 'Add') || residualAt < 0)
    return skip('the attention residual is not an Add (or SkipLayerNormalization) of the layer input');

  const x0 = edit.fresh(`${l.input}_first_token`);
  const int64 = (base: string, v: number) => edit.addInitializer(`${l.input}_first_token_${base}`, int64Tensor('', [1], [v]));
  const slice =
    edit.opset() >= 10
      ? edit.makeNode('Slice', [l.input, int64('starts', 0), int64('ends', 1), int64('axes', 1)], [x0], {}, '', `${qNode.name}/first_token/Slice`)
      : edit.makeNode('Slice', [l.input], [x0], { starts: attr.ints([0]), ends: attr.ints([1]), axes: attr.ints([1]) }, '', `${qNode.name}/first_token/Slice`);
  const qEdit = edit.node(qNode.name)!;
  edit.insertBefore(qEdit, [slice]);
  if (direct) {
    qEdit.inputs = [x0, ...qEdit.inputs.slice(1)];
  } else {
    // MatMulIntegerToFloat(DynamicQuantizeLinear(x)…) shares the keys' quantized input: the sliced queries get their own.
    const [, w, , scale, , zero, bias] = qEdit.inputs;
    const inputs = withoutTrailingEmpty([x0, w, scale, zero ?? '', bias ?? '']);
    edit.replaceNode(qEdit, [edit.makeNode('DynamicQuantizeMatMul', inputs, [...qEdit.outputs], {}, MS_DOMAIN, `${qNode.name}/first_token`)]);
  }
  const residual = edit.node(residualNode.name)!;
  residual.inputs = residual.inputs.map((v, i) => (i === residualAt ? x0 : v));
  oc.count('first-token last layer');
}
