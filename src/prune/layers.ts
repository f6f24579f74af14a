/**
 * The drop-layers pass: removes whole encoder layers (DistilBERT's initialisation keeps every other layer of its
 * teacher). Readers of a dropped layer's output read its input instead; the layer's nodes then fall away. A graph
 * output that was a dropped layer's output (an encoder-only model's last_hidden_state, a graph exporting every
 * hidden state) keeps its name and now gives that input, the output of the kept layer below (or of the
 * embeddings), through an Identity node: the model's outputs stay as they were, as a model built without the layer
 * would give them.
 */
import type { BertStructure } from '../bert/structure.ts';
import { cloneModel, type Model, type ValueInfo } from '../onnx/graph.ts';
import { pruneGraph } from '../onnx/analysis.ts';
import { structureShape, type Pass, type PassResult } from '../pass/pass.ts';
import { DROP_LAYERS, layerRange, layersToDrop } from './settings.ts';
import { quotedText } from '../errors.ts';

export { layerRange, layersToDrop };

export interface DropLayersOptions {
  /** Layers to drop (explicit), or… */
  drop?: number[];
  /** …layers to keep: a list, or 'every-other' (0, 2, 4, …). */
  keep?: number[] | 'every-other';
}

/**
 * The drop-layers rewrite of `model` (discovered as `s`): its graph alone, no weight value read, so a sweep's plan
 * follows a model it read without weight values (loadModelShapes) through the step as the point rewrites it.
 */
export function dropLayers(model: Model, s: BertStructure, o: DropLayersOptions): PassResult {
  const drop = layersToDrop(s, o);
  const m = cloneModel(model);
  const g = m.graph;
  /** What each dropped layer's output becomes: its input, followed down through dropped layers. */
  const replaced = new Map<string, string>();
  for (const i of [...drop].sort((a, b) => a - b)) {
    const layer = s.layers[i];
    replaced.set(layer.output, replaced.get(layer.input) ?? layer.input);
  }
  for (const n of g.nodes) n.inputs = n.inputs.map((x) => replaced.get(x) ?? x);
  // graph outputs that were dropped layers' outputs: kept under their names, given by an Identity of the new value
  const repointed: Array<{ info: ValueInfo; output: string; from: string }> = [];
  for (const info of g.outputs) {
    const from = replaced.get(info.name);
    if (from === undefined) continue;
    repointed.push({ info, output: info.name, from });
    info.name = from; // (while the layer's nodes fall away, the output names the value it now gives)
  }
  pruneGraph(g);
  for (const r of repointed) {
    r.info.name = r.output;
    g.nodes.push({ name: `drop-layers/${r.output}`, opType: 'Identity', domain: '', inputs: [r.from], outputs: [r.output], attributes: {} });
  }
  const source = (from: string) => {
    const layer = s.layers.find((l) => l.output === from);
    return layer ? `layer ${layer.index}'s output` : from === s.layers[0].input ? 'the embeddings' : quotedText(from);
  };
  const notes = repointed.map((r) => `; graph output ${quotedText(r.output)} now gives ${source(r.from)}`).join('');
  return {
    model: m,
    report: {
      pass: 'drop-layers',
      settings: { ...o },
      summary: drop.length
        ? `dropped layers ${drop.join(', ')}; ${s.numLayers - drop.length} of ${s.numLayers} left${notes}`
        : `no layer dropped (every layer is kept); ${s.numLayers} of ${s.numLayers} left`,
      details: {
        dropped: drop,
        kept: s.layers.map((l) => l.index).filter((i) => !drop.includes(i)),
        ...(repointed.length ? { repointedOutputs: repointed.map((r) => r.output) } : {}),
      },
    },
  };
}

export const dropLayersPass: Pass<DropLayersOptions> = {
  ...DROP_LAYERS,
  // (a layer the model lacks, or every layer, as the rewrite refuses them: a sweep's plan asks before any point runs)
  checkModel(_model, s, o) {
    dropLayersPass.checkShape!(o, structureShape(s));
  },
  checkShape(o, shape) {
    layersToDrop(shape, o);
  },
  async run(model, s, o) {
    return dropLayers(model, s, o);
  },
};
