/**
 * The prune-ffn pass: removes the least important intermediate neurons of every FFN (same fraction per layer).
 * A neuron's importance is |W_in column| · |W_out row| (magnitude), a standard structured-pruning criterion.
 */
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { pruneGraph } from '../onnx/analysis.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Pass } from '../pass/pass.ts';
import { SettingsError } from '../errors.ts';
import { keepLinearInputs, keepLinearOutputs } from './edit.ts';
import { nodesBetween, rewriteReshapeWidths } from './block.ts';
import { featureSquares } from './weights.ts';
import { feedForwardQuantization, refuseQuantized } from './float-weights.ts';

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

export const pruneFfnPass: Pass<PruneFfnOptions> = {
  name: 'prune-ffn',
  description: 'remove the least important FFN neurons of every layer (magnitude)',
  parse(settings) {
    const ratio = Number(settings.ratio);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio >= 1) throw new SettingsError(`--prune-ffn ${settings.ratio}: the ratio must be in [0, 1)`);
    return { ratio };
  },
  async run(model, s, o) {
    for (const l of s.layers) refuseQuantized('prune-ffn', l.index, 'feed-forward', feedForwardQuantization(l), 'prune FFN neurons before quantizing');
    const m = cloneModel(model);
    const g = m.graph;
    const scores = ffnNeuronScores(model, s);
    const kept: number[] = [];
    for (const layer of s.layers) {
      const n = layer.ffn.intermediateSize;
      const keepN = Math.max(1, n - Math.round(o.ratio * n));
      const keep = Array.from({ length: n }, (_, i) => i)
        .sort((a, b) => scores[layer.index][b] - scores[layer.index][a] || a - b)
        .slice(0, keepN)
        .sort((a, b) => a - b);
      kept.push(keepN);
      if (keepN === n) continue;
      const block = nodesBetween(g, [layer.ffn.in.node], layer.ffn.out.node);
      keepLinearOutputs(g, layer.ffn.in, keep);
      keepLinearInputs(g, layer.ffn.out, keep);
      rewriteReshapeWidths(g, block, n, keepN);
    }
    pruneGraph(g);
    const before = s.layers.reduce((a, l) => a + l.ffn.intermediateSize, 0);
    const after = kept.reduce((a, b) => a + b, 0);
    return {
      model: m,
      report: { pass: 'prune-ffn', settings: { ...o }, summary: `kept ${after} of ${before} FFN neurons`, details: { neuronsPerLayer: kept } },
    };
  },
};
