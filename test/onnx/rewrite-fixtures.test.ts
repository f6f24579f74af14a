/**
 * Graph rewriting on the repository's own fixtures (fixtures/), which every clone has: each pass on each fixture
 * (torch-style BERT at opset 14, TensorFlow input names at opset 11, DistilBERT at opset 17) changes the structure
 * as it says, keeps every graph input, and gives a model that discovery reads again and onnxruntime runs with
 * finite logits of the same shape; `compressFile` writes a model folder with its lineage. The same passes are
 * tested in depth on ../shared's exporter graphs and teachers where that is present.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { REPO_FIXTURES, repoFixture } from '../helpers/repo-fixtures.ts';

registerAllPasses();

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const heads = (s: BertStructure) => sum(s.layers.map((l) => l.attention?.numHeads ?? 0));
const ffn = (s: BertStructure) => s.layers.map((l) => l.ffn.intermediateSize);

/** Each pass with what it must change, given the structures before and after and the size in bytes. */
const PASSES: Array<{ step: PassStep; changed(before: BertStructure, after: BertStructure, bytes: [number, number]): void }> = [
  { step: { pass: 'prune-heads', settings: { ratio: 0.5 } }, changed: (b, a) => expect(heads(a)).toBe(heads(b) / 2) },
  { step: { pass: 'prune-ffn', settings: { ratio: 0.5 } }, changed: (b, a) => expect(ffn(a)).toEqual(ffn(b).map((n) => n / 2)) },
  { step: { pass: 'drop-layers', settings: { layers: '1' } }, changed: (b, a) => expect(a.numLayers).toBe(b.numLayers - 1) },
  {
    step: { pass: 'factorize-embeddings', settings: { rank: 8 } },
    changed: (b, a) => expect([b.embeddings.word.projection, a.embeddings.word.projection?.outFeatures]).toEqual([undefined, b.hiddenSize]),
  },
  {
    step: { pass: 'share-layers', settings: { share: 'all' } },
    changed: (b, a, [before, after]) => {
      expect(a.numLayers).toBe(b.numLayers);
      expect(new Set(a.layers.map((l) => l.ffn.in.weight)).size).toBe(1);
      expect(after).toBeLessThan(before);
    },
  },
  { step: { pass: 'quantize', settings: { mode: 'int8' } }, changed: (_b, _a, [before, after]) => expect(after).toBeLessThan(before * 0.4) },
];

const bytesOf = (m: Model) => sum([...m.graph.initializers.values()].map((t) => t.data.byteLength));

describe('every pass on every repository fixture', () => {
  for (const f of REPO_FIXTURES) {
    for (const { step, changed } of PASSES) {
      it(`${step.pass} on ${f.name}`, async () => {
        const model = loadModel(f.path);
        const before = findBert(model);
        const res = await runPipeline(model, [step]);
        const after = findBert(res.model);
        changed(before, after, [bytesOf(model), bytesOf(res.model)]);
        expect(res.model.graph.inputs.map((v) => v.name)).toEqual(model.graph.inputs.map((v) => v.name));
        const [out] = Object.values(await outputsOf(res.model, sampleFeeds(res.model, after)));
        expect(out).toHaveLength(3 * 2);
        expect(out.every(Number.isFinite)).toBe(true);
      });
    }
  }
});

describe('compressFile on the tiny-bert model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-fixture-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the model, its lineage and the folder's config and tokenizer; the output is an ordinary input again", async () => {
    const input = repoFixture('tiny-bert').path;
    const output = join(dir, 'pruned', 'model.onnx');
    const lineage = await compressFile({ input, output, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }] });
    expect(lineage.after.params).toBeLessThan(lineage.before.params);
    for (const f of ['model.onnx', 'model.onnx.json', 'config.json', 'vocab.txt', 'tokenizer_config.json']) {
      expect(existsSync(join(dir, 'pruned', f)), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(dir, 'pruned', 'model.onnx.json'), 'utf8')).output.sha256).toBe(lineage.output.sha256);
    expect(loadTokenizer(join(dir, 'pruned')).encode('good fun', null, 8).ids.length).toBe(4);
    const again = await compressFile({
      input: output,
      output: join(dir, 'quantized', 'model.onnx'),
      steps: [{ pass: 'quantize', settings: { mode: 'int8' } }],
    });
    expect(again.input.lineage?.output.sha256).toBe(lineage.output.sha256);
    expect(again.after.bytes).toBeLessThan(again.before.bytes * 0.4);
  });
});
