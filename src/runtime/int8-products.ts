/**
 * Int8 products whose sums depend on the CPU. onnxruntime's x86 uint8 × int8 kernels without AVX-512 VNNI / AVX-VNNI
 * (bench/machine.ts int8Saturates) add pairs of products in 16 bits, which int8 weights outside [-64, 64] can saturate;
 * with VNNI (or elsewhere) they add in 32 bits. onnxruntime's session option `session.x64quantprecision`
 * (Avx2WeightS8ToU8Transformer, a level-2 rewrite) stores such weights as uint8 + 128 so that the products add in 32
 * bits on those CPUs too: the scores of CPUs with VNNI, at some speed (`compress eval --exact-int8`).
 *
 * The rewrite takes a weight that is an int8 initializer read by one of the ops below at its weight input, with an
 * int8 initializer or no zero point; it fails on a weight or zero point that two such ops read (it adds the uint8
 * copy once per reader: 'Attempt to replace the existing tensor', e.g. layers sharing an int8 weight), and leaves a
 * per-axis DequantizeLinear without zero point a scalar one, which that op then refuses as it runs: exactInt8Graph
 * gives each reader its own copy, and such a DequantizeLinear its zeros, first.
 */
import { opsetVersion, type Model, type Node, type Tensor } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { numElements } from '../onnx/tensor.ts';

/** An int8 product's weight and zero point inputs (onnxruntime's s8_overflow_ops; DynamicQuantizeLSTM has two). */
const PRODUCT_WEIGHTS: Readonly<Record<string, ReadonlyArray<readonly [weight: number, zeroPoint: number]>>> = {
  QAttention: [[1, 7]],
  MatMulIntegerToFloat: [[1, 5]],
  DynamicQuantizeMatMul: [[1, 3]],
  QGemm: [[3, 5]],
  MatMulInteger: [[1, 3]],
  QLinearMatMul: [[3, 5]],
  QLinearConv: [[3, 5]],
  DynamicQuantizeLSTM: [
    [1, 9],
    [2, 11],
  ],
};

/**
 * Float products that onnxruntime fuses with the DequantizeLinear nodes of both their operands (QDQ: an int8-static
 * projection) into an int8 product; one of a float operand stays a float product of the dequantized weight.
 */
const FLOAT_PRODUCTS = new Set(['MatMul', 'Gemm']);

/** Whether an int8 tensor holds a value outside [-64, 64], the weights whose pair sums can exceed 16 bits. */
function fullRange(t: Tensor): boolean {
  const data = new Int8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (const v of data) if (v < -64 || v > 64) return true;
  return false;
}

/** An int8 initializer of `model` by name, or undefined. */
function int8Initializer(model: Model, name: string | undefined): Tensor | undefined {
  const t = name ? model.graph.initializers.get(name) : undefined;
  return t?.dataType === DataType.INT8 ? t : undefined;
}

/** Whether a DequantizeLinear scales per axis (a scale of more than one element). */
function perAxis(model: Model, n: Node): boolean {
  const scale = model.graph.initializers.get(n.inputs[1] ?? '');
  return scale !== undefined && numElements(scale.dims) > 1;
}

/**
 * The int8 weights of `model` whose products can saturate on a CPU without VNNI: full-range int8 initializers read
 * as an int8 product's weight, or by a DequantizeLinear (per tensor or per axis) whose MatMul or Gemm reads a
 * DequantizeLinear at both operands (onnxruntime fuses the three into an int8 product); not one a product of a float
 * operand reads (weight-only int8: a float product). By name, in the order first read; empty for a float model, or
 * one quantized in 7 bits (--quantize-reduce-range).
 */
export function saturatingInt8Weights(model: Model): string[] {
  const readers = new Map<string, Node[]>();
  const dequantized = new Set<string>();
  for (const n of model.graph.nodes) {
    for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
    if (n.opType === 'DequantizeLinear' && n.outputs[0]) dequantized.add(n.outputs[0]);
  }
  const fused = (r: Node) => FLOAT_PRODUCTS.has(r.opType) && r.inputs.slice(0, 2).every((i) => dequantized.has(i));
  const found = new Set<string>();
  const take = (name: string | undefined) => {
    const t = int8Initializer(model, name);
    if (t && !found.has(t.name) && fullRange(t)) found.add(t.name);
  };
  for (const n of model.graph.nodes) {
    for (const [w] of PRODUCT_WEIGHTS[n.opType] ?? []) take(n.inputs[w]);
    if (n.opType === 'DequantizeLinear' && (readers.get(n.outputs[0] ?? '') ?? []).some(fused)) take(n.inputs[0]);
  }
  return [...found];
}

/**
 * `model` as onnxruntime's x64quantprecision rewrite takes it (see above): each int8 weight or zero point that several
 * int8 products (or DequantizeLinear nodes) read copied for each reader after the first, and each per-axis
 * DequantizeLinear of an int8 weight without a zero point given zeros, and, at opset 21 and later (QLinearMatMul-21,
 * which the rewrite does not take), each QLinearMatMul's full-range int8 weight and zero point stored as uint8 + 128
 * as the rewrite stores them; undefined where it needs none of these. The copy shares the other tensors' bytes with
 * `model`.
 */
export function exactInt8Graph(model: Model): Model | undefined {
  const slots = (n: Node): number[] => {
    if (n.opType === 'DequantizeLinear') return [0, 2];
    return (PRODUCT_WEIGHTS[n.opType] ?? []).flat();
  };
  const initializers = new Map(model.graph.initializers);
  const used = new Set<string>();
  const fresh = (base: string) => {
    let i = 1;
    while (initializers.has(`${base}_exact_int8_${i}`)) i++;
    return `${base}_exact_int8_${i}`;
  };
  let changed = false;
  const laterQLinearMatMul = (opsetVersion(model) ?? 0) >= 21;
  const nodes = model.graph.nodes.map((n) => {
    if (laterQLinearMatMul && n.opType === 'QLinearMatMul' && n.domain === '') {
      // (the rewrite takes QLinearMatMul-10 only: at opset 21 and later, its weight and zero point stored as
      // uint8 + 128 here, as the rewrite would, reading w - zp as before)
      const w = int8Initializer(model, n.inputs[3]);
      const zp = int8Initializer(model, n.inputs[5]);
      if (!w || !zp || !fullRange(w)) return n;
      const inputs = [...n.inputs];
      for (const [i, t] of [
        [3, w],
        [5, zp],
      ] as const) {
        const name = fresh(t.name);
        initializers.set(name, { ...t, name, dataType: DataType.UINT8, data: t.data.map((v) => v ^ 0x80) });
        inputs[i] = name;
      }
      changed = true;
      return { ...n, inputs };
    }
    const own = slots(n);
    if (own.length === 0) return n;
    const inputs = [...n.inputs];
    for (const i of own) {
      const t = int8Initializer(model, inputs[i]);
      if (!t) continue;
      if (!used.has(t.name)) {
        used.add(t.name);
        continue;
      }
      const name = fresh(t.name);
      initializers.set(name, { ...t, name });
      inputs[i] = name;
      changed = true;
    }
    if (n.opType === 'DequantizeLinear' && !inputs[2] && int8Initializer(model, inputs[0]) && perAxis(model, n)) {
      const scale = model.graph.initializers.get(inputs[1]!)!;
      const name = fresh(`${inputs[0]}_zero_point`);
      initializers.set(name, { name, dataType: DataType.INT8, dims: [...scale.dims], data: new Uint8Array(numElements(scale.dims)) });
      inputs[2] = name;
      changed = true;
    }
    return inputs.some((v, i) => v !== n.inputs[i]) || inputs.length !== n.inputs.length ? { ...n, inputs } : n;
  });
  return changed ? { ...model, graph: { ...model.graph, nodes, initializers } } : undefined;
}
