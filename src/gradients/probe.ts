/**
 * The shape probe: runs a forward graph once in onnxruntime with every intermediate value exposed as an output and
 * records each value's element type and dims. Gradient rules need static facts (ranks, which axes an operand was
 * broadcast along); everything that varies with the batch is computed at run time from Shape ops. Symbolic input
 * dims are given distinct sizes above 1 (2, 3, 5, 7, …) so that a broadcast axis (size 1) is never confused with
 * a dynamic one.
 */
import type { Graph, Model, ValueInfo } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { encodeModel } from '../onnx/save.ts';
import { errorLine } from '../errors.ts';
import { openSession, Tensor, type Feeds } from '../runtime/session.ts';
import { GradientError } from './context.ts';

/** What the probe saw of one value. */
export interface ValueFacts {
  /** ONNX element type code. */
  dataType: number;
  /** Dims on the probe inputs. */
  dims: number[];
}

const ORT_TYPES: Record<string, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

const PROBE_SIZES = [2, 3, 5, 7, 11, 13];

/**
 * Probe inputs for a graph's declared inputs: symbolic dims get distinct sizes (`fixed` ones the size given, the
 * others sizes above 1 that no fixed one uses); ids are 0, floats 0.5.
 */
export function probeFeeds(inputs: readonly ValueInfo[], fixed: Readonly<Record<string, number>> = {}): Feeds {
  const sizes = new Map<string, number>(Object.entries(fixed));
  const free = PROBE_SIZES.filter((n) => !Object.values(fixed).includes(n));
  const feeds: Feeds = {};
  for (const v of inputs) {
    if (!v.shape) throw new GradientError(`gradient probe: input '${v.name}' has no shape (give probeFeeds)`);
    const dims = v.shape.map((d) => {
      if (typeof d === 'number') return d;
      const key = d ?? `?${v.name}`;
      if (!sizes.has(key)) sizes.set(key, free[(sizes.size - Object.keys(fixed).length) % free.length]!);
      return sizes.get(key)!;
    });
    const n = dims.reduce((a, b) => a * b, 1);
    switch (v.elemType) {
      case DataType.INT64:
        feeds[v.name] = new Tensor('int64', new BigInt64Array(n), dims);
        break;
      case DataType.INT32:
        feeds[v.name] = new Tensor('int32', new Int32Array(n), dims);
        break;
      case DataType.BOOL:
        feeds[v.name] = new Tensor('bool', new Uint8Array(n), dims);
        break;
      case DataType.DOUBLE:
        feeds[v.name] = new Tensor('float64', new Float64Array(n).fill(0.5), dims);
        break;
      case DataType.FLOAT:
        feeds[v.name] = new Tensor('float32', new Float32Array(n).fill(0.5), dims);
        break;
      default:
        throw new GradientError(
          `gradient probe: input '${v.name}' is ${v.elemType === undefined ? 'not a tensor of known type' : dataTypeName(v.elemType)}, which the probe cannot fill (give probeFeeds)`,
        );
    }
  }
  return feeds;
}

/**
 * Sizes of `feeds` that do not tell the symbolic dims of `inputs` apart: a size two different symbolic dims got
 * (an unnamed dim counts as its own), and 1 when a symbolic dim got it. Where both sides of a broadcast have such a
 * size at probe time, one of them may be 1 at run time while the other is not. Empty for probeFeeds' default feeds
 * of up to six named symbolic dims (each name gets its own size above 1).
 */
export function ambiguousSizes(inputs: readonly ValueInfo[], feeds: Feeds): Set<number> {
  const owner = new Map<number, string>();
  const sizes = new Set<number>();
  for (const v of inputs) {
    const t = feeds[v.name];
    if (!t || !v.shape || v.shape.length !== t.dims.length) continue;
    v.shape.forEach((d, i) => {
      if (typeof d === 'number') return;
      const key = d || `?${v.name}:${i}`;
      const size = Number(t.dims[i]);
      const first = owner.get(size);
      if (size === 1 || (first !== undefined && first !== key)) sizes.add(size);
      owner.set(size, first ?? key);
    });
  }
  return sizes;
}

/**
 * The graph inputs a run must feed: those without an initializer (older exports list every initializer as an input
 * too, the initializer giving its value).
 */
export function fedInputs(graph: Graph): ValueInfo[] {
  return graph.inputs.filter((v) => !graph.initializers.has(v.name));
}

/** Runs `model` on `feeds` (default: probeFeeds of its fed inputs) and returns the facts of every value it computes. */
export async function probeValues(model: Model, feeds?: Feeds): Promise<Map<string, ValueFacts>> {
  const m = cloneModel(model);
  const names = new Set<string>();
  for (const n of m.graph.nodes) for (const o of n.outputs) if (o) names.add(o);
  for (const i of m.graph.inputs) names.delete(i.name);
  m.graph.outputs = [...names].map((name) => ({ name }));
  const input = feeds ?? probeFeeds(fedInputs(model.graph));
  const session = await openSession(encodeModel(m), { graphOptimizationLevel: 'disabled', threads: 1 });
  try {
    let out: Awaited<ReturnType<typeof session.run>>;
    try {
      out = await session.run(input);
    } catch (e) {
      const given = Object.entries(input)
        .map(([name, t]) => `${name} [${[...t.dims].join(', ')}]`)
        .join(', ');
      throw new GradientError(
        `gradient probe: the forward graph does not run on ${feeds ? 'the probe feeds' : 'probe inputs with symbolic dims set to 2, 3, 5…'} (${given}): ${errorLine(e).trim()} (give probeFeeds with sizes the graph accepts)`,
      );
    }
    const facts = new Map<string, ValueFacts>();
    for (const [name, t] of Object.entries(out)) {
      facts.set(name, { dataType: ORT_TYPES[t.type] ?? DataType.UNDEFINED, dims: [...t.dims].map(Number) });
    }
    for (const v of model.graph.inputs) {
      const t = input[v.name];
      if (t) facts.set(v.name, { dataType: ORT_TYPES[t.type] ?? DataType.UNDEFINED, dims: [...t.dims].map(Number) });
    }
    for (const [name, t] of model.graph.initializers) facts.set(name, { dataType: t.dataType, dims: [...t.dims] });
    return facts;
  } finally {
    await session.release();
  }
}
