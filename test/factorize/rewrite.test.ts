import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { createModel, DataType, encodeModel, float32Tensor, pruneGraph, type Graph, type Model, type Node } from '../../src/onnx/index.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { factorizeGather, gatherProblem } from '../../src/factorize/index.ts';
import { onnxNode } from '../helpers/models.ts';

/** A [4, 2] and B [2, 3] with small integers, so W = A·B is exact in float32. */
const A = [1, 0, 0, 1, 2, -1, 3, 2];
const B = [1, 2, 0, -1, 1, 3];
const W = [1, 2, 0, -1, 1, 3, 3, 3, -3, 1, 8, 6];

/** ids → Gather(W) → emb; optionally W → Identity → Gather, and a tied decoder emb · Wᵀ → scores. */
function model(opts: { identity?: boolean; tied?: boolean }): Model {
  const nodes: Node[] = [];
  let table = 'W';
  if (opts.identity) {
    nodes.push(onnxNode('Id', 'Identity', ['W'], ['W_copy']));
    table = 'W_copy';
  }
  nodes.push(onnxNode('Lookup', 'Gather', [table, 'ids'], ['emb']));
  const outputs = [{ name: 'emb', elemType: DataType.FLOAT, shape: ['b', 3] as Array<string | number> }];
  if (opts.tied) {
    nodes.push(onnxNode('Tr', 'Transpose', ['W'], ['Wt'], { perm: { type: 'ints', value: [1, 0] } }));
    nodes.push(onnxNode('Decode', 'MatMul', ['emb', 'Wt'], ['scores']));
    outputs.push({ name: 'scores', elemType: DataType.FLOAT, shape: ['b', 4] });
  }
  const graph: Graph = {
    name: 'g',
    nodes,
    inputs: [{ name: 'ids', elemType: DataType.INT64, shape: ['b'] }],
    outputs,
    initializers: new Map([['W', float32Tensor('W', [4, 3], W)]]),
    valueInfo: [],
  };
  return createModel(graph, [{ domain: '', version: 14 }], { producerName: 't' });
}

async function run(m: Model): Promise<Record<string, number[]>> {
  const s = await openSession(encodeModel(m));
  const out = await s.run({ ids: new Tensor('int64', BigInt64Array.from([3n, 0n, 2n]), [3]) });
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

function factorized(m: Model) {
  const out = {
    ...m,
    graph: {
      ...m.graph,
      nodes: m.graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
      initializers: new Map(m.graph.initializers),
    },
  };
  const r = factorizeGather(out.graph, 'Lookup', 'W', float32Tensor('a', [4, 2], A), float32Tensor('b', [2, 3], B));
  pruneGraph(out.graph);
  return { out, r };
}

describe('factorizeGather', () => {
  it('plain lookup: Gather(A) then MatMul(B) under the old output name; W is removed', async () => {
    const m = model({});
    const { out, r } = factorized(m);
    expect(r.tiedReaders).toEqual([]);
    expect(r.product).toBeUndefined();
    expect([...out.graph.initializers.keys()]).toEqual(['W_factor_a', 'W_factor_b']);
    expect(out.graph.nodes.map((n) => n.opType)).toEqual(['Gather', 'MatMul']);
    expect(out.graph.nodes[1].outputs).toEqual(['emb']);
    expect(await run(out)).toEqual(await run(m));
  });

  it('tied reader: the decoder reads MatMul(A, B); outputs unchanged', async () => {
    const m = model({ tied: true });
    const { out, r } = factorized(m);
    expect(r.tiedReaders).toEqual(['Tr']);
    const tr = out.graph.nodes.find((n) => n.name === 'Tr')!;
    expect(tr.inputs).toEqual(['W_reconstructed']);
    expect(out.graph.initializers.has('W')).toBe(false);
    expect(await run(out)).toEqual(await run(m));
  });

  it('a Gather reading W through an Identity chain is factorized and the chain dropped', async () => {
    const m = model({ identity: true, tied: true });
    const { out, r } = factorized(m);
    expect(r.tiedReaders).toEqual(['Tr']);
    expect(out.graph.nodes.some((n) => n.name === 'Id')).toBe(false);
    expect(await run(out)).toEqual(await run(m));
  });

  it('refuses what is not a row lookup of W', () => {
    const m = model({});
    expect(gatherProblem(m.graph, 'Nope', 'W')).toMatch(/not found/);
    expect(gatherProblem(m.graph, 'Lookup', 'Other')).toMatch(/does not read the initializer 'Other'/);
    const axis1 = model({});
    axis1.graph.nodes[0].attributes.axis = { type: 'int', value: 1 };
    expect(gatherProblem(axis1.graph, 'Lookup', 'W')).toMatch(/axis 1/);
    expect(() => factorizeGather(axis1.graph, 'Lookup', 'W', float32Tensor('a', [4, 2], A), float32Tensor('b', [2, 3], B))).toThrow(SettingsError);
    const notGather = model({ tied: true });
    expect(gatherProblem(notGather.graph, 'Decode', 'W')).toMatch(/is a MatMul, not a Gather/);
  });
});
