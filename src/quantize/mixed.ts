/**
 * Q-BERT mixed precision: each encoder layer keeps 32 bits or gets 8 (dynamic int8, per channel) or 4 (MatMulNBits)
 * by its sensitivity, measured as the increase of the calibration loss when only that layer is quantized to 4
 * bits. The choice is greedy under a size budget: every layer starts at 4 bits; then, most sensitive first, each
 * layer moves to 8 bits if the budget allows, then (same order) to 32 bits.
 */
import type { BertStructure } from '../bert/structure.ts';
import type { Model } from '../onnx/graph.ts';
import type { Target } from './targets.ts';
import type { WeightScheme } from './registry.ts';
import { int8WeightBytes } from './int8-weights.ts';
import { int4WeightBytes } from './int4-blocks.ts';

export type LayerBits = 4 | 8 | 32;

/** Weight bytes of one encoder layer's projections at each precision. */
export interface LayerCost {
  layer: number;
  bytes: Record<LayerBits, number>;
}

/**
 * A weight matrix of an encoder layer and how mixed's plan stores it at 8 and at 4 bits (as applyPlan would: float
 * where no quantizer takes it, as a fused Attention with attention: false).
 */
export interface LayerWeight {
  inFeatures: number;
  outFeatures: number;
  at8: Storage;
  at4: Storage;
}

/** How a weight is stored: as its WeightScheme's kind says (int4: 4-bit blocks, MatMulNBits; int8: per channel), or float. */
export type Storage = WeightScheme['kind'] | 'float';

/**
 * The weights of each encoder layer (its projections, and the packed weight of a fused Attention), each with how the
 * plan at 8 and at 4 bits stores it (`stored(target, bits)`).
 */
export function layerWeights(targets: readonly Target[], s: BertStructure, model: Model, stored: (t: Target, bits: 4 | 8) => Storage): LayerWeight[][] {
  const out: LayerWeight[][] = s.layers.map(() => []);
  const add = (t: Target, layer: number, dims: readonly number[]) =>
    out[layer].push({ inFeatures: dims[0], outFeatures: dims[1], at8: stored(t, 8), at4: stored(t, 4) });
  for (const t of targets) {
    if (t.kind === 'linear' && t.layer !== undefined) add(t, t.layer, [t.linear.inFeatures, t.linear.outFeatures]);
    if (t.kind === 'attention') {
      const dims = model.graph.initializers.get(t.weight)?.dims;
      if (dims?.length === 2) add(t, t.layer, dims);
    }
  }
  return out;
}

/**
 * Whether a [K, N] projection of a 4-bit layer takes 4-bit blocks of `blockSize`: when they store fewer bytes than
 * int8 per channel. A block much wider than the input pads every column, so on a narrow input 4 bits would cost more
 * than 8 (and than float, which MatMulNBits then refuses): such a projection gets int8.
 */
export function fourBitsPay(K: number, N: number, blockSize: number, symmetric: boolean): boolean {
  return int4WeightBytes(K, N, blockSize, symmetric) < int8WeightBytes(K, N, { kind: 'channel' });
}

/** Weight bytes of a layer at 32, 8 (per channel) and 4 bits (blocks of `blockSize`), each weight stored as it says. */
export function layerCost(layer: number, weights: readonly LayerWeight[], blockSize: number, symmetric: boolean): LayerCost {
  const bytes: Record<LayerBits, number> = { 32: 0, 8: 0, 4: 0 };
  for (const w of weights) {
    const of = (storage: Storage) =>
      storage === 'int4'
        ? int4WeightBytes(w.inFeatures, w.outFeatures, blockSize, symmetric)
        : storage === 'int8'
          ? int8WeightBytes(w.inFeatures, w.outFeatures, { kind: 'channel' })
          : 4 * w.inFeatures * w.outFeatures;
    bytes[32] += of('float');
    bytes[8] += of(w.at8);
    bytes[4] += of(w.at4);
  }
  return { layer, bytes };
}

export interface Allocation {
  bits: LayerBits[];
  /** Predicted model bytes with these bits. */
  bytes: number;
}

/**
 * Greedy bit allocation. `fixedBytes` is the size of everything but the layers' projection weights; the result is
 * undefined when even 4 bits everywhere exceed the budget.
 */
export function allocateBits(sensitivity: readonly number[], costs: readonly LayerCost[], fixedBytes: number, budgetBytes: number): Allocation | undefined {
  const bits: LayerBits[] = costs.map(() => 4);
  let total = fixedBytes + costs.reduce((s, c) => s + c.bytes[4], 0);
  if (total > budgetBytes) return undefined;
  const order = costs.map((_, i) => i).sort((a, b) => sensitivity[b] - sensitivity[a] || a - b);
  for (const step of [8, 32] as const) {
    for (const i of order) {
      const extra = costs[i].bytes[step] - costs[i].bytes[bits[i]];
      if (total + extra <= budgetBytes) {
        total += extra;
        bits[i] = step;
      }
    }
  }
  return { bits, bytes: total };
}
