import { describe, expect, it } from 'vitest';
import {
  consumers,
  producers,
  topoSort,
  removeDeadNodes,
  removeUnusedInitializers,
  dedupeInitializers,
  renameValue,
  ensureUniqueNodeNames,
  validateGraph,
  validateModel,
  createModel,
  float32Tensor,
  cloneGraph,
  uniqueName,
  loadModel,
  DataType,
  type Graph,
  type Model,
} from '../../src/onnx/index.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';
import { onnxNode } from '../helpers/models.ts';

/** x → A → a → B → y, plus a dead branch a → D → d and two identical weights. */
function sample(): Graph {
  return {
    name: 'g',
    nodes: [onnxNode('A', 'MatMul', ['x', 'W1'], ['a']), onnxNode('B', 'MatMul', ['a', 'W2'], ['y']), onnxNode('D', 'Relu', ['a'], ['d'])],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 2] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 2] }],
    initializers: new Map([
      ['W1', float32Tensor('W1', [2, 2], [1, 2, 3, 4])],
      ['W2', float32Tensor('W2', [2, 2], [1, 2, 3, 4])],
      ['unused', float32Tensor('unused', [1], [0])],
    ]),
    valueInfo: [],
  };
}

describe('graph analysis', () => {
  it('producers and consumers', () => {
    const g = sample();
    expect(producers(g).get('a')!.name).toBe('A');
    expect(
      consumers(g)
        .get('a')!
        .map((n) => n.name)
        .sort(),
    ).toEqual(['B', 'D']);
    expect(
      consumers(g)
        .get('W1')!
        .map((n) => n.name),
    ).toEqual(['A']);
  });

  it('topological order is stable and repairs a reversed graph', () => {
    const g = sample();
    const s = topoSort(g);
    expect(s.ok && s.nodes.map((n) => n.name)).toEqual(['A', 'B', 'D']);
    g.nodes.reverse();
    const r = topoSort(g);
    expect(r.ok && r.nodes.map((n) => n.name).indexOf('A')).toBe(0);
  });

  it('finds a cycle', () => {
    const g = sample();
    g.nodes[0].inputs = ['y', 'W1'];
    const s = topoSort(g);
    expect(s.ok).toBe(false);
    expect(validateGraph(g)[0]).toMatch(/cycle/);
  });

  it('removes dead nodes, then unused initializers', () => {
    const g = sample();
    expect(removeDeadNodes(g)).toBe(1);
    expect(g.nodes.map((n) => n.name)).toEqual(['A', 'B']);
    expect(removeUnusedInitializers(g)).toEqual(['unused']);
  });

  it('deduplicates initializers by content and rewires readers', () => {
    const g = sample();
    expect(dedupeInitializers(g)).toBe(1);
    expect(g.initializers.has('W2')).toBe(false);
    expect(g.nodes[1].inputs).toEqual(['a', 'W1']);
    expect(validateGraph(g)).toEqual([]);
  });

  it('does not merge tensors that differ only in shape', () => {
    const g = sample();
    g.initializers.set('W2', float32Tensor('W2', [4, 1], [1, 2, 3, 4]));
    expect(dedupeInitializers(g)).toBe(0);
  });

  it('renames a value everywhere', () => {
    const g = sample();
    renameValue(g, 'a', 'hidden');
    renameValue(g, 'W1', 'weight');
    expect(g.nodes[0].outputs).toEqual(['hidden']);
    expect(g.nodes[1].inputs).toEqual(['hidden', 'W2']);
    expect(g.initializers.get('weight')!.name).toBe('weight');
    expect(validateGraph(g)).toEqual([]);
  });

  it('gives unnamed and duplicate nodes unique names', () => {
    const g = sample();
    g.nodes[1].name = '';
    g.nodes[2].name = 'A';
    expect(ensureUniqueNodeNames(g)).toBe(2);
    expect(new Set(g.nodes.map((n) => n.name)).size).toBe(3);
    expect(uniqueName(g, 'A')).toBe('A_1');
  });

  it('reports undefined inputs and unproduced outputs', () => {
    const g = sample();
    g.nodes[1].inputs = ['a', 'nowhere'];
    g.outputs.push({ name: 'z' });
    const p = validateGraph(g);
    expect(p.some((x) => /reads 'nowhere', which nothing defines/.test(x))).toBe(true);
    expect(p.some((x) => /output 'z' is never produced/.test(x))).toBe(true);
  });

  it("quotes a value's name holding a quote or a line break as a shell takes it (quotedText), where plain quotes showed it as it is", () => {
    const g = sample();
    g.nodes[1].inputs = ['a', "it's"];
    g.outputs.push({ name: 'z\n' });
    const p = validateGraph(g);
    expect(p.filter((x) => x.includes("reads 'it'\\''s', which nothing defines"))).toHaveLength(1);
    expect(p).toContain("graph output $'z\\n' is never produced");
  });

  it('checks node domains against opset imports', () => {
    const m: Model = createModel(sample(), [{ domain: '', version: 14 }]);
    m.graph.nodes[2].domain = 'com.microsoft';
    expect(validateModel(m)[0]).toMatch(/domain 'com.microsoft'/);
  });

  it('clones without sharing node lists or attribute maps', () => {
    const g = sample();
    const c = cloneGraph(g);
    c.nodes[0].inputs[0] = 'changed';
    c.initializers.delete('W1');
    expect(g.nodes[0].inputs[0]).toBe('x');
    expect(g.initializers.has('W1')).toBe(true);
  });

  it.skipIf(!hasFixtures)('real graphs validate and have nothing dead (needs ../shared/fixtures/onnx)', () => {
    for (const f of ['bert-toy-pretraining-torch11-op12.onnx', 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx']) {
      const m = loadModel(fixture(f));
      expect(validateModel(m)).toEqual([]);
      const g = cloneGraph(m.graph);
      expect(removeDeadNodes(g)).toBe(0);
    }
  });
});
