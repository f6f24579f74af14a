/**
 * The prune-ffn pass: removes the least important intermediate neurons of every FFN (same fraction per layer).
 * A neuron's importance is |W_in column| · |W_out row| (magnitude), a standard structured-pruning criterion.
 * Layers that share their FFN weights (share-layers) keep the same neurons, by their summed scores, and stay shared.
 */
import { nonFiniteValues } from '../onnx/tensor.ts';
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { pruneGraph } from '../onnx/analysis.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Pass } from '../pass/pass.ts';
import { keepLinearInputs, keepLinearOutputs } from './edit.ts';
import { nodesBetween, rewriteReshapeWidths } from './block.ts';
import { featureSquares } from './weights.ts';
import { groupScores, sharingGroups } from './sharing.ts';
import { feedForwardQuantization, refuseQuantized } from './float-weights.ts';
import { PRUNE_FFN } from './settings.ts';
import { NonFiniteInputError } from '../errors.ts';

export interface PruneFfnOptions {
  ratio: number;
}

export function ffnNeuronScores(model: Model, s: BertStructure): number[][] {
  return s.layers.map((l) => {
    const a = featureSquares(model.graph.initializers.get(l.ffn.in.weight)!, l.ffn.in.layout, 'out');
    const b = featureSquares(model.graph.initializers.get(l.ffn.out.weight)!, l.ffn.out.layout, 'in');
    return Array.from(a, (v, i) => Math.sqrt(v * b[i]));
  });
}

/** The neurons prune-ffn keeps of an FFN `n` wide at `ratio` (at least one). */
export function keptNeurons(n: number, ratio: number): number {
  return Math.max(1, n - Math.round(ratio * n));
}

export const pruneFfnPass: Pass<PruneFfnOptions> = {
  ...PRUNE_FFN,
  checkModel(_model, s) {
    for (const l of s.layers) refuseQuantized('prune-ffn', l.index, 'feed-forward', feedForwardQuantization(l), 'prune FFN neurons before quantizing');
  },
  async run(model, s, o) {
    pruneFfnPass.checkModel!(model, s, o);
    const m = cloneModel(model);
    const g = m.graph;
    const scores = ffnNeuronScores(model, s);
    // NaN has no rank: sorting by it would keep neurons in an arbitrary order
    for (const [l, row] of scores.entries()) {
      const n = nonFiniteValues(row)?.first;
      if (n !== undefined)
        throw new NonFiniteInputError(
          `prune-ffn: neuron ${n} of layer ${s.layers[l]!.index} scores ${row[n]}: its FFN weights hold NaN or Infinity; fix or retrain the model before pruning it`,
        );
    }
    const kept = new Array<number>(s.layers.length).fill(0);
    // Layers sharing FFN weights (share-layers) are pruned as one: the same neurons, by their summed scores.
    const groups = sharingGroups(s, 'ffn');
    const summed = groupScores(scores, groups);
    groups.forEach((group, gi) => {
      const layers = group.map((i) => s.layers.find((l) => l.index === i)!);
      const n = layers[0]!.ffn.intermediateSize;
      const keepN = keptNeurons(n, o.ratio);
      const keep = Array.from({ length: n }, (_, i) => i)
        .sort((a, b) => summed[gi]![b]! - summed[gi]![a]! || a - b)
        .slice(0, keepN)
        .sort((a, b) => a - b);
      for (const l of layers) kept[s.layers.indexOf(l)] = keepN;
      if (keepN === n) return;
      const blocks = layers.map((l) => nodesBetween(g, [l.ffn.in.node], l.ffn.out.node));
      keepLinearOutputs(
        g,
        layers[0]!.ffn.in,
        keep,
        layers.slice(1).map((l) => l.ffn.in),
      );
      keepLinearInputs(
        g,
        layers[0]!.ffn.out,
        keep,
        layers.slice(1).map((l) => l.ffn.out),
      );
      for (const block of blocks) rewriteReshapeWidths(g, block, n, keepN);
    });
    pruneGraph(g);
    const before = s.layers.reduce((a, l) => a + l.ffn.intermediateSize, 0);
    const after = kept.reduce((a, b) => a + b, 0);
    return {
      model: m,
      report: { pass: 'prune-ffn', settings: { ...o }, summary: `kept ${after} of ${before} FFN neurons`, details: { neuronsPerLayer: kept } },
    };
  },
};
