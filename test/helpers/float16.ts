/**
 * Half-precision variants of small models, as exporters and converters write them: every float tensor float16
 * (onnxconverter-common's convert_float_to_float16), every one bfloat16, or float16 weights each read through a
 * Cast to float32 (convert_float_to_float16 with keep_io_types and a float32 op block list).
 */
import { DataType } from '../../src/onnx/dtype.ts';
import { cloneModel, float16Tensor, readFloat32, type Model, type Tensor } from '../../src/onnx/index.ts';

const clamp16 = (x: number) => Math.max(-65504, Math.min(65504, x));

/** `t` as bfloat16 (float32 rounded to its top 16 bits, to nearest even). */
function bfloat16Tensor(t: Tensor): Tensor {
  const bits = new Uint32Array(Float32Array.from(readFloat32(t)).buffer);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = (bits[i]! + 0x7fff + ((bits[i]! >>> 16) & 1)) >>> 16;
  return { name: t.name, dataType: DataType.BFLOAT16, dims: [...t.dims], data: new Uint8Array(out.buffer) };
}

/**
 * Every float32 tensor (initializers, Constant values; clamped to float16's range, as a mask's float32 minimum must
 * be), Cast target and graph input/output of `model` in `type` (float16 unless told).
 */
export function toFloat16(model: Model, type: typeof DataType.FLOAT16 | typeof DataType.BFLOAT16 = DataType.FLOAT16): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const half = (t: Tensor): Tensor =>
    t.dataType !== DataType.FLOAT ? t : type === DataType.FLOAT16 ? float16Tensor(t.name, t.dims, readFloat32(t).map(clamp16)) : bfloat16Tensor(t);
  for (const [k, t] of g.initializers) g.initializers.set(k, half(t));
  for (const n of g.nodes) {
    for (const [k, a] of Object.entries(n.attributes)) if (a.type === 'tensor') n.attributes[k] = { ...a, value: half(a.value) };
    if (n.opType === 'Cast' && n.attributes.to?.type === 'int' && n.attributes.to.value === DataType.FLOAT) n.attributes.to = { type: 'int', value: type };
  }
  for (const v of [...g.inputs, ...g.outputs]) if (v.elemType === DataType.FLOAT) v.elemType = type;
  g.valueInfo = [];
  return m;
}

/** Every float32 tensor, Cast target and graph input/output of `model` in float64 (a model converted to double). */
export function toFloat64(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const double = (t: Tensor): Tensor =>
    t.dataType !== DataType.FLOAT
      ? t
      : { name: t.name, dataType: DataType.DOUBLE, dims: [...t.dims], data: new Uint8Array(Float64Array.from(readFloat32(t)).buffer) };
  for (const [k, t] of g.initializers) g.initializers.set(k, double(t));
  for (const n of g.nodes) {
    for (const [k, a] of Object.entries(n.attributes)) if (a.type === 'tensor') n.attributes[k] = { ...a, value: double(a.value) };
    if (n.opType === 'Cast' && n.attributes.to?.type === 'int' && n.attributes.to.value === DataType.FLOAT)
      n.attributes.to = { type: 'int', value: DataType.DOUBLE };
  }
  for (const v of [...g.inputs, ...g.outputs]) if (v.elemType === DataType.FLOAT) v.elemType = DataType.DOUBLE;
  g.valueInfo = [];
  return m;
}

/** `model` with every float32 initializer stored float16 and read through a Cast to float32 (the graph stays float32). */
export function castFloat16Weights(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const casts: Model['graph']['nodes'] = [];
  for (const [k, t] of [...g.initializers]) {
    if (t.dataType !== DataType.FLOAT) continue;
    g.initializers.delete(k);
    g.initializers.set(`${k}_fp16`, float16Tensor(`${k}_fp16`, t.dims, readFloat32(t).map(clamp16)));
    casts.push({
      name: `${k}_cast`,
      opType: 'Cast',
      domain: '',
      inputs: [`${k}_fp16`],
      outputs: [k],
      attributes: { to: { type: 'int', value: DataType.FLOAT } },
    });
  }
  g.nodes = [...casts, ...g.nodes];
  return m;
}
