/**
 * Graph queries and clean-ups that know nothing of BERT: who produces and who consumes a value, topological order,
 * dead-node and unused-initializer removal, initializer deduplication, renaming.
 */
import { createHash } from 'node:crypto';
import type { Graph, Node, Tensor } from './graph.ts';

/** Names a node reads, including values its subgraphs (If/Loop/Scan bodies) take from the outer scope. */
export function nodeReads(node: Node): string[] {
  const reads = node.inputs.filter((x) => x !== '');
  for (const a of Object.values(node.attributes)) {
    const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
    for (const g of subs) reads.push(...outerScopeReads(g));
  }
  return reads;
}

/** Values a subgraph uses but does not define (they come from the enclosing graph). */
export function outerScopeReads(g: Graph): string[] {
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) defined.add(o);
  const free = new Set<string>();
  for (const n of g.nodes) for (const r of nodeReads(n)) if (!defined.has(r)) free.add(r);
  for (const o of g.outputs) if (!defined.has(o.name)) free.add(o.name);
  return [...free];
}

/** The node producing each value. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** The nodes reading each value (a node appears once per value even if it reads it twice). */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of new Set(nodeReads(n))) {
      let l = m.get(i);
      if (!l) m.set(i, (l = []));
      l.push(n);
    }
  }
  return m;
}

/** Result of a topological sort: the sorted nodes, or a node on a cycle. */
export type TopoResult = { ok: true; nodes: Node[] } | { ok: false; cycleAt: Node };

/**
 * Nodes in an order where every producer precedes its consumers. Stable: an already sorted graph keeps its order.
 * Iterative, so graphs of any depth are fine.
 */
export function topoSort(g: Graph): TopoResult {
  const prod = producers(g);
  const state = new Map<Node, 1 | 2>(); // 1 = on stack, 2 = done
  const out: Node[] = [];
  for (const root of g.nodes) {
    if (state.get(root) === 2) continue;
    const stack: Array<{ node: Node; reads: string[]; i: number }> = [{ node: root, reads: nodeReads(root), i: 0 }];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.i < top.reads.length) {
        const p = prod.get(top.reads[top.i++]);
        if (!p || p === top.node) {
          if (p === top.node) return { ok: false, cycleAt: p };
          continue;
        }
        const s = state.get(p);
        if (s === 1) return { ok: false, cycleAt: p };
        if (s === 2) continue;
        state.set(p, 1);
        stack.push({ node: p, reads: nodeReads(p), i: 0 });
      } else {
        state.set(top.node, 2);
        out.push(top.node);
        stack.pop();
      }
    }
  }
  return { ok: true, nodes: out };
}

/** Removes nodes whose outputs reach no graph output. Returns how many were removed. */
export function removeDeadNodes(g: Graph): number {
  const live = liveWalk(g).nodes;
  const before = g.nodes.length;
  g.nodes = g.nodes.filter((n) => live.has(n));
  return before - g.nodes.length;
}

/**
 * The values the graph's outputs depend on (read by a node whose outputs reach them, or an output itself): a graph
 * input not among them is never read for any output, even where a dead node (one whose outputs nothing reads) takes it.
 */
export function liveValues(g: Graph): Set<string> {
  return liveWalk(g).values;
}

/** The nodes whose outputs the graph's outputs depend on, and the values they read (with the outputs). */
function liveWalk(g: Graph): { nodes: Set<Node>; values: Set<string> } {
  const prod = producers(g);
  const nodes = new Set<Node>();
  const stack = g.outputs.map((o) => o.name);
  const values = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (values.has(v)) continue;
    values.add(v);
    const p = prod.get(v);
    if (p && !nodes.has(p)) {
      nodes.add(p);
      stack.push(...nodeReads(p));
    }
  }
  return { nodes, values };
}

/** Removes initializers no node or graph output reads (and their graph-input entries). Returns the names removed. */
export function removeUnusedInitializers(g: Graph): string[] {
  const used = new Set<string>(g.outputs.map((o) => o.name));
  for (const n of g.nodes) for (const r of nodeReads(n)) used.add(r);
  const removed: string[] = [];
  for (const name of [...g.initializers.keys()]) {
    if (!used.has(name)) {
      g.initializers.delete(name);
      removed.push(name);
    }
  }
  if (removed.length) {
    const gone = new Set(removed);
    g.inputs = g.inputs.filter((v) => !gone.has(v.name));
    g.valueInfo = g.valueInfo.filter((v) => !gone.has(v.name));
  }
  return removed;
}

/** Removes dead nodes, then initializers nobody reads. */
export function pruneGraph(g: Graph): { nodes: number; initializers: number } {
  const nodes = removeDeadNodes(g);
  const initializers = removeUnusedInitializers(g).length;
  return { nodes, initializers };
}

/** Renames a value everywhere in a graph (node inputs/outputs, graph inputs/outputs, value infos, initializers). */
export function renameValue(g: Graph, from: string, to: string): void {
  if (from === to) return;
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((x) => (x === from ? to : x));
    n.outputs = n.outputs.map((x) => (x === from ? to : x));
    for (const a of Object.values(n.attributes)) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      for (const sg of subs) if (outerScopeReads(sg).includes(from)) renameValue(sg, from, to);
    }
  }
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) if (v.name === from) v.name = to;
  const t = g.initializers.get(from);
  if (t) {
    const entries = [...g.initializers.entries()].map(([k, v]): [string, Tensor] => (k === from ? [to, { ...v, name: to }] : [k, v]));
    g.initializers = new Map(entries);
  }
}

/** A content hash of a tensor (type, shape, bytes). */
export function tensorDigest(t: Tensor): string {
  const h = createHash('sha256');
  h.update(`${t.dataType}:${t.dims.join(',')}:`);
  if (t.strings) for (const s of t.strings) h.update(s);
  else h.update(t.data);
  return h.digest('hex');
}

/**
 * Merges initializers with identical content into one (the first by file order); readers are rewired. Graph inputs
 * and outputs are never merged. Returns the number of initializers removed.
 */
export function dedupeInitializers(g: Graph): number {
  const pinned = new Set([...g.inputs.map((v) => v.name), ...g.outputs.map((v) => v.name)]);
  const byDigest = new Map<string, string>();
  const replace = new Map<string, string>();
  const bySize = new Map<number, Tensor[]>();
  for (const t of g.initializers.values()) {
    if (pinned.has(t.name)) continue;
    const size = t.data.byteLength;
    let l = bySize.get(size);
    if (!l) bySize.set(size, (l = []));
    l.push(t);
  }
  for (const group of bySize.values()) {
    if (group.length < 2) continue;
    for (const t of group) {
      const d = tensorDigest(t);
      const keep = byDigest.get(d);
      if (keep) replace.set(t.name, keep);
      else byDigest.set(d, t.name);
    }
  }
  if (!replace.size) return 0;
  const rewire = (x: string) => replace.get(x) ?? x;
  for (const n of g.nodes) n.inputs = n.inputs.map(rewire);
  for (const name of replace.keys()) g.initializers.delete(name);
  return replace.size;
}

/** A name not yet used in the graph, made from `base`. */
export function uniqueName(g: Graph, base: string): string {
  const used = new Set<string>([...g.initializers.keys(), ...g.inputs.map((v) => v.name)]);
  for (const n of g.nodes) {
    used.add(n.name);
    for (const o of n.outputs) used.add(o);
  }
  if (!used.has(base)) return base;
  for (let i = 1; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`;
}

/**
 * Gives every node a unique, non-empty name (`<OpType>_<n>` for unnamed or duplicate ones), so nodes can be
 * referred to by name. Names do not affect what a model computes. Returns how many nodes were (re)named.
 */
export function ensureUniqueNodeNames(g: Graph): number {
  const seen = new Set<string>();
  for (const n of g.nodes) if (n.name) seen.add(n.name);
  const taken = new Set<string>();
  let renamed = 0;
  let counter = 0;
  for (const n of g.nodes) {
    if (n.name && !taken.has(n.name)) {
      taken.add(n.name);
      continue;
    }
    let name: string;
    do name = `${n.opType}_${counter++}`;
    while (seen.has(name) || taken.has(name));
    n.name = name;
    taken.add(name);
    renamed++;
  }
  return renamed;
}

/**
 * Whether a Dropout node drops values at random when it runs, `constant` giving the numbers of a constant value (else
 * undefined): where its training_mode (opset 12) is on or not a constant false, and its ratio is not a constant 0
 * (onnxruntime's Dropout copies its input at ratio 0 in training mode too, as torch.onnx.export writes a dropout of
 * p = 0 in training mode; no ratio is 0.5). Before opset 12 (no training_mode) it drops nothing from opset 7 on; in
 * opset 1 to 6 its is_test attribute says (bert/discover.ts refuses is_test 0: the gradient engine reads opset 13 on).
 */
export function dropoutDraws(node: Node, constant: (value: string) => readonly number[] | undefined): boolean {
  const mode = node.inputs[2];
  if (!mode || constant(mode)?.[0] === 0) return false;
  const ratio = node.inputs[1];
  return !ratio || constant(ratio)?.[0] !== 0;
}
