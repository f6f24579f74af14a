/**
 * Finite-difference checks of gradient graphs: the analytic gradient the training graph outputs against central
 * differences of its loss, at a sample of coordinates of each parameter. Runs in float64 when the graph is float64
 * (onnxruntime's CPU kernels for most ops accept double), else float32 with a looser tolerance.
 */
import type { Model, Tensor as IrTensor } from '../../src/onnx/index.ts';
import { DataType, encodeModel } from '../../src/onnx/index.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { buildGradientGraph, type GradientGraphOptions } from '../../src/gradients/index.ts';
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
  const params = opts.parameters
    ?? [...forward.graph.initializers.values()].filter((t) => t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE).map((t) => t.name);
  const gg = await buildGradientGraph(forward, { ...opts, parameters: params, sparse: [] });
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
    let worst = 0;
    let checked = 0;
    for (const p of params) {
      const name = gg.dense.get(p);
      const analytic = name ? Float64Array.from(out[name].data as ArrayLike<number>) : new Float64Array(values.get(p)!.length);
      const v = values.get(p)!;
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
      worst = Math.max(worst, w);
    }
    return { worst, checked, perParameter };
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
