/**
 * `--format transformers.js` of an encoder-only model (transformers' BertModel, as `distill --stage general` writes
 * from a teacher without a classifier): the folder loads in @huggingface/transformers'
 * `pipeline('feature-extraction', FOLDER)` (model_type bert, its hidden states read from `last_hidden_state`), and
 * the hidden states it gives match the project's own onnxruntime run of the same model file on the same token ids,
 * float and int8 alike. config.json keeps the base class and names no labels. Tolerance as in
 * transformers-js.test.ts: the two sides run the same graph with different session options (fusions, threads).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { findBert } from '../../src/bert/discover.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { cloneModel, loadModel } from '../../src/onnx/index.ts';
import { renameValue } from '../../src/onnx/analysis.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { Tensor, openSession } from '../../src/runtime/session.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { sentence, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
env.allowRemoteModels = false;

const TOLERANCE = 1e-5;
const dir = mkdtempSync(join(tmpdir(), 'bc-tjs-encoder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const texts = Array.from({ length: 12 }, (_, i) => sentence(i));

/** A general-stage output folder: the encoder-only graph, vocab.txt, config.json naming BertModel and no labels. */
function encoderFolder(name: string, model = encoderOnly(tinyBert({}, { std: 0.3, seed: 6 }))): string {
  const src = writeModelFolder(join(dir, name), model);
  writeFileSync(join(src, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
  return src;
}

/** The project's hidden states for each text: onnxruntime on `onnx`, tokenized from `sideDir`, one text per run. */
async function projectHidden(onnx: string, sideDir: string): Promise<Float32Array[]> {
  const tokenizer = loadTokenizer(sideDir);
  const session = await openSession(onnx);
  try {
    const out: Float32Array[] = [];
    for (const t of texts) {
      const e = tokenizer.encode(t, null, 16);
      const ids = (xs: readonly number[]) => new Tensor('int64', BigInt64Array.from(xs, BigInt), [1, xs.length]);
      const r = await session.run({ input_ids: ids(e.ids), attention_mask: ids(e.ids.map(() => 1)), token_type_ids: ids(e.typeIds) }, ['last_hidden_state']);
      out.push(r.last_hidden_state!.data as Float32Array);
    }
    return out;
  } finally {
    await session.release();
  }
}

/** transformers.js's hidden states for each text (pooling none), and the dtype it loaded. */
async function pipelineHidden(folder: string, dtype?: 'fp32' | 'q8'): Promise<{ loaded: string; hidden: Float32Array[] }> {
  const p = (await pipeline('feature-extraction', folder, dtype ? { dtype } : {})) as FeatureExtractionPipeline;
  try {
    const hidden: Float32Array[] = [];
    for (const t of texts) hidden.push((await p(t)).data as Float32Array);
    const loaded = (p.model.sessions.model as unknown as { config: { dtype: string } }).config.dtype;
    return { loaded, hidden };
  } finally {
    await p.dispose();
  }
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(b.map((x) => x.length)).toEqual(a.map((x) => x.length)); // the same tokens, the same width
  let d = 0;
  a.forEach((row, i) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i]![j]!)))));
  return d;
}

describe('--format transformers.js of an encoder-only model', () => {
  it('pruned and int8: feature-extraction loads both files, the hidden states match the project; config.json names BertModel, no labels', async () => {
    const src = encoderFolder('general');
    const out = join(dir, 'tjs');
    const res = await compressToTransformersJs({
      input: join(src, 'model.onnx'),
      output: out,
      steps: [
        { pass: 'prune-ffn', settings: { ratio: 0.5 } },
        { pass: 'quantize', settings: { mode: 'int8' } },
      ],
    });
    expect(res.models.map((m) => m.dtype)).toEqual(['fp32', 'q8']);
    expect(res.renamed).toEqual({});
    const config = readJson(join(out, 'config.json'));
    expect(config).toMatchObject({ model_type: 'bert', architectures: ['BertModel'], 'transformers.js_config': { dtype: 'q8' } });
    expect(config.id2label).toBeUndefined();
    expect(config.label2id).toBeUndefined();
    expect(loadModel(join(out, 'onnx/model.onnx')).graph.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);

    const q8 = await pipelineHidden(out);
    expect(q8.loaded).toBe('q8');
    expect(maxDiff(await projectHidden(join(out, 'onnx/model_quantized.onnx'), src), q8.hidden)).toBeLessThan(TOLERANCE);
    const fp32 = await pipelineHidden(out, 'fp32');
    expect(fp32.loaded).toBe('fp32');
    const ours = await projectHidden(join(out, 'onnx/model.onnx'), src);
    expect(maxDiff(ours, fp32.hidden)).toBeLessThan(TOLERANCE);
    expect(maxDiff(ours, q8.hidden)).toBeGreaterThan(TOLERANCE); // the two files differ: each was loaded as asked
  }, 60_000);

  it("hidden states under another name are renamed to last_hidden_state; the base class is named when the source's config names none", async () => {
    const model = cloneModel(encoderOnly(tinyBert({}, { std: 0.3, seed: 7 })));
    renameValue(model.graph, 'last_hidden_state', 'encoder_out');
    const src = encoderFolder('renamed-src', model);
    writeFileSync(join(src, 'config.json'), JSON.stringify({ model_type: 'bert', max_length: 16 }));
    expect(findBert(model).head).toBeUndefined();
    const out = join(dir, 'renamed');
    const res = await compressToTransformersJs({ input: join(src, 'model.onnx'), output: out, steps: [{ pass: 'prune-heads', settings: { ratio: 0.25 } }] });
    expect(res.renamed).toEqual({ encoder_out: 'last_hidden_state' });
    expect(readJson(join(out, 'config.json')).architectures).toEqual(['BertModel']);
    const theirs = await pipelineHidden(out);
    expect(maxDiff(await projectHidden(join(out, 'onnx/model.onnx'), src), theirs.hidden)).toBeLessThan(TOLERANCE);
  }, 60_000);
});
