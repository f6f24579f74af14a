/** Finding the nodes of one block (between two projections) and the width constants its Reshapes use. */
import type { Graph, Node } from '../onnx/graph.ts';
import { consumers, producers } from '../onnx/analysis.ts';
import { constantNodeTensor } from '../onnx/constants.ts';
import { DataType } from '../onnx/dtype.ts';
import { int32Tensor, int64Tensor, readNumbers } from '../onnx/tensor.ts';
import { replaceConstantNodeFor, replaceInitializerFor } from './edit.ts';

/** Names of the nodes on paths from any of `starts` to `end` (both included). */
export function nodesBetween(g: Graph, starts: readonly string[], end: string): Set<string> {
  const cons = consumers(g);
  const prod = producers(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const fwd = new Set<string>();
  const stack = starts.map((s) => byName.get(s)).filter((n): n is Node => !!n);
  while (stack.length) {
    const n = stack.pop()!;
    if (fwd.has(n.name)) continue;
    fwd.add(n.name);
    if (n.name === end) continue;
    for (const o of n.outputs) for (const c of cons.get(o) ?? []) stack.push(c);
  }
  const out = new Set<string>();
  const b = [byName.get(end)].filter((n): n is Node => !!n);
  while (b.length) {
    const n = b.pop()!;
    if (out.has(n.name) || !fwd.has(n.name)) continue;
    out.add(n.name);
    for (const i of n.inputs) {
      const p = prod.get(i);
      if (p) b.push(p);
    }
  }
  return out;
}

/**
 * Rewrites the constant that gives a Reshape inside `block` the width `from` as its last dimension (e.g. a keras
 * Tensordot's [-1, seq, 3072] or [-1, 3072]), to `to`: only that last number, so a sequence length equal to the
 * width (a static-shape export's [-1, 512, 512]) is kept. Looks through Cast, Unsqueeze and a Concat's last input to
 * initializers and Constant nodes (`value`, `value_ints` or `value_int`); a constant shared with other readers or
 * read at another input of the same one (equal constants merged, as onnxsim does) is copied for this input. Returns
 * how many constants changed.
 */
export function rewriteReshapeWidths(g: Graph, block: ReadonlySet<string>, from: number, to: number): number {
  const prod = producers(g);
  let changed = 0;
  const visit = (reader: Node, index: number, depth: number) => {
    const value = reader.inputs[index]!;
    const init = g.initializers.get(value);
    const p = prod.get(value);
    const t = init ?? (p && constantNodeTensor(p));
    if (t && (t.dataType === DataType.INT64 || t.dataType === DataType.INT32) && t.dims.length <= 1) {
      const vals = readNumbers(t);
      if (vals.at(-1) !== from) return;
      const next = vals.map((v, i) => (i === vals.length - 1 ? to : v));
      const nt = t.dataType === DataType.INT32 ? int32Tensor(t.name, t.dims, next) : int64Tensor(t.name, t.dims, next);
      const only = (r: Node) => r === reader;
      const here = (r: Node, i: number) => r === reader && i === index;
      if (init) replaceInitializerFor(g, value, only, nt, here);
      else replaceConstantNodeFor(g, p!.name, only, nt, here);
      changed++;
      return;
    }
    if (!p || depth === 0) return;
    if (p.opType === 'Cast' || p.opType === 'Unsqueeze') visit(p, 0, depth - 1);
    else if (p.opType === 'Concat' && p.inputs.length) visit(p, p.inputs.length - 1, depth - 1);
  };
  for (const n of g.nodes) if (block.has(n.name) && n.opType === 'Reshape' && n.inputs[1]) visit(n, 1, 4);
  return changed;
}
