/**
 * Q-BERT mixed precision: each encoder layer keeps 32 bits or gets 8 (dynamic int8, per channel) or 4 (MatMulNBits)
 * by its sensitivity, measured as the increase of the calibration loss when only that layer is quantized to 4
 * bits. The choice is greedy under a size budget: every layer starts at 4 bits; then, most sensitive first, each
 * layer moves to 8 bits if the budget allows, then (same order) to 32 bits.
 */
import type { BertStructure } from '../bert/structure.ts';
import type { LinearTarget, Target } from './targets.ts';
import { int8WeightBytes } from './int8-weights.ts';
import { int4WeightBytes } from './int4-blocks.ts';

export type LayerBits = 4 | 8 | 32;

/** Weight bytes of one encoder layer's projections at each precision. */
export interface LayerCost {
  layer: number;
  bytes: Record<LayerBits, number>;
}

/** The projections of each encoder layer. */
export function layerTargets(targets: readonly Target[], s: BertStructure): LinearTarget[][] {
  const out: LinearTarget[][] = s.layers.map(() => []);
  for (const t of targets) if (t.kind === 'linear' && t.layer !== undefined) out[t.layer].push(t);
  return out;
}

/** Weight bytes of a layer's projections at 32, 8 (per channel) and 4 bits (blocks of `blockSize`). */
export function layerCost(layer: number, linears: readonly LinearTarget[], blockSize: number, symmetric: boolean): LayerCost {
  const bytes: Record<LayerBits, number> = { 32: 0, 8: 0, 4: 0 };
  for (const { linear: l } of linears) {
    bytes[32] += 4 * l.inFeatures * l.outFeatures;
    bytes[8] += int8WeightBytes(l.inFeatures, l.outFeatures, { kind: 'channel' });
    bytes[4] += int4WeightBytes(l.inFeatures, l.outFeatures, blockSize, symmetric);
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
