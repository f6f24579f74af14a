/**
 * The graph side of embedding factorization: Gather(W, ids) becomes MatMul(Gather(A, ids), B), the ALBERT layout
 * (a narrow table, then a projection to the hidden size). The Gather keeps its name and the product keeps the
 * Gather's old output name, so everything downstream is untouched. Other readers of W (a tied MLM decoder reads
 * Transpose(W)) are given the product MatMul(A, B), a constant subgraph onnxruntime folds when the session opens.
 */
import type { Graph, Node, Tensor } from '../onnx/graph.ts';
import { attrInt } from '../onnx/graph.ts';
import { consumers, producers, removeDeadNodes, uniqueName } from '../onnx/analysis.ts';
import { SettingsError, quotedText } from '../errors.ts';

/** What the rewrite did. */
export interface FactorizedGather {
  /** Initializer names of the two factors. */
  a: string;
  b: string;
  /** The MatMul node added after the Gather. */
  matmul: string;
  /** Nodes other than the Gather that read W, now rewired to the product (empty for untied embeddings). */
  tiedReaders: string[];
  /** The MatMul(A, B) node that feeds them, when there are any. */
  product?: string;
}

/** Whether `value` is `weight` or an Identity chain's copy of it. */
function readsThroughIdentity(g: Graph, value: string, weight: string): boolean {
  const prod = producers(g);
  let v = value;
  for (let i = 0; i < 8; i++) {
    if (v === weight) return true;
    const p = prod.get(v);
    if (p?.opType !== 'Identity') return false;
    v = p.inputs[0];
  }
  return false;
}

/** Why the Gather cannot be factorized, or undefined when it can. */
export function gatherProblem(g: Graph, gatherName: string, weight: string): string | undefined {
  const gather = g.nodes.find((n) => n.name === gatherName);
  if (!gather) return `node ${quotedText(gatherName)} not found`;
  if (gather.opType !== 'Gather' || gather.domain !== '') return `node ${quotedText(gatherName)} is a ${gather.opType}, not a Gather`;
  if (!readsThroughIdentity(g, gather.inputs[0], weight))
    return `Gather ${quotedText(gatherName)} does not read the initializer ${quotedText(weight)} (directly or through Identity)`;
  if ((attrInt(gather, 'axis', 0) ?? 0) !== 0) return `Gather ${quotedText(gatherName)} gathers along axis ${attrInt(gather, 'axis')}, not rows`;
  for (const r of consumers(g).get(weight) ?? []) {
    if (!r.inputs.includes(weight)) return `${quotedText(weight)} is read inside a subgraph of ${quotedText(r.name)}`;
  }
  if (g.outputs.some((o) => o.name === weight)) return `${quotedText(weight)} is a graph output`;
  return undefined;
}

/**
 * The names factorizeGather gives the factors of the table `weight` ([rows, rank] `a`, then the projection `b`), where
 * the graph holds no tensor of either name already (it numbers them apart then: uniqueName).
 */
export function factorNames(weight: string): { a: string; b: string } {
  return { a: `${weight}_factor_a`, b: `${weight}_factor_b` };
}

/**
 * Rewrites graph `g` (a copy: it is changed in place) so that the Gather `gatherName` reads the factor `a`
 * [rows, rank] and its result is multiplied by `b` [rank, cols]. The tensors' names are ignored: fresh names are
 * derived from `weight`. Dead nodes are removed (an Identity chain that fed only the Gather); `weight` itself is
 * left in place for `pruneGraph` to remove once nothing reads it.
 */
export function factorizeGather(g: Graph, gatherName: string, weight: string, a: Tensor, b: Tensor): FactorizedGather {
  const problem = gatherProblem(g, gatherName, weight);
  if (problem) throw new SettingsError(`factorize-embeddings: ${problem}`);
  const gather = g.nodes.find((n) => n.name === gatherName)!;
  const names = factorNames(weight);
  const aName = uniqueName(g, names.a);
  const bName = uniqueName(g, names.b);
  insertInitializersAfter(g, weight, [
    { ...a, name: aName },
    { ...b, name: bName },
  ]);

  const out = gather.outputs[0];
  const narrow = uniqueName(g, `${out}_factor`);
  const matmul: Node = {
    name: uniqueName(g, `${gatherName}_factor_matmul`),
    opType: 'MatMul',
    domain: '',
    inputs: [narrow, bName],
    outputs: [out],
    attributes: {},
  };
  gather.inputs[0] = aName;
  gather.outputs[0] = narrow;
  g.nodes.splice(g.nodes.indexOf(gather) + 1, 0, matmul);
  // An Identity chain that fed only the Gather is dead now; whatever still reads W is a tied reader.
  removeDeadNodes(g);
  const tied = consumers(g).get(weight) ?? [];

  const result: FactorizedGather = { a: aName, b: bName, matmul: matmul.name, tiedReaders: tied.map((r) => r.name) };
  if (tied.length) {
    const full = uniqueName(g, `${weight}_reconstructed`);
    const product: Node = {
      name: uniqueName(g, `${gatherName}_factor_product`),
      opType: 'MatMul',
      domain: '',
      inputs: [aName, bName],
      outputs: [full],
      attributes: {},
    };
    const first = Math.min(...tied.map((r) => g.nodes.indexOf(r)));
    g.nodes.splice(first, 0, product);
    for (const r of tied) r.inputs = r.inputs.map((x) => (x === weight ? full : x));
    result.product = product.name;
  }
  return result;
}

/** Inserts initializers right after `anchor` in file order (at the end when `anchor` is absent). */
function insertInitializersAfter(g: Graph, anchor: string, tensors: Tensor[]): void {
  const entries: Array<[string, Tensor]> = [];
  for (const [k, v] of g.initializers) {
    entries.push([k, v]);
    if (k === anchor) for (const t of tensors) entries.push([t.name, t]);
  }
  if (!g.initializers.has(anchor)) for (const t of tensors) entries.push([t.name, t]);
  g.initializers = new Map(entries);
}
