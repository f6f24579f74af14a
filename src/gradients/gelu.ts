/**
 * The erf GELU as torch exports it (and the project's builder writes it), y = k·x·(1 + erf(x/s)) with k = 0.5 and
 * s = √2: Div(x, s) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, k). Differentiated node by node it costs eight passes over
 * the FFN's widest tensor (the two Mul rules' three products, Erf's four, Div's quotient, and the Sum of x's two
 * contributions); as one function, dy/dx = k·(a + x·(2/(s√π))·exp(−u²)) with u = x/s and a = 1 + erf(u) (both
 * values of the forward pass), it costs six: g·k (which onnxruntime folds into the product before it), u·u,
 * c − u² with c = ln(2/(s√π)), its exp, x times that, plus a, times g·k.
 */
import type { Graph, Node } from '../onnx/graph.ts';
import { constantTensors } from '../onnx/constants.ts';
import { DataType } from '../onnx/dtype.ts';
import { readNumbers } from '../onnx/tensor.ts';
import { consumers } from '../onnx/analysis.ts';
import type { GradContext } from './context.ts';

/** One erf GELU found in a forward graph: its input, the values the gradient reads, its constants and its nodes. */
export interface ErfGelu {
  /** The GELU's input. */
  x: string;
  /** x/s (the Div's output). */
  u: string;
  /** 1 + erf(u) (the Add's output). */
  a: string;
  /** The outer factor (0.5). */
  k: number;
  /** The divisor inside erf (√2). */
  s: number;
  /** The Div, Erf, Add and the inner Mul: nodes whose gradient the GELU's last Mul writes for them. */
  inner: ReadonlySet<Node>;
}

const isDefault = (n: Node) => n.domain === '';

/**
 * The value of a one-element float constant (an initializer or a Constant node, in any of its forms: constantTensors;
 * not one of `parameters`), else undefined.
 */
function floatConstants(g: Graph, parameters: ReadonlySet<string>): (value: string) => number | undefined {
  const tensor = constantTensors(g);
  return (value) => {
    const t = parameters.has(value) ? undefined : tensor(value);
    if (!t || (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE) || t.dims.reduce((a, b) => a * b, 1) !== 1) return undefined;
    return readNumbers(t)[0];
  };
}

/**
 * The erf GELUs of `g`, keyed by their last node (the Mul by k). A GELU counts only where its inner values (u, erf(u),
 * a, x·a) are read by its next node alone and are not among `exposed` (graph outputs, kept values, the loss), so that
 * no other gradient reaches them; its constants must be one-element floats with s > 0 and the Add's exactly 1, none of
 * them among `parameters` (a trained value: its gradient is the node rules', and the function's constants are baked in).
 */
export function findErfGelus(g: Graph, exposed: ReadonlySet<string>, parameters: ReadonlySet<string> = new Set()): Map<Node, ErfGelu> {
  const readers = consumers(g);
  const constant = floatConstants(g, parameters);
  const only = (value: string, reader: Node) => !exposed.has(value) && readers.get(value)?.length === 1 && readers.get(value)![0] === reader;
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  /** The other input of a two-input node whose one input is a constant; undefined otherwise. */
  const withConstant = (n: Node): { value: string; c: number } | undefined => {
    if (n.inputs.length !== 2) return undefined;
    const [p, q] = n.inputs;
    const cq = constant(q);
    if (cq !== undefined && constant(p) === undefined) return { value: p, c: cq };
    const cp = constant(p);
    if (cp !== undefined && constant(q) === undefined && n.opType !== 'Div') return { value: q, c: cp };
    return undefined;
  };
  const found = new Map<Node, ErfGelu>();
  for (const last of g.nodes) {
    if (last.opType !== 'Mul' || !isDefault(last)) continue;
    const outer = withConstant(last);
    if (!outer || !Number.isFinite(outer.c)) continue;
    const mul = producer.get(outer.value);
    if (mul?.opType !== 'Mul' || !isDefault(mul) || mul.inputs.length !== 2 || !only(outer.value, last)) continue;
    for (const [ai, xi] of [
      [1, 0],
      [0, 1],
    ] as const) {
      const a = mul.inputs[ai];
      const x = mul.inputs[xi];
      const add = producer.get(a);
      if (add?.opType !== 'Add' || !isDefault(add) || !only(a, mul)) continue;
      const one = withConstant(add);
      if (one?.c !== 1) continue;
      const erf = producer.get(one.value);
      if (erf?.opType !== 'Erf' || !isDefault(erf) || !only(one.value, add)) continue;
      const u = erf.inputs[0];
      const div = producer.get(u);
      if (div?.opType !== 'Div' || !isDefault(div) || !only(u, erf)) continue;
      const inside = withConstant(div);
      if (!inside || inside.value !== x || !(inside.c > 0) || !Number.isFinite(inside.c)) continue;
      found.set(last, { x, u, a, k: outer.c, s: inside.c, inner: new Set([div, erf, add, mul]) });
      break;
    }
  }
  return found;
}

/**
 * The gradient of an erf GELU's input from `g`, that of its output `y`: g·k·(a + x·exp(ln(2/(s√π)) − u²)), summed
 * back to x's shape where a one-element constant broadcast a scalar x.
 */
export function erfGeluGradient(ctx: GradContext, gelu: ErfGelu, g: string, y: string): string {
  const { x, u, a, k, s } = gelu;
  const gk = k === 1 ? g : ctx.op('Mul', [g, ctx.scalar(k, x)]);
  const slope = ctx.op('Exp', [ctx.op('Sub', [ctx.scalar(Math.log(2 / (s * Math.sqrt(Math.PI))), x), ctx.op('Mul', [u, u])])]);
  return ctx.unbroadcast(ctx.op('Mul', [gk, ctx.op('Add', [a, ctx.op('Mul', [x, slope])])]), x, y);
}
