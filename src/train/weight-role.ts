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

/** Every weight of `s` with its role (an initializer with two roles, a shared one: under its first). */
export function weightRoles(s: BertStructure): Array<{ role: string; initializer: string }> {
  const out = quantizationTargets(s).map((t) => ({ role: t.id, initializer: targetWeight(t) }));
  for (const layer of s.layers) {
    for (const w of layerWeights(layer)) out.push({ role: `layer${layer.index}.${w.role}`, initializer: w.initializer });
  }
  const e = s.embeddings;
  out.push({ role: 'embeddings.norm.scale', initializer: e.norm.scale }, { role: 'embeddings.norm.bias', initializer: e.norm.bias });
  out.push(...linearRoles('embeddings.mapping', e.mapping), ...linearRoles('embeddings.word.projection', e.word.projection));
  out.push(...linearRoles('pooler', s.pooler?.dense));
  for (const [i, lin] of (s.head?.linears ?? []).entries()) out.push(...linearRoles(`head.${i}`, lin));
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

/** A projection's weight (`id`) and bias (`id.bias`). */
function linearRoles(id: string, lin: Linear | undefined): Array<{ role: string; initializer: string }> {
  if (!lin) return [];
  return lin.bias
    ? [
        { role: id, initializer: lin.weight },
        { role: `${id}.bias`, initializer: lin.bias },
      ]
    : [{ role: id, initializer: lin.weight }];
}
