/**
 * Evaluation of an encoder-only model (what `distill --stage general` writes from a teacher without a classifier:
 * BertModel's `last_hidden_state` and `pooler_output`, config.json with no labels) is refused up front in one line
 * that names the way to give it a classifier: not a shape error from its hidden states, and with `--tasks all` not
 * one line per task.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { findBert } from '../../src/bert/discover.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { SettingsError } from '../../src/errors.ts';
import { removeDeadNodes } from '../../src/onnx/analysis.ts';
import { cloneModel, type Model } from '../../src/onnx/graph.ts';
import { renameValue } from '../../src/onnx/index.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bc-eval-encoder-only-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dir = writeModelFolder(join(work, 'general'), encoderOnly(tinyBert({}, { seed: 2 })));
writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 6);
writeGlueTask(glueDir, 'STS-B', 6);

const LINE = `${join(dir, 'model.onnx')}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): eval needs a classifier; compress distill --stage task gives it one`;

async function refusal(tasks: string[], glue = glueDir, model = dir): Promise<string> {
  try {
    await evaluate({ model, tasks, glueDir: glue });
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('eval of an encoder-only model', () => {
  it('a task named: one line naming the fix, not a shape error', async () => {
    expect(await refusal(['SST-2'])).toBe(LINE);
    expect(await refusal(['SST-2', 'STS-B'])).toBe(LINE);
  });

  it('--tasks all: the same one line, not a reason per task', async () => {
    expect(await refusal(['all'])).toBe(LINE);
  });

  it('the same line when its config.json names labels (a reason per task otherwise, with --tasks all)', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], num_labels: 2, max_length: 16 }));
    try {
      expect(await refusal(['all'])).toBe(LINE);
      expect(await refusal(['STS-B'])).toBe(LINE);
    } finally {
      writeFileSync(config, JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
    }
  });

  /** `m` cut to `outputs` (values of its graph), renamed as transformers' base model names them. */
  const cut = (m: Model, outputs: Array<[value: string, name: string]>): Model => {
    const out = cloneModel(m);
    out.graph.outputs = outputs.map(([name]) => ({ name, elemType: 1 }));
    removeDeadNodes(out.graph);
    for (const [value, name] of outputs) renameValue(out.graph, value, name);
    return out;
  };

  it('a BERT encoder with its pooler stored quantized, which training cannot read: the way through names the float model it was quantized from', async () => {
    // (compress distill --stage task refuses it as a student: 'canonical rebuild: the word embedding is stored quantized')
    const quantizedDir = join(work, 'quantized');
    await compressFile({ input: join(dir, 'model.onnx'), output: join(quantizedDir, 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(await refusal(['SST-2'], glueDir, quantizedDir)).toBe(
      `${join(quantizedDir, 'model.onnx')}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): eval needs a classifier; the word embedding is stored quantized (gather-scale), which training cannot read, so compress distill --stage task cannot give it one: give one to ${join(dir, 'model.onnx')}, the float model it was quantized from, first (compress distill --stage task), then quantize the result`,
    );
  });

  it("a model no classifier can be put on (no pooler, or RobertaModel's): why, and no command that would refuse it", async () => {
    // (compress distill --stage task, which the line named, refuses both: no pooler for a new classifier to read)
    const bert = tinyBert({}, { seed: 3 });
    const hidden = writeModelFolder(join(work, 'hidden'), cut(bert, [[findBert(bert).layers.at(-1)!.output, 'last_hidden_state']]));
    writeFileSync(join(hidden, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], max_length: 16 }));
    expect(await refusal(['SST-2'], glueDir, hidden)).toBe(
      `${join(hidden, 'model.onnx')}: encoder-only (outputs last_hidden_state; no classifier): eval needs a classifier; it has no pooler (dense + tanh on the first token) to put one on, so compress distill --stage task cannot give it one: give a sequence classifier`,
    );
    // RobertaModel with its pooler: a RoBERTa classifier cut after its dense + tanh (RobertaPooler's computation)
    const config = { ...tinyBertConfig({ typeVocabSize: 1, layerNormEps: 1e-5 }), family: 'roberta' as const, padTokenId: 1 };
    const roberta = buildBert(config, { kind: 'random', seed: 4 });
    const tanh = roberta.graph.nodes.find((n) => n.opType === 'Tanh')!.outputs[0]!;
    const pooled = cut(roberta, [
      [findBert(roberta).layers.at(-1)!.output, 'last_hidden_state'],
      [tanh, 'pooler_output'],
    ]);
    const robertaDir = writeModelFolder(join(work, 'roberta'), pooled);
    writeFileSync(join(robertaDir, 'config.json'), JSON.stringify({ model_type: 'roberta', architectures: ['RobertaModel'], max_length: 16 }));
    expect(await refusal(['all'], glueDir, robertaDir)).toBe(
      `${join(robertaDir, 'model.onnx')}: encoder-only (outputs last_hidden_state, pooler_output; no classifier): eval needs a classifier; its pooler (dense + tanh on the first token) is RobertaModel's, which no RoBERTa classifier reads (RobertaForSequenceClassification's head has a dense + tanh of its own), so compress distill --stage task cannot give it one: give a sequence classifier`,
    );
  });
});
