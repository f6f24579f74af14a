/**
 * Training and distillation of a model holding NaN, or from a teacher computing NaN, are refused in one line naming
 * the model and what is not finite (the student's weight, before any work; the teacher's scores once computed; an
 * intermediate-KD teacher's feature at the step it is read), writing nothing: every one of them failed at step 0 as
 * 'the loss is NaN before any update: check the loss settings (e.g. a smaller --temperature)', which blamed the loss.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { TOKENIZER_FILES, copyModelFiles } from '../../src/eval/model-files.ts';
import { loadModel, readFloat32, saveModel } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { runTraining } from '../../src/train/run.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { writeTinyBert } from '../helpers/models.ts';

const SST2_TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(SST2_TEACHER, 'model.onnx'));

const work = mkdtempSync(join(tmpdir(), 'bert-compress-non-finite-train-'));
const folders: Array<{ cleanup(): void }> = [];
afterAll(() => {
  for (const f of folders) f.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/**
 * A tiny SST-2 model folder (the teacher's vocabulary) whose layer 0 attention query weight (or the weight `pick`
 * chooses) holds a NaN at index 5; `torchName`: that weight named as a torch export names it ('onnx::MatMul_100').
 */
function nanFolder(
  torchName?: string,
  pick: (s: BertStructure) => string = (s) => s.layers[0]!.attention!.q!.weight,
  numLayers?: number,
): { dir: string; weight: string } {
  const tiny = writeTinyBert({ vocabSize: 30522, ...(numLayers ? { numLayers } : {}) }, { seed: 3 });
  folders.push(tiny);
  copyModelFiles(SST2_TEACHER, tiny.dir, TOKENIZER_FILES);
  writeFileSync(join(tiny.dir, 'config.json'), JSON.stringify({ id2label: { 0: 'negative', 1: 'positive' }, max_length: 32 }));
  const model = loadModel(tiny.path);
  const named = pick(findBert(model));
  const weight = torchName ?? named;
  const tensor = model.graph.initializers.get(named)!;
  const values = readFloat32(tensor).slice();
  values[5] = Number.NaN;
  model.graph.initializers.delete(named);
  model.graph.initializers.set(weight, float32Tensor(weight, tensor.dims, values));
  for (const n of model.graph.nodes) n.inputs = n.inputs.map((i) => (i === named ? weight : i));
  saveModel(model, tiny.path);
  return { dir: tiny.dir, weight };
}

const settings = { epochs: 1, batchSize: 8, threads: 1, evalEachEpoch: false };
const common = { glueDir: GLUE_DIR, cacheDir: join(work, 'cache'), maxExamples: 16, maxLength: 32, settings, log: () => {} };
const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const refusalLine = (line: string) => new RegExp(`^${escaped(line)}$`);

describe.skipIf(!haveShared)('a model or teacher that is not finite (needs ../shared/glue and ../shared/teachers)', () => {
  it('train of a model holding NaN is refused before any work, naming the weight; nothing written', async () => {
    const m = nanFolder();
    const output = join(work, 'train', 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', student: m.dir, output })).rejects.toThrow(
      new RegExp(
        `^${escaped(m.dir)}: weight '${escaped(m.weight)}' \\(layer0\\.attention\\.q\\) holds 1 non-finite value \\(NaN or Infinity; the first at index 5, NaN\\): fix or retrain the model before training it$`,
      ),
    );
    expect(existsSync(join(work, 'train'))).toBe(false);
  });

  it('a weight holding NaN is named as the model file names it (not as the rebuilt student does), with its role, as quantize names it', async () => {
    const m = nanFolder('encoder.q.weight');
    const output = join(work, 'torch', 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', student: m.dir, output })).rejects.toThrow(
      new RegExp(
        `^${escaped(m.dir)}: weight 'encoder.q.weight' \\(layer0\\.attention\\.q\\) holds 1 non-finite value .*: fix or retrain the model before training it$`,
      ),
    );
    expect(existsSync(join(work, 'torch'))).toBe(false);
  });

  // (LayerNorms and biases by their roles too, where each was named by its raw name only: 'onnx::Add_7' said nothing)
  it.each<[string, (s: BertStructure) => string]>([
    ['layer0.attentionNorm.scale', (s) => s.layers[0]!.attentionNorm.scale],
    ['layer1.outputNorm.bias', (s) => s.layers[1]!.outputNorm.bias],
    ['layer0.attention.q.bias', (s) => s.layers[0]!.attention!.q!.bias!],
    ['layer1.ffn.out.bias', (s) => s.layers[1]!.ffn.out.bias!],
    ['embeddings.norm.scale', (s) => s.embeddings.norm.scale],
    ['pooler.bias', (s) => s.pooler!.dense.bias!],
  ])('a torch export whose %s holds NaN is named with that role', async (role, pick) => {
    const m = nanFolder('onnx::Add_7', pick);
    const output = join(work, `role-${role}`, 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', student: m.dir, output })).rejects.toThrow(
      new RegExp(`^${escaped(m.dir)}: weight 'onnx::Add_7' \\(${escaped(role)}\\) holds 1 non-finite value .*: fix or retrain the model before training it$`),
    );
    expect(existsSync(join(work, `role-${role}`))).toBe(false);
  });

  it('distillation into a student model holding NaN is refused alike', async () => {
    const m = nanFolder();
    const output = join(work, 'into', 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', teacher: SST2_TEACHER, student: m.dir, output })).rejects.toThrow(
      new RegExp(
        `^${escaped(m.dir)}: weight '${escaped(m.weight)}' \\(layer0\\.attention\\.q\\) holds 1 non-finite value .*: fix or retrain the model before distilling into it$`,
      ),
    );
    expect(existsSync(join(work, 'into'))).toBe(false);
  });

  // (by the teacher file's name, where it named the student's rebuilt weight, a name the teacher may not hold)
  it("an every-other student of a teacher holding NaN is refused as the teacher's fault, naming the teacher's weight", async () => {
    const t = nanFolder('teacher.q');
    const output = join(work, 'every-other', 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', teacher: t.dir, student: 'every-other', output })).rejects.toThrow(
      refusalLine(
        `--student every-other: it takes --teacher ${t.dir}'s weight 'teacher.q' (layer0.attention.q), which holds 1 non-finite value (NaN or Infinity; the first at index 5, NaN): fix or retrain the teacher before distilling from it`,
      ),
    );
    const ln = nanFolder('teacher.ln', (s) => s.layers[0]!.outputNorm.bias);
    await expect(runTraining({ ...common, task: 'SST-2', teacher: ln.dir, student: 'every-other', output })).rejects.toThrow(
      refusalLine(
        `--student every-other: it takes --teacher ${ln.dir}'s weight 'teacher.ln' (layer0.outputNorm.bias), which holds 1 non-finite value (NaN or Infinity; the first at index 5, NaN): fix or retrain the teacher before distilling from it`,
      ),
    );
    // (every-other's layer 1 is the teacher's layer 2)
    const deep = nanFolder('teacher.l2', (s) => s.layers[2]!.ffn.in.weight, 4);
    await expect(runTraining({ ...common, task: 'SST-2', teacher: deep.dir, student: 'every-other', output })).rejects.toThrow(
      refusalLine(
        `--student every-other: it takes --teacher ${deep.dir}'s weight 'teacher.l2' (layer2.ffn.in), which holds 1 non-finite value (NaN or Infinity; the first at index 5, NaN): fix or retrain the teacher before distilling from it`,
      ),
    );
    expect(existsSync(output)).toBe(false);
  });

  it("a BiLSTM student whose embeddings are copied from a teacher's holding NaN names the teacher's table", async () => {
    const t = nanFolder('teacher.words', (s) => s.embeddings.word.weight);
    const hidden = findBert(loadModel(join(t.dir, 'model.onnx'))).hiddenSize;
    const output = join(work, 'bilstm', 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', teacher: t.dir, student: `bilstm:hidden=8,embedding=${hidden}`, output })).rejects.toThrow(
      refusalLine(
        `--student bilstm:hidden=8,embedding=${hidden}: it takes --teacher ${t.dir}'s weight 'teacher.words' (embeddings.word), which holds 1 non-finite value (NaN or Infinity; the first at index 5, NaN): fix or retrain the teacher before distilling from it`,
      ),
    );
    expect(existsSync(output)).toBe(false);
  });

  it('a teacher computing NaN scores is refused once they are computed, naming it and how many examples; nothing written', async () => {
    const t = nanFolder();
    const output = join(work, 'scores', 'model.onnx');
    await expect(runTraining({ ...common, task: 'SST-2', teacher: t.dir, student: 'bert:layers=1,hidden=32,heads=2,intermediate=64', output })).rejects.toThrow(
      new RegExp(
        `^${escaped(t.dir)}: the teacher computes 32 non-finite values \\(NaN or Infinity; the first NaN\\) in its scores on 16 of 16 training examples: fix or retrain it before distilling from it$`,
      ),
    );
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.json`)).toBe(false);
    // (nor are the scores cached: the refusal comes before the teacher-logits cache stores them)
    const cached = join(common.cacheDir, 'teacher-logits');
    expect(existsSync(cached) ? readdirSync(cached) : []).toEqual([]);
  });

  it('--augment from a teacher whose word table holds NaN is refused before the augmented examples are made and cached', async () => {
    const t = nanFolder('teacher.words', (s) => s.embeddings.word.weight);
    const output = join(work, 'augment', 'model.onnx');
    const cacheDir = join(work, 'augment-cache');
    const student = 'bert:layers=1,hidden=32,heads=2,intermediate=64';
    await expect(runTraining({ ...common, cacheDir, task: 'SST-2', teacher: t.dir, student, output, distill: { augment: 1 } })).rejects.toThrow(
      refusalLine(
        `${t.dir}: its weight 'teacher.words' (embeddings.word) holds 1 non-finite value (NaN or Infinity; the first at index 5, NaN), and --augment's neighbour search reads every row: fix or retrain the teacher before distilling from it`,
      ),
    );
    expect(existsSync(output)).toBe(false);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true }) : []).toEqual([]);
  });

  it("a general-stage teacher computing NaN features is refused at the first step, naming the teacher's value", async () => {
    const t = nanFolder();
    const corpus = join(work, 'corpus.txt');
    writeFileSync(corpus, 'the man runs\tthe dog sits\na cat eats .\n'.repeat(8));
    const output = join(work, 'general', 'model.onnx');
    await expect(
      runTraining({
        ...common,
        teacher: t.dir,
        student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
        output,
        distill: { stage: 'general', intermediate: 'tinybert', corpus },
        featureCacheBytes: 1 << 26,
      }),
    ).rejects.toThrow(
      /^the teacher computes \d+ non-finite values \(NaN or Infinity; the first NaN\) at '[^']+' \(the feature an intermediate-layer match reads\) on the examples of step 0: fix or retrain it before distilling from it$/,
    );
    expect(existsSync(output)).toBe(false);
    // (nor are the features cached under --feature-cache-mb: the refusal comes before the batch's features are stored)
    const cached = join(common.cacheDir, 'teacher-features');
    expect(existsSync(cached) ? readdirSync(cached) : []).toEqual([]);
  });
});
