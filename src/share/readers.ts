/**
 * Finding the nodes that read a layer's weight, so they can be pointed at the shared copy: the weight's anchor
 * nodes (the MatMul, Add, LayerNorm nodes discovery names), constant-only nodes in front of them (a Transpose or
 * Identity of the weight), and, as a fallback, any reader inside the layer (nodes between the layer's input and
 * output; e.g. a bias folded into a fused op after the projection).
 */
import type { Graph, Node } from '../onnx/graph.ts';
import { consumers, producers } from '../onnx/analysis.ts';
import type { EncoderLayer } from '../bert/structure.ts';
import type { LayerWeight } from './roles.ts';

/** Producer and consumer maps of a graph, and its constant values, computed once. */
export interface GraphIndex {
  graph: Graph;
  producers: Map<string, Node>;
  consumers: Map<string, Node[]>;
  /** Values computed from initializers and Constant nodes only (a Transpose of a weight, an Identity of it…). */
  constants: Set<string>;
}

/** Indexes graph `g` (its nodes in topological order, as ONNX requires). */
export function indexGraph(g: Graph): GraphIndex {
  const constants = new Set<string>(g.initializers.keys());
  for (const n of g.nodes) {
    const inputs = n.inputs.filter((x) => x !== '');
    if (n.opType === 'Constant' || (inputs.length > 0 && inputs.every((x) => constants.has(x)))) for (const o of n.outputs) constants.add(o);
  }
  return { graph: g, producers: producers(g), consumers: consumers(g), constants };
}

/** Hops a constant-only chain (Transpose, Identity, Cast…) may take from a weight to its anchor. */
const CHAIN_DEPTH = 3;

/** True when `n` reads only constant values (so it computes a constant: a Transpose or Identity of a weight). */
function constantOnly(ix: GraphIndex, n: Node): boolean {
  return n.inputs.every((x) => x === '' || ix.constants.has(x));
}

/**
 * Whether `hit` holds for `start` or for a node fed by it through constant-only nodes, within `depth` hops: a
 * Transpose of a weight reaches the MatMul it feeds, but not the layers behind that MatMul.
 */
function reachesThroughConstants(ix: GraphIndex, start: Node, depth: number, hit: (n: Node) => boolean): boolean {
  let frontier = [start];
  const seen = new Set<Node>(frontier);
  for (let d = 0; d <= depth && frontier.length; d++) {
    const next: Node[] = [];
    for (const n of frontier) {
      if (hit(n)) return true;
      if (!constantOnly(ix, n)) continue;
      for (const o of n.outputs) {
        for (const c of ix.consumers.get(o) ?? []) {
          if (seen.has(c)) continue;
          seen.add(c);
          next.push(c);
        }
      }
    }
    frontier = next;
  }
  return false;
}

/** Names of the nodes of a layer: downstream of its input and upstream of its output. */
export function layerRegion(ix: GraphIndex, layer: EncoderLayer): Set<string> {
  const down = new Set<Node>();
  const stack = [...(ix.consumers.get(layer.input) ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (down.has(n)) continue;
    down.add(n);
    if (n.outputs.includes(layer.output)) continue;
    for (const o of n.outputs) stack.push(...(ix.consumers.get(o) ?? []));
  }
  const region = new Set<string>();
  const back = [ix.producers.get(layer.output)].filter((n): n is Node => !!n);
  const seen = new Set<Node>();
  while (back.length) {
    const n = back.pop()!;
    if (seen.has(n) || !down.has(n)) continue;
    seen.add(n);
    region.add(n.name);
    for (const i of n.inputs) {
      const p = ix.producers.get(i);
      if (p) back.push(p);
    }
  }
  return region;
}

/**
 * The readers of weight `w` that belong to it: its anchors and constant-only chains into them; when there are
 * none, the readers inside the layer (`region`, computed on demand). Empty when nothing matches.
 */
export function weightReaders(ix: GraphIndex, w: LayerWeight, region: () => ReadonlySet<string>): Node[] {
  const all = ix.consumers.get(w.initializer) ?? [];
  const anchors = new Set(w.anchors);
  const isAnchor = (n: Node) => anchors.has(n.name);
  const mine = all.filter((r) => isAnchor(r) || (constantOnly(ix, r) && reachesThroughConstants(ix, r, CHAIN_DEPTH, isAnchor)));
  if (mine.length) return mine;
  const inLayer = region();
  return all.filter((r) => inLayer.has(r.name) || (constantOnly(ix, r) && reachesThroughConstants(ix, r, CHAIN_DEPTH, (n) => inLayer.has(n.name))));
}
