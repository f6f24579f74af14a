/**
 * The drop-layers pass: removes whole encoder layers (DistilBERT's initialisation keeps every other layer of its
 * teacher). Readers of a dropped layer's output read its input instead; the layer's nodes then fall away.
 */
import { cloneModel } from '../onnx/graph.ts';
import { pruneGraph } from '../onnx/analysis.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Pass } from '../pass/pass.ts';
import { SettingsError } from '../errors.ts';
import { DROP_LAYERS } from './settings.ts';

export interface DropLayersOptions {
  /** Layers to drop (explicit), or… */
  drop?: number[];
  /** …layers to keep: a list, or 'every-other' (0, 2, 4, …). */
  keep?: number[] | 'every-other';
}

/** The layers a model has, for messages: 'layers 0-11', 'layer 0' or 'no encoder layer'. */
export function layerRange(n: number): string {
  return n === 0 ? 'no encoder layer' : n === 1 ? 'layer 0' : `layers 0-${n - 1}`;
}

export function layersToDrop(s: BertStructure, o: DropLayersOptions): number[] {
  const n = s.numLayers;
  let drop: number[];
  if (o.drop) drop = o.drop;
  else if (o.keep === 'every-other') drop = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 1);
  else drop = Array.from({ length: n }, (_, i) => i).filter((i) => !(o.keep as number[]).includes(i));
  const bad = drop.concat(Array.isArray(o.keep) ? o.keep : []).find((i) => i >= n);
  if (bad !== undefined) throw new SettingsError(`drop-layers: layer ${bad} does not exist: the model has ${layerRange(n)}`);
  if (drop.length >= n) throw new SettingsError(`drop-layers: cannot drop all ${n} layers (keep at least one)`);
  return drop;
}

export const dropLayersPass: Pass<DropLayersOptions> = {
  ...DROP_LAYERS,
  async run(model, s, o) {
    const drop = layersToDrop(s, o);
    const m = cloneModel(model);
    const g = m.graph;
    for (const i of [...drop].sort((a, b) => b - a)) {
      const layer = s.layers[i];
      for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === layer.output ? layer.input : x));
      for (const out of g.outputs)
        if (out.name === layer.output) throw new SettingsError(`drop-layers: layer ${i}'s output is a graph output; it cannot be dropped`);
    }
    pruneGraph(g);
    return {
      model: m,
      report: {
        pass: 'drop-layers',
        settings: { ...o },
        summary: drop.length
          ? `dropped layers ${drop.join(', ')}; ${s.numLayers - drop.length} of ${s.numLayers} left`
          : `no layer dropped (every layer is kept); ${s.numLayers} of ${s.numLayers} left`,
        details: { dropped: drop, kept: s.layers.map((l) => l.index).filter((i) => !drop.includes(i)) },
      },
    };
  },
};
