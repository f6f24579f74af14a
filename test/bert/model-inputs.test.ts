/**
 * The one module that finds a model's encoder inputs and feeds them (src/bert/model-inputs.ts): roles by dataflow
 * whatever the names, exporter names for graphs discovery does not read, and a model with unusual input names
 * compressed and then evaluated exactly like the same model with the usual names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { modelInputs, sessionInputs, tokenFeeds, type ModelInput } from '../../src/bert/model-inputs.ts';
import { SettingsError } from '../../src/errors.ts';
import { evaluate, prepareTask, scoreTask } from '../../src/eval/evaluate.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { compressFile } from '../../src/export/compress.ts';
import { STSB } from '../../src/glue/tasks.ts';
import { cloneModel, createModel, DataType, loadModel, renameValue, type Model } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { openSession } from '../../src/runtime/session.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

/** The model with its graph inputs renamed. */
function renamed(model: Model, names: Record<string, string>): Model {
  const m = cloneModel(model);
  for (const [from, to] of Object.entries(names)) renameValue(m.graph, from, to);
  return m;
}

const UNUSUAL = { input_ids: 'ids', attention_mask: 'mask', token_type_ids: 'segment' };
const roles = (inputs: readonly ModelInput[]) => inputs.map((i) => [i.name, i.role, i.elementType]);

describe('modelInputs', () => {
  it('finds ids, mask and token types by dataflow, whatever their names', () => {
    const m = renamed(tinyBert(), { input_ids: 'tokens', attention_mask: 'keep', token_type_ids: 'which_sentence' });
    const expected = [
      ['tokens', 'ids', 'int64'],
      ['keep', 'mask', 'int64'],
      ['which_sentence', 'types', 'int64'],
    ];
    expect(roles(modelInputs(m))).toEqual(expected);
    expect(roles(modelInputs(m, findBert(m)))).toEqual(expected);
  });

  it('feeds a graph discovery does not read by the names exporters use', () => {
    const intInput = (name: string) => ({ name, elemType: DataType.INT64, shape: ['batch', 'sequence'] });
    const graph = (inputs: string[]): Model =>
      createModel(
        {
          name: 'not-a-bert',
          nodes: [
            { name: 'cast', opType: 'Cast', domain: '', inputs: [inputs[0]!], outputs: ['f'], attributes: { to: { type: 'int', value: DataType.FLOAT } } },
            { name: 'sum', opType: 'ReduceSum', domain: '', inputs: ['f'], outputs: ['logits'], attributes: {} },
          ],
          inputs: inputs.map(intInput),
          outputs: [{ name: 'logits', elemType: DataType.FLOAT }],
          initializers: new Map(),
          valueInfo: [],
        },
        [{ domain: '', version: 13 }],
      );
    expect(roles(modelInputs(graph(['input_ids', 'attention_mask'])))).toEqual([
      ['input_ids', 'ids', 'int64'],
      ['attention_mask', 'mask', 'int64'],
    ]);
    // (an input of another name the graph reads, and one it never reads: unread-token-types.test.ts)
    expect(() => modelInputs(graph(['pixel_values', 'input_ids']))).toThrow(SettingsError);
    expect(() => modelInputs(graph(['pixel_values', 'input_ids']))).toThrow(/model input 'pixel_values' is read by the graph, and bert-compress feeds only/);
    expect(() => modelInputs(graph(['input_ids', 'pixel_values']))).toThrow(/model input 'pixel_values' is declared and never read/);
  });
});

describe('sessionInputs', () => {
  const names = ['ids', 'mask', 'segment'];
  const session = { inputNames: names, inputTypes: { ids: 'int64', mask: 'int64', segment: 'int32' } };

  it('reads a name it does not know from the session graph, and refuses it without one', () => {
    expect(() => sessionInputs(session)).toThrow(/model input 'segment' is not one the encoder reads/);
    const m = renamed(tinyBert(), UNUSUAL);
    m.graph.inputs.find((v) => v.name === 'segment')!.elemType = DataType.INT32;
    expect(roles(sessionInputs(session, () => m))).toEqual([
      ['ids', 'ids', 'int64'],
      ['mask', 'mask', 'int64'],
      ['segment', 'types', 'int32'],
    ]);
  });

  it('does not read the graph when every name is an exporter name', () => {
    const graph = () => {
      throw new Error('read the graph');
    };
    const inputs = sessionInputs({ inputNames: ['input_ids', 'input_mask', 'segment_ids'], inputTypes: {} }, graph);
    expect(inputs.map((i) => i.role)).toEqual(['ids', 'mask', 'types']);
  });
});

describe('tokenFeeds', () => {
  it('feeds each input its role, as a [batch, seq] tensor of its element type', () => {
    const batch = {
      batch: 2,
      seq: 2,
      inputIds: BigInt64Array.of(5n, 6n, 7n, 0n),
      attentionMask: BigInt64Array.of(1n, 1n, 1n, 0n),
      tokenTypeIds: BigInt64Array.of(0n, 1n, 0n, 0n),
    };
    const feeds = tokenFeeds(
      [
        { name: 'm', role: 'mask', elementType: 'int32' },
        { name: 'x', role: 'ids', elementType: 'int64' },
        { name: 't', role: 'types', elementType: 'int64' },
      ],
      batch,
    );
    expect(feeds.m!.type).toBe('int32');
    expect(Array.from(feeds.m!.data as Int32Array)).toEqual([1, 1, 1, 0]);
    expect(feeds.x!.dims).toEqual([2, 2]);
    expect(Array.from(feeds.x!.data as BigInt64Array, Number)).toEqual([5, 6, 7, 0]);
    expect(Array.from(feeds.t!.data as BigInt64Array, Number)).toEqual([0, 1, 0, 0]);
  });
});

describe('a model with unusual input names (ids, mask, segment)', () => {
  const root = mkdtempSync(join(tmpdir(), 'model-inputs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const glueDir = join(root, 'glue');
  writeGlueTask(glueDir, 'STS-B', 24);
  const base = tinyBert({ numLabels: 1 }, { std: 0.2 });
  const usual = writeModelFolder(join(root, 'usual'), base, { regression: true });
  const unusual = writeModelFolder(join(root, 'unusual'), renamed(base, UNUSUAL), { regression: true });
  const scores = async (dir: string) => (await evaluate({ model: dir, tasks: ['STS-B'], glueDir, threads: 1 })).tasks[0]!.predictions;

  it('is evaluated exactly as the same model with the usual names; wrong roles would score differently', async () => {
    const expected = await scores(usual);
    expect(Array.from(await scores(unusual))).toEqual(Array.from(expected));
    // The comparison can fail: the same model fed with mask and token types swapped scores differently.
    const session = await openSession(join(unusual, 'model.onnx'), { threads: 1 });
    try {
      const prepared = prepareTask(STSB, 'dev', glueDir, loadTokenizer(unusual), 16);
      const swapped: ModelInput[] = [
        { name: 'ids', role: 'ids', elementType: 'int64' },
        { name: 'mask', role: 'types', elementType: 'int64' },
        { name: 'segment', role: 'mask', elementType: 'int64' },
      ];
      expect(Array.from((await scoreTask(session, prepared, { inputs: swapped })).predictions)).not.toEqual(Array.from(expected));
    } finally {
      await session.release();
    }
  });

  it('is compressed, and its output evaluated exactly as the usual model compressed the same way', async () => {
    const steps = [{ pass: 'prune-heads', settings: { ratio: 0.5 } }];
    const out = (dir: string) => join(root, `${dir}-pruned`, 'model.onnx');
    await compressFile({ input: join(usual, 'model.onnx'), output: out('usual'), steps });
    await compressFile({ input: join(unusual, 'model.onnx'), output: out('unusual'), steps });
    expect(loadModel(out('unusual')).graph.inputs.map((v) => v.name)).toEqual(['ids', 'mask', 'segment']);
    expect(Array.from(await scores(join(root, 'unusual-pruned')))).toEqual(Array.from(await scores(join(root, 'usual-pruned'))));
  });
});
