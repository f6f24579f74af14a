/**
 * What the projection quantizers share: reading a MatMul / Gemm node as y = alpha · x·W (+ beta · C), checking its
 * weight, and putting the quantized product back in its place (with Gemm's C added after it, or with the bias
 * taken into the product op).
 */
import type { Node } from '../../onnx/graph.ts';
import { attrFloat, attrInt } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { float32Tensor } from '../../onnx/tensor.ts';
import type { Linear } from '../../bert/structure.ts';
import type { Target } from '../targets.ts';
import type { RewriteContext } from '../registry.ts';
import { weightInOut } from '../graph-edit.ts';
import { quotedText } from '../../errors.ts';

/** A MatMul or Gemm read as y = alpha · x·W (+ beta · C). */
export interface Projection {
  node: Node;
  linear: Linear;
  /** The activation input. */
  x: string;
  /** The node's output. */
  y: string;
  alpha: number;
  /** Gemm's C input and its factor. */
  c?: { value: string; beta: number };
}

/** The projection a node computes, or the reason it cannot be read as one. */
export function readProjection(node: Node, target: Target, ctx: RewriteContext): Projection | string {
  if (target.kind !== 'linear') return `not a projection target`;
  const lin = target.linear;
  const w = ctx.edit.graph.initializers.get(lin.weight);
  if (!w) return `weight ${quotedText(lin.weight)} is not an initializer`;
  if (w.dataType !== DataType.FLOAT) return `weight ${quotedText(lin.weight)} is not float32`;
  if (w.dims.length !== 2) return `weight ${quotedText(lin.weight)} is not 2-D`;
  if (node.domain !== '') return `${node.domain} ${node.opType} is not rewritten`;
  if (node.opType === 'MatMul') {
    if (node.inputs.length !== 2) return 'MatMul with an unexpected input count';
    return { node, linear: lin, x: node.inputs[0], y: node.outputs[0], alpha: 1 };
  }
  if (node.opType === 'Gemm') {
    if ((attrInt(node, 'transA', 0) ?? 0) !== 0) return 'Gemm with transA=1';
    const c = node.inputs[2];
    const p: Projection = { node, linear: lin, x: node.inputs[0], y: node.outputs[0], alpha: attrFloat(node, 'alpha', 1) ?? 1 };
    if (c) p.c = { value: c, beta: attrFloat(node, 'beta', 1) ?? 1 };
    return p;
  }
  return `${node.opType} is not a MatMul or Gemm`;
}

/** The weight as [in, out] float32 values. */
export function projectionWeight(p: Projection, ctx: RewriteContext): Float32Array {
  const w = weightInOut(ctx.edit.graph, p.linear);
  if (!w) throw new Error(`weight ${quotedText(p.linear.weight)} vanished`);
  return w;
}

/**
 * A bias the product op can add itself (the contrib ops' bias input): the float [out] initializer of the Add right
 * after a MatMul when that Add is the product's only reader, or Gemm's 1-D C with beta 1. The biased product is
 * written to `output` (the Add's output, or the Gemm's); `add` is the Add node that then goes.
 */
export interface FusedBias {
  bias: string;
  output: string;
  add?: Node;
}

/** The bias `p` can take into its product op, or undefined (the bias Add, or Gemm's C, then stays after it). */
export function fusableBias(p: Projection, ctx: RewriteContext): FusedBias | undefined {
  const g = ctx.edit.graph;
  const isBias = (v: string) => {
    const t = g.initializers.get(v);
    return !!t && t.dataType === DataType.FLOAT && t.dims.length === 1 && t.dims[0] === p.linear.outFeatures;
  };
  if (p.c) return p.c.beta === 1 && isBias(p.c.value) ? { bias: p.c.value, output: p.y } : undefined;
  const add = p.linear.biasNode ? ctx.edit.node(p.linear.biasNode) : undefined;
  if (add?.opType !== 'Add' || add.domain !== '' || add.inputs.length !== 2) return undefined;
  const at = add.inputs.indexOf(p.y);
  const bias = add.inputs[1 - at];
  if (at < 0 || !isBias(bias)) return undefined;
  const readers = g.nodes.filter((n) => n.inputs.includes(p.y)).length + g.outputs.filter((o) => o.name === p.y).length;
  return readers === 1 ? { bias, output: add.outputs[0], add } : undefined;
}

/**
 * Replaces the projection node by `nodes`, whose last output is `product` (= alpha · x·W). When the node was a
 * Gemm with C, an Add of (beta ·) C follows, unless the product op took the bias itself (`fused`: its Add goes).
 * Call `outputFor(p)` first to know where the product must go.
 */
export function finishProjection(p: Projection, ctx: RewriteContext, nodes: Node[], product: string, fused?: FusedBias): void {
  const { edit } = ctx;
  const tail: Node[] = [];
  if (fused) {
    if (fused.add) edit.removeNode(fused.add);
  } else if (p.c) {
    let c = p.c.value;
    if (p.c.beta !== 1) {
      const beta = edit.addInitializer(`${p.node.name}_beta`, float32Tensor('', [], [p.c.beta]));
      const scaled = edit.fresh(`${c}_scaled`);
      tail.push(edit.makeNode('Mul', [c, beta], [scaled]));
      c = scaled;
    }
    tail.push(edit.makeNode('Add', [product, c], [p.y]));
  }
  edit.replaceNode(p.node, [...nodes, ...tail]);
}

/** Where the quantized product goes: the node's own output, or a fresh value when Gemm's C is added after. */
export function outputFor(p: Projection, ctx: RewriteContext): string {
  return p.c ? ctx.edit.fresh(`${p.y}_product`) : p.y;
}
