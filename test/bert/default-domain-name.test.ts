/**
 * A graph whose nodes name the default domain 'ai.onnx' (its other name, which onnxruntime runs as '') is read as one
 * naming it '': discovered (Softmax after the Q·Kᵀ MatMul, Constant nodes' values) and compressed as the same graph
 * with '' is, where discovery, which reads ops of the domain '', refused it as not a BERT-family encoder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { compressFile } from '../../src/export/compress.ts';
import { cloneModel, loadModel, saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';
import { maxDiff, runModel } from '../helpers/run-model.ts';

registerAllPasses();

describe("a graph naming the default domain 'ai.onnx'", () => {
  const root = mkdtempSync(join(tmpdir(), 'bert-compress-ai-onnx-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const model = tinyBert();
  const named = cloneModel(model);
  for (const n of named.graph.nodes) if (n.domain === '') n.domain = 'ai.onnx';
  const path = join(root, 'model.onnx');
  saveModel(named, path);

  it("is read with its nodes in the domain '' and discovered as the same graph naming '' is", async () => {
    expect(named.graph.nodes.some((n) => n.opType === 'Constant')).toBe(true); // (its Constant nodes too)
    const read = loadModel(path);
    expect(read.graph.nodes.filter((n) => n.domain !== '').map((n) => `${n.domain} ${n.opType}`)).toEqual([]);
    const s = findBert(read);
    expect(s.layers.length).toBe(findBert(model).layers.length);
    expect(maxDiff(await runModel(read, { vocab: 128 }), await runModel(model, { vocab: 128 }))).toBe(0);
  });

  it('is compressed as the same graph naming the domain is', async () => {
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const plain = join(root, 'plain.onnx');
    saveModel(model, plain);
    await compressFile({ input: path, output: join(root, 'out-named', 'model.onnx'), steps });
    await compressFile({ input: plain, output: join(root, 'out-plain', 'model.onnx'), steps });
    const [a, b] = [loadModel(join(root, 'out-named', 'model.onnx')), loadModel(join(root, 'out-plain', 'model.onnx'))];
    expect(maxDiff(await runModel(a, { vocab: 128 }), await runModel(b, { vocab: 128 }))).toBe(0);
  });
});
