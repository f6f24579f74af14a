/**
 * Copy-on-write edits of weights and constants in a graph being rewritten: a tensor shared with other nodes (a
 * shape constant reused by every layer, weights shared ALBERT-style) is copied for the nodes being changed, so
 * the other readers keep the original.
 */
import type { Graph, Node, Tensor } from '../onnx/graph.ts';
import { consumers, producers, uniqueName } from '../onnx/analysis.ts';
import type { Linear } from '../bert/structure.ts';
import { keepColumns, keepEntries, keepRows } from './weights.ts';
import { quotedText } from '../errors.ts';

/** Which readers of a shared tensor belong to the part of the graph being rewritten. */
export type ReaderFilter = (reader: Node) => boolean;

/**
 * Which inputs of a selected reader the edit is for (default: every input naming the tensor): a Concat may read one
 * merged shape constant at two inputs for two numbers, and keeps the original at the other.
 */
export type InputFilter = (reader: Node, input: number) => boolean;

const EVERY_INPUT: InputFilter = () => true;

/** Whether a selected reader keeps reading `value` at an input the edit is not for. */
function keepsOriginal(selected: readonly Node[], value: string, inputs: InputFilter): boolean {
  return selected.some((r) => r.inputs.some((x, i) => x === value && !inputs(r, i)));
}

/** Points the selected readers' chosen inputs that read `value` at `copy`. */
function rewire(selected: readonly Node[], value: string, copy: string, inputs: InputFilter): void {
  for (const r of selected) r.inputs = r.inputs.map((x, i) => (x === value && inputs(r, i) ? copy : x));
}

const PASSTHROUGH = new Set(['Identity', 'Transpose', 'Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'DequantizeLinear']);

/**
 * Readers on a weight's own path into `target`: the target node itself, or a chain of pass-through ops (Identity,
 * Transpose, Cast…) that ends in one of its inputs. A node that merely computes something the target later reads
 * (an earlier layer's LayerNorm) is not selected.
 */
export function feedsInto(g: Graph, target: string): ReaderFilter {
  const prod = producers(g);
  const node = g.nodes.find((n) => n.name === target);
  const path = new Set<string>([target]);
  const stack = [...(node?.inputs ?? [])];
  while (stack.length) {
    const p = prod.get(stack.pop()!);
    if (p && PASSTHROUGH.has(p.opType) && !path.has(p.name)) {
      path.add(p.name);
      stack.push(p.inputs[0]);
    }
  }
  return (r) => path.has(r.name);
}

/**
 * Replaces the value of initializer `name` as seen by the readers `mine` selects (at the `inputs` chosen). If every
 * reader is selected at every input reading it, the initializer is replaced in place; otherwise the selected inputs
 * are rewired to a copy. Returns the name used.
 * A filter that selects none of its readers is an internal error (replacing it for all of them changed layers the
 * edit was not for).
 */
export function replaceInitializerFor(g: Graph, name: string, mine: ReaderFilter, tensor: Tensor, inputs = EVERY_INPUT): string {
  const readers = consumers(g).get(name) ?? [];
  const selected = readers.filter(mine);
  if (readers.length && !selected.length) throw new Error(unselected(`initializer ${quotedText(name)}`, readers));
  if (selected.length === readers.length && !keepsOriginal(selected, name, inputs)) {
    g.initializers.set(name, { ...tensor, name });
    return name;
  }
  const copy = uniqueName(g, `${name}_copy`);
  g.initializers.set(copy, { ...tensor, name: copy });
  rewire(selected, name, copy, inputs);
  return copy;
}

/**
 * Sets a Constant node's tensor as seen by the selected readers (at the `inputs` chosen); a Constant read by other
 * nodes or inputs too is duplicated first. A filter that selects none of its readers is an internal error, as in replaceInitializerFor.
 */
export function replaceConstantNodeFor(g: Graph, constantNode: string, select: ReaderFilter, tensor: Tensor, inputs = EVERY_INPUT): void {
  const node = g.nodes.find((n) => n.name === constantNode);
  if (!node) throw new Error(`Constant node ${quotedText(constantNode)} not found`);
  const out = node.outputs[0];
  const readers = consumers(g).get(out) ?? [];
  const mine = readers.filter(select);
  if (readers.length && !mine.length) throw new Error(unselected(`Constant node ${quotedText(constantNode)}`, readers));
  // (a Constant holds one value attribute: `value` replaces a value_ints / value_int form, as ONNX allows only one)
  const attributes = { ...withoutValueForms(node.attributes), value: { type: 'tensor' as const, value: tensor } };
  if (mine.length === readers.length && !keepsOriginal(mine, out, inputs)) {
    node.attributes = attributes;
    return;
  }
  const copyOut = uniqueName(g, `${out}_copy`);
  const copy: Node = {
    ...node,
    name: uniqueName(g, `${node.name}_copy`),
    outputs: [copyOut],
    attributes,
  };
  g.nodes.splice(g.nodes.indexOf(node) + 1, 0, copy);
  rewire(mine, out, copyOut, inputs);
}

/** A Constant node's attributes less its value forms (`value`, `value_ints`, `sparse_value`, …). */
function withoutValueForms(attributes: Node['attributes']): Node['attributes'] {
  return Object.fromEntries(Object.entries(attributes).filter(([k]) => !k.startsWith('value') && k !== 'sparse_value'));
}

/** The internal error of an edit whose reader filter selects none of the tensor's readers. */
function unselected(what: string, readers: readonly Node[]): string {
  return `internal error: editing ${what} for none of its readers (${readers.map((r) => quotedText(r.name)).join(', ')})`;
}

/** A filter selecting the readers any of `filters` selects. */
function anyOf(filters: readonly ReaderFilter[]): ReaderFilter {
  return (r) => filters.some((f) => f(r));
}

/**
 * Replaces each distinct initializer `name` gives for `parts` (projections, fused attention blocks) by `slice` of
 * it, once, for the readers of all the parts that read it (the same projection of the layers of a sharing group
 * reads one initializer).
 */
export function sliceEach<P>(
  g: Graph,
  parts: readonly P[],
  name: (p: P) => string | undefined,
  node: (p: P) => string | readonly string[],
  slice: (t: Tensor, p: P) => Tensor,
): void {
  const byName = new Map<string, P[]>();
  for (const p of parts) {
    const n = name(p);
    if (n !== undefined) byName.set(n, [...(byName.get(n) ?? []), p]);
  }
  const into = (p: P) => [node(p)].flat().map((target) => feedsInto(g, target));
  for (const [n, readers] of byName) replaceInitializerFor(g, n, anyOf(readers.flatMap(into)), slice(g.initializers.get(n)!, readers[0]!));
}

/**
 * The nodes that read a projection's bias: its bias Add (or the projection, a Gemm), and the nodes that take the
 * projection's output with the bias fused in (BiasGelu, SkipLayerNormalization's bias input).
 */
function biasReaders(g: Graph, l: Linear): string[] {
  return [l.biasNode ?? l.node, ...(consumers(g).get(l.output) ?? []).map((r) => r.name)];
}

/**
 * Keeps the listed output features of a projection (columns of an [in,out] weight, rows of [out,in]; bias entries).
 * `shared`: the same projection in the other layers of a sharing group, sliced with it (a shared initializer once).
 */
export function keepLinearOutputs(g: Graph, lin: Linear, features: readonly number[], shared: readonly Linear[] = []): void {
  const all = [lin, ...shared];
  sliceEach(
    g,
    all,
    (l) => l.weight,
    (l) => l.node,
    (w, l) => (l.layout === 'in_out' ? keepColumns(w, features) : keepRows(w, features)),
  );
  sliceEach(
    g,
    all,
    (l) => l.bias,
    (l) => biasReaders(g, l),
    (b) => keepEntries(b, features),
  );
}

/** Keeps the listed input features of a projection (rows of an [in,out] weight, columns of [out,in]); `shared` as above. */
export function keepLinearInputs(g: Graph, lin: Linear, features: readonly number[], shared: readonly Linear[] = []): void {
  sliceEach(
    g,
    [lin, ...shared],
    (l) => l.weight,
    (l) => l.node,
    (w, l) => (l.layout === 'in_out' ? keepRows(w, features) : keepColumns(w, features)),
  );
}
