/**
 * The small graph-editing toolkit of the quantizers (and of the optimize pass): fresh names, new nodes and
 * initializers, replacing or removing a node at its position, opset imports, and reading a projection's weight as an
 * [in, out] matrix whatever layout the exporter stored it in. Edits go to a cloned model; original tensors are never
 * mutated (an initializer that other nodes still read stays until nobody does, then pruneGraph drops it).
 */
import type { Attribute, Graph, Model, Node, Tensor } from '../onnx/graph.ts';
import { cloneModel, opsetVersion } from '../onnx/graph.ts';
import { pruneGraph, topoSort } from '../onnx/analysis.ts';
import { validateModel } from '../onnx/validate.ts';
import { DataType } from '../onnx/dtype.ts';
import { readFloat32 } from '../onnx/tensor.ts';
import type { Linear } from '../bert/structure.ts';
import { transpose2d } from '../bert/build-graph.ts';
import { quotedText } from '../errors.ts';

export const MS_DOMAIN = 'com.microsoft';

/** Attribute helpers. */
export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
};

export class GraphEditor {
  readonly model: Model;
  private readonly used = new Set<string>();
  private readonly byName = new Map<string, Node>();

  /** Edits a clone of `source` (the source model is left untouched). */
  constructor(source: Model) {
    this.model = cloneModel(source);
    const g = this.model.graph;
    for (const k of g.initializers.keys()) this.used.add(k);
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) this.used.add(v.name);
    for (const n of g.nodes) {
      this.used.add(n.name);
      this.byName.set(n.name, n);
      for (const o of n.outputs) if (o) this.used.add(o);
    }
  }

  get graph(): Graph {
    return this.model.graph;
  }

  /** A name used by nothing in the graph (values, nodes, initializers), reserved from now on. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** The node named `name` (as it was when the editor was made, or added since). */
  node(name: string): Node | undefined {
    const n = this.byName.get(name);
    return n && this.graph.nodes.includes(n) ? n : undefined;
  }

  /** Adds an initializer under a fresh name made from `base`; returns the name. */
  addInitializer(base: string, tensor: Tensor): string {
    const name = this.fresh(base);
    this.graph.initializers.set(name, { ...tensor, name });
    return name;
  }

  /** A new node with a fresh name made from `base` (not yet in the graph). */
  makeNode(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Attribute> = {}, domain = '', base = `${opType}_q`): Node {
    const node: Node = { name: this.fresh(base), opType, domain, inputs, outputs, attributes };
    this.byName.set(node.name, node);
    return node;
  }

  /** Replaces `old` by `nodes`, at its position in the node list. */
  replaceNode(old: Node, nodes: Node[]): void {
    const at = this.graph.nodes.indexOf(old);
    if (at < 0) throw new Error(`node ${quotedText(old.name)} is not in the graph`);
    this.graph.nodes.splice(at, 1, ...nodes);
  }

  /** Removes `node` from the node list. */
  removeNode(node: Node): void {
    const at = this.graph.nodes.indexOf(node);
    if (at < 0) throw new Error(`node ${quotedText(node.name)} is not in the graph`);
    this.graph.nodes.splice(at, 1);
  }

  /** Inserts `nodes` just before `before`. */
  insertBefore(before: Node, nodes: Node[]): void {
    const at = this.graph.nodes.indexOf(before);
    if (at < 0) throw new Error(`node ${quotedText(before.name)} is not in the graph`);
    this.graph.nodes.splice(at, 0, ...nodes);
  }

  /** The default-domain opset. */
  opset(): number {
    return opsetVersion(this.model, '') ?? 0;
  }

  /** Imports `domain` at `version` unless it is already imported. */
  importDomain(domain: string, version = 1): void {
    if (opsetVersion(this.model, domain) === undefined) this.model.opsetImports.push({ domain, version });
  }
}

/** Node inputs without the empty (absent optional) ones at the end. */
export function withoutTrailingEmpty(inputs: readonly string[]): string[] {
  const out = [...inputs];
  while (out.length && !out[out.length - 1]) out.pop();
  return out;
}

/**
 * The edited model, its nodes sorted and the values nobody reads pruned; throws (a bug, not bad input) when the
 * rewritten graph has a cycle or is invalid. `label` names the rewrite in the message.
 */
export function finishEdit(edit: GraphEditor, label: string): Model {
  const g = edit.graph;
  const sorted = topoSort(g);
  if (!sorted.ok) throw new Error(`${label}: the rewritten graph has a cycle at ${quotedText(sorted.cycleAt.name)}`);
  g.nodes = sorted.nodes;
  pruneGraph(g);
  const problems = validateModel(edit.model);
  if (problems.length) throw new Error(`${label}: the rewritten graph is invalid: ${problems[0]}`);
  return edit.model;
}

/** A projection's weight as [in, out] (x · W), transposing an [out, in] weight. Undefined when not float32 2-D. */
export function weightInOut(g: Graph, lin: Linear): Float32Array | undefined {
  const t = g.initializers.get(lin.weight);
  if (t?.dims.length !== 2 || t.dataType !== DataType.FLOAT) return undefined;
  const w = readFloat32(t);
  return lin.layout === 'in_out' ? w : transpose2d(w, lin.outFeatures, lin.inFeatures);
}
