/**
 * A model of one score (STS-B's regression head, a cross-encoder) written for transformers.js: its
 * pipeline('text-classification') applies softmax to the one score and answers 1 for every text, so the folder's
 * result (and `compress` / `export --format transformers.js`) says so and where the score is; a model of several
 * scores gets no such note.
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
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-score-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('--format transformers.js of a model of one score', () => {
  it('notes that the text-classification pipeline answers 1 for every text, and a model of two scores gets no note', async () => {
    const regression = writeModelFolder(join(root, 'stsb'), tinyBert({ numLabels: 1 }), { regression: true });
    const out = join(root, 'stsb-tjs');
    const res = await compressToTransformersJs({
      input: join(regression, 'model.onnx'),
      output: out,
      steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }],
    });
    expect(res.notes).toHaveLength(1);
    expect(res.notes[0]).toMatch(/one score .*pipeline\('text-classification'\) applies softmax .*answers 1 .*AutoModelForSequenceClassification's logits/);
    // what the note says: the pipeline's score is 1 whatever the text
    const p = (await pipeline('text-classification', out)) as TextClassificationPipeline;
    try {
      for (const text of [sentence(1), sentence(4)])
        expect((await p(text)) as unknown as Array<{ score: number }>).toEqual([expect.objectContaining({ score: 1 })]);
    } finally {
      await p.dispose();
    }

    const classifier = writeModelFolder(join(root, 'sst2'), tinyBert());
    const two = await compressToTransformersJs({
      input: join(classifier, 'model.onnx'),
      output: join(root, 'sst2-tjs'),
      steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }],
    });
    expect(two.notes).toEqual([]);
  });

  it('notes it for a model whose scores output declares no label count (logits [batch, labels]), whose classifier gives one score as eval reads it, where it wrote the folder without a word', async () => {
    const graph = tinyBert({ numLabels: 1 });
    for (const o of graph.graph.outputs) o.shape = ['batch', 'labels'];
    const regression = writeModelFolder(join(root, 'stsb-dynamic'), graph, { regression: true });
    const res = await compressToTransformersJs({ input: join(regression, 'model.onnx'), output: join(root, 'stsb-dynamic-tjs'), steps: [] });
    expect(res.notes).toHaveLength(1);
    expect(res.notes[0]).toMatch(/gives one score .*answers 1 for every text/);
  });
});
