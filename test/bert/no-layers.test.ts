/**
 * A model with no encoder layers (embeddings, then the pooler and classifier: a model built with 0 layers, or what
 * dropping every layer would leave) is refused in one line saying so by discovery, so by every pass, training,
 * distillation (as student or teacher) and inspect, where each said 'no attention blocks found: not a BERT-family
 * encoder'. Eval scores it as any classifier; bench times it only on a baseline's inputs; drop-layers refuses to drop
 * every layer.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBert, randomBertWeights } from '../../src/bert/build.ts';
import { exportHuggingFaceFolder } from '../../src/export/from-huggingface.ts';
import { writeFamilyFolder } from '../helpers/family-folders.ts';
import { findBert, NO_LAYERS } from '../../src/bert/discover.ts';
import { inspectGraph } from '../../src/bert/inspect.ts';
import { formatGraph } from '../../src/cli/commands/inspect.ts';
import { NotBertError, SettingsError } from '../../src/errors.ts';
import { benchModels } from '../../src/bench/run.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { loadModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { TINY_CONFIG, tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-no-layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

const noLayers = (family: 'bert' | 'distilbert' | 'roberta') => buildBert({ ...TINY_CONFIG, numLayers: 0, family }, { kind: 'random', seed: 1 });
const refusal = new RegExp(`^graph 'main_graph': ${NO_LAYERS.replace(/[()]/g, '\\$&')}$`);

describe('a model with no encoder layers', () => {
  it.each(['bert', 'distilbert', 'roberta'] as const)('%s: discovery refuses it in one line saying it has no encoder layers', (family) => {
    expect(() => findBert(noLayers(family))).toThrow(NotBertError);
    expect(() => findBert(noLayers(family))).toThrow(refusal);
  });

  it('is not what a graph of layers discovery does not read is called (no attention, norms of another form)', () => {
    const model = tinyBert({ numLayers: 1 });
    const layer = findBert(model).layers[0]!;
    const norms = new Set([...layer.attentionNorm.nodes, ...layer.outputNorm.nodes]);
    for (const n of model.graph.nodes) {
      if (norms.has(n.name) && n.opType === 'ReduceMean') n.opType = 'ReduceMax';
      if (n.opType === 'Softmax') {
        n.opType = 'Sigmoid';
        n.attributes = {};
      }
    }
    expect(() => findBert(model)).toThrow(/no attention blocks found \(no Softmax or Attention node\): not a BERT-family encoder$/);
  });

  it('inspect says so, without calling it no BERT-family encoder', () => {
    const model = noLayers('bert');
    let message = '';
    try {
      findBert(model, { label: 'm0' });
    } catch (e) {
      message = (e as Error).message;
    }
    const line = formatGraph(inspectGraph(model, 'm0', message))
      .split('\n')
      .at(-1);
    expect(line).toBe(`  discovery: m0: ${NO_LAYERS}`);
  });

  it('every pass, train and distill (the model as student or teacher) refuse it in that line; eval scores it', async () => {
    const dir = writeModelFolder(join(work, 'm0'), noLayers('bert'));
    const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
    for (const steps of [[{ pass: 'quantize', settings: { mode: 'int8' } }], [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]]) {
      await expect(compressFile({ input: join(dir, 'model.onnx'), output: join(work, 'out', 'model.onnx'), steps })).rejects.toThrow(refusal);
    }
    const settings = { epochs: 1, batchSize: 4, threads: 1 };
    const train = { task: 'SST-2', glueDir, output: join(work, 'trained', 'model.onnx'), settings, cacheDir: join(work, 'cache'), log: () => {} };
    await expect(runTraining({ ...train, student: dir })).rejects.toThrow(refusal);
    await expect(runTraining({ ...train, student: dir, teacher, distill: {} })).rejects.toThrow(refusal);
    await expect(runTraining({ ...train, student: 'every-other', teacher: dir, distill: {} })).rejects.toThrow(`teacher: ${NO_LAYERS}`);
    const result = await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.metrics.accuracy).toBeGreaterThanOrEqual(0);
  });

  it("bench refuses it alone in one line (no encoder layers, give --baseline); with a baseline it times it on the baseline's inputs", async () => {
    const dir = writeModelFolder(join(work, 'm0-bench'), noLayers('bert'));
    const path = join(dir, 'model.onnx');
    const base = writeModelFolder(join(work, 'm0-base'), tinyBert());
    const shapes = { batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1 };
    const e = await benchModels({ model: path, ...shapes }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SettingsError);
    expect((e as Error).message).toBe(`${path}: cannot find the encoder's inputs (${path}: ${NO_LAYERS}); give --baseline the model it was compressed from`);
    const r = await benchModels({ model: path, baseline: join(base, 'model.onnx'), ...shapes });
    expect(r.shapes[0]!.model.p50Ms).toBeGreaterThan(0);
  });

  it('compress export of a Hugging Face folder of num_hidden_layers 0 refuses it in that line, naming the folder, and writes nothing', async () => {
    const config = { ...TINY_CONFIG, numLayers: 0 };
    const json = {
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      hidden_size: config.hiddenSize,
      num_hidden_layers: 0,
      num_attention_heads: config.numHeads,
      intermediate_size: config.intermediateSize,
      vocab_size: config.vocabSize,
      max_position_embeddings: config.maxPositions,
      type_vocab_size: config.typeVocabSize,
      num_labels: 2,
    };
    mkdirSync(join(work, 'hf'));
    const dir = writeFamilyFolder(join(work, 'hf'), json, randomBertWeights(config, { seed: 1 }), config);
    const output = join(work, 'exported', 'model.onnx');
    await expect(exportHuggingFaceFolder(dir, output)).rejects.toThrow(`${dir}: ${NO_LAYERS}`);
    expect(existsSync(join(work, 'exported'))).toBe(false);
  });

  it('is not what drop-layers leaves: dropping every layer is refused', async () => {
    const input = writeModelFolder(join(work, 'two'), tinyBert());
    await expect(
      compressFile({
        input: join(input, 'model.onnx'),
        output: join(work, 'dropped', 'model.onnx'),
        steps: [{ pass: 'drop-layers', settings: { layers: '0,1' } }],
      }),
    ).rejects.toThrow(/cannot drop all 2 layers \(keep at least one\)/);
    expect(findBert(loadModel(join(input, 'model.onnx'))).numLayers).toBe(2);
  });
});
