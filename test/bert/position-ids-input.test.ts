/**
 * A graph that takes its position ids as an input (`position_ids`, as some transformers / tf2onnx exports and hand
 * exports do) is discovered with that input and fed what the same model computing its positions computes: arange(seq)
 * in each row (or one row when its batch dimension is 1) for BERT, RoBERTa's padding-aware positions (Hugging Face's
 * create_position_ids_from_input_ids) for RoBERTa; refused in one line when neither names nor table tell which.
 * Evaluated, compressed by every graph pass and written by training as the same model computing its positions, keeping
 * the input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { inspectModel } from '../../src/bert/inspect.ts';
import { modelInputs, sessionInputs, tokenFeeds } from '../../src/bert/model-inputs.ts';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import { NotBertError, SettingsError } from '../../src/errors.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { cloneModel, DataType, loadModel, type Model, pruneGraph } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { originalIo, withOriginalIo } from '../../src/train/original-io.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { buildBert } from '../../src/bert/build.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { fedLogits, withPositionIdsInput } from '../helpers/position-ids.ts';

registerAllPasses();

/** `model` with its parameters renamed `w0`, `w1`, … (names that tell no family). */
function anonymous(model: Model): Model {
  const m = cloneModel(model);
  const names = new Map([...m.graph.initializers.keys()].map((k, i) => [k, `w${i}`]));
  m.graph.initializers = new Map([...m.graph.initializers].map(([k, v]) => [names.get(k)!, { ...v, name: names.get(k)! }]));
  for (const n of m.graph.nodes) n.inputs = n.inputs.map((v) => names.get(v) ?? v);
  return m;
}

/** A [2, 5] batch: row 0 five tokens, row 1 three then two padding ids `pad` (mask 0). */
function paddedBatch(pad: number) {
  const ids = [5, 9, 12, 7, 30, 8, 11, 6, pad, pad].map(BigInt);
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0].map(BigInt);
  return { batch: 2, seq: 5, inputIds: BigInt64Array.from(ids), attentionMask: BigInt64Array.from(mask), tokenTypeIds: new BigInt64Array(10) };
}

/** Equal to 5 decimals (onnxruntime may sum in another order where a graph's positions are an input: the 7th digit differs). */
function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
}

const roberta = () =>
  buildBert({ ...tinyBertConfig({ maxPositions: 66, typeVocabSize: 1 }), family: 'roberta', padTokenId: 1 }, { kind: 'random', seed: 1, std: 0.2 });

describe('a graph with a position_ids input', () => {
  it('is discovered with it, and its inputs include it as position ids', () => {
    const m = withPositionIdsInput(tinyBert());
    const s = findBert(m);
    expect(s.inputs).toEqual({ inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids', positionIds: 'position_ids' });
    expect(s.maxPositions).toBe(64);
    expect(s.typeVocabSize).toBe(2);
    expect(inspectModel(m, 'posids.onnx').inputs.map((i) => i.name)).toContain('position_ids');
    expect(modelInputs(m).map((i) => [i.name, i.role])).toEqual([
      ['input_ids', 'ids'],
      ['attention_mask', 'mask'],
      ['token_type_ids', 'types'],
      ['position_ids', 'positions'],
    ]);
    expect(findBert(withPositionIdsInput(tinyBert(), undefined, 'pos_ids')).inputs.positionIds).toBe('pos_ids');
    // by name, for a session whose graph is not read (or one discovery does not read): refused, not guessed
    const byName = () => sessionInputs({ inputNames: ['input_ids', 'position_ids'], inputTypes: {} });
    expect(byName).toThrow(SettingsError);
    expect(byName).toThrow(/model input 'position_ids' takes position ids, and without reading the graph as a BERT-family encoder nothing tells whether/);
    expect(sessionInputs({ inputNames: ['input_ids', 'position_ids'], inputTypes: {} }, () => m).map((i) => i.role)).toEqual([
      'ids',
      'mask',
      'types',
      'positions',
    ]);
  });

  it('without token types (DistilBERT), is not taken for a token type input (the smaller table)', () => {
    const m = withPositionIdsInput(tinyBert({ typeVocabSize: 2 }));
    const types = m.graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[0]!.includes('token_type_embeddings'))!;
    // a DistilBERT-like graph: no token type lookup
    const add = m.graph.nodes.find((n) => n.inputs.includes(types.outputs[0]!))!;
    const other = add.inputs.find((v) => v !== types.outputs[0])!;
    for (const n of m.graph.nodes) n.inputs = n.inputs.map((v) => (v === add.outputs[0] ? other : v));
    m.graph.inputs = m.graph.inputs.filter((v) => v.name !== 'token_type_ids');
    pruneGraph(m.graph);
    const s = findBert(m);
    expect(s.inputs.tokenTypeIds).toBeUndefined();
    expect(s.inputs.positionIds).toBe('position_ids');
    expect(s.inputs.positionPadding).toBeUndefined();
    expect(s.maxPositions).toBe(64);
  });

  it('is fed arange(seq) in each row, or one row when its batch dimension is 1', () => {
    const batch = { batch: 2, seq: 3, inputIds: new BigInt64Array(6), attentionMask: new BigInt64Array(6), tokenTypeIds: new BigInt64Array(6) };
    const many = tokenFeeds(modelInputs(withPositionIdsInput(tinyBert())), batch).position_ids!;
    expect(many.dims).toEqual([2, 3]);
    expect(Array.from(many.data as BigInt64Array, Number)).toEqual([0, 1, 2, 0, 1, 2]);
    const one = tokenFeeds(modelInputs(withPositionIdsInput(tinyBert(), [1, 'sequence_length'])), batch).position_ids!;
    expect(one.dims).toEqual([1, 3]);
    expect(Array.from(one.data as BigInt64Array, Number)).toEqual([0, 1, 2]);
    const int32 = withPositionIdsInput(tinyBert());
    int32.graph.inputs.find((v) => v.name === 'position_ids')!.elemType = DataType.INT32;
    expect(sampleInputs(int32, findBert(int32), { batch: 2, seq: 4 }).find((i) => i.name === 'position_ids')).toMatchObject({ type: 'int32', dims: [2, 4] });
  });

  it('computes the logits of the same model computing its positions (BERT, a named and an anonymous RoBERTa)', async () => {
    const bert = tinyBert({}, { std: 0.2 });
    const batch = paddedBatch(0);
    expectClose(await fedLogits(withPositionIdsInput(bert), batch), await fedLogits(bert, batch));
    const r = roberta();
    const rBatch = paddedBatch(1);
    const expected = await fedLogits(r, rBatch);
    for (const m of [withPositionIdsInput(r), anonymous(withPositionIdsInput(r))]) {
      const s = findBert(m);
      expect([s.family, s.inputs.positionPadding]).toEqual(['roberta', 1]);
      // Hugging Face's create_position_ids_from_input_ids: 1 + the count of real tokens so far, 1 at padding
      expect(Array.from(tokenFeeds(modelInputs(m), rBatch).position_ids!.data as BigInt64Array, Number)).toEqual([2, 3, 4, 5, 6, 2, 3, 4, 1, 1]);
      expectClose(await fedLogits(m, rBatch), expected);
    }
    // an anonymous BERT (a table of max_position_embeddings rows) is fed arange
    const anon = anonymous(withPositionIdsInput(bert));
    expect(findBert(anon).inputs.positionPadding).toBeUndefined();
    expectClose(await fedLogits(anon, batch), await fedLogits(bert, batch));
  });

  it('is refused in one line when neither names nor the position table tell how positions count, or RoBERTa takes one row', () => {
    const odd = anonymous(withPositionIdsInput(tinyBert({ maxPositions: 40 })));
    expect(() => findBert(odd)).toThrow(NotBertError);
    expect(() => findBert(odd)).toThrow(
      /graph input 'position_ids' gives the position ids, and neither the parameter names nor the position table \(40 rows\) tell whether they are BERT's arange\(seq\) or RoBERTa's/,
    );
    const oneRow = withPositionIdsInput(roberta(), [1, 'sequence_length']);
    expect(() => modelInputs(oneRow)).toThrow(SettingsError);
    expect(() => modelInputs(oneRow)).toThrow(/model input 'position_ids' takes one row of position ids/);
  });

  it('is rebuilt (training) computing its positions, and written with the original position ids input', async () => {
    for (const [original, pad] of [
      [tinyBert({}, { std: 0.2 }), 0],
      [roberta(), 1],
    ] as const) {
      const posids = withPositionIdsInput(original);
      const rebuilt = rebuildCanonical(posids);
      expect(findBert(rebuilt).inputs.positionIds).toBeUndefined();
      const written = withOriginalIo(rebuildCanonical(posids), originalIo(posids));
      expect(written.graph.inputs.map((v) => v.name)).toEqual(posids.graph.inputs.map((v) => v.name));
      expect(findBert(written).inputs.positionIds).toBe('position_ids');
      const batch = paddedBatch(pad);
      expectClose(await fedLogits(written, batch), await fedLogits(original, batch));
    }
    // one row, int32: kept so
    const oneRow = withPositionIdsInput(tinyBert(), [1, 'sequence_length']);
    oneRow.graph.inputs.find((v) => v.name === 'position_ids')!.elemType = DataType.INT32;
    const written = withOriginalIo(rebuildCanonical(oneRow), originalIo(oneRow));
    expect(written.graph.inputs.find((v) => v.name === 'position_ids')).toMatchObject({ elemType: DataType.INT32, shape: [1, 'sequence_length'] });
    expectClose(await fedLogits(written, paddedBatch(0)), await fedLogits(tinyBert(), paddedBatch(0)));
  });

  describe('evaluated and compressed', () => {
    const root = mkdtempSync(join(tmpdir(), 'posids-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const glueDir = join(root, 'glue');
    writeGlueTask(glueDir, 'STS-B', 24);
    const base = tinyBert({ numLabels: 1 }, { std: 0.2 });
    const usual = writeModelFolder(join(root, 'usual'), base, { regression: true });
    const posids = writeModelFolder(join(root, 'posids'), withPositionIdsInput(base), { regression: true });
    const oneRow = writeModelFolder(join(root, 'one-row'), withPositionIdsInput(base, [1, 'sequence_length']), { regression: true });
    const scores = async (dir: string) => Array.from((await evaluate({ model: dir, tasks: ['STS-B'], glueDir, threads: 1 })).tasks[0]!.predictions);

    it('is evaluated as the same model computing its positions', async () => {
      const expected = await scores(usual);
      expectClose(await scores(posids), expected);
      expectClose(await scores(oneRow), expected);
    });

    it.each([
      ['prune-heads', [{ pass: 'prune-heads', settings: { ratio: 0.5 } }]],
      ['prune-ffn', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]],
      ['drop-layers', [{ pass: 'drop-layers', settings: { layers: [1] } }]],
      ['factorize-embeddings', [{ pass: 'factorize-embeddings', settings: { rank: 8 } }]],
      ['share-layers', [{ pass: 'share-layers', settings: { share: 'all' } }]],
      ['quantize int8', [{ pass: 'quantize', settings: { mode: 'int8' } }]],
      ['quantize int8-static', [{ pass: 'quantize', settings: { mode: 'int8-static' } }]],
      ['quantize mixed', [{ pass: 'quantize', settings: { mode: 'mixed:0.4' } }]],
      ['prune-heads by gradient', [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'gradient' } }]],
      ['optimize all', [{ pass: 'optimize', settings: { rewrites: 'all' } }]],
      [
        'quantize int8, optimize all',
        [
          { pass: 'quantize', settings: { mode: 'int8' } },
          { pass: 'optimize', settings: { rewrites: 'all' } },
        ],
      ],
    ])('by %s, keeping the input, is scored as the usual model compressed the same way', async (name, steps) => {
      const out = (dir: string) => join(root, `${dir}-${name.replace(/\W+/g, '-')}`, 'model.onnx');
      // (the calibrated passes measure the model on the same batches: prune-heads by gradient, int8-static, mixed)
      const context = { calibration: syntheticCalibration([4, 4, 4], 128, 'regression') };
      await compressFile({ input: join(usual, 'model.onnx'), output: out('usual'), steps, context });
      await compressFile({ input: join(posids, 'model.onnx'), output: out('posids'), steps, context });
      const written = loadModel(out('posids'));
      expect(written.graph.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids', 'position_ids']);
      expect(findBert(written).inputs.positionIds).toBe('position_ids');
      expectClose(await scores(join(out('posids'), '..')), await scores(join(out('usual'), '..')));
    });
  });
});
