/**
 * `--format transformers.js` folders as a page runs them: transformers.js over onnxruntime-web's wasm backend (the
 * `onnxruntime-web/webgpu` build transformers.js imports in a browser, one thread, no proxy worker, the model's bytes
 * as a fetch gives them), where the other transformers.js tests run it over onnxruntime-node. transformers.js takes
 * the runtime a JS environment puts at `globalThis[Symbol.for('onnxruntime')]`, read once when it is imported: it is
 * set here first, and transformers.js imported after it (this file runs in its own process). For each dtype a
 * compressed folder holds (q8 and its fp32 file, fp16), `pipeline('text-classification')` gives on the first 20 SST-2
 * dev sentences the labels `compress eval` gives on onnxruntime-node (one sentence per batch, so dynamic int8 sees the
 * same activation ranges as the pipeline's one-sentence calls). (q4 and every other form's logits are compared between
 * the two runtimes in onnxruntime-web.test.ts; quantizing the teacher to int4 took 50 s here.)
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as web from 'onnxruntime-web/webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { GLUE_DIR, TEACHERS, glueSubset, hasGlue, hasTeachers } from '../helpers/paths.ts';

registerAllPasses();
web.env.wasm.numThreads = 1;
web.env.wasm.proxy = false;
web.env.wasm.wasmPaths = `${pathToFileURL(dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))).href}/`;
// transformers.js in Node hands onnxruntime a file path, which onnxruntime-web would fetch: a page gets the bytes
const created: web.InferenceSession[] = [];
const runtime = {
  ...web,
  InferenceSession: {
    async create(model: string | Uint8Array, options?: web.InferenceSession.SessionOptions) {
      const session = await web.InferenceSession.create(typeof model === 'string' ? new Uint8Array(readFileSync(model)) : model, options);
      created.push(session);
      return session;
    },
  },
};
(globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = runtime;
const { env, pipeline } = await import('@huggingface/transformers');
env.allowRemoteModels = false;

const TEACHER = join(TEACHERS, 'sst2-L2H256', 'model.onnx');
const ROWS = 20;
const dir = mkdtempSync(join(tmpdir(), 'bc-tjs-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FOLDERS: Array<{ name: string; steps: PassStep[]; dtypes: string[] }> = [
  {
    name: 'prune-heads 0.5 + int8',
    steps: [
      { pass: 'prune-heads', settings: { ratio: 0.5 } },
      { pass: 'quantize', settings: { mode: 'int8' } },
    ],
    dtypes: ['q8', 'fp32'],
  },
  { name: 'float16', steps: [{ pass: 'quantize', settings: { mode: 'float16' } }], dtypes: ['fp16'] },
];

describe.skipIf(!hasGlue || !hasTeachers)('--format transformers.js in transformers.js over onnxruntime-web (wasm)', () => {
  const glue = hasGlue ? glueSubset(dir, ['SST-2/dev.tsv'], ROWS) : '';
  const texts = hasGlue
    ? readFileSync(join(GLUE_DIR, 'SST-2/dev.tsv'), 'utf8')
        .split('\n')
        .slice(1, ROWS + 1)
        .map((line) => line.split('\t')[0]!)
    : [];

  it.each(FOLDERS)('$name: the labels compress eval gives', async ({ name, steps, dtypes }) => {
    const out = join(dir, name.replace(/[^a-z0-9]+/gi, '-'));
    await compressToTransformersJs({ input: TEACHER, output: out, steps });
    for (const dtype of dtypes) {
      const evaluated = (await evaluate({ model: out, tasks: ['SST-2'], glueDir: glue, dtype, batchSize: 1, threads: 1 })).tasks[0]!;
      const expected = Array.from(evaluated.predictions, (p) => evaluated.task.labels[p]);
      const before = created.length;
      // the device transformers.js takes for the runtime given (it lists none for it), run on the wasm backend
      const classify = await pipeline('text-classification', out, {
        dtype: dtype as 'fp32',
        device: 'auto',
        session_options: { executionProviders: ['wasm'] },
      });
      try {
        // the session is onnxruntime-web's, of the dtype's file
        expect(created.length).toBe(before + 1);
        expect((classify.model.sessions.model as unknown as { config: { dtype: string } }).config.dtype).toBe(dtype);
        const labels: string[] = [];
        for (const text of texts) labels.push(((await classify(text)) as Array<{ label: string }>)[0]!.label);
        expect(labels, dtype).toEqual(expected);
        expect(new Set(labels)).toEqual(new Set(['negative', 'positive']));
      } finally {
        await classify.dispose();
      }
    }
  });
});
