/**
 * Mode float16 of the quantize pass: the model with every float32 tensor stored in float16, as onnxconverter-common's
 * `convert_float_to_float16(model, keep_io_types=True)` writes it (onnxconverter_common/float16.py):
 * - every float32 initializer, Constant / ConstantOfShape value and tensor attribute becomes float16, its values
 *   clamped as the converter's defaults clamp them: magnitudes above 1e4 to ±1e4 (a mask's float32 minimum, which
 *   float16 cannot hold, included), nonzero magnitudes below 1e-7 to ±1e-7 (a LayerNorm epsilon of 1e-12 would
 *   otherwise be 0); 0, ±Infinity and NaN unchanged;
 * - every Cast to float32 casts to float16, every float32 value (value_info) is float16;
 * - graph inputs and outputs of float32 stay float32: a Cast to float16 after each input, one to float32 before each
 *   output (the value inside the graph renamed `<name>_float16`);
 * - the ops of the converter's default op_block_list (DEFAULT_OP_BLOCK_LIST: TopK, Range, CumSum, Min, Max, Resize…)
 *   stay float32 behind Casts: a Cast to float32 before each float input, one to float16 after each float output;
 * - unlike the converter, a decomposed LayerNorm's variance (opset < 17 exports: the square of x − mean, Pow or Mul,
 *   its ReduceMean, the epsilon's Add and the Sqrt) stays float32 as well, its values passed between those nodes in
 *   float32: in float16 the square overflows to Infinity once |x − mean| passes 256 (65504 is float16's largest), and
 *   the LayerNorm writes 0 for every value of the token on a runtime that computes float16 in float16 (WebGPU, CUDA;
 *   onnxruntime's CPU provider computes these ops in float32 anyway), as TensorRT's and onnxruntime's float16 paths
 *   keep LayerNorm's Pow and reductions in float32. Its mean (the first ReduceMean) and x − mean stay float16: the
 *   mean cannot overflow where the reduction adds in float32 (onnxruntime-web's WebGPU ReduceMean: `var sum =
 *   f32(0)`), and rounded once to float16 it is off by at most half a float16 step of x, as much as each value of x
 *   is off already for being stored in float16. A hidden state with a large common offset loses accuracy through
 *   x's own rounding, the mean computed in float32 or not (emulated on sst2-L2H256, every value stored float16 and
 *   offsets of 16 to 4000 added before each LayerNorm: SST-2 dev accuracy within 0.7 points of each other at every
 *   offset, both falling from 81.1 to 76 at 256, 58 at 500 and chance from 1000).
 * onnxruntime's CPU provider runs the ops it has no float16 kernel for (LayerNormalization, Softmax, Erf…) in
 * float32 itself (its InsertCastTransformer): the graph need not say so.
 */
import type { Attribute, Graph, Model, Node, Tensor } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { constantNodeTensor } from '../onnx/constants.ts';
import { checkLength, floatToHalf, halfFromFloat32Bits, readFloat32 } from '../onnx/tensor.ts';
import { modelSize } from '../onnx/size.ts';
import { SettingsError, counted, quotedText } from '../errors.ts';
import type { PassReport } from '../pass/pass.ts';
import { someNames } from '../some-names.ts';
import { formatMB, percent } from '../units.ts';

/** onnxconverter-common's DEFAULT_OP_BLOCK_LIST: ops kept float32 (behind Casts) in a float16 model. */
export const FLOAT16_OP_BLOCK_LIST: ReadonlySet<string> = new Set([
  'ArrayFeatureExtractor',
  'Binarizer',
  'CastMap',
  'CategoryMapper',
  'DictVectorizer',
  'FeatureVectorizer',
  'Imputer',
  'LabelEncoder',
  'LinearClassifier',
  'LinearRegressor',
  'Normalizer',
  'OneHotEncoder',
  'RandomUniformLike',
  'SVMClassifier',
  'SVMRegressor',
  'Scaler',
  'TreeEnsembleClassifier',
  'TreeEnsembleRegressor',
  'ZipMap',
  'NonMaxSuppression',
  'TopK',
  'RoiAlign',
  'Resize',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'Upsample',
]);

/** The converter's defaults: min_positive_val and max_finite_val. */
export const FLOAT16_MIN_POSITIVE = 1e-7;
export const FLOAT16_MAX_FINITE = 1e4;

/** Ops whose outputs have a type of their own (not their first input's), for the element types of values. */
const FIXED_OUTPUT: Record<string, number> = {
  Shape: DataType.INT64,
  Size: DataType.INT64,
  NonZero: DataType.INT64,
  ArgMax: DataType.INT64,
  ArgMin: DataType.INT64,
  Equal: DataType.BOOL,
  Less: DataType.BOOL,
  Greater: DataType.BOOL,
  LessOrEqual: DataType.BOOL,
  GreaterOrEqual: DataType.BOOL,
  Not: DataType.BOOL,
  And: DataType.BOOL,
  Or: DataType.BOOL,
  Xor: DataType.BOOL,
  IsNaN: DataType.BOOL,
  IsInf: DataType.BOOL,
};

/**
 * Ops whose output has their first input's type, their other inputs being of types of their own (shapes, indices,
 * axes, pads, scales, a condition): with that first input's type unknown (written by a contrib op) so is the output's.
 */
const FIRST_INPUT_TYPE: ReadonlySet<string> = new Set([
  'Reshape',
  'Expand',
  'Tile',
  'Slice',
  'Pad',
  'Gather',
  'GatherElements',
  'GatherND',
  'Squeeze',
  'Unsqueeze',
  'Split',
  'Resize',
  'Upsample',
  'CumSum',
  'Trilu',
  'Compress',
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
]);

/**
 * The element type of each value of `g` (float32 model) that its producer says: initializers, inputs, Constants,
 * Casts, ops of fixed output type, the first input's type where only it has the output's (FIRST_INPUT_TYPE: Gather,
 * Reshape…), and otherwise the type of the first input whose type is known (element-wise ops and MatMul keep their
 * inputs' type; Where its second's). Values of unknown type are absent.
 */
function elementTypes(g: Graph, outer: ReadonlyMap<string, number>): Map<string, number> {
  const types = new Map(outer);
  // declared first (value_info, from shape inference), then what the producers say
  for (const v of [...g.valueInfo, ...g.inputs]) if (v.elemType !== undefined) types.set(v.name, v.elemType);
  for (const [k, t] of g.initializers) types.set(k, t.dataType);
  for (const n of g.nodes) {
    const first = (ins: readonly string[]) => ins.map((i) => types.get(i)).find((t) => t !== undefined);
    let out: (number | undefined)[];
    if (n.domain === '') {
      const a = n.attributes;
      if (n.opType === 'Constant') {
        const v = a.value;
        out = [
          v?.type === 'tensor' ? v.value.dataType : a.value_float || a.value_floats ? DataType.FLOAT : a.value_int || a.value_ints ? DataType.INT64 : undefined,
        ];
      } else if (n.opType === 'Cast') out = [a.to?.type === 'int' ? a.to.value : undefined];
      else if (n.opType === 'CastLike') out = [types.get(n.inputs[1])];
      else if (n.opType === 'ConstantOfShape') out = [a.value?.type === 'tensor' ? a.value.value.dataType : DataType.FLOAT];
      else if (FIXED_OUTPUT[n.opType] !== undefined) out = [FIXED_OUTPUT[n.opType]];
      else if (n.opType === 'Where') out = [first(n.inputs.slice(1))];
      else if (FIRST_INPUT_TYPE.has(n.opType)) out = n.outputs.map(() => types.get(n.inputs[0]));
      else if (n.opType === 'TopK') out = [types.get(n.inputs[0]), DataType.INT64];
      else if (n.opType === 'Dropout') out = [types.get(n.inputs[0]), DataType.BOOL];
      // (control flow: the types its body's outputs declare; Loop's body writes its condition first)
      else if (n.opType === 'If' && a.then_branch?.type === 'graph') out = a.then_branch.value.outputs.map((v) => v.elemType);
      else if (n.opType === 'Loop' && a.body?.type === 'graph') out = a.body.value.outputs.slice(1).map((v) => v.elemType);
      else if (n.opType === 'Scan' && a.body?.type === 'graph') out = a.body.value.outputs.map((v) => v.elemType);
      else out = [first(n.inputs)];
    } else out = []; // (contrib ops: types of their own, e.g. EmbedLayerNormalization's int32 mask index; a blocked op reading one is refused)
    for (const [i, o] of n.outputs.entries()) {
      const t = i < out.length ? out[i] : undefined;
      if (o && t !== undefined) types.set(o, t);
    }
  }
  return types;
}

/** Counts of what the conversion changed, for the report. */
interface Float16Counts {
  tensors: number;
  clamped: number;
  casts: number;
  blocked: string[];
  /** Decomposed LayerNorms whose variance stays float32. */
  layerNorms: number;
}

/**
 * The scalar float value of `x` in `g` (an initializer or a Constant node's output, in any of its forms:
 * constantNodeTensor), if it is one.
 */
function scalarOf(g: Graph, producer: ReadonlyMap<string, Node>, x: string): number | undefined {
  const c = producer.get(x);
  const t = g.initializers.get(x) ?? (c && constantNodeTensor(c));
  return t?.dataType === DataType.FLOAT && t.dims.reduce((a, b) => a * b, 1) === 1 ? readFloat32(t)[0] : undefined;
}

/**
 * The nodes of each decomposed LayerNorm's variance in `g`: square(x − ReduceMean(x)) (Pow by 2, or Mul of the
 * difference by itself; the Sub in either order, as keras2onnx's SquaredDifference writes it) → ReduceMean → Add of a
 * constant (the epsilon) → Sqrt.
 */
function layerNormVariances(g: Graph): Node[][] {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const onnx = (n: Node | undefined, op: string): n is Node => n !== undefined && n.opType === op && n.domain === '';
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const only = (x: string, op: string) => {
    const r = readers.get(x) ?? [];
    return r.length === 1 && onnx(r[0], op) ? r[0] : undefined;
  };
  const found: Node[][] = [];
  for (const variance of g.nodes) {
    if (!onnx(variance, 'ReduceMean')) continue;
    const square = producer.get(variance.inputs[0]);
    const d =
      onnx(square, 'Pow') && scalarOf(g, producer, square.inputs[1]) === 2
        ? square.inputs[0]
        : onnx(square, 'Mul') && square.inputs[0] === square.inputs[1]
          ? square.inputs[0]
          : undefined;
    const sub = d === undefined ? undefined : producer.get(d);
    if (!square || !onnx(sub, 'Sub')) continue;
    const [a, b] = sub.inputs;
    const mean = (m: string, x: string) => {
      const r = producer.get(m);
      return onnx(r, 'ReduceMean') && r.inputs[0] === x;
    };
    if (!mean(b, a) && !mean(a, b)) continue;
    const add = only(variance.outputs[0], 'Add');
    if (!add) continue;
    const eps = add.inputs[0] === variance.outputs[0] ? add.inputs[1] : add.inputs[0];
    if (scalarOf(g, producer, eps) === undefined) continue;
    const sqrt = only(add.outputs[0], 'Sqrt');
    if (sqrt) found.push([square, variance, add, sqrt]);
  }
  return found;
}

/** Bits of float32 values (sign cleared) that bound the clamping: the least at or above 1e-7, and 1e4. */
const FLOAT32_BITS = new Uint32Array(Float32Array.of(FLOAT16_MIN_POSITIVE, FLOAT16_MAX_FINITE).buffer);
const CLAMP_LOW_BITS = Math.fround(FLOAT16_MIN_POSITIVE) >= FLOAT16_MIN_POSITIVE ? FLOAT32_BITS[0] : FLOAT32_BITS[0] + 1;
const CLAMP_HIGH_BITS = FLOAT32_BITS[1];
/** float16 bits of the clamped magnitudes. */
const HALF_MIN_POSITIVE = floatToHalf(FLOAT16_MIN_POSITIVE);
const HALF_MAX_FINITE = floatToHalf(FLOAT16_MAX_FINITE);
/** float32 bits of float16's least normal magnitude, 2^-14. */
const HALF_MIN_NORMAL_BITS = 0x38800000;

/**
 * The float16 bits of the float32 whose bits are `b`, clamped as the converter clamps: a nonzero magnitude below 1e-7
 * to ±1e-7, a finite one above 1e4 to ±1e4; 0, ±Infinity and NaN as they are.
 */
function clampedHalf(b: number): number {
  const a = b & 0x7fffffff;
  if (a !== 0 && a < CLAMP_LOW_BITS) return ((b >>> 16) & 0x8000) | HALF_MIN_POSITIVE;
  if (a > CLAMP_HIGH_BITS && a < 0x7f800000) return ((b >>> 16) & 0x8000) | HALF_MAX_FINITE;
  return halfFromFloat32Bits(b);
}

/** `t` in float16 (a float32 tensor; others unchanged), clamped as the converter clamps. */
function halfTensor(t: Tensor, counts: Float16Counts): Tensor {
  if (t.dataType !== DataType.FLOAT) return t;
  checkLength(t);
  // (read where the bytes lie: a weight's raw data starts anywhere in the file, where a typed array cannot view it)
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const bits = new Uint16Array(t.data.byteLength >>> 2);
  for (let i = 0; i < bits.length; i++) {
    const b = view.getUint32(4 * i, true);
    const a = b & 0x7fffffff;
    // (a magnitude float16 holds as a normal number and no clamp reaches, most weights: the exponent rebased and the
    // mantissa rounded to nearest even, in integers, as halfFromFloat32Bits does; the rest through clampedHalf)
    if (a >= HALF_MIN_NORMAL_BITS && a <= CLAMP_HIGH_BITS) bits[i] = ((b >>> 16) & 0x8000) | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
    else {
      bits[i] = clampedHalf(b);
      if (a !== 0 && (a < CLAMP_LOW_BITS || (a > CLAMP_HIGH_BITS && a < 0x7f800000))) counts.clamped++;
    }
  }
  counts.tensors++;
  const h: Tensor = { name: t.name, dataType: DataType.FLOAT16, dims: [...t.dims], data: new Uint8Array(bits.buffer) };
  return { ...h, ...(t.docString !== undefined ? { docString: t.docString } : {}), ...(t.unmodelled ? { unmodelled: t.unmodelled } : {}) };
}

function halfAttribute(a: Attribute, counts: Float16Counts, types: ReadonlyMap<string, number>, renames: ReadonlyMap<string, string>): Attribute {
  switch (a.type) {
    case 'tensor':
      return { ...a, value: halfTensor(a.value, counts) };
    case 'tensors':
      return { ...a, value: a.value.map((t) => halfTensor(t, counts)) };
    case 'graph':
      return { ...a, value: convertGraph(a.value, counts, types, false, renames) };
    case 'graphs':
      return { ...a, value: a.value.map((g) => convertGraph(g, counts, types, false, renames)) };
    default:
      return a;
  }
}

function castNode(name: string, input: string, output: string, to: number): Node {
  return { name, opType: 'Cast', domain: '', inputs: [input], outputs: [output], attributes: { to: { type: 'int', value: to } } };
}

/**
 * `g` (a cloned graph, changed in place and returned) in float16; `top`: graph inputs and outputs stay float32.
 * `outer`: the element types of the values of the enclosing graphs a subgraph reads, by the names it reads them by;
 * `outerRenames`: those values the enclosing graphs renamed (a top-level float32 input or output's float16 copy).
 */
function convertGraph(
  graph: Graph,
  counts: Float16Counts,
  outer: ReadonlyMap<string, number>,
  top: boolean,
  outerRenames: ReadonlyMap<string, string> = new Map(),
): Graph {
  const g: Graph = { ...graph, nodes: graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })) };
  const types = elementTypes(graph, outer);
  const isFloat = (v: string) => types.get(v) === DataType.FLOAT;
  const before: Node[] = [];
  const after: Node[] = [];
  const renamed = new Map<string, string>();
  const used = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((v) => v.name), ...graph.outputs.map((v) => v.name)]);
  for (const n of graph.nodes) for (const x of [n.name, ...n.outputs]) used.add(x);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  // graph inputs and outputs of float32 stay float32 at the top level: the graph reads and writes float16 copies
  if (top) {
    // (an initializer listed as an input too, IR 3 or torch's keep_initializers_as_inputs, is a weight: float16 as
    // its initializer, not renamed)
    for (const v of g.inputs) if (v.elemType === DataType.FLOAT && !graph.initializers.has(v.name)) renamed.set(v.name, fresh(`${v.name}_float16`));
    for (const v of g.outputs) if (v.elemType === DataType.FLOAT && !renamed.has(v.name)) renamed.set(v.name, fresh(`${v.name}_float16`));
  }
  // a value of an enclosing graph that was renamed there is read by its new name, unless this graph defines its own
  const own = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((v) => v.name), ...graph.nodes.flatMap((n) => n.outputs)]);
  for (const [k, v] of outerRenames) if (!own.has(k)) renamed.set(k, v);
  const rename = (x: string) => renamed.get(x) ?? x;
  const initializers = new Map<string, Tensor>();
  for (const [k, t] of graph.initializers) {
    const name = rename(k);
    initializers.set(name, { ...halfTensor(t, counts), name });
  }
  // (a subgraph reads this graph's values by their names in the model as read, and is renamed as this graph is)
  // (a variance whose input's type is not known here, read from a contrib op, stays float16 as the converter leaves it)
  const variances = layerNormVariances(graph).filter((chain) => chain.every((n) => n.inputs.every((i) => !i || types.has(i))));
  counts.layerNorms += variances.length;
  const statistics = new Set(variances.flat());
  const kept = (n: Node) => statistics.has(n) || (FLOAT16_OP_BLOCK_LIST.has(n.opType) && (n.domain === '' || n.domain === 'ai.onnx.ml'));
  // a value a kept node writes is read in float32 by kept nodes (the float32 name here); others read its float16 copy
  const float32Name = new Map<string, string>();
  /** A kept node's float outputs (by their name in this graph) that no float16 copy is written for: gone from the graph. */
  const float32Only = new Set<string>();
  const float16Read = new Set<string>(graph.outputs.map((v) => v.name));
  const subgraphs = graph.nodes.some((n) => Object.values(n.attributes).some((a) => a.type === 'graph' || a.type === 'graphs'));
  for (const n of graph.nodes) if (!kept(n)) for (const i of n.inputs) float16Read.add(i);
  const nodes: Node[] = [];
  for (const [index, n] of g.nodes.entries()) {
    const original = graph.nodes[index];
    n.inputs = n.inputs.map(rename);
    n.outputs = n.outputs.map(rename);
    const blocked = kept(original);
    if (!blocked) {
      n.attributes = Object.fromEntries(Object.entries(n.attributes).map(([k, a]) => [k, halfAttribute(a, counts, types, renamed)]));
    }
    if (!blocked && n.domain === '') {
      const to = n.attributes.to;
      if (n.opType === 'Cast' && to?.type === 'int' && to.value === DataType.FLOAT) n.attributes.to = { ...to, value: DataType.FLOAT16 };
      // (a CastLike of a float32 value's type, as torchlib casts the attention scale like the query, is the Cast to
      // float16 it now means: onnxruntime's CPU provider cannot load a float16 CastLike whose input it computes in float32
      // for want of a float16 kernel (Div, Sqrt: its InsertCastTransformer's 'Type (tensor(float)) of output arg
      // (InsertedPrecisionFreeCast_…) does not match expected type (tensor(float16))')
      if (n.opType === 'CastLike' && isFloat(original.inputs[1] ?? '')) {
        n.opType = 'Cast';
        n.inputs = n.inputs.slice(0, 1);
        n.attributes = { ...n.attributes, to: { type: 'int', value: DataType.FLOAT16 } };
      }
      // ops making float32 of their own: a dtype attribute (RandomNormal, EyeLike…), ConstantOfShape's default value (a float32 0)
      const dtype = n.attributes.dtype;
      if (dtype?.type === 'int' && dtype.value === DataType.FLOAT) n.attributes.dtype = { ...dtype, value: DataType.FLOAT16 };
      if (n.opType === 'ConstantOfShape' && !n.attributes.value) n.attributes.value = { type: 'tensor', value: halfTensor(float32Of([0]), counts) };
      const vf = n.attributes.value_float;
      const vfs = n.attributes.value_floats;
      if (n.opType === 'Constant' && (vf?.type === 'float' || vfs?.type === 'floats')) {
        const values = vf?.type === 'float' ? [vf.value] : vfs?.type === 'floats' ? vfs.value : [];
        const { value_float: _f, value_floats: _fs, ...rest } = n.attributes;
        n.attributes = {
          ...rest,
          value: { type: 'tensor', value: halfTensor({ ...float32Of(values), dims: vf ? [] : [values.length] }, counts) },
        };
      }
    }
    if (!blocked) {
      nodes.push(n);
      continue;
    }
    // kept float32: its float inputs cast to float32 (unless a kept node wrote them), its float outputs cast back to float16
    const unknown = original.inputs.find((i) => i && !types.has(i));
    if (unknown !== undefined)
      throw new SettingsError(
        `quantize float16: the ${n.opType} node ${quotedText(n.name)} stays float32 in a float16 model (onnxconverter-common's op block list), and the type of its input ${quotedText(unknown)} is not known here (no value_info declares it): convert the model with onnxconverter-common's convert_float_to_float16 instead`,
      );
    const castsBefore = counts.casts;
    const castHere = new Map<string, string>();
    for (const [i, x] of original.inputs.entries()) {
      if (!x || !isFloat(x)) continue;
      // (a value read twice, Mul(d, d), is cast once: the node still reads one value twice)
      const kept32 = float32Name.get(n.inputs[i]) ?? castHere.get(n.inputs[i]);
      if (kept32 !== undefined) {
        n.inputs[i] = kept32;
        continue;
      }
      const cast = fresh(`${n.name}_input_cast_${i}`);
      nodes.push(castNode(fresh(`${cast}_node`), n.inputs[i], cast, DataType.FLOAT));
      castHere.set(n.inputs[i], cast);
      n.inputs[i] = cast;
      counts.casts++;
    }
    const outs: Node[] = [];
    for (const [i, x] of original.outputs.entries()) {
      if (!x || !isFloat(x)) continue;
      const inner32 = fresh(`${n.name}_output_cast_${i}`);
      float32Name.set(n.outputs[i], inner32);
      if (float16Read.has(x) || subgraphs) {
        outs.push(castNode(fresh(`${inner32}_cast`), inner32, n.outputs[i], DataType.FLOAT16));
        counts.casts++;
      } else float32Only.add(n.outputs[i]);
      n.outputs[i] = inner32;
    }
    if (counts.casts > castsBefore && !statistics.has(original)) counts.blocked.push(n.name);
    nodes.push(n, ...outs);
  }
  if (top) {
    g.inputs = g.inputs.map((v) => (v.elemType === DataType.FLOAT && graph.initializers.has(v.name) ? { ...v, elemType: DataType.FLOAT16 } : v));
    for (const v of g.inputs) {
      const inner = renamed.get(v.name);
      if (inner) before.push(castNode(fresh(`${inner}_cast`), v.name, inner, DataType.FLOAT16));
    }
    for (const v of g.outputs) {
      const inner = renamed.get(v.name);
      // an output that is an input as well is read from the input itself (float32 already)
      if (inner && !g.inputs.some((i) => i.name === v.name)) after.push(castNode(fresh(`${inner}_cast`), inner, v.name, DataType.FLOAT));
    }
    counts.casts += before.length + after.length;
  } else {
    g.inputs = g.inputs.map((v) => (v.elemType === DataType.FLOAT ? { ...v, elemType: DataType.FLOAT16 } : v));
    g.outputs = g.outputs.map((v) => (v.elemType === DataType.FLOAT ? { ...v, elemType: DataType.FLOAT16 } : v));
  }
  g.nodes = [...before, ...nodes, ...after];
  g.initializers = initializers;
  // a float32 value is float16 under its name in this graph; one a kept node writes is float32 under the name it has
  // now, beside its float16 copy where one is written (without one, the name is gone from the graph)
  g.valueInfo = graph.valueInfo.flatMap((v) => {
    if (v.elemType !== DataType.FLOAT) return [v];
    const name = rename(v.name);
    const inner32 = float32Name.get(name);
    const float32 = inner32 !== undefined ? [{ ...v, name: inner32 }] : [];
    return float32Only.has(name) ? float32 : [{ ...v, name, elemType: DataType.FLOAT16 }, ...float32];
  });
  return g;
}

function float32Of(values: readonly number[]): Tensor {
  return { name: '', dataType: DataType.FLOAT, dims: [values.length], data: new Uint8Array(Float32Array.from(values).buffer) };
}

/**
 * `model` in float16 (see the file comment), with the pass report. The caller has refused a model with float16,
 * bfloat16, float64 or int8 weights.
 */
export function convertToFloat16(model: Model, settings: Record<string, unknown>): { model: Model; report: PassReport } {
  const counts: Float16Counts = { tensors: 0, clamped: 0, casts: 0, blocked: [], layerNorms: 0 };
  const out = cloneModel(model);
  out.graph = convertGraph(model.graph, counts, new Map(), true);
  const before = modelSize(model).bytes;
  const after = modelSize(out).bytes;
  const ratio = before ? after / before : 1;
  const summary =
    `float16: ${formatMB(before)} → ${formatMB(after)} (${percent(ratio)}), ${counts.tensors} tensors stored float16, float32 inputs and outputs kept through Casts` +
    (counts.clamped
      ? `, ${counted(counts.clamped, 'value')} clamped to float16's range (±${FLOAT16_MAX_FINITE}, ±${FLOAT16_MIN_POSITIVE} as onnxconverter-common does)`
      : '') +
    (counts.blocked.length ? `, ${counted(counts.blocked.length, 'node')} kept float32 behind Casts (${someNames(counts.blocked, 3)})` : '') +
    (counts.layerNorms
      ? `, the variance of ${counted(counts.layerNorms, 'decomposed LayerNorm')} computed in float32 (square, ReduceMean, epsilon, Sqrt)`
      : '');
  return {
    model: out,
    report: {
      pass: 'quantize',
      settings,
      summary,
      details: {
        bytesBefore: before,
        bytesAfter: after,
        ratio,
        float16Tensors: counts.tensors,
        clampedValues: counts.clamped,
        casts: counts.casts,
        keptFloat32: counts.blocked,
        layerNormVariancesFloat32: counts.layerNorms,
      },
    },
  };
}
