/**
 * Finite-difference checks of the rules of the ops that move elements (src/gradients/rules/shape.ts), all in
 * float64: reshapes, Transpose, Expand, Concat / Split (some outputs unused), Gather (repeated and negative ids,
 * scalar and 2-D indices, axis 0 and 1), Slice (inputs with negative and out-of-range bounds).
 */
import * as shape from '../../src/gradients/rules/shape.ts';
import { int32Tensor, int64Tensor } from '../../src/onnx/index.ts';
import { attr, node, randomTensor as r, type RuleCase, describeRuleFamily } from '../helpers/gradcheck.ts';

const i64 = (name: string, values: number[], dims = [values.length]) => int64Tensor(name, dims, values);

/** `op` on x (a parameter), the other inputs int constants; optionally a second float parameter. */
function one(
  name: string,
  op: string,
  xDims: number[],
  extra: Array<ReturnType<typeof i64>>,
  attrs = {},
  outputs: string | string[] = 'y',
  outCount = 1,
): RuleCase {
  const outs = outCount === 1 ? ['y'] : Array.from({ length: outCount }, (_, i) => `y${i}`);
  return {
    name: `${op} ${name}`,
    nodes: [node(op, ['x', ...extra.map((t) => t.name)], outs, attrs)],
    initializers: [r('x', xDims, 1), ...extra],
    params: ['x'],
    outputs,
  };
}

const INT64_MAX = Number.MAX_SAFE_INTEGER; // stands in for torch's 9223372036854775807 "to the end"

const CASES: RuleCase[] = [
  one('[2,3,4] → [6,-1]', 'Reshape', [2, 3, 4], [i64('shape', [6, -1])]),
  one('[2,3,4] → [0, 12] (0 copies a dim)', 'Reshape', [2, 3, 4], [i64('shape', [0, 12])]),
  one('axis 2', 'Flatten', [2, 3, 4], [], { axis: attr.int(2) }),
  one('default axis', 'Flatten', [2, 3, 4], []),
  one('axes [1]', 'Squeeze', [2, 1, 3], [i64('axes', [1])]),
  one('no axes', 'Squeeze', [1, 3, 1], []),
  one('axes [0, 3]', 'Unsqueeze', [2, 3], [i64('axes', [0, 3])]),
  one('axes [-1]', 'Unsqueeze', [2, 3], [i64('axes', [-1])]),
  one('perm [2, 0, 1]', 'Transpose', [2, 3, 4], [], { perm: attr.ints([2, 0, 1]) }),
  one('perm [0, 2, 1, 3]', 'Transpose', [2, 3, 4, 2], [], { perm: attr.ints([0, 2, 1, 3]) }),
  one('default perm (reversed)', 'Transpose', [2, 3, 4], []),
  one('[3,1] → [2,3,4]', 'Expand', [3, 1], [i64('shape', [2, 3, 4])]),
  one('[4] → [2,3,4]', 'Expand', [4], [i64('shape', [2, 3, 4])]),
  one('[2,1,4] → [3,1] (shape broadcast too)', 'Expand', [2, 1, 4], [i64('shape', [3, 1])]),
  ...[0, -1, 1].map(
    (axis): RuleCase => ({
      name: `Concat axis ${axis} of three inputs`,
      nodes: [node('Concat', ['a', 'b', 'c'], ['y'], { axis: attr.int(axis) })],
      initializers:
        axis === 0
          ? [r('a', [1, 3], 1), r('b', [2, 3], 2), r('c', [3, 3], 3)]
          : axis === 1
            ? [r('a', [2, 1, 2], 1), r('b', [2, 3, 2], 2), r('c', [2, 2, 2], 3)]
            : [r('a', [2, 1], 1), r('b', [2, 3], 2), r('c', [2, 2], 3)],
      params: ['a', 'b', 'c'],
      outputs: 'y',
    }),
  ),
  {
    name: 'Concat with a constant input and one input twice',
    nodes: [node('Concat', ['a', 'k', 'a'], ['y'], { axis: attr.int(-1) })],
    initializers: [r('a', [2, 2], 1), r('k', [2, 3], 2)],
    params: ['a'],
    outputs: 'y',
  },
  one('axis 1 into [1, 2, 2] (all outputs used)', 'Split', [2, 5, 3], [i64('split', [1, 2, 2])], { axis: attr.int(1) }, ['y0', 'y1', 'y2'], 3),
  one('axis -1, equal parts, only outputs 0 and 2 used', 'Split', [2, 3, 6], [], { axis: attr.int(-1) }, ['y0', 'y2'], 3),
  one('axis 0 into [1, 3], only output 1 used', 'Split', [4, 3], [i64('split', [1, 3])], {}, ['y1'], 2),
  {
    ...one('num_outputs 3 (opset 18), outputs 1 and 2 used', 'Split', [2, 6], [], { axis: attr.int(1), num_outputs: attr.int(3) }, ['y1', 'y2'], 3),
    opset: 18,
  },
  one('axis 0: table lookup, repeated and negative ids', 'Gather', [5, 3], [i64('ids', [1, -1, 1, 4, 0, -5])]),
  one('axis 0 with 2-D ids', 'Gather', [5, 3], [i64('ids', [0, 2, 2, -2], [2, 2])]),
  one('axis 0 with a scalar id', 'Gather', [5, 3], [i64('ids', [3], [])]),
  one('axis 1 scalar index (pooler: first token)', 'Gather', [2, 4, 3], [i64('ids', [0], [])], { axis: attr.int(1) }),
  one('axis 1 scalar negative index', 'Gather', [2, 4, 3], [i64('ids', [-1], [])], { axis: attr.int(1) }),
  one('axis 1 with 2-D int32 ids', 'Gather', [2, 4, 3], [int32Tensor('ids', [2, 3], [0, 3, 3, -1, 2, 0])], { axis: attr.int(1) }),
  one('axis -1 with 1-D ids', 'Gather', [2, 3, 4], [i64('ids', [3, 0, 3])], { axis: attr.int(-1) }),
  one('starts/ends/axes with negative axis and out-of-range end', 'Slice', [4, 5], [i64('starts', [1, -4]), i64('ends', [100, -1]), i64('axes', [0, -1])]),
  one('no axes input, end = INT64_MAX', 'Slice', [4, 5], [i64('starts', [0, 2]), i64('ends', [3, INT64_MAX])]),
  one('one axis of three, negative start below −dim', 'Slice', [2, 3, 4], [i64('starts', [-100]), i64('ends', [2]), i64('axes', [2])]),
  one(
    'steps input of ones (as torch exports write)',
    'Slice',
    [4, 5],
    [i64('starts', [1, 0]), i64('ends', [3, -1]), i64('axes', [0, 1]), i64('steps', [1, 1])],
  ),
  one('int32 bounds, middle axis', 'Slice', [2, 5, 3], [int32Tensor('starts', [1], [1]), int32Tensor('ends', [1], [-1]), int32Tensor('axes', [1], [1])]),
  {
    name: 'Slice of a computed value (x·2) sharing x with a direct read',
    nodes: [node('Add', ['x', 'x'], ['x2']), node('Slice', ['x2', 'starts', 'ends'], ['s']), node('Concat', ['s', 'x'], ['y'], { axis: attr.int(0) })],
    initializers: [r('x', [3, 2], 1), i64('starts', [1]), i64('ends', [3])],
    params: ['x'],
    outputs: 'y',
  },
];

describeRuleFamily('shape', shape, CASES);
