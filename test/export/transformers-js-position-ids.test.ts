/**
 * `--format transformers.js` of a graph that takes its position ids as an input: transformers.js feeds only token ids,
 * mask and token types, so the graph written computes the positions (as the project feeds them); its pipeline scores
 * are the project's scores of the same model computing its positions. RoBERTa's padding-aware positions are checked
 * on the graph itself (withComputedPositions), without a pipeline (a BPE tokenizer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, pipeline, type TextClassificationPipeline } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { withComputedPositions } from '../../src/bert/computed-positions.ts';
import { findBert } from '../../src/bert/discover.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { loadModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { sentence, writeModelFolder } from '../helpers/model-folder.ts';
import { buildBert } from '../../src/bert/build.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { fedLogits, withPositionIdsInput } from '../helpers/position-ids.ts';

registerAllPasses();
env.allowRemoteModels = false;

const root = mkdtempSync(join(tmpdir(), 'bc-tjs-posids-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** transformers.js's score of the label 'positive' for 12 sentences. */
async function pipelineScores(folder: string): Promise<number[]> {
  const p = (await pipeline('text-classification', folder)) as TextClassificationPipeline;
  try {
    const scores: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = (await p(sentence(i), { top_k: null })) as unknown as Array<{ label: string; score: number }>;
      scores.push(r.find((x) => x.label === 'positive')!.score);
    }
    return scores;
  } finally {
    await p.dispose();
  }
}

describe('--format transformers.js of a graph with a position_ids input', () => {
  it('writes a graph computing its positions, scored by transformers.js as the project scores the model', async () => {
    const base = tinyBert({}, { std: 0.2 });
    const usual = writeModelFolder(join(root, 'usual'), base);
    const posids = writeModelFolder(join(root, 'posids'), withPositionIdsInput(base));
    const out = join(root, 'tjs');
    await compressToTransformersJs({ input: join(posids, 'model.onnx'), output: out, steps: [] });
    const written = loadModel(join(out, 'onnx', 'model.onnx'));
    expect(written.graph.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    // (the usual model's folder is scored as the project scores it: transformers-js.test.ts)
    await compressToTransformersJs({ input: join(usual, 'model.onnx'), output: join(root, 'tjs-usual'), steps: [] });
    const expected = await pipelineScores(join(root, 'tjs-usual'));
    const actual = await pipelineScores(out);
    expect(actual).toHaveLength(12);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(new Set(actual.map((v) => v.toFixed(3))).size).toBeGreaterThan(1);
  });

  it('computes RoBERTa positions from the token ids, as they are fed', async () => {
    const r = buildBert({ ...tinyBertConfig({ maxPositions: 66, typeVocabSize: 1 }), family: 'roberta', padTokenId: 1 }, { kind: 'random', seed: 1, std: 0.2 });
    const posids = withPositionIdsInput(r);
    const computed = withComputedPositions(posids, findBert(posids), 'posids');
    expect(computed.graph.inputs.map((v) => v.name)).not.toContain('position_ids');
    const ids = [5, 9, 12, 7, 30, 8, 11, 6, 1, 1].map(BigInt);
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0].map(BigInt);
    const batch = { batch: 2, seq: 5, inputIds: BigInt64Array.from(ids), attentionMask: BigInt64Array.from(mask), tokenTypeIds: new BigInt64Array(10) };
    const expected = await fedLogits(r, batch);
    const actual = await fedLogits(computed, batch);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });
});
