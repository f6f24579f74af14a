/**
 * Attention as torch exports scaled_dot_product_attention (transformers' SDPA attention): no division of the scores;
 * Q and Kᵀ are each multiplied by Sqrt(scale) before their MatMul, where the scale is 1 / Sqrt(Cast(Slice(Shape(Q),
 * [-1], [INT64_MAX]))) when no scale was passed (transformers 4.41–4.47), or a constant when one was; onnxruntime's
 * optimizer (any level) saves Shape(Q) as Gather(Shape(Q before its Transpose), perm). The factor may also be a Pow of
 * the head size (torch's head size ** -0.25), read when the base is a float (of an int64 base onnxruntime truncates it).
 */
import { describe, expect, it } from 'vitest';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, DataType, type Model } from '../../src/onnx/index.ts';
import { float32Tensor, int64Tensor } from '../../src/onnx/tensor.ts';
import { batchLogits, maxRowDiff, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';

/** Q heads 6 wide: a scale read as sqrt(8) (the tiny default) or as 1 would show. */
const CONFIG = { hiddenSize: 24, numHeads: 4, intermediateSize: 32 };

/**
 * `model` with each layer's Div of the scores replaced by torch's SDPA scaling of Q and Kᵀ: the scale from the last
 * axis of the shape of Q split into heads ('q', as torch writes; 'q-gathered', as onnxruntime's optimizer saves it),
 * of Kᵀ ('kT', whose last axis is the sequence), or a constant.
 */
function sdpaScaled(model: Model, scale: 'q' | 'q-gathered' | 'q-truncated' | 'kT' | 'constant' | 'q-pow' | 'q-pow-int' | 'constant-pow'): Model {
  const m = cloneModel(model);
  const g = m.graph;
  g.initializers.set('sdpa_start', int64Tensor('sdpa_start', [1], [-1]));
  g.initializers.set('sdpa_end', int64Tensor('sdpa_end', [1], [9223372036854775807n]));
  g.initializers.set('sdpa_one', float32Tensor('sdpa_one', [1], [1]));
  g.initializers.set('sdpa_perm', int64Tensor('sdpa_perm', [4], [0, 2, 1, 3]));
  g.initializers.set('sdpa_scale', float32Tensor('sdpa_scale', [], [1 / Math.sqrt(CONFIG.hiddenSize / CONFIG.numHeads)]));
  g.initializers.set('sdpa_quarter', float32Tensor('sdpa_quarter', [], [-0.25]));
  g.initializers.set('sdpa_six', float32Tensor('sdpa_six', [], [CONFIG.hiddenSize / CONFIG.numHeads]));
  const softmaxes = g.nodes.filter((n) => n.opType === 'Softmax');
  expect(softmaxes).toHaveLength(2);
  for (const [l, softmax] of softmaxes.entries()) {
    const add = g.nodes.find((n) => n.outputs[0] === softmax.inputs[0])!;
    const div = g.nodes.find((n) => n.opType === 'Div' && n.outputs[0] === add.inputs[0])!;
    const qk = g.nodes.find((n) => n.opType === 'MatMul' && n.outputs[0] === div.inputs[0])!;
    const [q, kT] = qk.inputs;
    const p = `sdpa${l}`;
    const nodes = [];
    let s = 'sdpa_scale';
    if (scale === 'q-pow' || scale === 'q-pow-int' || scale === 'constant-pow') {
      // (each of Q and Kᵀ multiplied by (head size) ** -0.25: of the head size cast to float, of the int64 head size
      // (onnxruntime truncates 6 ** -0.25 to 0), or of a constant 6)
      const float = { to: { type: 'int' as const, value: DataType.FLOAT } };
      if (scale === 'constant-pow') nodes.push(onnxNode(`${p}/Pow`, 'Pow', ['sdpa_six', 'sdpa_quarter'], [`${p}/factor`]));
      else {
        nodes.push(
          onnxNode(`${p}/Shape`, 'Shape', [q], [`${p}/shape`]),
          onnxNode(`${p}/Slice`, 'Slice', [`${p}/shape`, 'sdpa_start', 'sdpa_end'], [`${p}/last`]),
        );
        if (scale === 'q-pow') {
          nodes.push(
            onnxNode(`${p}/Cast`, 'Cast', [`${p}/last`], [`${p}/lastf`], float),
            onnxNode(`${p}/Pow`, 'Pow', [`${p}/lastf`, 'sdpa_quarter'], [`${p}/factor`]),
          );
        } else {
          nodes.push(
            onnxNode(`${p}/Pow`, 'Pow', [`${p}/last`, 'sdpa_quarter'], [`${p}/power`]),
            onnxNode(`${p}/Cast`, 'Cast', [`${p}/power`], [`${p}/factor`], float),
          );
        }
      }
    } else if (scale === 'q-gathered') {
      const transpose = g.nodes.find((n) => n.outputs[0] === q)!;
      expect(transpose.opType).toBe('Transpose');
      nodes.push(onnxNode(`${p}/Shape_0`, 'Shape', [transpose.inputs[0]], [`${p}/split_shape`]));
      nodes.push(onnxNode(`${p}/Gather`, 'Gather', [`${p}/split_shape`, 'sdpa_perm'], [`${p}/shape`], { axis: { type: 'int', value: 0 } }));
    } else if (scale !== 'constant') {
      nodes.push(onnxNode(`${p}/Shape`, 'Shape', [scale === 'kT' ? kT : q], [`${p}/shape`]));
    }
    if (scale !== 'constant' && !scale.endsWith('pow') && scale !== 'q-pow-int') {
      nodes.push(
        onnxNode(`${p}/Slice`, 'Slice', [`${p}/shape`, 'sdpa_start', 'sdpa_end'], [`${p}/last`]),
        onnxNode(`${p}/Cast`, 'Cast', [`${p}/last`], [`${p}/lastf`], { to: { type: 'int', value: DataType.FLOAT } }),
        onnxNode(`${p}/Sqrt`, 'Sqrt', [`${p}/lastf`], [`${p}/root`]),
      );
      // ('q-truncated': the root cast to an integer and back, sqrt(6) computed as 2)
      if (scale === 'q-truncated') {
        nodes.push(
          onnxNode(`${p}/Cast_int`, 'Cast', [`${p}/root`], [`${p}/root_int`], { to: { type: 'int', value: DataType.INT64 } }),
          onnxNode(`${p}/Cast_float`, 'Cast', [`${p}/root_int`], [`${p}/root_whole`], { to: { type: 'int', value: DataType.FLOAT } }),
        );
      }
      nodes.push(onnxNode(`${p}/Div`, 'Div', ['sdpa_one', scale === 'q-truncated' ? `${p}/root_whole` : `${p}/root`], [`${p}/scale`]));
      s = `${p}/scale`;
    }
    if (!nodes.some((n) => n.outputs[0] === `${p}/factor`)) nodes.push(onnxNode(`${p}/Sqrt_1`, 'Sqrt', [s], [`${p}/factor`]));
    nodes.push(onnxNode(`${p}/Mul`, 'Mul', [q, `${p}/factor`], [`${p}/q`]), onnxNode(`${p}/Mul_1`, 'Mul', [kT, `${p}/factor`], [`${p}/k`]));
    qk.inputs = [`${p}/q`, `${p}/k`];
    add.inputs[0] = qk.outputs[0];
    g.nodes.splice(g.nodes.indexOf(div), 1);
    g.nodes.splice(g.nodes.indexOf(qk), 0, ...nodes);
  }
  return m;
}

/**
 * `model` with each layer's Div of the scores replaced by a product with (head size) ** -0.5, read off the shape of Q
 * split into heads (torch's scores * q.size(-1) ** -0.5: Pow(Cast(Slice(Shape(q), -1)), -0.5)) or of Kᵀ (whose last
 * axis is the sequence).
 */
function scoresScaled(model: Model, of: 'q' | 'kT' | 'q-int-div' | 'q-int-mul'): Model {
  const m = cloneModel(model);
  const g = m.graph;
  g.initializers.set('sdpa_start', int64Tensor('sdpa_start', [1], [-1]));
  g.initializers.set('sdpa_end', int64Tensor('sdpa_end', [1], [9223372036854775807n]));
  g.initializers.set('sdpa_half', float32Tensor('sdpa_half', [], [-0.5]));
  g.initializers.set('sdpa_int_one', int64Tensor('sdpa_int_one', [], [1]));
  g.initializers.set('sdpa_int_four', int64Tensor('sdpa_int_four', [], [4]));
  for (const [l, div] of g.nodes.filter((n) => n.opType === 'Div' && g.nodes.some((a) => a.opType === 'Add' && a.inputs[0] === n.outputs[0])).entries()) {
    const qk = g.nodes.find((n) => n.opType === 'MatMul' && n.outputs[0] === div.inputs[0])!;
    const p = `scores${l}`;
    const float = { to: { type: 'int' as const, value: DataType.FLOAT } };
    const nodes = [
      onnxNode(`${p}/Shape`, 'Shape', [of === 'kT' ? qk.inputs[1] : qk.inputs[0]], [`${p}/shape`]),
      onnxNode(`${p}/Slice`, 'Slice', [`${p}/shape`, 'sdpa_start', 'sdpa_end'], [`${p}/last`]),
    ];
    if (of === 'q-int-div') {
      // (the int64 head size // 4, cast to float: onnxruntime's integer Div gives 1 for 6, not 1.5)
      nodes.push(
        onnxNode(`${p}/Div`, 'Div', [`${p}/last`, 'sdpa_int_four'], [`${p}/quarter`]),
        onnxNode(`${p}/Cast`, 'Cast', [`${p}/quarter`], [`${p}/lastf`], float),
        onnxNode(`${p}/Pow`, 'Pow', [`${p}/lastf`, 'sdpa_half'], [`${p}/factor`]),
      );
    } else if (of === 'q-int-mul') {
      // (a Pow of the int64 head size * 1: onnxruntime truncates 6 ** -0.5 to 0)
      nodes.push(
        onnxNode(`${p}/Mul`, 'Mul', [`${p}/last`, 'sdpa_int_one'], [`${p}/same`]),
        onnxNode(`${p}/Pow`, 'Pow', [`${p}/same`, 'sdpa_half'], [`${p}/power`]),
        onnxNode(`${p}/Cast`, 'Cast', [`${p}/power`], [`${p}/factor`], float),
      );
    } else {
      nodes.push(
        onnxNode(`${p}/Cast`, 'Cast', [`${p}/last`], [`${p}/lastf`], float),
        onnxNode(`${p}/Pow`, 'Pow', [`${p}/lastf`, 'sdpa_half'], [`${p}/factor`]),
      );
    }
    div.opType = 'Mul';
    div.inputs[1] = `${p}/factor`;
    g.nodes.splice(g.nodes.indexOf(div), 0, ...nodes);
  }
  return m;
}

describe('attention scaled as torch exports scaled_dot_product_attention', () => {
  // (weights of std 0.2: at transformers' 0.02 the scores are so small that any scale gives the logits within 1e-6,
  // and the rebuilt logits could not show a scale misread; here sqrt(8) for sqrt(6) moves them by 0.04)
  const model = tinyBert(CONFIG, { seed: 4, std: 0.2 });
  const batch = paddedBatch([7, 4, 1, 6], 128);

  for (const scale of ['q', 'q-gathered', 'constant', 'q-pow', 'constant-pow'] as const) {
    it(`reads the scale (${scale}) as sqrt(head size), and rebuilds the same logits`, async () => {
      const sdpa = sdpaScaled(model, scale);
      const expected = (await batchLogits(model, batch)).rows;
      expect(maxRowDiff((await batchLogits(sdpa, batch)).rows, expected)).toBeLessThan(1e-5);
      const s = findBert(sdpa);
      expect(s.layers.map((l) => [l.attention?.numHeads, l.attention?.headSize])).toEqual([
        [4, 6],
        [4, 6],
      ]);
      for (const l of s.layers) expect(l.attention?.scale).toBeCloseTo(Math.sqrt(6), 5);
      // the canonical rebuild (what training differentiates) computes the same logits
      expect(maxRowDiff((await batchLogits(rebuildCanonical(sdpa), batch)).rows, expected)).toBeLessThan(1e-5);
    });
  }

  it('refuses a scale whose root of the head size is cast to an integer (sqrt(6) truncated to 2: no power of the head size)', async () => {
    const sdpa = sdpaScaled(model, 'q-truncated');
    // (the graph computes other logits than the model's sqrt(6): a scale read as sqrt(6) would rebuild the model's)
    const expected = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(sdpa, batch)).rows, expected)).toBeGreaterThan(1e-2);
    expect(() => findBert(sdpa, { label: 'm.onnx' })).toThrow(NotBertError);
    expect(() => findBert(sdpa, { label: 'm.onnx' })).toThrow(/^m\.onnx: attention at Softmax '[^']+': the operands of Q·Kᵀ MatMul '[^']+' do not come from/);
  });

  it('refuses a scale of Q and Kᵀ by the int64 head size ** -0.25 (onnxruntime truncates it to 0) in one line', async () => {
    const sdpa = sdpaScaled(model, 'q-pow-int');
    const expected = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(sdpa, batch)).rows, expected)).toBeGreaterThan(1e-2);
    expect(() => findBert(sdpa, { label: 'm.onnx' })).toThrow(NotBertError);
    expect(() => findBert(sdpa, { label: 'm.onnx' })).toThrow(/^m\.onnx: attention at Softmax '[^']+': the operands of Q·Kᵀ MatMul '[^']+' do not come from/);
  });

  it('reads scores multiplied by the head size ** -0.5 read off the shape of Q, and rebuilds the same logits', async () => {
    const scaled = scoresScaled(model, 'q');
    const expected = (await batchLogits(model, batch)).rows;
    expect(maxRowDiff((await batchLogits(scaled, batch)).rows, expected)).toBeLessThan(1e-5);
    for (const l of findBert(scaled).layers) expect(l.attention?.scale).toBeCloseTo(Math.sqrt(6), 5);
    expect(maxRowDiff((await batchLogits(rebuildCanonical(scaled), batch)).rows, expected)).toBeLessThan(1e-5);
  });

  for (const of of ['q-int-div', 'q-int-mul'] as const) {
    it(`refuses scores multiplied by a power of an integer quotient or product of the head size (${of}: onnxruntime truncates it) in one line`, async () => {
      const scaled = scoresScaled(model, of);
      // (the graph computes other logits than the model's: a scale read as a power of the head size would rebuild the model's)
      expect(maxRowDiff((await batchLogits(scaled, batch)).rows, (await batchLogits(model, batch)).rows)).toBeGreaterThan(1e-2);
      expect(() => findBert(scaled, { label: 'm.onnx' })).toThrow(NotBertError);
      expect(() => findBert(scaled, { label: 'm.onnx' })).toThrow(
        /^m\.onnx: no attention blocks found \(Softmax '[^']+' does not follow a Q·Kᵀ MatMul\): not a BERT-family encoder$/,
      );
    });
  }

  it('refuses scores multiplied by a power read off the shape of Kᵀ (its last axis is the sequence) in one line', () => {
    expect(() => findBert(scoresScaled(model, 'kT'), { label: 'm.onnx' })).toThrow(
      /^m\.onnx: attention at Softmax '[^']+': the scores are scaled by a number read off the shape of '[^']+', which is not the head size of Q, K or V$/,
    );
  });

  it('refuses a scale read off the shape of Kᵀ (its last axis is the sequence) in one line', () => {
    const sdpa = sdpaScaled(model, 'kT');
    expect(() => findBert(sdpa, { label: 'm.onnx' })).toThrow(NotBertError);
    expect(() => findBert(sdpa, { label: 'm.onnx' })).toThrow(
      /^m\.onnx: attention at Softmax '[^']+': Q or K is scaled by a number read off the shape of '[^']+', which is not the head size of Q, K or V$/,
    );
  });
});
