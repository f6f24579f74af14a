/**
 * A model whose graph fixes its batch size (a static-shape export at [1, seq]) written for transformers.js: its
 * pipeline runs a list of texts as one batch, which onnxruntime refuses for a graph of batch 1, so the folder's result
 * (and `compress` / `export --format transformers.js`) says so, where it wrote the folder without a word; a model of a
 * dynamic batch size gets no such note.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, pipeline, type TextClassificationPipeline } from '@huggingface/transformers';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { sentence, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-fixed-batch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('--format transformers.js of a model whose graph fixes its batch size at 1', () => {
  it('notes that its pipeline takes one text at a time (a list of two fails in onnxruntime); a dynamic batch gets no note', async () => {
    const model = tinyBert();
    for (const input of model.graph.inputs) input.shape = [1, 'sequence_length'];
    const fixed = writeModelFolder(join(root, 'batch1'), model);
    const out = join(root, 'batch1-tjs');
    const res = await compressToTransformersJs({ input: join(fixed, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }] });
    expect(res.notes).toEqual([
      `note: ${out}'s model fixes its batch size at 1: transformers.js runs a list of texts as one batch, which onnxruntime refuses unless it holds 1 text; call its pipeline with one text at a time`,
    ]);
    // what the note says: one text is classified, a list of two is refused
    const p = (await pipeline('text-classification', out)) as TextClassificationPipeline;
    try {
      expect(await p(sentence(1))).toHaveLength(1);
      await expect(p([sentence(1), sentence(4)])).rejects.toThrow(/invalid dimensions for input/);
    } finally {
      await p.dispose();
    }

    const dynamic = writeModelFolder(join(root, 'dynamic'), tinyBert());
    const res2 = await compressToTransformersJs({ input: join(dynamic, 'model.onnx'), output: join(root, 'dynamic-tjs'), steps: [] });
    expect(res2.notes).toEqual([]);
  });
});
