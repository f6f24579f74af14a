/** Gradient rules of the element-wise ops: arithmetic with broadcasting, and the unary activations. */
import type { Node } from '../../onnx/graph.ts';
import { dropoutDraws } from '../../onnx/analysis.ts';
import { at, GradientError, type GradContext, type GradientRule, nodeName } from '../context.ts';

type Grads = Array<string | undefined>;

/** Only the first output's gradient matters for these ops; none reach the loss ⇒ no input gradients. */
function first(dy: Grads): string | undefined {
  return dy[0];
}

export const Add: GradientRule = {
  opType: 'Add',
  grad(ctx, n, dy, need) {
    const g = first(dy)!;
    return n.inputs.map((x, i) => (need[i] ? ctx.unbroadcast(g, x, n.outputs[0]) : undefined));
  },
};

/** Sum(x1, x2, …): every input receives the output gradient. */
export const Sum: GradientRule = { opType: 'Sum', grad: Add.grad };

export const Sub: GradientRule = {
  opType: 'Sub',
  grad(ctx, n, dy, need) {
    const g = first(dy)!;
    const [a, b] = n.inputs;
    return [need[0] ? ctx.unbroadcast(g, a, n.outputs[0]) : undefined, need[1] ? ctx.unbroadcast(ctx.op('Neg', [g]), b, n.outputs[0]) : undefined];
  },
};

export const Mul: GradientRule = {
  opType: 'Mul',
  grad(ctx, n, dy, need) {
    const g = first(dy)!;
    const [a, b] = n.inputs;
    return [
      need[0] ? ctx.unbroadcast(ctx.op('Mul', [g, b]), a, n.outputs[0]) : undefined,
      need[1] ? ctx.unbroadcast(ctx.op('Mul', [g, a]), b, n.outputs[0]) : undefined,
    ];
  },
};

export const Div: GradientRule = {
  opType: 'Div',
  grad(ctx, n, dy, need) {
    const g = first(dy)!;
    const [a, b] = n.inputs;
    const y = n.outputs[0];
    const gOverB = ctx.op('Div', [g, b]);
    return [
      need[0] ? ctx.unbroadcast(gOverB, a, y) : undefined,
      // d(a/b)/db = −a/b² = −y/b
      need[1] ? ctx.unbroadcast(ctx.op('Neg', [ctx.op('Mul', [gOverB, y])]), b, y) : undefined,
    ];
  },
};

export const Pow: GradientRule = {
  opType: 'Pow',
  grad(ctx, n, dy, need) {
    const g = first(dy)!;
    const [x, e] = n.inputs;
    const y = n.outputs[0];
    let dx: string | undefined;
    if (need[0]) {
      // d(x^e)/dx = e · x^(e−1)
      const eF = ctx.typeOf(e) === ctx.typeOf(x) ? e : ctx.op('Cast', [e], { to: at.int(ctx.typeOf(x)) });
      const pow = ctx.op('Pow', [x, ctx.op('Sub', [eF, ctx.scalar(1, x)])]);
      dx = ctx.unbroadcast(ctx.op('Mul', [g, ctx.op('Mul', [eF, pow])]), x, y);
    }
    // d(x^e)/de = y · ln x
    const de = need[1] ? ctx.unbroadcast(ctx.op('Mul', [g, ctx.op('Mul', [y, ctx.op('Log', [x])])]), e, y) : undefined;
    return [dx, de];
  },
};

function unary(opType: string, f: (ctx: GradContext, n: Node, g: string) => string): GradientRule {
  return { opType, grad: (ctx, n, dy, need) => [need[0] ? f(ctx, n, first(dy)!) : undefined] };
}

export const Neg = unary('Neg', (ctx, _n, g) => ctx.op('Neg', [g]));
export const Identity = unary('Identity', (_ctx, _n, g) => g);
/**
 * Dropout in inference form (no mask output used), or in training mode at a constant ratio 0: the identity. Training
 * dropout is a Mul by a mask input; a Dropout that drops at random (dropoutDraws) is refused.
 */
export const Dropout = unary('Dropout', (ctx, n, g) => {
  if (dropoutDraws(n, ctx.constantNumbers)) {
    throw new GradientError(
      `Dropout node ${nodeName(n)}: training_mode is on or not a constant false, and its ratio not a constant 0; only a Dropout that drops nothing is differentiable`,
    );
  }
  return g;
});
/** dy/dx = 1 / (2·√x) = 0.5 / y */
export const Sqrt = unary('Sqrt', (ctx, n, g) => ctx.op('Div', [ctx.op('Mul', [g, ctx.scalar(0.5, n.outputs[0])]), n.outputs[0]]));
/** dy/dx = 1 − y² */
export const Tanh = unary('Tanh', (ctx, n, g) => {
  const y = n.outputs[0];
  return ctx.op('Mul', [g, ctx.op('Sub', [ctx.scalar(1, y), ctx.op('Mul', [y, y])])]);
});
/** dy/dx = y · (1 − y) */
export const Sigmoid = unary('Sigmoid', (ctx, n, g) => {
  const y = n.outputs[0];
  return ctx.op('Mul', [g, ctx.op('Mul', [y, ctx.op('Sub', [ctx.scalar(1, y), y])])]);
});
/** dy/dx = 2/√π · exp(−x²) = exp(ln(2/√π) − x²): four element-wise passes (GELU's backward runs on the FFN's widest tensor). */
export const Erf = unary('Erf', (ctx, n, g) => {
  const x = n.inputs[0];
  const e = ctx.op('Exp', [ctx.op('Sub', [ctx.scalar(Math.log(2 / Math.sqrt(Math.PI)), x), ctx.op('Mul', [x, x])])]);
  return ctx.op('Mul', [g, e]);
});
export const Exp = unary('Exp', (ctx, n, g) => ctx.op('Mul', [g, n.outputs[0]]));
export const Log = unary('Log', (ctx, n, g) => ctx.op('Div', [g, n.inputs[0]]));
export const Abs = unary('Abs', (ctx, n, g) => ctx.op('Mul', [g, ctx.op('Sign', [n.inputs[0]])]));
/** dy/dx = 1 where x > 0, else 0. */
export const Relu = unary('Relu', (ctx, n, g) =>
  ctx.op('Where', [ctx.op('Greater', [n.inputs[0], ctx.scalar(0, n.inputs[0])]), g, ctx.scalar(0, n.inputs[0])]),
);
/** Float-to-float casts pass the gradient back in the input's type; other casts do not reach a float input. */
export const Cast = unary('Cast', (ctx, n, g) => {
  const from = ctx.facts(n.inputs[0]).dataType;
  return from === ctx.facts(n.outputs[0]).dataType ? g : ctx.op('Cast', [g], { to: at.int(from) });
});

/** Where(c, x, y): x's gradient where c holds, y's elsewhere. */
export const Where: GradientRule = {
  opType: 'Where',
  grad(ctx, n, dy, need) {
    const g = first(dy)!;
    const [c, x, y] = n.inputs;
    const out = n.outputs[0];
    const zero = ctx.scalar(0, out);
    return [
      undefined,
      need[1] ? ctx.unbroadcast(ctx.op('Where', [c, g, zero]), x, out) : undefined,
      need[2] ? ctx.unbroadcast(ctx.op('Where', [c, zero, g]), y, out) : undefined,
    ];
  },
};

/** Element-wise Max/Min of two inputs: the gradient goes to the selected one (to the first on ties). */
function select(opType: 'Max' | 'Min'): GradientRule {
  return {
    opType,
    grad(ctx, n, dy, need) {
      if (n.inputs.length !== 2) throw new GradientError(`${opType} node ${nodeName(n)}: only the two-input form is differentiable`);
      const g = first(dy)!;
      const [a, b] = n.inputs;
      const out = n.outputs[0];
      const pickA = ctx.op(opType === 'Max' ? 'GreaterOrEqual' : 'LessOrEqual', [a, b]);
      const zero = ctx.scalar(0, out);
      return [
        need[0] ? ctx.unbroadcast(ctx.op('Where', [pickA, g, zero]), a, out) : undefined,
        need[1] ? ctx.unbroadcast(ctx.op('Where', [pickA, zero, g]), b, out) : undefined,
      ];
    },
  };
}
export const Max = select('Max');
export const Min = select('Min');
