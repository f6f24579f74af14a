/**
 * Finite-difference checks of gradient graphs: the analytic gradient the training graph outputs against central
 * differences of its loss, at a sample of coordinates of each parameter. Runs in float64 when the graph is float64
 * (onnxruntime's CPU kernels for most ops accept double), else float32 with a looser tolerance.
 */
import { describe, expect, it } from 'vitest';
import type { Attribute, Model, Node, Tensor as IrTensor, ValueInfo } from '../../src/onnx/index.ts';
import { createModel, DataType, encodeModel, float32Tensor } from '../../src/onnx/index.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { buildGradientGraph, probeValues, type GradientGraphOptions } from '../../src/gradients/index.ts';
import { lcg } from './feeds.ts';

export interface GradCheckOptions extends Omit<GradientGraphOptions, 'parameters'> {
  /** Parameters to check (default: every float initializer). */
  parameters?: string[];
  /** Feeds of the forward graph's inputs. */
  feeds: Feeds;
  /** Coordinates checked per parameter (default 6). */
  samples?: number;
  /** Perturbation (default 1e-6 for float64, 1e-2 for float32). */
  eps?: number;
  /** Absolute floor of the error scale (default 1e-6 for float64, 1e-3 for float32): gradients that are exactly
   * zero (a key bias under softmax) are compared to finite-difference noise. */
  atol?: number;
}

export interface GradCheckResult {
  /** Largest |analytic − numeric| / (atolScale + |numeric|) over all checked coordinates. */
  worst: number;
  checked: number;
  /** Worst relative error per parameter. */
  perParameter: Record<string, number>;
  /** The analytic gradient of each checked parameter (zeros for unused ones). */
  analytic: Record<string, Float64Array>;
}

function floatValues(t: IrTensor): Float64Array {
  const buf = t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength);
  return t.dataType === DataType.DOUBLE ? new Float64Array(buf) : Float64Array.from(new Float32Array(buf));
}

function ortTensor(dataType: number, values: Float64Array, dims: number[]): Tensor {
  return dataType === DataType.DOUBLE ? new Tensor('float64', Float64Array.from(values), dims) : new Tensor('float32', Float32Array.from(values), dims);
}

/**
 * Checks the gradient graph of `forward` (a graph whose `loss` is a scalar) against central differences.
 * Error measure per coordinate: |a − n| / (scale + |n|), scale = 1e-3 · max |n| over the parameter.
 */
export async function gradCheck(forward: Model, opts: GradCheckOptions): Promise<GradCheckResult> {
  const params =
    opts.parameters ??
    [...forward.graph.initializers.values()].filter((t) => t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE).map((t) => t.name);
  // (the gradient graph's options alone: buildGradientGraph refuses an option it does not take)
  const { feeds: _feeds, samples: _samples, eps: _eps, atol: _atol, parameters: _parameters, ...graphOptions } = opts;
  const gg = await buildGradientGraph(forward, { ...graphOptions, parameters: params, sparse: [] });
  const session = await openSession(encodeModel(gg.model), { graphOptimizationLevel: 'disabled', threads: 1 });
  const values = new Map(params.map((p) => [p, floatValues(forward.graph.initializers.get(p)!)]));
  const feedsWith = (override?: { p: string; i: number; v: number }): Feeds => {
    const f: Feeds = { ...opts.feeds };
    for (const p of params) {
      const info = gg.parameterInfo.get(p)!;
      let v = values.get(p)!;
      if (override && override.p === p) {
        v = Float64Array.from(v);
        v[override.i] = override.v;
      }
      f[p] = ortTensor(info.dataType, v, info.dims);
    }
    return f;
  };
  const lossAt = async (f: Feeds) => Number((await session.run(f, [gg.loss]))[gg.loss].data[0]);
  try {
    const out = await session.run(feedsWith());
    const isDouble = gg.parameterInfo.get(params[0])?.dataType === DataType.DOUBLE;
    const eps = opts.eps ?? (isDouble ? 1e-6 : 1e-2);
    const rand = lcg(7);
    const perParameter: Record<string, number> = {};
    const analyticOf: Record<string, Float64Array> = {};
    let worst = 0;
    let checked = 0;
    for (const p of params) {
      const name = gg.dense.get(p);
      const analytic = name ? Float64Array.from(out[name].data as ArrayLike<number>) : new Float64Array(values.get(p)!.length);
      const v = values.get(p)!;
      const gotDims = name ? [...out[name].dims].map(Number) : gg.parameterInfo.get(p)!.dims;
      if (gotDims.join(',') !== gg.parameterInfo.get(p)!.dims.join(',')) {
        throw new Error(`gradCheck: the gradient of '${p}' has dims [${gotDims}], the parameter [${gg.parameterInfo.get(p)!.dims}]`);
      }
      const idx = new Set<number>();
      const samples = Math.min(opts.samples ?? 6, v.length);
      while (idx.size < samples) idx.add(Math.floor(rand() * v.length));
      const numeric: number[] = [];
      for (const i of idx) {
        const plus = await lossAt(feedsWith({ p, i, v: v[i] + eps }));
        const minus = await lossAt(feedsWith({ p, i, v: v[i] - eps }));
        numeric.push((plus - minus) / (2 * eps));
      }
      const scale = Math.max(1e-3 * Math.max(...numeric.map(Math.abs), ...[...idx].map((i) => Math.abs(analytic[i]))), opts.atol ?? (isDouble ? 1e-6 : 1e-3));
      let w = 0;
      [...idx].forEach((i, k) => {
        w = Math.max(w, Math.abs(analytic[i] - numeric[k]) / (scale + Math.abs(numeric[k])));
        checked++;
      });
      perParameter[p] = w;
      analyticOf[p] = analytic;
      worst = Math.max(worst, w);
    }
    return { worst, checked, perParameter, analytic: analyticOf };
  } finally {
    await session.release();
  }
}

/**
 * A float64 copy of a float32 graph: float initializers, float Constant nodes, Cast-to-float targets, float
 * inputs and outputs become double, so finite differences are exact to ~1e-9.
 */
export function toFloat64(model: Model): Model {
  const toDouble = (t: IrTensor): IrTensor => {
    if (t.dataType !== DataType.FLOAT) return t;
    const f = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    return { ...t, dataType: DataType.DOUBLE, data: new Uint8Array(Float64Array.from(f).buffer) };
  };
  const g = model.graph;
  return {
    ...model,
    graph: {
      ...g,
      initializers: new Map([...g.initializers].map(([k, t]) => [k, toDouble(t)])),
      nodes: g.nodes.map((n) => {
        const attributes = { ...n.attributes };
        const v = attributes.value;
        if (n.opType === 'Constant' && v?.type === 'tensor') attributes.value = { type: 'tensor', value: toDouble(v.value) };
        if (n.opType === 'ConstantOfShape' && v?.type === 'tensor') attributes.value = { type: 'tensor', value: toDouble(v.value) };
        const to = attributes.to;
        if (n.opType === 'Cast' && to?.type === 'int' && to.value === DataType.FLOAT) attributes.to = { type: 'int', value: DataType.DOUBLE };
        return { ...n, attributes };
      }),
      inputs: g.inputs.map((v) => (v.elemType === DataType.FLOAT ? { ...v, elemType: DataType.DOUBLE } : v)),
      outputs: g.outputs.map((v) => (v.elemType === DataType.FLOAT ? { ...v, elemType: DataType.DOUBLE } : v)),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Tiny one-op graphs for rule-by-rule checks.

/** A node of the default domain, named after its first output unless `name` is given. */
export function node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Attribute> = {}, name?: string): Node {
  return { name: name ?? `${opType}:${outputs[0]}`, opType, domain: '', inputs, outputs, attributes };
}

/** Attribute shorthands for test graphs. */
export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
};

export interface RandomOptions {
  /** Range of the uniform values (default [-1, 1]). */
  lo?: number;
  hi?: number;
  /** Keep every value at least this far from 0 (kinks of Relu, Abs, Sign at 0). */
  minAbs?: number;
}

/** Seeded uniform values (see RandomOptions). */
export function randomValues(n: number, seed: number, opts: RandomOptions = {}): number[] {
  const { lo = -1, hi = 1, minAbs = 0 } = opts;
  const rand = lcg(seed * 7919 + 17);
  rand();
  const out: number[] = [];
  while (out.length < n) {
    const v = lo + (hi - lo) * rand();
    if (Math.abs(v) >= minAbs) out.push(v);
  }
  return out;
}

/** A seeded random float32 initializer (toFloat64 turns it into float64). */
export function randomTensor(name: string, dims: number[], seed: number, opts: RandomOptions = {}): IrTensor {
  return float32Tensor(
    name,
    dims,
    randomValues(
      dims.reduce((a, b) => a * b, 1),
      seed,
      opts,
    ),
  );
}

/** A float64 initializer. */
export function float64Tensor(name: string, dims: number[], values: number[]): IrTensor {
  return { name, dataType: DataType.DOUBLE, dims: [...dims], data: new Uint8Array(Float64Array.from(values).buffer) };
}

/** A bool initializer. */
export function boolTensor(name: string, dims: number[], values: boolean[]): IrTensor {
  return { name, dataType: DataType.BOOL, dims: [...dims], data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
}

export interface WeightedLossGraph {
  nodes: Node[];
  initializers: IrTensor[];
  /** The value(s) the loss reads: loss = Σₖ ReduceSum(outputₖ ⊙ wₖ), wₖ fixed random weights of outputₖ's shape. */
  outputs: string | string[];
  /** Graph inputs (fed by the check), default none. */
  inputs?: ValueInfo[];
  /** ai.onnx opset (default 17). */
  opset?: number;
  /** Seed of the loss weights (default 99). */
  seed?: number;
}

/**
 * A model computing `loss` = Σₖ ReduceSum(Mul(outputₖ, wₖ)) on top of `nodes`, so that every element of every
 * output gets a distinct, non-trivial gradient. The outputs' shapes and types come from one probe run.
 */
export async function weightedLossModel(spec: WeightedLossGraph, probeFeeds?: Feeds): Promise<{ model: Model; loss: string }> {
  const opset = spec.opset ?? 17;
  const graph = {
    name: 'g',
    nodes: [...spec.nodes],
    inputs: spec.inputs ?? [],
    outputs: [] as ValueInfo[],
    initializers: new Map(spec.initializers.map((t) => [t.name, t])),
    valueInfo: [],
  };
  const outs = typeof spec.outputs === 'string' ? [spec.outputs] : spec.outputs;
  const facts = await probeValues(createModel({ ...graph, outputs: outs.map((name) => ({ name })) }, [{ domain: '', version: opset }]), probeFeeds);
  const terms: string[] = [];
  outs.forEach((o, k) => {
    const f = facts.get(o);
    if (!f) throw new Error(`weightedLossModel: '${o}' is not a value of the graph`);
    const values = randomValues(
      f.dims.reduce((a, b) => a * b, 1),
      (spec.seed ?? 99) + k,
      { lo: -1.5, hi: 1.5 },
    );
    const w = f.dataType === DataType.DOUBLE ? float64Tensor(`loss_w${k}`, f.dims, values) : float32Tensor(`loss_w${k}`, f.dims, values);
    graph.initializers.set(w.name, w);
    graph.nodes.push(node('Mul', [o, w.name], [`loss_mul${k}`]));
    graph.nodes.push(node('ReduceSum', [`loss_mul${k}`], [`loss_term${k}`], { keepdims: attr.int(0) }));
    terms.push(`loss_term${k}`);
  });
  if (terms.length === 1) graph.nodes.push(node('Identity', terms, ['loss']));
  else graph.nodes.push(node('Sum', terms, ['loss']));
  graph.outputs = [{ name: 'loss', elemType: facts.get(outs[0])!.dataType }];
  return { model: createModel(graph, [{ domain: '', version: opset }]), loss: 'loss' };
}

/** One finite-difference case of a gradient rule: a tiny graph, the parameters to check, the precision. */
export interface RuleCase extends WeightedLossGraph {
  name: string;
  /** Initializers to differentiate (checked at every coordinate up to `samples`). */
  params: string[];
  /**
   * 'float64' (default): the graph goes through toFloat64; 'float32': run as built, for ops whose onnxruntime CPU
   * kernel has no double version; 'as-built': mixed-precision graphs (explicit Casts) run unchanged.
   */
  precision?: 'float64' | 'float32' | 'as-built';
  /** Largest accepted relative error (default 1e-6 in float64; float32 cases must state theirs). */
  tol?: number;
  eps?: number;
  atol?: number;
  /** Coordinates per parameter (default 48: every coordinate of these tiny tensors). */
  samples?: number;
  feeds?: Feeds;
}

/** The training graph's gradients at the initializers' values, as float64 (zeros for unused parameters). */
export async function analyticGradients(forward: Model, loss: string, params: string[], feeds: Feeds = {}): Promise<Record<string, Float64Array>> {
  const gg = await buildGradientGraph(forward, { loss, parameters: params, probeFeeds: Object.keys(feeds).length ? feeds : undefined });
  const session = await openSession(encodeModel(gg.model), { graphOptimizationLevel: 'disabled', threads: 1 });
  try {
    const f: Feeds = { ...feeds };
    for (const p of params) {
      const t = forward.graph.initializers.get(p)!;
      f[p] = ortTensor(t.dataType, floatValues(t), [...t.dims]);
    }
    const out = await session.run(f);
    const grads: Record<string, Float64Array> = {};
    for (const p of params) {
      const name = gg.dense.get(p);
      grads[p] = name ? Float64Array.from(out[name].data as ArrayLike<number>) : new Float64Array(floatValues(forward.graph.initializers.get(p)!).length);
    }
    return grads;
  } finally {
    await session.release();
  }
}

/**
 * Runs gradCheck on a RuleCase; returns the result and the tolerance it must meet. A float64 case also builds the
 * float32 training graph (the form training runs) and reports in `float32Error` the largest difference of its
 * gradients from the float64 ones, relative to each parameter's largest gradient.
 */
export async function checkRuleCase(c: RuleCase): Promise<GradCheckResult & { tol: number; float32Error?: number }> {
  const precision = c.precision ?? 'float64';
  const built = await weightedLossModel(c, c.feeds);
  const model = precision === 'float64' ? toFloat64(built.model) : built.model;
  if (precision === 'float32' && c.tol === undefined) throw new Error(`case '${c.name}': float32 cases must state their tolerance`);
  const r = await gradCheck(model, { loss: built.loss, parameters: c.params, feeds: c.feeds ?? {}, samples: c.samples ?? 48, eps: c.eps, atol: c.atol });
  let float32Error: number | undefined;
  if (precision === 'float64') {
    const g32 = await analyticGradients(built.model, built.loss, c.params, c.feeds);
    float32Error = 0;
    for (const p of c.params) {
      const want = r.analytic[p];
      const scale = Math.max(1e-6, ...Array.from(want, Math.abs));
      for (let i = 0; i < want.length; i++) float32Error = Math.max(float32Error, Math.abs(g32[p][i] - want[i]) / scale);
    }
  }
  // GRADCHECK_VERBOSE=1 prints each case's worst error next to its tolerance (to size tolerances).
  if (process.env.GRADCHECK_VERBOSE) {
    console.log(
      `gradcheck ${c.name} [${precision}]: worst ${r.worst.toExponential(2)} over ${r.checked} (tol ${(c.tol ?? 1e-6).toExponential(0)})${float32Error === undefined ? '' : `; float32 graph off by ${float32Error.toExponential(2)}`}`,
    );
  }
  return { ...r, tol: c.tol ?? 1e-6, float32Error };
}

/**
 * How far a float32 training graph's gradients may be from the float64 ones, relative to each parameter's largest
 * gradient: float32 rounding (6e-8) through the few ops of these tiny graphs stays below 1e-6 (measured 3.5e-7).
 */
export const FLOAT32_AGREEMENT = 1e-5;

/**
 * The tests of one family of gradient rules: a case for every rule of the family (`rules`, the module's exports),
 * and each case against finite differences, then in float32 (as training runs it) against the float64 gradients.
 */
export function describeRuleFamily(title: string, rules: Record<string, { opType: string }>, cases: readonly RuleCase[]): void {
  describe(`${title} gradient rules against finite differences`, () => {
    it('covers every rule of the family', () => {
      const covered = new Set(cases.flatMap((c) => c.nodes.map((n) => n.opType)));
      expect(
        Object.values(rules)
          .map((rule) => rule.opType)
          .filter((op) => !covered.has(op)),
      ).toEqual([]);
    });
    for (const c of cases) {
      it(`${c.name} (${c.precision ?? 'float64'})`, async () => {
        const res = await checkRuleCase(c);
        expect(res.worst, JSON.stringify(res.perParameter)).toBeLessThan(res.tol);
        if (res.float32Error !== undefined) expect(res.float32Error).toBeLessThan(FLOAT32_AGREEMENT);
      });
    }
  });
}
