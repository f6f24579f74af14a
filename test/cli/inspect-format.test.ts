/** `compress inspect`'s summary line: sizes that differ between layers are shown as their range. */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { inspectGraph, inspectModel } from '../../src/bert/inspect.ts';
import { formatGraph, formatInspect } from '../../src/cli/commands/inspect.ts';
import { NotBertError } from '../../src/errors.ts';
import { modelSize } from '../../src/onnx/size.ts';
import { randomBilstmWeights } from '../../src/train/students/bilstm-config.ts';
import { exportBilstm } from '../../src/train/students/bilstm-export.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';

describe('inspect summary', () => {
  it('one count when the layers agree, the range when heads were pruned unevenly', async () => {
    registerAllPasses();
    const model = tinyBert();
    expect(formatInspect(inspectModel(model, 'tiny'))).toMatch(/^ {2}2 layers × 4 heads, hidden 32, FFN 64,/m);
    const pruned = (await runPipeline(model, [{ pass: 'prune-heads', settings: { heads: { 0: [0, 1, 2] } } }])).model;
    expect(formatInspect(inspectModel(pruned, 'pruned'))).toMatch(/^ {2}2 layers × 1–4 heads, hidden 32, FFN 64,/m);
  });

  it('a graph discovery does not take (a Distilled BiLSTM): its size, operators and the reason, no encoder rows', () => {
    const config = { vocabSize: 50, embeddingSize: 12, hiddenSize: 10, mlpSize: 7, numLabels: 3, maxLength: 9 };
    const model = exportBilstm(config, randomBilstmWeights(config, 1));
    let reason = '';
    try {
      findBert(model);
    } catch (e) {
      expect(e).toBeInstanceOf(NotBertError);
      reason = (e as Error).message;
    }
    const r = inspectGraph(model, 'bilstm.onnx', reason);
    expect(r).toMatchObject({ ...modelSize(model), notBert: reason });
    expect(r.operators.LSTM).toBe(1);
    expect(Object.values(r.operators).reduce((a, b) => a + b, 0)).toBe(model.graph.nodes.length);
    const text = formatGraph(r);
    expect(text).toMatch(/^ {2}outputs logits float32\[batch, 3\]$/m);
    expect(text).toContain(`discovery: ${reason}; the compression passes need one`);
    expect(text).not.toMatch(/layers ×|component/);
  });
});
