/**
 * Finite-difference checks of the element-wise gradient rules (src/gradients/rules/elementwise.ts): each op in a
 * tiny graph whose inputs are random initializers, under loss = ReduceSum(op output ⊙ fixed random weights).
 * float64 (toFloat64) wherever onnxruntime's CPU kernels take double; Erf has only a float kernel.
 */
import * as elementwise from '../../src/gradients/rules/elementwise.ts';
import { DataType, int64Tensor } from '../../src/onnx/index.ts';
import { attr, boolTensor, float64Tensor, node, randomTensor, randomValues, type RuleCase, describeRuleFamily } from '../helpers/gradcheck.ts';

const r = randomTensor;

/** A unary op on x [2, 3, 4] (values from `opts`). */
function unary(op: string, opts: Parameters<typeof randomTensor>[3] = {}, extra: Partial<RuleCase> = {}): RuleCase {
  return { name: op, nodes: [node(op, ['x'], ['y'])], initializers: [r('x', [2, 3, 4], 1, opts)], params: ['x'], outputs: 'y', ...extra };
}

/** A binary op on a [2, 3, 4] and b [3, 1] (broadcast along axes 0 and 2), both parameters. */
function binary(op: string, bOpts: Parameters<typeof randomTensor>[3] = {}, aOpts: Parameters<typeof randomTensor>[3] = {}): RuleCase[] {
  return [
    {
      name: `${op} same shape`,
      nodes: [node(op, ['a', 'b'], ['y'])],
      initializers: [r('a', [2, 3], 1, aOpts), r('b', [2, 3], 2, bOpts)],
      params: ['a', 'b'],
      outputs: 'y',
    },
    {
      name: `${op} broadcast [2,3,4]·[3,1]`,
      nodes: [node(op, ['a', 'b'], ['y'])],
      initializers: [r('a', [2, 3, 4], 3, aOpts), r('b', [3, 1], 4, bOpts)],
      params: ['a', 'b'],
      outputs: 'y',
    },
    {
      name: `${op} broadcast [2,1]·[1,3] and scalar`,
      nodes: [node(op, ['a', 'b'], ['t']), node(op, ['t', 's'], ['y'])],
      initializers: [r('a', [2, 1], 5, aOpts), r('b', [1, 3], 6, bOpts), r('s', [], 7, bOpts)],
      params: ['a', 'b', 's'],
      outputs: 'y',
    },
  ];
}

const CASES: RuleCase[] = [
  ...binary('Add'),
  {
    name: 'Sum of three (broadcast) inputs',
    nodes: [node('Sum', ['a', 'b', 'c'], ['y'])],
    initializers: [r('a', [2, 3], 1), r('b', [3], 2), r('c', [2, 1], 3)],
    params: ['a', 'b', 'c'],
    outputs: 'y',
  },
  {
    name: 'Sum with an input used twice',
    nodes: [node('Sum', ['a', 'b', 'a'], ['y'])],
    initializers: [r('a', [2, 3], 1), r('b', [1, 3], 2)],
    params: ['a', 'b'],
    outputs: 'y',
  },
  ...binary('Sub'),
  ...binary('Mul'),
  { name: 'Mul x·x', nodes: [node('Mul', ['a', 'a'], ['y'])], initializers: [r('a', [2, 3], 1)], params: ['a'], outputs: 'y' },
  ...binary('Div', { lo: 0.5, hi: 2 }),
  {
    name: 'Div by a constant (only a needs a gradient)',
    nodes: [node('Div', ['a', 'b'], ['y'])],
    initializers: [r('a', [2, 3], 1), r('b', [3], 2, { lo: 0.5, hi: 2 })],
    params: ['a'],
    outputs: 'y',
  },
  ...binary('Pow', { lo: -1.5, hi: 2.5 }, { lo: 0.3, hi: 2 }),
  {
    name: 'Pow with a float exponent constant',
    nodes: [node('Pow', ['a', 'e'], ['y'])],
    initializers: [r('a', [2, 3], 1, { lo: 0.3, hi: 2 }), r('e', [], 2, { lo: 1.5, hi: 3 })],
    params: ['a'],
    outputs: 'y',
  },
  {
    name: 'Pow with an int64 exponent (x³, negative x)',
    nodes: [node('Pow', ['a', 'e'], ['y'])],
    initializers: [r('a', [2, 3], 1), int64Tensor('e', [], [3])],
    params: ['a'],
    outputs: 'y',
  },
  unary('Neg'),
  unary('Identity'),
  {
    ...unary('Dropout'),
    name: 'Dropout (inference form, ratio 0.3, opset 13)',
    opset: 13,
    nodes: [node('Dropout', ['x', 'ratio'], ['y'])],
    initializers: [r('x', [2, 3, 4], 1), r('ratio', [], 2, { lo: 0.3, hi: 0.3 })],
  },
  { ...unary('Dropout'), name: 'Dropout with its mask output', nodes: [node('Dropout', ['x'], ['y', 'mask'])] },
  unary('Sqrt', { lo: 0.2, hi: 3 }),
  unary('Tanh', { lo: -2, hi: 2 }),
  unary('Sigmoid', { lo: -3, hi: 3 }),
  // onnxruntime's CPU Erf is float-only: float32 with eps 1e-2. Truncation (eps²·f'''/6, up to ≈ 1e-4 relative)
  // and float32 rounding of the loss (≈ 6e-8·|loss| / eps ≈ 1e-5): measured 2.3e-4, hence 2e-3.
  unary('Erf', { lo: -1.5, hi: 1.5 }, { precision: 'float32', eps: 1e-2, tol: 2e-3 }),
  unary('Exp', { lo: -2, hi: 2 }),
  unary('Log', { lo: 0.2, hi: 3 }),
  unary('Abs', { minAbs: 0.1 }),
  unary('Relu', { minAbs: 0.1 }),
  // Cast float→float: a Cast to the same type (identity), float32 → float64 and float64 → float32.
  {
    name: 'Cast float64→float64',
    nodes: [node('Cast', ['x'], ['y'], { to: attr.int(DataType.FLOAT) })],
    initializers: [r('x', [2, 3], 1)],
    params: ['x'],
    outputs: 'y',
  },
  // float32 parameter read in float64: x ± eps is rounded to float32 (≈ 6e-8·|x| / eps ≈ 1e-5 relative); measured
  // 1.3e-5, hence 1e-4.
  {
    name: 'Cast float32→float64',
    precision: 'as-built',
    eps: 1e-3,
    tol: 1e-4,
    nodes: [node('Cast', ['x'], ['xd'], { to: attr.int(DataType.DOUBLE) }), node('Tanh', ['xd'], ['y'])],
    initializers: [r('x', [2, 3], 1)],
    params: ['x'],
    outputs: 'y',
  },
  // float64 parameter, float32 loss: the loss's float32 rounding (≈ 6e-8·|loss| / eps ≈ 1e-5 relative) and the
  // truncation (eps²·f'''/6) bound the check; measured 4e-5, hence 5e-4.
  {
    name: 'Cast float64→float32',
    precision: 'as-built',
    eps: 1e-2,
    tol: 5e-4,
    nodes: [node('Cast', ['x'], ['xf'], { to: attr.int(DataType.FLOAT) }), node('Tanh', ['xf'], ['y'])],
    initializers: [float64Tensor('x', [2, 3], randomValues(6, 1))],
    params: ['x'],
    outputs: 'y',
  },
  // float64 graph with a float32 island: the rules inside it (Tanh, Relu, Pow, Max, ReduceMean) must write their
  // constants in float32, not in the loss's type. Float32 arithmetic inside: measured 7e-5, hence 1e-3.
  {
    name: 'Cast float64→float32→float64 around float32 ops',
    precision: 'as-built',
    eps: 1e-2,
    tol: 1e-3,
    nodes: [
      node('Cast', ['x'], ['xf'], { to: attr.int(DataType.FLOAT) }),
      node('Tanh', ['xf'], ['t']),
      node('Relu', ['t'], ['u']),
      node('Pow', ['u', 'two'], ['v']),
      node('Max', ['v', 'half'], ['m']),
      node('ReduceMean', ['m'], ['mm'], { axes: attr.ints([1]), keepdims: attr.int(1) }),
      node('Sub', ['m', 'mm'], ['c']),
      node('Cast', ['c'], ['y'], { to: attr.int(DataType.DOUBLE) }),
    ],
    initializers: [
      float64Tensor('x', [2, 3], randomValues(6, 1, { lo: -2, hi: 2, minAbs: 0.2 })),
      r('two', [], 1, { lo: 2, hi: 2 }),
      r('half', [], 1, { lo: 0.3, hi: 0.3 }),
    ],
    params: ['x'],
    outputs: 'y',
  },
  {
    name: 'Where (broadcast condition and branches)',
    nodes: [node('Where', ['c', 'x', 'z'], ['y'])],
    initializers: [boolTensor('c', [2, 1, 4], [true, false, false, true, true, true, false, false]), r('x', [2, 3, 4], 1), r('z', [3, 1], 2)],
    params: ['x', 'z'],
    outputs: 'y',
  },
  {
    name: 'Where with a constant branch',
    nodes: [node('Where', ['c', 'x', 'z'], ['y'])],
    initializers: [boolTensor('c', [3], [true, false, true]), r('x', [2, 3], 1), r('z', [], 2)],
    params: ['x'],
    outputs: 'y',
  },
  // Max / Min: a and b drawn from disjoint-ish ranges interleaved so both get selected, never tied.
  ...(['Max', 'Min'] as const).flatMap((op): RuleCase[] => [
    {
      name: `${op} same shape`,
      nodes: [node(op, ['a', 'b'], ['y'])],
      initializers: [r('a', [2, 3, 4], 1), r('b', [2, 3, 4], 2)],
      params: ['a', 'b'],
      outputs: 'y',
    },
    {
      name: `${op} broadcast [2,3,4]·[4]`,
      nodes: [node(op, ['a', 'b'], ['y'])],
      initializers: [r('a', [2, 3, 4], 3), r('b', [4], 4)],
      params: ['a', 'b'],
      outputs: 'y',
    },
    {
      name: `${op} broadcast both ways [2,1,4]·[3,1]`,
      nodes: [node(op, ['a', 'b'], ['y'])],
      initializers: [r('a', [2, 1, 4], 5), r('b', [3, 1], 6)],
      params: ['a', 'b'],
      outputs: 'y',
    },
  ]),
  {
    name: 'Where: the condition sets the output shape, both branches broadcast ([3,1] and a scalar)',
    nodes: [node('Where', ['c', 'x', 'z'], ['y'])],
    initializers: [boolTensor('c', [2, 3, 2], [true, false, false, true, true, true, false, false, true, false, true, true]), r('x', [3, 1], 1), r('z', [], 2)],
    params: ['x', 'z'],
    outputs: 'y',
  },
];

describeRuleFamily('element-wise', elementwise, CASES);
