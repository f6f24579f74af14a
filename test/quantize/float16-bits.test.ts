/**
 * quantize float16's tensors, bit for bit: the float16 bytes it writes for a sweep of float32 bit patterns (every
 * 65,521st of the 2^32, and the edges: ±0, the clamps at 1e-7 and 1e4, float16's subnormals, halfway cases, ±Infinity,
 * NaN), read from an unaligned offset as a weight read from a file is, and for the shared teacher and fixtures. The
 * digests are those the conversion wrote when it clamped and rounded each value through floatToHalf (before it read
 * the float32 bits in place): a faster conversion must write the same bytes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { createModel, type Model, type Tensor } from '../../src/onnx/graph.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { convertToFloat16 } from '../../src/quantize/float16.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { fixture, hasFixtures, hasTeachers, TEACHERS } from '../helpers/paths.ts';

/** sha256 of every tensor of `m`: initializers (name, type, bytes), then Constant-like attribute tensors in node order. */
function tensorsDigest(m: Model): string {
  const h = createHash('sha256');
  for (const t of m.graph.initializers.values()) h.update(t.name).update(String(t.dataType)).update(t.data);
  for (const n of m.graph.nodes) for (const a of Object.values(n.attributes)) if (a.type === 'tensor') h.update(String(a.value.dataType)).update(a.value.data);
  return h.digest('hex');
}

function bitPatterns(): Uint32Array {
  const words: number[] = [];
  for (let b = 0; b < 2 ** 32; b += 65521) words.push(b);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const edges = [0, 1e-7, Math.fround(1e-7), 1e-8, 5.96e-8, 6.1e-5, 6.103515625e-5, 1e4, 10000.5, 2e4, 65504, 65519, 65520, 1e30, Infinity, NaN];
  const rounding = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 1.00048828125, 0.333333, 2 ** -14 - 2 ** -25, 2 ** -24, 2 ** -25, 3 * 2 ** -26];
  for (const x of [...edges, ...rounding])
    for (const s of [x, -x]) {
      f[0] = s;
      words.push(u[0]);
    }
  return Uint32Array.from(words);
}

describe('quantize float16 bytes', () => {
  it('writes the same float16 bits for a sweep of float32 bit patterns read from an unaligned offset, and clamps as many', () => {
    const words = bitPatterns();
    const bytes = new Uint8Array(words.byteLength + 1);
    bytes.set(new Uint8Array(words.buffer), 1);
    const W: Tensor = { name: 'W', dataType: DataType.FLOAT, dims: [words.length], data: bytes.subarray(1) };
    const model = createModel(
      {
        name: 'g',
        nodes: [{ name: 'add', opType: 'Add', domain: '', inputs: ['x', 'W'], outputs: ['y'], attributes: {} }],
        initializers: new Map([['W', W]]),
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [words.length] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [words.length] }],
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: out, report } = convertToFloat16(model, { mode: 'float16' });
    expect(words.length).toBe(65600);
    expect(tensorsDigest(out)).toBe('ecf53e3f58b936d6863beb6cc6af4dd664013c6267d7ad59c8810858ede70de1');
    // (the values clamped; not the 259 NaN patterns, which stay NaN)
    expect(report.details?.clampedValues).toBe(55959);
  });

  it('counts the values it clamps, not a NaN, which stays NaN', () => {
    const W: Tensor = {
      name: 'W',
      dataType: DataType.FLOAT,
      dims: [5],
      data: new Uint8Array(Float32Array.of(Number.NaN, 1e-8, 2e4, 1, Number.POSITIVE_INFINITY).buffer),
    };
    const model = createModel(
      {
        name: 'g',
        nodes: [{ name: 'add', opType: 'Add', domain: '', inputs: ['x', 'W'], outputs: ['y'], attributes: {} }],
        initializers: new Map([['W', W]]),
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [5] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [5] }],
        valueInfo: [],
      },
      [{ domain: '', version: 14 }],
    );
    const { model: out, report } = convertToFloat16(model, { mode: 'float16' });
    expect(Array.from(new Uint16Array(out.graph.initializers.get('W')!.data.slice().buffer))).toEqual([0x7e00, 0x0002, 0x70e2, 0x3c00, 0x7c00]);
    expect(report.details?.clampedValues).toBe(2);
    expect(report.summary).toContain(', 2 values clamped to float16');
  });

  const models: ReadonlyArray<[string, string, boolean, string, number]> = [
    ['the teacher sst2-L2H256', `${TEACHERS}/sst2-L2H256/model.onnx`, hasTeachers, '0969d4d7b120c654b25c5c38438dff21928b61e9c40008d0c487a5bac6a12570', 43],
    ['keras2onnx', fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'), hasFixtures, '9bc9e1b1f67ba42412ea9660acaea9fb4c8df5f927b9d39b30f64464af49339d', 1],
    ['XLM-R', fixture('xlmroberta-crossencoder-tiny-torch27-op14.onnx'), hasFixtures, 'fb22aa84036b973ac02b8cbf9a0c01e24781b66fe8eb55f0512bf8c1144daf17', 1],
    ['DistilBERT', fixture('distilbert-seqcls-tiny-torch110-op11.onnx'), hasFixtures, '21510b0bbfd035f450fdfe29bad9a8d0252fc8de8b2048db0f1a7a74ca5cc5ff', 5],
  ];
  for (const [label, path, present, digest, clamped] of models) {
    it.skipIf(!present)(`writes the same float16 tensors for ${label}`, async () => {
      const model = loadModel(path);
      const { model: out, report } = await quantizePass.run(model, findBert(model), quantizePass.parse({ mode: 'float16' }), {});
      expect(tensorsDigest(out)).toBe(digest);
      expect(report.details?.clampedValues).toBe(clamped);
    });
  }
});
