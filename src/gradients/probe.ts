/**
 * The shape probe: runs a forward graph once in onnxruntime with every intermediate value exposed as an output and
 * records each value's element type and dims. Gradient rules need static facts (ranks, which axes an operand was
 * broadcast along); everything that varies with the batch is computed at run time from Shape ops. Symbolic input
 * dims are given distinct sizes above 1 (2, 3, 5, 7, …) so that a broadcast axis (size 1) is never confused with
 * a dynamic one, and a second run at other sizes tells whether one is tied to a fixed dim (`probeShapes`).
 */
import type { Graph, Model, ValueInfo } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { ortErrorLine, quotedText } from '../errors.ts';
import { openModelSession } from '../runtime/model-session.ts';
import { Tensor, type Feeds } from '../runtime/session.ts';
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
    if (!v.shape) throw new GradientError(`gradient probe: input ${quotedText(v.name)} has no shape (give probeFeeds)`);
    const dims = v.shape.map((d) => {
      if (typeof d === 'number') return d;
      const key = d ?? `?${v.name}`;
      if (!sizes.has(key)) sizes.set(key, free[(sizes.size - Object.keys(fixed).length) % free.length]!);
      return sizes.get(key)!;
    });
    const t = filled(v.elemType, dims);
    if (!t) {
      throw new GradientError(
        `gradient probe: input ${quotedText(v.name)} is ${v.elemType === undefined ? 'not a tensor of known type' : dataTypeName(v.elemType)}, which the probe cannot fill (give probeFeeds)`,
      );
    }
    feeds[v.name] = t;
  }
  return feeds;
}

/** A probe tensor of `dims`: ids 0, floats 0.5; undefined for a type the probe cannot fill. */
function filled(elemType: number | undefined, dims: number[]): Tensor | undefined {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (elemType) {
    case DataType.INT64:
      return new Tensor('int64', new BigInt64Array(n), dims);
    case DataType.INT32:
      return new Tensor('int32', new Int32Array(n), dims);
    case DataType.BOOL:
      return new Tensor('bool', new Uint8Array(n), dims);
    case DataType.DOUBLE:
      return new Tensor('float64', new Float64Array(n).fill(0.5), dims);
    case DataType.FLOAT:
      return new Tensor('float32', new Float32Array(n).fill(0.5), dims);
    default:
      return undefined;
  }
}

/**
 * Each symbolic dim of `inputs` with the size `feeds` gave it, keyed by its name (an unnamed dim by its input and
 * axis: it counts as its own).
 */
function* symbolicDims(inputs: readonly ValueInfo[], feeds: Feeds): Generator<{ key: string; size: number }> {
  for (const v of inputs) {
    const t = feeds[v.name];
    if (!t || !v.shape || v.shape.length !== t.dims.length) continue;
    for (const [i, d] of v.shape.entries()) if (typeof d !== 'number') yield { key: d || `?${v.name}:${i}`, size: Number(t.dims[i]) };
  }
}

/**
 * Sizes of `feeds` that do not tell the symbolic dims of `inputs` apart: a size two different symbolic dims got,
 * and 1 when a symbolic dim got it. Where both sides of a broadcast have such a size at probe time, one of them may
 * be 1 at run time while the other is not. Empty for probeFeeds' default feeds of up to six named symbolic dims
 * (each name gets its own size above 1).
 */
function ambiguousSizes(inputs: readonly ValueInfo[], feeds: Feeds): Set<number> {
  const owner = new Map<number, string>();
  const sizes = new Set<number>();
  for (const { key, size } of symbolicDims(inputs, feeds)) {
    const first = owner.get(size);
    if (size === 1 || (first !== undefined && first !== key)) sizes.add(size);
    owner.set(size, first ?? key);
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

/**
 * Feeds like `feeds` with every symbolic dim of a size s in `sizes` moved to another size (the same
 * for every dim of size s, and one that no symbolic dim had); undefined when an input the probe cannot fill has one.
 */
function movedFeeds(inputs: readonly ValueInfo[], feeds: Feeds, sizes: ReadonlySet<number>): Feeds | undefined {
  const moved = new Map<number, number>();
  let next = 2;
  for (const s of [...sizes].sort((a, b) => a - b)) {
    while (sizes.has(next)) next++;
    moved.set(s, next++);
  }
  const out: Feeds = { ...feeds };
  for (const v of inputs) {
    const t = feeds[v.name];
    if (!t || !v.shape || v.shape.length !== t.dims.length || v.shape.every((d) => typeof d === 'number')) continue;
    const dims = v.shape.map((d, i) => (typeof d === 'number' ? Number(t.dims[i]) : (moved.get(Number(t.dims[i])) ?? Number(t.dims[i]))));
    const f = filled(ORT_TYPES[t.type], dims);
    if (!f) return undefined;
    out[v.name] = f;
  }
  return out;
}

/** Runs `model` on `feeds` (default: probeFeeds of its fed inputs) and returns the facts of every value it computes. */
export async function probeValues(model: Model, feeds?: Feeds): Promise<Map<string, ValueFacts>> {
  return (await probeShapes(model, feeds, false)).facts;
}

/**
 * probeValues, and the probe sizes whose axes `unbroadcast` tests at run time (`ambiguous`): those of
 * `ambiguousSizes`, and every size of a symbolic dim when one may be tied to a fixed dim. A symbolic dim broadcast
 * against a fixed dim of its probe size (batch 2 against a [2, H] parameter, or against weights shaped like a
 * probe's output) shows no broadcast at probe time, yet broadcasts when it is 1 at run time. So the graph runs a
 * second time with every symbolic dim at another size: such a graph fails there (the fixed dim does not follow),
 * and one that runs has no such tie. Caveat: where the second run fails, a dim computed from symbolic ones (B·S)
 * and tied to a fixed dim is not tested.
 */
export async function probeShapes(model: Model, feeds?: Feeds, checkTies = true): Promise<{ facts: Map<string, ValueFacts>; ambiguous: Set<number> }> {
  const m = cloneModel(model);
  const names = new Set<string>();
  for (const n of m.graph.nodes) for (const o of n.outputs) if (o) names.add(o);
  for (const i of m.graph.inputs) names.delete(i.name);
  m.graph.outputs = [...names].map((name) => ({ name }));
  const input = feeds ?? probeFeeds(fedInputs(model.graph));
  const session = await openModelSession(m, { graphOptimizationLevel: 'disabled', threads: 1 });
  try {
    let out: Awaited<ReturnType<typeof session.run>>;
    try {
      out = await session.run(input);
    } catch (e) {
      const given = Object.entries(input)
        .map(([name, t]) => `${name} [${[...t.dims].join(', ')}]`)
        .join(', ');
      throw new GradientError(
        `gradient probe: the forward graph does not run on ${feeds ? 'the probe feeds' : 'probe inputs with symbolic dims set to 2, 3, 5…'} (${given}): ${ortErrorLine(e)} (give probeFeeds with sizes the graph accepts)`,
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
    const inputs = fedInputs(model.graph);
    const ambiguous = ambiguousSizes(inputs, input);
    const symbolic = new Set([...symbolicDims(inputs, input)].map((d) => d.size).filter((size) => size > 1));
    if (checkTies && symbolic.size) {
      const moved = movedFeeds(inputs, input, symbolic);
      const runs =
        moved !== undefined &&
        (await session.run(moved).then(
          () => true,
          () => false,
        ));
      if (!runs) for (const size of symbolic) ambiguous.add(size);
    }
    return { facts, ambiguous };
  } finally {
    await session.release();
  }
}
