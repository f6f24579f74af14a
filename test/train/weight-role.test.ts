/**
 * weightRoles names every weight a BERT student trains (projections and tables as quantize names them, LayerNorms and
 * biases as share-layers does), so that train's refusal of a weight holding NaN says where it is, whatever its name.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { float32Tensor, readFloat32 } from '../../src/onnx/tensor.ts';
import { initialParameters } from '../../src/train/student.ts';
import { makeStudent } from '../../src/train/students/index.ts';
import { nonFiniteWeight, weightRole, weightRoles } from '../../src/train/weight-role.ts';
import { tinyBert, writeTinyBert } from '../helpers/models.ts';

describe('weightRoles', () => {
  it('gives every trainable parameter of a canonical student a role of its own', () => {
    const tiny = writeTinyBert({}, { seed: 1 });
    const { student } = makeStudent({ spec: tiny.path, model: tiny.model, maxLength: 16, seed: 1 });
    tiny.cleanup();
    const forward = student.forward(false);
    const s = findBert(forward);
    const names = [...initialParameters(forward).keys()];
    const roles = names.map((n) => weightRole(s, n));
    expect(names.filter((_, i) => roles[i] === undefined)).toEqual([]);
    expect(new Set(roles).size).toBe(names.length);
    expect(roles).toContain('layer1.attentionNorm.bias');
    expect(roles).toContain('embeddings.norm.scale');
    expect(roles).toContain('head.0.bias');
  });

  it("lists each weight once: a projection's under quantize's id alone, the pooler's and head's not twice", () => {
    const s = findBert(tinyBert({}, { seed: 1 }));
    const listed = weightRoles(s);
    expect(new Set(listed.map((w) => w.initializer)).size).toBe(listed.length);
    expect(listed.filter((w) => w.initializer === s.pooler!.dense.weight).map((w) => w.role)).toEqual(['pooler']);
    expect(listed.filter((w) => w.initializer === s.layers[0]!.attention!.q!.weight).map((w) => w.role)).toEqual(['layer0.attention.q']);
    expect(listed.map((w) => w.role)).toContain('pooler.bias');
  });

  it("nonFiniteWeight names the model's weight by its own name, role and index", () => {
    const model = tinyBert({}, { seed: 1 });
    const s = findBert(model);
    const name = s.layers[1]!.outputNorm.scale;
    const t = model.graph.initializers.get(name)!;
    const values = readFloat32(t).slice();
    values[3] = Number.POSITIVE_INFINITY;
    values[7] = Number.NaN;
    model.graph.initializers.set(name, float32Tensor(name, t.dims, values));
    expect(nonFiniteWeight(model, s)).toEqual({ name, role: 'layer1.outputNorm.scale', count: 2, index: 3, value: Number.POSITIVE_INFINITY });
    expect(
      weightRoles(s)
        .filter((w) => w.initializer === name)
        .map((w) => w.role),
    ).toEqual(['layer1.outputNorm.scale']);
  });
});
