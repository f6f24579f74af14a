/**
 * Finite-difference checks of the product rules (src/gradients/rules/matmul.ts), all in float64: MatMul of every
 * operand-rank pairing the models write (and batch broadcasting both ways), Gemm in all four transpose forms with
 * α/β and every C shape.
 */
import { describe, expect, it } from 'vitest';
import * as matmul from '../../src/gradients/rules/matmul.ts';
import { DataType } from '../../src/onnx/index.ts';
import { Tensor } from '../../src/runtime/session.ts';
import {
  attr,
  gradCheck,
  node,
  randomTensor as r,
  randomValues,
  toFloat64,
  weightedLossModel,
  type RuleCase,
  describeRuleFamily,
} from '../helpers/gradcheck.ts';

function mm(name: string, a: number[], b: number[], params = ['a', 'b']): RuleCase {
  return { name: `MatMul ${name} [${a}]·[${b}]`, nodes: [node('MatMul', ['a', 'b'], ['y'])], initializers: [r('a', a, 1), r('b', b, 2)], params, outputs: 'y' };
}

const M = 3;
const K = 4;
const N = 2;

function gemm(transA: number, transB: number, c: number[] | undefined, alpha = 0.7, beta = 1.3): RuleCase {
  const a = transA ? [K, M] : [M, K];
  const b = transB ? [N, K] : [K, N];
  const attrs = { alpha: attr.float(alpha), beta: attr.float(beta), transA: attr.int(transA), transB: attr.int(transB) };
  return {
    name: `Gemm transA=${transA} transB=${transB} α=${alpha} β=${beta} C=${c ? `[${c}]` : 'none'}`,
    nodes: [node('Gemm', c ? ['a', 'b', 'c'] : ['a', 'b'], ['y'], attrs)],
    initializers: [r('a', a, 1), r('b', b, 2), ...(c ? [r('c', c, 3)] : [])],
    params: c ? ['a', 'b', 'c'] : ['a', 'b'],
    outputs: 'y',
  };
}

const CASES: RuleCase[] = [
  mm('2D×2D', [3, 4], [4, 2]),
  mm('3D×2D weight', [2, 3, 4], [4, 5]),
  mm('3D×2D weight, only the weight', [2, 3, 4], [4, 5], ['b']),
  mm('4D×4D batched (attention)', [2, 2, 3, 4], [2, 2, 4, 3]),
  mm('broadcast 4D×3D', [2, 2, 3, 4], [2, 4, 3]),
  mm('broadcast 3D×4D', [2, 3, 4], [2, 2, 4, 3]),
  mm('broadcast size-1 batch axes', [2, 1, 3, 4], [1, 2, 4, 3]),
  mm('2D left operand × 3D', [3, 4], [2, 4, 5]),
  mm('2D left operand × 4D', [3, 4], [2, 2, 4, 5]),
  mm('K = 1', [2, 3, 1], [1, 4]),
  mm('M = 1, N = 1', [2, 1, 4], [2, 4, 1]),
  ...[0, 1].flatMap((ta) => [0, 1].flatMap((tb) => [gemm(ta, tb, [N]), gemm(ta, tb, [M, N]), gemm(ta, tb, [])])),
  gemm(0, 1, [1, N]),
  gemm(1, 0, [M, 1]),
  gemm(0, 0, undefined),
  gemm(1, 1, [N], 1, 1),
];

describeRuleFamily('product', matmul, CASES);

describe('MatMul gradient of a computed 2-D right operand with symbolic dims', () => {
  it('matches finite differences at run-time sizes other than the probe', async () => {
    // y = a · (z ⊙ w): a [N, S, T] and z [T, H] inputs, T symbolic; the probe sees T = 3, the run T = 5 (the
    // gradient reshaped a with the probe's T baked in, and onnxruntime refused the run)
    const f32 = (dims: number[], seed: number) => new Tensor('float32', Float32Array.from(randomValues(dims[0] * dims[1] * (dims[2] ?? 1), seed)), dims);
    const f64 = (t: Tensor) => new Tensor('float64', Float64Array.from(t.data as Float32Array), t.dims);
    const built = await weightedLossModel({
      inputs: [
        { name: 'a', elemType: DataType.FLOAT, shape: ['N', 2, 'T'] },
        { name: 'z', elemType: DataType.FLOAT, shape: ['T', 2] },
      ],
      nodes: [node('Mul', ['z', 'w'], ['b']), node('MatMul', ['a', 'b'], ['y'])],
      initializers: [r('w', [2], 1)],
      outputs: 'y',
    });
    const feeds = { a: f64(f32([2, 2, 5], 2)), z: f64(f32([5, 2], 3)) };
    const res = await gradCheck(toFloat64(built.model), { loss: built.loss, parameters: ['w'], feeds, samples: 2 });
    expect(res.worst).toBeLessThan(1e-6);
  });
});
