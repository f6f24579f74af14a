/**
 * Attention fusion: the Q, K and V projections, head split, scaled scores, mask, Softmax, context and head merge of
 * an unfused layer become one com.microsoft node reading the layer input and computing the merged context the
 * output projection reads:
 * - float Q/K/V: Attention(x, W_qkv [hidden, 3·width], b_qkv, mask) with the weights packed side by side;
 * - dynamic int8 Q/K/V (DynamicQuantizeMatMul, MatMulIntegerToFloat or MatMulInteger with int8 [in, out] weights
 *   and zero zero points): QAttention(DynamicQuantizeLinear(x), W_int8 [hidden, 3·width], b_qkv, x_scale,
 *   w_scale [3·width], mask, x_zero_point), the int8 weights packed as they are (no requantization) and their
 *   scales expanded per column. On onnxruntime 1.30's CPU provider QAttention runs about twice as fast as
 *   Attention over dequantized int8 weights but no faster than the unfused int8 attention
 *   (`npm run bench -- int8-formulations`), and Attention no faster than the float graph onnxruntime fuses itself:
 *   this rewrite is in `--optimize all`, not in the default set.
 * The mask is the raw attention mask as int32 [batch, seq] (1 = attend), which is exact for any padding; the
 * scale attribute is written only when the graph's scale is not 1/sqrt(head size). Layers that share their
 * Q/K/V weights (share-layers) share the packed weights too.
 */
import { DataType } from '../onnx/dtype.ts';
import type { Tensor } from '../onnx/graph.ts';
import { float32Tensor, int8Tensor, readFloat32, readNumbers } from '../onnx/tensor.ts';
import type { AttentionBlock, EncoderLayer, Linear } from '../bert/structure.ts';
import { attr, weightInOut } from '../quantize/graph-edit.ts';
import type { OptimizeContext } from './context.ts';
import { quotedText } from '../errors.ts';

/** The quantization forms whose int8 [in, out] weight QAttention can take as it is. */
const DYNAMIC_INT8 = new Set(['dynamic-int8', 'matmul-integer', 'matmul-integer-to-float']);

interface Packed {
  weight: string;
  bias: string;
  /** int8 only: the per-column weight scales. */
  scale?: string;
}

/** Columns of row-major [rows, cols_i] matrices side by side: [rows, Σ cols_i]. */
function sideBySide<T extends Float32Array | Int8Array>(parts: T[], rows: number, make: (n: number) => T): T {
  const cols = parts.map((p) => p.length / rows);
  const total = cols.reduce((a, b) => a + b, 0);
  const out = make(rows * total);
  for (let r = 0; r < rows; r++) {
    let at = r * total;
    parts.forEach((p, i) => {
      out.set(p.subarray(r * cols[i], (r + 1) * cols[i]), at);
      at += cols[i];
    });
  }
  return out;
}

/** The packed bias: each projection's bias (zeros where it has none). */
function packedBias(oc: OptimizeContext, lins: Linear[]): Float32Array {
  const g = oc.view.graph;
  return Float32Array.from(
    lins.flatMap((l) => {
      const t = l.bias ? g.initializers.get(l.bias) : undefined;
      return t && t.dataType === DataType.FLOAT ? [...readFloat32(t)] : new Array<number>(l.outFeatures).fill(0);
    }),
  );
}

/** The int8 weights, per-column scales of Q, K and V as they are stored, or why they cannot be packed. */
function int8Parts(oc: OptimizeContext, lins: Linear[]): { weights: Int8Array[]; scales: Float32Array } | string {
  const g = oc.view.graph;
  const weights: Int8Array[] = [];
  const scales: number[] = [];
  for (const l of lins) {
    const q = l.quantization!;
    const w = g.initializers.get(l.weight);
    if (!w || w.dataType !== DataType.INT8 || l.layout !== 'in_out') return `the ${q.kind} weight ${quotedText(l.weight)} is not int8 [in, out]`;
    const s = q.scale ? g.initializers.get(q.scale) : undefined;
    const sv = s && s.dataType === DataType.FLOAT ? readFloat32(s) : undefined;
    if (!sv || (sv.length !== 1 && sv.length !== l.outFeatures)) return `the scale of ${quotedText(l.weight)} is not one float or one per column`;
    const z: Tensor | undefined = q.zeroPoint ? g.initializers.get(q.zeroPoint) : undefined;
    if (z && readNumbers(z).some((v) => v !== 0)) return `the weight ${quotedText(l.weight)} has non-zero zero points`;
    weights.push(new Int8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    for (let c = 0; c < l.outFeatures; c++) scales.push(sv.length === 1 ? sv[0] : sv[c]);
  }
  return { weights, scales: Float32Array.from(scales) };
}

/** Q, K and V's weights as they will be packed: float [in, out] parts, or int8 parts with per-column scales. */
type Parts = { kind: 'float'; weights: Float32Array[] } | { kind: 'int8'; weights: Int8Array[]; scales: Float32Array };

/** The weights of Q, K and V ready to pack, or why they cannot be (read only: nothing is written). */
function packParts(oc: OptimizeContext, a: AttentionBlock): Parts | string {
  const lins = [a.q!, a.k!, a.v!];
  const kinds = lins.map((l) => l.quantization?.kind);
  if (kinds.every((k) => k === undefined)) {
    const parts = lins.map((l) => weightInOut(oc.view.graph, l));
    if (parts.some((p) => !p)) return 'a Q/K/V weight is not a float32 2-D initializer';
    return { kind: 'float', weights: parts as Float32Array[] };
  }
  if (kinds.every((k) => k !== undefined && DYNAMIC_INT8.has(k))) {
    if (oc.edit.opset() < 11) return `QAttention reads a DynamicQuantizeLinear, an opset-11 op (the model has opset ${oc.edit.opset()})`;
    const parts = int8Parts(oc, lins);
    return typeof parts === 'string' ? parts : { kind: 'int8', ...parts };
  }
  return `Q/K/V are stored ${[...new Set(kinds.map((k) => k ?? 'float'))].join(' and ')}: only float or dynamic int8 projections fuse`;
}

/**
 * The value the graph adds to the scores of padded positions ((1 - mask) · c, c a negative constant), when it is
 * below the fused ops' default mask_filter_value (-10000): torch exports use float32 min, which a row whose mask is
 * all zeros turns into even attention over every position, where -10000 keeps the scores' differences. Undefined
 * when the graph adds the mask otherwise (the default then stands).
 */
function maskFilterValue(oc: OptimizeContext, a: AttentionBlock): number | undefined {
  const mask = oc.structure.inputs.attentionMask;
  const softmax = a.softmax ? oc.inputNode(a.softmax) : undefined;
  const add = softmax ? oc.view.producerOf(softmax.inputs[0]) : undefined;
  if (!mask || add?.opType !== 'Add') return undefined;
  for (const input of add.inputs) {
    const nodes = oc.view.ancestorNodes(input);
    if (![...nodes].some((n) => n.inputs.includes(mask))) continue;
    for (const n of nodes) {
      if (n.opType !== 'Mul') continue;
      for (const i of n.inputs) {
        const c = oc.view.foldScalar(i);
        if (c !== undefined && Number.isFinite(c) && c < -10000) return c;
      }
    }
  }
  return undefined;
}

/** The initializers of Q, K and V, which layers that share weights (share-layers) have in common. */
const qkvWeights = (a: AttentionBlock) => [a.q!.weight, a.k!.weight, a.v!.weight];

/** Packs Q, K and V (once per distinct set of weights). */
function pack(oc: OptimizeContext, a: AttentionBlock, parts: Parts, cache: Map<string, Packed>): Packed {
  const lins = [a.q!, a.k!, a.v!];
  const key = lins.map((l) => `${l.weight}|${l.bias ?? ''}`).join('|');
  const cached = cache.get(key);
  if (cached) return cached;
  const { edit } = oc;
  const rows = lins[0].inFeatures;
  let packed: Packed;
  if (parts.kind === 'float') {
    const w = sideBySide(parts.weights, rows, (n) => new Float32Array(n));
    packed = { weight: edit.addInitializer(`${a.q!.weight}_qkv`, float32Tensor('', [rows, w.length / rows], w)), bias: '' };
  } else {
    const w = sideBySide(parts.weights, rows, (n) => new Int8Array(n));
    packed = {
      weight: edit.addInitializer(`${a.q!.weight}_qkv`, int8Tensor('', [rows, w.length / rows], w)),
      scale: edit.addInitializer(`${a.q!.weight}_qkv_scale`, float32Tensor('', [parts.scales.length], parts.scales)),
      bias: '',
    };
  }
  packed.bias = edit.addInitializer(`${a.q!.weight}_qkv_bias`, float32Tensor('', [3 * lins[0].outFeatures], packedBias(oc, lins)));
  cache.set(key, packed);
  return packed;
}

interface Planned {
  layer: EncoderLayer;
  attention: AttentionBlock;
  /** The merged context the output projection reads, which the fused node computes. */
  context: string;
  parts: Parts;
}

/** What can be fused in each layer, or why not (nothing is written). */
function plan(oc: OptimizeContext, l: EncoderLayer): Planned | string {
  const a = l.attention!;
  if (l.firstToken) return 'it queries the first token only (first-token), which the fused Attention cannot';
  const context = oc.projectionInput(a.output);
  if (!context) return `the input of the output projection ${quotedText(a.output.node)} is not found`;
  const problem = oc.producerProblem(context);
  if (problem) return problem;
  const parts = packParts(oc, a);
  return typeof parts === 'string' ? parts : { layer: l, attention: a, context, parts };
}

/**
 * Fuses the attention block of every layer that has an unfused one. Layers sharing Q/K/V weights fuse together or
 * not at all: packing the weights of some while another keeps reading them apart would store them twice.
 */
export function fuseAttention(oc: OptimizeContext, layers: readonly EncoderLayer[]): void {
  const planned = new Map<EncoderLayer, Planned>();
  const reasons = new Map<EncoderLayer, string>();
  const unfused = new Map<string, number>(); // a weight read by a layer that stays unfused → that layer
  for (const l of layers) {
    if (l.attention?.kind !== 'unfused') continue;
    const p = plan(oc, l);
    if (typeof p !== 'string') {
      planned.set(l, p);
      continue;
    }
    reasons.set(l, p);
    for (const w of qkvWeights(l.attention)) unfused.set(w, l.index);
  }
  // a layer that shares a weight with one that stays unfused stays unfused too (and so on, along chains of sharing)
  for (let changed = true; changed; ) {
    changed = false;
    for (const [l, p] of planned) {
      const other = qkvWeights(p.attention).find((w) => unfused.has(w));
      if (other === undefined) continue;
      reasons.set(l, `its Q/K/V weights are shared with layer ${unfused.get(other)}, which stays unfused (fusing would store them twice)`);
      for (const w of qkvWeights(p.attention)) if (!unfused.has(w)) unfused.set(w, l.index);
      planned.delete(l);
      changed = true;
    }
  }
  for (const l of layers) if (reasons.has(l)) oc.skip('attention', `layer ${l.index}`, reasons.get(l)!);

  const cache = new Map<string, Packed>();
  let mask: string | undefined;
  for (const { layer: l, attention: a, context, parts } of planned.values()) {
    const packed = pack(oc, a, parts, cache);
    const attributes = { num_heads: attr.int(a.numHeads) };
    const scale = a.scale ?? Math.sqrt(a.headSize);
    if (Math.abs(scale - Math.sqrt(a.headSize)) > 1e-6 * Math.sqrt(a.headSize)) Object.assign(attributes, { scale: attr.float(1 / scale) });
    const filter = maskFilterValue(oc, a);
    if (filter !== undefined) Object.assign(attributes, { mask_filter_value: attr.float(filter) });
    // the attention mask as int32 [batch, seq] for the fused nodes, or '' without a mask
    mask ??= oc.structure.inputs.attentionMask ? oc.int32Input(oc.structure.inputs.attentionMask) : '';
    if (!packed.scale) {
      oc.replaceProducer(context, 'Attention', [l.input, packed.weight, packed.bias, mask], attributes);
      continue;
    }
    const { edit } = oc;
    const xq: [string, string, string] = [edit.fresh(`${l.input}_quantized`), edit.fresh(`${l.input}_scale`), edit.fresh(`${l.input}_zero_point`)];
    const node = oc.replaceProducer(context, 'QAttention', [xq[0], packed.weight, packed.bias, xq[1], packed.scale, mask, xq[2]], attributes);
    edit.insertBefore(node, [edit.makeNode('DynamicQuantizeLinear', [l.input], xq, {}, '', `${node.name}/DynamicQuantizeLinear`)]);
  }
}
