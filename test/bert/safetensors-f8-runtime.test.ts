/**
 * The safetensors reader's 8-bit floats (F8_E4M3, F8_E5M2, F8_E8M0: torch's float8_e4m3fn, float8_e5m2,
 * float8_e8m0fnu) against onnxruntime's reading of the same formats (ONNX's FLOAT8E4M3FN, FLOAT8E5M2 and, opset 24,
 * FLOAT8E8M0): every one of the 256 bytes of each, cast to float by onnxruntime, is the value the reader gives it
 * (NaNs, infinities, subnormals and −0 included).
 */
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/bert/safetensors.ts';
import { cloneModel, DataType } from '../../src/onnx/index.ts';
import { openModelSession } from '../../src/runtime/model-session.ts';
import { onnxNode, tinyBert } from '../helpers/models.ts';

const BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A safetensors file holding BYTES as one tensor `t` of `dtype`. */
function safetensorsOf(dtype: string): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ t: { dtype, shape: [256], data_offsets: [0, 256] } }));
  const file = new Uint8Array(8 + header.length + 256);
  new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
  file.set(header, 8);
  file.set(BYTES, 8 + header.length);
  return file;
}

/** onnxruntime's float32 values of BYTES read as ONNX element type `dataType`: Cast(w, FLOAT) at `opset`. */
async function onnxruntimeValues(dataType: number, opset: number): Promise<number[]> {
  const m = cloneModel(tinyBert({ numLayers: 1, hiddenSize: 8, numHeads: 2, intermediateSize: 16, vocabSize: 20, maxPositions: 8 }));
  const g = m.graph;
  g.nodes = [onnxNode('cast', 'Cast', ['w'], ['y'], { to: { type: 'int', value: DataType.FLOAT } })];
  g.initializers = new Map([['w', { name: 'w', dataType, dims: [256], data: BYTES }]]);
  g.inputs = [];
  g.valueInfo = [];
  g.outputs = [{ name: 'y' }];
  m.opsetImports = m.opsetImports.map((o) => (o.domain === '' ? { ...o, version: opset } : o));
  const session = await openModelSession(m, { threads: 1, graphOptimizationLevel: 'disabled' });
  try {
    return Array.from((await session.run({})).y!.data as Float32Array);
  } finally {
    await session.release();
  }
}

describe("safetensors' 8-bit floats", () => {
  it.each([
    ['F8_E4M3', 17, 19],
    ['F8_E5M2', 19, 19],
    ['F8_E8M0', 24, 24],
  ] as const)("%s: every byte reads as onnxruntime's Cast of ONNX type %i reads it", async (dtype, dataType, opset) => {
    const ours = Array.from(decodeSafetensors(safetensorsOf(dtype)).tensors.get('t')!.data);
    // (toEqual tells −0 from 0 and takes NaN for NaN)
    expect(ours).toEqual(await onnxruntimeValues(dataType, opset));
  });
});
