/**
 * A BERT model's weights by role, as the project's messages name them (train's and distil's refusal of a weight
 * holding NaN): the id quantize gives a projection's weight or an embedding table ('layer0.attention.q',
 * 'embeddings.word', 'pooler', 'head.0'), a layer's other weights by the roles share-layers names them by
 * ('layer0.attention.q.bias', 'layer0.attentionNorm.scale', 'layer0.outputNorm.bias'), and the embeddings'
 * LayerNorm, their projections' and the pooler's and head's biases ('embeddings.norm.scale',
 * 'embeddings.mapping.bias', 'pooler.bias', 'head.0.bias').
 */
import type { BertStructure, Linear } from '../bert/structure.ts';
import type { Model } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { nonFiniteFloat32 } from '../onnx/tensor.ts';
import { quantizationTargets, targetWeight } from '../quantize/targets.ts';
import { layerWeights } from '../share/roles.ts';

/**
 * Every weight of `s` with its role (an initializer with two roles, a shared one: under its first), each role once:
 * a projection's weight under quantize's id alone ('layer0.attention.q', 'pooler', 'head.0'), where share-layers'
 * role of it ('layer0.attention.q.weight') and the pooler's and head's weights were listed a second time.
 */
export function weightRoles(s: BertStructure): Array<{ role: string; initializer: string }> {
  const out: Array<{ role: string; initializer: string }> = [];
  const listed = new Set<string>();
  const add = (role: string, initializer: string) => {
    if (listed.has(`${role}\0${initializer}`)) return;
    listed.add(`${role}\0${initializer}`);
    out.push({ role, initializer });
  };
  for (const t of quantizationTargets(s)) {
    add(t.id, targetWeight(t));
    listed.add(`${t.id}.weight\0${targetWeight(t)}`); // (share-layers' role of the same weight: not listed again)
  }
  for (const layer of s.layers) for (const w of layerWeights(layer)) add(`layer${layer.index}.${w.role}`, w.initializer);
  const e = s.embeddings;
  add('embeddings.norm.scale', e.norm.scale);
  add('embeddings.norm.bias', e.norm.bias);
  const linears: Array<[string, Linear | undefined]> = [
    ['embeddings.mapping', e.mapping],
    ['embeddings.word.projection', e.word.projection],
    ['pooler', s.pooler?.dense],
    ...(s.head?.linears ?? []).map((lin, i): [string, Linear] => [`head.${i}`, lin]),
  ];
  for (const [id, lin] of linears) {
    if (lin) add(id, lin.weight);
    if (lin?.bias) add(`${id}.bias`, lin.bias);
  }
  return out;
}

/** The role of the initializer `name` in `s`; undefined when it is none of the structure's weights. */
export function weightRole(s: BertStructure, name: string): string | undefined {
  return weightRoles(s).find((w) => w.initializer === name)?.role;
}

/**
 * The first float32 weight of `s` (weightRoles' order; `only`: of those roles) in `model` holding NaN or ±Infinity, by
 * its name in `model` and its role, with how many such values it holds, the first's index and value; undefined when
 * all are finite.
 */
export function nonFiniteWeight(
  model: Model,
  s: BertStructure,
  only?: (role: string) => boolean,
): { name: string; role: string; count: number; index: number; value: number } | undefined {
  for (const { role, initializer } of weightRoles(s)) {
    if (only && !only(role)) continue;
    const t = model.graph.initializers.get(initializer);
    if (!t || t.dataType !== DataType.FLOAT) continue;
    const bad = nonFiniteFloat32(t);
    if (bad) return { name: initializer, role, count: bad.count, index: bad.first, value: bad.value };
  }
  return undefined;
}
