/**
 * How much each attention head matters, five ways:
 * - `ablation` (Michel et al. 2019): loss increase on calibration data when the head's output is masked to zero;
 * - `gradient` (Michel et al. 2019, Eq. 2): mean over calibration examples of |∂L/∂ξ_h|, ξ_h a gate of ones on the
 *   head's output (see head-gradient.ts);
 * - `confidence` (Voita et al. 2019): mean over tokens of the head's largest attention weight;
 * - `magnitude`: L2 norm of the head's Q, K, V columns and output-projection rows (needs no data);
 * - `random`: seeded noise, the control every other method must beat.
 * Scores are per layer [layer][head]; higher means more important. A layer without attention (every head pruned)
 * has an empty row.
 */
import type { Graph, Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { featureSquares, unitSums } from './weights.ts';
import { uniqueName } from '../onnx/analysis.ts';
import { Tensor } from '../runtime/session.ts';
import type { BertStructure, Linear } from '../bert/structure.ts';
import type { PassContext } from '../pass/pass.ts';
import { CalibrationRunner, requireCalibration } from '../pass/measure.ts';
import { SettingsError } from '../errors.ts';
import { checkCalibrationFits, gradientScores, requireSequenceClassifier } from './head-gradient.ts';

import { RANDOM_IMPORTANCE_SEED, RANDOM_SEED_MULTIPLIER, type HeadImportance } from './settings.ts';
export { HEAD_IMPORTANCE, type HeadImportance } from './settings.ts';

export type HeadScores = number[][];

/** Squared weight norm per feature of a projection (see featureSquares). */
const squares = (g: Graph, lin: Linear, side: 'out' | 'in') => featureSquares(g.initializers.get(lin.weight)!, lin.layout, side);

export function magnitudeScores(model: Model, s: BertStructure): HeadScores {
  const g = model.graph;
  return s.layers.map((layer) => {
    const a = layer.attention;
    if (!a) return [];
    const per = unitSums(squares(g, a.output, 'in'), a.headSize);
    if (a.kind === 'unfused') {
      for (const lin of [a.q!, a.k!, a.v!]) unitSums(squares(g, lin, 'out'), a.headSize).forEach((v, h) => (per[h] += v));
    } else {
      // packed [hidden, 3·heads·headSize]: Q, K and V sections, each heads × headSize columns
      const packed = unitSums(featureSquares(g.initializers.get(a.fused!.weight)!, 'in_out', 'out'), a.headSize);
      packed.forEach((v, u) => (per[u % a.numHeads] += v));
    }
    return Array.from(per, Math.sqrt);
  });
}

/** Seeds of importance random: below 2^32, as its generator keeps 32 bits of the seed (2^32 would draw as 0). */
export const RANDOM_SEED_LIMIT = 2 ** 32;

export function randomScores(s: BertStructure, seed: number): HeadScores {
  if (!(Number.isSafeInteger(seed) && seed >= 0 && seed < RANDOM_SEED_LIMIT))
    throw new SettingsError(`prune-heads: importance random takes a seed from 0 to ${RANDOM_SEED_LIMIT - 1} (got ${seed}): its draws keep 32 bits of the seed`);
  // the seed times an odd constant modulo 2^32, exact (Math.imul), starts each seed's draws apart: seed 0 from 1, as
  // it always did, and the seed whose product is 1 from 0 (this generator runs from 0 too)
  const product = Math.imul(seed, RANDOM_SEED_MULTIPLIER) >>> 0;
  let x = seed === 0 ? 1 : product === 1 ? 0 : product;
  const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return s.layers.map((l) => Array.from({ length: l.attention?.numHeads ?? 0 }, rand));
}

/**
 * A copy of the model with one float input per layer that has attention, `head_mask_L` of shape
 * [heads·headSize], multiplying the input of the attention output projection: zeros over a head's features silence
 * that head exactly. `inputs[i]` is the mask of layer `layers[i]`.
 */
export function withHeadMasks(model: Model, s: BertStructure): { model: Model; inputs: string[]; layers: number[] } {
  const m = cloneModel(model);
  const g = m.graph;
  const inputs: string[] = [];
  const layers: number[] = [];
  for (const layer of s.layers) {
    const a = layer.attention;
    if (!a) continue;
    const node = g.nodes.find((n) => n.name === a.output.node)!;
    const idx = node.inputs.findIndex((x) => x !== a.output.weight && !g.initializers.has(x));
    const ctx = node.inputs[idx];
    const maskName = uniqueName(g, `head_mask_${layer.index}`);
    const masked = uniqueName(g, `${ctx}_head_masked`);
    g.inputs.push({ name: maskName, elemType: DataType.FLOAT, shape: [a.numHeads * a.headSize] });
    g.nodes.splice(g.nodes.indexOf(node), 0, {
      name: uniqueName(g, `HeadMask_${layer.index}`),
      opType: 'Mul',
      domain: '',
      inputs: [ctx, maskName],
      outputs: [masked],
      attributes: {},
    });
    node.inputs[idx] = masked;
    inputs.push(maskName);
    layers.push(layer.index);
  }
  return { model: m, inputs, layers };
}

export async function ablationScores(model: Model, s: BertStructure, ctx: PassContext): Promise<HeadScores> {
  requireSequenceClassifier(model, s, 'ablation', ctx.calibration);
  const calibration = requireCalibration(ctx.calibration, 'prune-heads', 'ablation importance');
  checkCalibrationFits(calibration, s.head?.numLabels);
  const { model: masked, inputs, layers } = withHeadMasks(model, s);
  const runner = await CalibrationRunner.open(masked, s, calibration, inputs, ctx);
  const ones = layers.map((l) => new Float32Array(s.layers[l].attention!.numHeads * s.layers[l].attention!.headSize).fill(1));
  const feedsOf = (arrays: Float32Array[]) => Object.fromEntries(inputs.map((name, i) => [name, new Tensor('float32', arrays[i], [arrays[i].length])]));
  try {
    const base = await runner.loss(feedsOf(ones));
    const scores: HeadScores = s.layers.map(() => []);
    for (const [i, l] of layers.entries()) {
      const a = s.layers[l].attention!;
      for (let h = 0; h < a.numHeads; h++) {
        const arrays = ones.map((x) => x.slice());
        arrays[i].fill(0, h * a.headSize, (h + 1) * a.headSize);
        scores[l].push((await runner.loss(feedsOf(arrays))) - base);
      }
      ctx.log?.(`prune-heads: ablation of layer ${l} done`);
    }
    return scores;
  } finally {
    await runner.release();
  }
}

export async function confidenceScores(model: Model, s: BertStructure, ctx: PassContext): Promise<HeadScores> {
  const calibration = requireCalibration(ctx.calibration, 'prune-heads', 'confidence importance');
  const withAttention = s.layers.filter((l) => l.attention);
  if (withAttention.some((l) => !l.attention!.softmax)) {
    throw new SettingsError(
      'prune-heads: confidence importance needs the attention probabilities, which a fused Attention op hides: use ablation or magnitude',
    );
  }
  const m = cloneModel(model);
  const probs = withAttention.map((l) => m.graph.nodes.find((n) => n.name === l.attention!.softmax)!.outputs[0]);
  for (const p of probs) if (!m.graph.outputs.some((o) => o.name === p)) m.graph.outputs.push({ name: p, elemType: DataType.FLOAT });
  const runner = await CalibrationRunner.open(m, s, calibration, [], ctx);
  const sums = withAttention.map((l) => new Float64Array(l.attention!.numHeads));
  // query tokens per layer: a first-token last layer (optimize) attends from one token of each example, not every one
  const tokens = withAttention.map(() => 0);
  try {
    await runner.forEach(probs, (out, b) => {
      const mask = b.attentionMask;
      for (let li = 0; li < probs.length; li++) {
        const t = out[probs[li]];
        const [batch, heads, q, k] = t.dims as number[];
        const data = t.data as Float32Array;
        for (let i = 0; i < batch; i++)
          for (let r = 0; r < q; r++) {
            if (mask[i * b.seq + r] === 0n) continue;
            tokens[li]++;
            for (let h = 0; h < heads; h++) {
              const base = ((i * heads + h) * q + r) * k;
              let mx = 0;
              for (let c = 0; c < k; c++) mx = Math.max(mx, data[base + c]);
              sums[li][h] += mx;
            }
          }
      }
    });
  } finally {
    await runner.release();
  }
  const scores: HeadScores = s.layers.map(() => []);
  withAttention.forEach((l, li) => (scores[l.index] = Array.from(sums[li], (v) => v / Math.max(1, tokens[li]))));
  return scores;
}

export async function headScores(method: HeadImportance, model: Model, s: BertStructure, ctx: PassContext): Promise<HeadScores> {
  switch (method) {
    case 'magnitude':
      return magnitudeScores(model, s);
    case 'random':
      return randomScores(s, ctx.seed ?? RANDOM_IMPORTANCE_SEED);
    case 'ablation':
      return ablationScores(model, s, ctx);
    case 'confidence':
      return confidenceScores(model, s, ctx);
    case 'gradient':
      return gradientScores(model, s, ctx);
  }
}

/** Scores divided by their layer's L2 norm (Michel et al.), so layers compare on one scale. */
export function normalizePerLayer(scores: HeadScores): HeadScores {
  return scores.map((row) => {
    const n = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return n > 0 ? row.map((v) => v / n) : row.slice();
  });
}
