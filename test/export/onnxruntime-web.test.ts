/**
 * `--format transformers.js` folders in the browser's runtime: every .onnx a compressed export writes (fp32 and its
 * quantized file) loads in onnxruntime-web's wasm backend, run here in Node (one thread, no proxy worker, the wasm
 * binary read from the onnxruntime-web package in node_modules: nothing is fetched), and its logits on a padded batch
 * match onnxruntime-node's on the same file. An export that writes an op the wasm build lacks fails here: the wasm
 * session refuses it (the control below shows the check does refuse such a graph, one the CPU build of Node runs).
 *
 * Tolerances, per form: both sides run the same graph on the same ids; they differ in kernels (wasm SIMD128 against
 * x64 MLAS) and fusions, which move float32 logits by rounding. Measured on this tiny model (logits of order 1):
 * at most 1.5e-6 for the float files (--optimize's), 9.6e-7 for int4, 2.4e-7 for the int8 forms (the SST-2 teacher:
 * 1.9e-6 for every form). Float and int4 files (4-bit weights, float activations) get FLOAT, 1e-5. Forms that quantize
 * activations (dynamic int8 at run time, int8-static by calibrated ranges, mixed) get INT8, 1e-4: a rounding
 * difference before a quantizer can move one activation by a whole step, and onnxruntime-node's u8s8 kernels differ
 * by CPU (VNNI here; AVX2 without it sums in saturating 16-bit pairs). float16 files (model_fp16.onnx) get FLOAT16,
 * 2e-4: the two builds round some float16 products one float16 step apart (a query projection's 14699 against 14700
 * in float16 bits), which moves this model's logits by at most 7.9e-5 (the SST-2 teacher's by 2.4e-7); its float16
 * and fp32 files differ by 2.4e-3 to 3.5e-3. The quantized and fp32 files of one model differ by more than 10× the
 * tolerance, so a wrong file or a wrong kernel does not pass.
 *
 * On an x64 CPU without AVX-512 VNNI / AVX-VNNI (int8Saturates) onnxruntime-node's u8s8 kernels add pairs of
 * products in saturating 16 bits, so full-range int8 weights move its logits by 0.1 to 1.0 from the wasm build's
 * (which adds in 32 bits): there the int8 forms quantize with reduceRange (7-bit weights, whose pair sums fit in 16
 * bits, as compress's note advises on such a CPU), and both builds agree within INT8 again.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as web from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuInfo, int8Saturates } from '../../src/bench/machine.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { cloneModel, loadModel, saveModel } from '../../src/onnx/index.ts';
import type { CalibrationSource, PassStep } from '../../src/pass/pass.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { batchLogits, maxRowDiff, paddedBatch, type TokenBatch, tinyBert, TINY_CONFIG } from '../helpers/models.ts';

registerAllPasses();

// The wasm backend as a page gets it, minus the threads: one thread and no proxy worker, the binary read from the
// package's dist folder (the `./ort-wasm-simd-threaded.wasm` export names it), so the test needs no network.
web.env.wasm.numThreads = 1;
web.env.wasm.proxy = false;
web.env.wasm.wasmPaths = `${pathToFileURL(dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))).href}/`;

const dir = mkdtempSync(join(tmpdir(), 'bc-ort-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const batch = paddedBatch([5, 12, 3, 9], TINY_CONFIG.vocabSize, 17);
const calibration: CalibrationSource = syntheticCalibration([4, 4, 4], TINY_CONFIG.vocabSize, { classes: 2 });
const source = writeModelFolder(join(dir, 'source'), tinyBert({}, { std: 0.3, seed: 4 }));

/** Whether this CPU's int8 products saturate (see above): the int8 forms then quantize with reduceRange. */
const SATURATES = int8Saturates(cpuInfo().flags);

function quantize(settings: Record<string, unknown>): PassStep {
  const int8 = typeof settings.mode === 'string' && !/^(float16|int4-block)/.test(settings.mode);
  return { pass: 'quantize', settings: SATURATES && int8 ? { ...settings, reduceRange: true } : settings };
}

/** The logits onnxruntime-web's wasm backend computes for `file` on `b`, as rows. */
async function webLogits(file: string | Uint8Array, b: TokenBatch, externalData?: web.InferenceSession.SessionOptions['externalData']): Promise<number[][]> {
  const options = { executionProviders: ['wasm'], ...(externalData ? { externalData } : {}) };
  const session = typeof file === 'string' ? await web.InferenceSession.create(file, options) : await web.InferenceSession.create(file, options);
  try {
    const dims = [b.inputIds.length, b.inputIds[0]!.length];
    const t = (rows: number[][]) => new web.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), dims);
    const all: Record<string, web.Tensor> = { input_ids: t(b.inputIds), attention_mask: t(b.attentionMask), token_type_ids: t(b.tokenTypeIds) };
    const out = (await session.run(Object.fromEntries(session.inputNames.map((n) => [n, all[n]!])))).logits!;
    const data = Array.from(out.data as Float32Array);
    const n = out.dims[1]!;
    return Array.from({ length: out.dims[0]! }, (_, i) => data.slice(i * n, (i + 1) * n));
  } finally {
    await session.release();
  }
}

const FLOAT = 1e-5;
/** Forms that quantize activations (dynamic int8 at run time, int8-static by calibrated ranges): see above. */
const INT8 = 1e-4;
/** float16 files (quantize float16: float16 weights and activations, float32 inputs and logits): see above. */
const FLOAT16 = 2e-4;

/**
 * Each export: its name, the steps `compress` runs, the ONNX files it writes, the ops its last file must hold (so
 * the form is what it says), and the tolerance of that file (the fp32 model.onnx of a quantized form: FLOAT).
 */
const FORMS: Array<{ name: string; steps: PassStep[]; files: string[]; ops?: string[]; tolerance: number }> = [
  { name: 'int8', steps: [quantize({ mode: 'int8' })], files: ['model.onnx', 'model_quantized.onnx'], ops: ['MatMulIntegerToFloat'], tolerance: INT8 },
  {
    name: 'int8 --per-tensor',
    steps: [quantize({ mode: 'int8', perChannel: false })],
    files: ['model.onnx', 'model_quantized.onnx'],
    ops: ['MatMulIntegerToFloat'],
    tolerance: INT8,
  },
  {
    name: 'int8-group:16',
    steps: [quantize({ mode: 'int8-group:16' })],
    files: ['model.onnx', 'model_quantized.onnx'],
    ops: ['MatMulIntegerToFloat'],
    tolerance: INT8,
  },
  {
    name: 'int8-static',
    steps: [quantize({ mode: 'int8-static' })],
    files: ['model.onnx', 'model_quantized.onnx'],
    ops: ['QuantizeLinear', 'DequantizeLinear'],
    tolerance: INT8,
  },
  // mixed:0.5 keeps both layers of this tiny model at 8 bits (its embeddings weigh more than the teacher's); 0.3 mixes
  // 4-bit and 8-bit layers, as mixed:0.5 does on the teacher
  {
    name: 'mixed:0.3',
    steps: [quantize({ mode: 'mixed:0.3' })],
    files: ['model.onnx', 'model_q4.onnx'],
    ops: ['MatMulNBits', 'MatMulIntegerToFloat'],
    tolerance: INT8,
  },
  { name: 'int4-block:32', steps: [quantize({ mode: 'int4-block:32' })], files: ['model.onnx', 'model_q4.onnx'], ops: ['MatMulNBits'], tolerance: FLOAT },
  {
    name: 'uneven pruned heads (3 of 4, 1 of 4) + int8',
    steps: [{ pass: 'prune-heads', settings: { heads: '0:1,2,3;1:0' } }, quantize({ mode: 'int8' })],
    files: ['model.onnx', 'model_quantized.onnx'],
    ops: ['MatMulIntegerToFloat'],
    tolerance: INT8,
  },
  { name: '--share-layers all', steps: [{ pass: 'share-layers', settings: { share: 'all' } }], files: ['model.onnx'], tolerance: FLOAT },
  // the teacher's 64 is a quarter of its hidden size; 16 is half of this model's 32
  { name: '--factorize-embeddings 16', steps: [{ pass: 'factorize-embeddings', settings: { rank: 16 } }], files: ['model.onnx'], tolerance: FLOAT },
  { name: '--optimize', steps: [{ pass: 'optimize', settings: {} }], files: ['model.onnx'], tolerance: FLOAT },
  // beyond the default: every fused com.microsoft op the optimize pass writes (EmbedLayerNormalization and Attention
  // in model.onnx, QAttention over the int8 Q/K/V in model_quantized.onnx)
  {
    name: 'int8 --optimize all',
    steps: [quantize({ mode: 'int8' }), { pass: 'optimize', settings: { rewrites: 'all' } }],
    files: ['model.onnx', 'model_quantized.onnx'],
    ops: ['QAttention', 'SkipLayerNormalization', 'MatMulIntegerToFloat'],
    tolerance: INT8,
  },
  { name: 'float16', steps: [quantize({ mode: 'float16' })], files: ['model.onnx', 'model_fp16.onnx'], tolerance: FLOAT16 },
  {
    name: '--share-layers all + float16',
    steps: [{ pass: 'share-layers', settings: { share: 'all' } }, quantize({ mode: 'float16' })],
    files: ['model.onnx', 'model_fp16.onnx'],
    tolerance: FLOAT16,
  },
  {
    name: '--optimize all + float16',
    steps: [{ pass: 'optimize', settings: { rewrites: 'all' } }, quantize({ mode: 'float16' })],
    files: ['model.onnx', 'model_fp16.onnx'],
    ops: ['Attention', 'SkipLayerNormalization'],
    tolerance: FLOAT16,
  },
  {
    name: '--prune-ffn 0.5 --drop-layers 1',
    steps: [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'drop-layers', settings: { layers: '1' } },
    ],
    files: ['model.onnx'],
    tolerance: FLOAT,
  },
];

describe('--format transformers.js exports run in onnxruntime-web (wasm) as in onnxruntime-node', () => {
  const compared = new Map<string, number[][]>(); // sha256 → wasm logits: the quantize forms share one model.onnx
  it.each(FORMS)('$name', async ({ name, steps, files, ops, tolerance }) => {
    const out = join(dir, name.replace(/[^a-z0-9]+/gi, '-'));
    await compressToTransformersJs({ input: join(source, 'model.onnx'), output: out, steps, context: { calibration } });
    expect(readdirSync(join(out, 'onnx')).filter((f) => f.endsWith('.onnx'))).toEqual(files);
    const last = loadModel(join(out, 'onnx', files.at(-1)!)).graph.nodes.map((n) => n.opType);
    for (const op of ops ?? []) expect(last).toContain(op);
    const logits: number[][][] = [];
    for (const f of files) {
      const file = join(out, 'onnx', f);
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
      let theirs = compared.get(sha);
      if (!theirs) {
        theirs = await webLogits(file, batch);
        expect(maxRowDiff((await batchLogits(file, batch)).rows, theirs), f).toBeLessThan(f === 'model.onnx' ? FLOAT : tolerance);
        compared.set(sha, theirs);
      }
      logits.push(theirs);
    }
    // the quantized file is another model than the float one: the wasm session did load each
    if (logits.length === 2) expect(maxRowDiff(logits[0]!, logits[1]!)).toBeGreaterThan(10 * tolerance);
  });

  it('refuses a graph with an op the wasm build lacks (com.microsoft.nchwc ReorderInput, x64 only) that onnxruntime-node runs', async () => {
    // onnxruntime registers the NCHWc ops (schemas and CPU kernels) where MLAS has an NCHWc block size above 1: every
    // x64 CPU (MLAS_PLATFORM sets 8 in its SSE2 baseline), never the wasm build. (MatMulFpQ4, the control before, runs
    // only where MLAS has 4-bit kernels: onnxruntime-node refuses it on an AVX2-only CPU.)
    const model = cloneModel(loadModel(join(source, 'model.onnx')));
    model.graph.initializers.set('nchw_shape', {
      name: 'nchw_shape',
      dataType: 7,
      dims: [4],
      data: new Uint8Array(BigInt64Array.from([1n, -1n, 1n, 1n]).buffer),
    });
    model.graph.nodes.push(
      { name: 'to_nchw', opType: 'Reshape', domain: '', inputs: ['logits', 'nchw_shape'], outputs: ['nchw'], attributes: {} },
      { name: 'reorder', opType: 'ReorderInput', domain: 'com.microsoft.nchwc', inputs: ['nchw'], outputs: ['nchwc_out'], attributes: {} },
    );
    model.graph.outputs.push({ name: 'nchwc_out' });
    model.opsetImports.push({ domain: 'com.microsoft.nchwc', version: 1 });
    const file = join(dir, 'nchwc.onnx');
    saveModel(model, file);
    expect((await batchLogits(file, batch)).rows).toHaveLength(4);
    await expect(webLogits(file, batch)).rejects.toThrow(/com\.microsoft\.nchwc:ReorderInput\(-?\d+\) is not a registered function\/op/);
  });

  it('models with their weights in external data load as transformers.js hands them to the wasm backend (the data files config.json names)', async () => {
    const out = join(dir, 'external');
    // a threshold both files pass here, as a 2.2 GB float model does (and the int8 model of a 7 GB one)
    await compressToTransformersJs({ input: join(source, 'model.onnx'), output: out, steps: [quantize({ mode: 'int8' })], externalDataThreshold: 10_000 });
    // transformers.js (session.js): the model's bytes, and `${file}_data` for each file use_external_data_format names
    const named = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config']?.use_external_data_format ?? {};
    expect(named).toEqual({ 'model.onnx': true, 'model_quantized.onnx': true });
    const logits = async (f: string) =>
      webLogits(new Uint8Array(readFileSync(join(out, 'onnx', f))), batch, [
        { path: `${f}_data`, data: new Uint8Array(readFileSync(join(out, 'onnx', `${f}_data`))) },
      ]);
    const reference = await webLogits(join(source, 'model.onnx'), batch);
    expect(maxRowDiff(await logits('model.onnx'), reference)).toBeLessThan(FLOAT);
    const nodeInt8 = (await batchLogits(join(out, 'onnx/model_quantized.onnx'), batch)).rows;
    expect(maxRowDiff(await logits('model_quantized.onnx'), nodeInt8)).toBeLessThan(INT8);
    expect(readdirSync(join(out, 'onnx')).sort()).toEqual([
      'model.onnx',
      'model.onnx.json',
      'model.onnx_data',
      'model_quantized.onnx',
      'model_quantized.onnx.json',
      'model_quantized.onnx_data',
    ]);
  });
});
