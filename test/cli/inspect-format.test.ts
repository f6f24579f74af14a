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
import { formatMB } from '../../src/units.ts';
import type { Model } from '../../src/onnx/graph.ts';
import { tinyBert } from '../helpers/models.ts';

/** Why discovery refuses `model` (a NotBertError's message); fails the test when discovery takes it. */
function discoveryRefusal(model: Model): string {
  try {
    findBert(model);
  } catch (e) {
    expect(e).toBeInstanceOf(NotBertError);
    return (e as Error).message;
  }
  throw new Error('discovery took the graph');
}

describe('inspect summary', () => {
  it('one count when the layers agree, the range when heads were pruned unevenly', async () => {
    registerAllPasses();
    const model = tinyBert();
    expect(formatInspect(inspectModel(model, 'tiny'))).toMatch(/^ {2}2 layers × 4 heads, hidden 32, FFN 64,/m);
    const pruned = (await runPipeline(model, [{ pass: 'prune-heads', settings: { heads: { 0: [0, 1, 2] } } }])).model;
    expect(formatInspect(inspectModel(pruned, 'pruned'))).toMatch(/^ {2}2 layers × 1–4 heads, hidden 32, FFN 64,/m);
  });

  it('names float16 storage (quantize float16) beside the weights; a float32 or int8 model says nothing (JSON: floatWeights)', async () => {
    registerAllPasses();
    const model = tinyBert();
    const half = (await runPipeline(model, [{ pass: 'quantize', settings: { mode: 'float16' } }])).model;
    const r = inspectModel(half, 'half');
    expect(r.floatWeights).toBe('float16');
    expect(formatInspect(r)).toMatch(
      new RegExp(`^ {2}parameters [\\d,]+, weights ${formatMB(modelSize(half).bytes).replace('.', '\\.')} \\(stored float16\\)$`, 'm'),
    );
    const int8 = (await runPipeline(model, [{ pass: 'quantize', settings: { mode: 'int8' } }])).model;
    for (const m of [model, int8]) {
      expect(inspectModel(m, 'm').floatWeights).toBeUndefined();
      expect(formatInspect(inspectModel(m, 'm'))).toMatch(/^ {2}parameters [\d,]+, weights [\d.]+ MB$/m);
    }
  });

  it('a count of one is singular: 1 layer, 1 head, 1 token type, 1 weight group', async () => {
    registerAllPasses();
    const dropped = (await runPipeline(tinyBert(), [{ pass: 'drop-layers', settings: { layers: [1] } }])).model;
    expect(formatInspect(inspectModel(dropped, 'dropped'))).toMatch(/^ {2}1 layer × 4 heads, /m);
    const pruned = (await runPipeline(tinyBert(), [{ pass: 'prune-heads', settings: { heads: { 0: [0, 1, 2], 1: [0, 1, 2] } } }])).model;
    const text = formatInspect(inspectModel(pruned, 'pruned'));
    expect(text).toMatch(/^ {2}2 layers × 1 head, /m);
    expect(text).toMatch(/^ {2}layer 0 attention .* 1 head × 8$/m);
    const shared = (await runPipeline(tinyBert(), [{ pass: 'share-layers', settings: { share: 'all' } }])).model;
    expect(formatInspect(inspectModel(shared, 'shared'))).toContain('shared layers: 2 layers read 1 weight group [0, 0]');
    const r = inspectModel(tinyBert(), 'm');
    expect(formatInspect({ ...r, typeVocabSize: 1 })).toMatch(/, 1 token type;/);
  });

  it('the component rows add up to the parameters and bytes in the header, and every row says how its weights are stored', async () => {
    registerAllPasses();
    const model = tinyBert();
    const int8 = (await runPipeline(model, [{ pass: 'quantize', settings: { mode: 'int8' } }])).model;
    const shared = (await runPipeline(tinyBert({ numLayers: 4 }), [{ pass: 'share-layers', settings: { share: 'all' } }])).model;
    for (const m of [model, int8, shared]) {
      const r = inspectModel(m, 'm');
      const rows = formatInspect(r)
        .split('\n')
        .filter((l) => /^ {2}(embeddings|layer \d+ \w+|pooler|head|other) /.test(l))
        .map((l) =>
          l
            .slice(24)
            .trim()
            .split(/\s+/)
            .slice(0, 2)
            .map((x) => Number(x.replaceAll(',', ''))),
        );
      const c = r.components;
      expect(rows.length).toBe(1 + 2 * r.numLayers + [c.pooler, c.head, c.other.bytes || null].filter(Boolean).length);
      expect(rows.reduce((a, [p]) => a + p, 0)).toBe(r.params);
      expect(rows.reduce((a, [, b]) => a + b, 0)).toBe(r.bytes);
      expect(r.params).toBe(modelSize(m).params);
      expect(c.embeddings.params + c.encoder.params + (c.pooler?.params ?? 0) + (c.head?.params ?? 0) + c.other.params).toBe(r.params);
    }
    const text = formatInspect(inspectModel(int8, 'int8'));
    for (const row of ['embeddings', 'layer 0 attention', 'layer 0 ffn', 'layer 1 attention', 'layer 1 ffn', 'pooler', 'head']) {
      expect(text, row).toMatch(new RegExp(`^ {2}${row} .*weights [a-z -]*int8[^\n]*$`, 'm'));
    }
    // the same formats in the same order in every layer
    const r = inspectModel(int8, 'int8');
    expect(new Set(r.layers.map((l) => `${l.attention.weights} | ${l.ffn.weights}`)).size).toBe(1);
    expect(formatInspect(inspectModel(model, 'float'))).not.toMatch(/; weights | {2}weights /);
  });

  it("says the weights' size as every summary does (formatMB), where it printed two decimals", () => {
    const model = tinyBert();
    expect(formatInspect(inspectModel(model, 'tiny'))).toMatch(
      new RegExp(`^ {2}parameters [\\d,]+, weights ${formatMB(modelSize(model).bytes).replace('.', '\\.')}$`, 'm'),
    );
  });

  it('a graph discovery does not take (a Distilled BiLSTM): its size, operators and the reason, no encoder rows', () => {
    const config = { vocabSize: 50, embeddingSize: 12, hiddenSize: 10, mlpSize: 7, numLabels: 3, maxLength: 9 };
    const model = exportBilstm(config, randomBilstmWeights(config, 1));
    const reason = discoveryRefusal(model);
    const r = inspectGraph(model, 'bilstm.onnx', reason);
    expect(r).toMatchObject({ ...modelSize(model), notBert: reason });
    expect(r.operators.LSTM).toBe(1);
    expect(Object.values(r.operators).reduce((a, b) => a + b, 0)).toBe(model.graph.nodes.length);
    const text = formatGraph(r);
    expect(text).toMatch(/^ {2}outputs logits float32\[batch, 3\]$/m);
    expect(text).toMatch(new RegExp(`^ {2}parameters [\\d,]+, weights ${formatMB(r.bytes).replace('.', '\\.')}$`, 'm'));
    expect(text).toContain(`discovery: ${reason}; the compression passes need one, except quantize int8 (a recurrent model: a Distilled BiLSTM student)`);
    expect(text).not.toMatch(/layers ×|component/);
    expect(r.inputsProblem).toBeUndefined(); // eval runs it: its inputs are token ids
    expect(text).toContain('(eval and bench run any classifier)');
    // stored in int8 (quantize int8 refuses it then): no pass takes it
    const quantized = structuredClone(model);
    Object.assign(quantized.graph.nodes.find((n) => n.opType === 'LSTM')!, { opType: 'DynamicQuantizeLSTM', domain: 'com.microsoft' });
    const int8 = inspectGraph(quantized, 'bilstm.onnx', reason);
    expect(int8.recurrent).toBe('DynamicQuantizeLSTM');
    expect(formatGraph(int8)).toContain(
      `discovery: ${reason}; the compression passes need one (a recurrent model, a Distilled BiLSTM student, stored in int8 already) (eval and bench run any classifier)`,
    );
  });

  it('a graph of one LSTM beside attention is no recurrent model the passes take (recurrentModelLstm): no quantize int8 note', () => {
    const config = { vocabSize: 50, embeddingSize: 12, hiddenSize: 10, mlpSize: 7, numLabels: 3, maxLength: 9 };
    const model = exportBilstm(config, randomBilstmWeights(config, 1));
    const logits = model.graph.outputs[0]!.name;
    model.graph.nodes.push({ name: 'attention_probs', opType: 'Softmax', domain: '', inputs: [logits], outputs: ['probs'], attributes: {} });
    const reason = discoveryRefusal(model);
    const r = inspectGraph(model, 'lstm-attention.onnx', reason);
    expect(r.operators.LSTM).toBe(1);
    expect(r.recurrent).toBeUndefined();
    expect(formatGraph(r)).toContain(`discovery: ${reason}; the compression passes need one (eval and bench run any classifier)`);
  });

  it('a graph with an input eval cannot feed: says that eval and bench cannot run it either, not that they run any classifier', () => {
    const model = tinyBert();
    const lookup = model.graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[0]!.includes('position_embeddings'))!;
    lookup.inputs[1] = 'row_numbers';
    model.graph.inputs.push({ name: 'row_numbers', elemType: 7, shape: ['batch_size', 'sequence_length'] });
    const reason = discoveryRefusal(model);
    const r = inspectGraph(model, 'rows.onnx', reason);
    expect(r.inputsProblem).toBe(
      "model input 'row_numbers' is read by the graph, and bert-compress feeds only token ids, an attention mask, token types and position ids, one input each: export a model that does not read 'row_numbers'",
    );
    const text = formatGraph(r);
    expect(text).toContain(`discovery: ${reason}; the compression passes need one, and eval and bench cannot run it either: model input 'row_numbers'`);
    expect(text).not.toContain('run any classifier');
  });

  it('an encoder with an input of another name it never reads: says no command can run it, in their words', () => {
    const model = tinyBert();
    model.graph.inputs.push({ name: 'special_tokens_mask', elemType: 7, shape: ['batch_size', 'sequence_length'] });
    const r = inspectModel(model, 'masked.onnx');
    const problem =
      "model input 'special_tokens_mask' is declared and never read (no output depends on it), and bert-compress feeds only token ids, an attention mask, token types and position ids, one input each: export the model without 'special_tokens_mask'";
    expect(r.inputsProblem).toBe(problem);
    expect(formatInspect(r)).toContain(`\n  inputs: no command can run it: ${problem}\n`);
    expect(inspectModel(tinyBert(), 'plain.onnx').inputsProblem).toBeUndefined();
  });
});
