/**
 * Copy-on-write edits of shared tensors (src/prune/edit.ts): an edit changes the tensor for the readers its filter
 * selects only. A filter that selects none of the readers is a bug of the caller (it once sliced a shared FFN bias
 * for every layer, and the output was NaN): an internal error, never a silent edit of every reader.
 */
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/index.ts';
import { replaceConstantNodeFor, replaceInitializerFor } from '../../src/prune/edit.ts';

const add = (name: string, inputs: string[]): Node => ({ name, opType: 'Add', domain: '', inputs, outputs: [`${name}_out`], attributes: {} });

/** `b` (an initializer, or a Constant node's output) read by two Adds, 'layer0' and 'layer1'. */
function shared(constant: boolean): Graph {
  const b = float32Tensor('b', [2], [1, 2]);
  const nodes = [add('layer0', ['x', 'b']), add('layer1', ['y', 'b'])];
  if (constant)
    nodes.unshift({ name: 'const_b', opType: 'Constant', domain: '', inputs: [], outputs: ['b'], attributes: { value: { type: 'tensor', value: b } } });
  return { name: 'g', nodes, inputs: [], outputs: [], initializers: new Map(constant ? [] : [['b', b]]), valueInfo: [] };
}

const sliced = float32Tensor('b', [1], [1]);

describe('replaceInitializerFor / replaceConstantNodeFor', () => {
  it('edit a copy for the selected readers only, and in place when all are selected', () => {
    const g = shared(false);
    expect(replaceInitializerFor(g, 'b', (r) => r.name === 'layer0', sliced)).toBe('b_copy');
    expect(g.nodes.map((n) => n.inputs[1])).toEqual(['b_copy', 'b']);
    expect(g.initializers.get('b')!.dims).toEqual([2]);
    expect(replaceInitializerFor(g, 'b', () => true, sliced)).toBe('b');
    expect(g.initializers.get('b')!.dims).toEqual([1]);

    const c = shared(true);
    replaceConstantNodeFor(c, 'const_b', (r) => r.name === 'layer1', sliced);
    expect(c.nodes.filter((n) => n.opType === 'Add').map((n) => n.inputs[1])).toEqual(['b', 'b_copy']);
  });

  it('refuse a filter that selects none of the readers, leaving the graph as it was', () => {
    const g = shared(false);
    expect(() => replaceInitializerFor(g, 'b', () => false, sliced)).toThrow(
      /^internal error: editing initializer 'b' for none of its readers \('layer0', 'layer1'\)$/,
    );
    expect(g.initializers.get('b')!.dims).toEqual([2]);
    const c = shared(true);
    expect(() => replaceConstantNodeFor(c, 'const_b', () => false, sliced)).toThrow(
      /^internal error: editing Constant node 'const_b' for none of its readers \('layer0', 'layer1'\)$/,
    );
    expect(c.nodes.length).toBe(3);
  });
});
