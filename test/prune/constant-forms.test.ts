/**
 * Shape constants held by Constant nodes in their list and scalar forms (`value_ints`, `value_int`), as exporters
 * other than torch's TorchScript one write them (torch.onnx's dynamo exporter, onnxscript): prune-heads rewrites the
 * head counts discovery read of them, where it failed with an internal "Constant node '…' not found", and prune-ffn
 * the FFN width of a Reshape's shape, which it left as it was (onnxruntime then failed on the pruned graph); each
 * rewritten Constant holds one value attribute, as ONNX requires.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { cloneModel, int64Tensor, type Model, readNumbers } from '../../src/onnx/index.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { pruneFfnPass } from '../../src/prune/ffn.ts';
import { pruneHeadsPass } from '../../src/prune/heads.ts';
import { onnxNode, tinyBert } from '../helpers/models.ts';
import { maxAbs, maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';

/**
 * `model` with each layer's FFN output projection written as a keras Tensordot, Reshape(x → [-1, width]) · MatMul(W)
 * · Reshape(→ the FFN input's shape), the width held by a Constant (layer 1's by a Concat of two).
 */
function withFfnReshapes(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  for (const l of findBert(model).layers) {
    const mm = g.nodes.find((n) => n.name === l.ffn.out.node)!;
    const ffnIn = g.nodes.find((n) => n.name === l.ffn.in.node)!.inputs[0]!;
    const width = l.ffn.intermediateSize;
    const p = `ffn_${l.index}`;
    const parts = l.index === 0 ? [[-1, width]] : [[-1], [width]];
    const before = parts.map((values, i) =>
      onnxNode(`${p}_shape_${i}`, 'Constant', [], [`${p}_shape_${i}`], {
        value: { type: 'tensor', value: int64Tensor(`${p}_shape_${i}`, [values.length], values) },
      }),
    );
    const shape = before.length > 1 ? `${p}_shape` : before[0]!.outputs[0]!;
    if (before.length > 1)
      before.push(
        onnxNode(
          shape,
          'Concat',
          before.map((n) => n.outputs[0]!),
          [shape],
          { axis: { type: 'int', value: 0 } },
        ),
      );
    before.push(onnxNode(`${p}_flatten`, 'Reshape', [mm.inputs[0]!, shape], [`${p}_flat`]));
    const y = mm.outputs[0]!;
    const after = [
      onnxNode(`${p}_in_shape`, 'Shape', [ffnIn], [`${p}_in_shape`]),
      onnxNode(`${p}_unflatten`, 'Reshape', [`${p}_product`, `${p}_in_shape`], [y]),
    ];
    mm.inputs[0] = `${p}_flat`;
    mm.outputs[0] = `${p}_product`;
    g.nodes.splice(g.nodes.indexOf(mm) + 1, 0, ...after);
    g.nodes.splice(g.nodes.indexOf(mm), 0, ...before);
  }
  return m;
}

/** `model` with its integer Constant nodes of one or no dimension in the `value_ints` / `value_int` forms. */
function listForms(model: Model): { model: Model; lists: number; scalars: number } {
  const m = cloneModel(model);
  let lists = 0;
  let scalars = 0;
  for (const n of m.graph.nodes) {
    const a = n.attributes.value;
    if (n.opType !== 'Constant' || a?.type !== 'tensor' || a.value.dataType !== DataType.INT64 || a.value.dims.length > 1) continue;
    const values = readNumbers(a.value);
    if (a.value.dims.length === 0) {
      n.attributes = { value_int: { type: 'int', value: values[0]! } };
      scalars++;
    } else {
      n.attributes = { value_ints: { type: 'ints', value: values } };
      lists++;
    }
  }
  return { model: m, lists, scalars };
}

/** Every Constant node of `model` holds exactly one value attribute. */
const oneValueEach = (model: Model) => model.graph.nodes.filter((n) => n.opType === 'Constant').every((n) => Object.keys(n.attributes).length === 1);

describe('shape constants in the value_ints / value_int forms', () => {
  const base = withFfnReshapes(tinyBert({}, { std: 0.2 }));
  const converted = listForms(base);

  it('prune-heads rewrites them as it rewrites `value` tensors: the same outputs', async () => {
    expect([converted.lists > 0, converted.scalars > 0]).toEqual([true, true]);
    const settings = pruneHeadsPass.parse({ heads: '0:1,2;1:0' });
    const want = await pruneHeadsPass.run(base, findBert(base), settings, {});
    const got = await pruneHeadsPass.run(converted.model, findBert(converted.model), settings, {});
    expect(findBert(got.model).layers.map((l) => l.attention?.numHeads)).toEqual([2, 3]);
    expect(oneValueEach(got.model)).toBe(true);
    const feeds = sampleFeeds(base, findBert(base));
    const expected = await outputsOf(want.model, feeds);
    expect(maxDiff(await outputsOf(got.model, feeds), expected)).toBeLessThan(1e-6 * Math.max(1, maxAbs(expected)));
  });

  it("prune-ffn rewrites a Reshape's FFN width held in them: the same outputs", async () => {
    const settings = pruneFfnPass.parse({ ratio: 0.5 });
    const want = await pruneFfnPass.run(base, findBert(base), settings, {});
    const got = await pruneFfnPass.run(converted.model, findBert(converted.model), settings, {});
    expect(findBert(got.model).layers.map((l) => l.ffn.intermediateSize)).toEqual([32, 32]);
    expect(oneValueEach(got.model)).toBe(true);
    const feeds = sampleFeeds(base, findBert(base));
    const expected = await outputsOf(want.model, feeds);
    expect(maxDiff(await outputsOf(got.model, feeds), expected)).toBeLessThan(1e-6 * Math.max(1, maxAbs(expected)));
  });
});
