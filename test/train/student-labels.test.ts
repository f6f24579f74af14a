/**
 * A student model folder keeps its own labels when distilled: a checkpoint whose classifier orders the labels
 * otherwise than the teacher's (its config.json id2label says how) is trained and evaluated in its own order, and
 * written with its own id2label; a student whose id2label names another task's labels gets a new classifier for the task.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { saveModel } from '../../src/onnx/save.ts';
import { findBert } from '../../src/bert/discover.ts';
import { float32Tensor, readFloat32 } from '../../src/onnx/tensor.ts';
import { TOKENIZER_FILES, copyModelFiles } from '../../src/eval/model-files.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(TEACHER, 'model.onnx'));
const work = mkdtempSync(join(tmpdir(), 'bert-compress-student-labels-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The teacher with its two classifier outputs swapped and its config.json saying so: the same function. */
function swappedTwin(dir: string, id2label: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  const model = loadModel(join(TEACHER, 'model.onnx'));
  const last = findBert(model).head!.linears.at(-1)!;
  const swapColumns = (name: string, rows: number, cols: number, columnsAreOutputs: boolean) => {
    const t = model.graph.initializers.get(name)!;
    const v = readFloat32(t);
    const out = new Float32Array(v.length);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const [rr, cc] = columnsAreOutputs ? [r, 1 - c] : [1 - r, c];
        out[r * cols + c] = v[rr * cols + cc]!;
      }
    model.graph.initializers.set(name, float32Tensor(name, t.dims, out));
  };
  if (last.layout === 'in_out') swapColumns(last.weight, last.inFeatures, 2, true);
  else swapColumns(last.weight, 2, last.inFeatures, false);
  swapColumns(last.bias!, 1, 2, true);
  saveModel(model, join(dir, 'model.onnx'));
  const config = JSON.parse(readFileSync(join(TEACHER, 'config.json'), 'utf8')) as Record<string, unknown>;
  const label2id = Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, id2label, label2id }));
  copyModelFiles(TEACHER, dir, TOKENIZER_FILES);
  return dir;
}

describe.skipIf(!haveShared)('distilling into a student model with its own labels (needs ../shared)', () => {
  const common = {
    task: 'SST-2',
    teacher: TEACHER,
    glueDir: GLUE_DIR,
    cacheDir: join(work, 'cache'),
    maxExamples: 32,
    maxLength: 32,
    settings: { epochs: 1, batchSize: 16, threads: 1, lr: 1e-12, dropout: 0 },
  };
  /** The teacher distilled into itself with these settings, run once for the tests that compare with it. */
  let selfRun: ReturnType<typeof runTraining> | undefined;
  const distilledSelf = () => (selfRun ??= runTraining({ ...common, student: TEACHER, output: join(work, 'out-self', 'model.onnx') }));

  it('a student whose head orders the labels otherwise is trained and scored in its order, and keeps its id2label', async () => {
    const swapped = { '0': 'positive', '1': 'negative' };
    const twin = await runTraining({ ...common, student: swappedTwin(join(work, 'twin'), swapped), output: join(work, 'out-twin', 'model.onnx') });
    const self = await distilledSelf();
    const [t, s] = [twin.lineage!.epochs[0]!, self.lineage!.epochs[0]!];
    // The same function: the same dev accuracy (the teacher's own, as the step is ~0) and the same loss.
    expect(t.score).toBe(s.score);
    expect(t.loss).toBeCloseTo(s.loss, 5);
    const written = JSON.parse(readFileSync(join(work, 'out-twin', 'config.json'), 'utf8'));
    expect(written.id2label).toEqual(swapped);
    expect(written.label2id).toEqual({ positive: 0, negative: 1 });
  });

  it("a student whose id2label names another task's labels gets a new classifier for the task (said, recorded; written with the task's labels); the general stage, which reads no labels, keeps its own", async () => {
    const other = swappedTwin(join(work, 'other'), { '0': 'entailment', '1': 'not_entailment' });
    const output = join(work, 'out-other', 'model.onnx');
    const logs: string[] = [];
    const task = await runTraining({ ...common, student: other, output, log: (line) => logs.push(line) });
    expect(logs).toContain('the student has no classifier for SST-2 (its labels are entailment, not_entailment): a new one (2 labels) is initialised (seed 1)');
    expect(task.lineage!.student.newClassifier).toEqual({ outputs: 2, seed: 1, reason: 'its labels are entailment, not_entailment' });
    expect(JSON.parse(readFileSync(join(work, 'out-other', 'config.json'), 'utf8')).id2label).toEqual({ 0: 'negative', 1: 'positive' });
    const corpus = join(work, 'corpus.txt');
    writeFileSync(corpus, 'a gripping film\nthe plot goes nowhere\n'.repeat(8));
    const generalOut = join(work, 'out-other-general', 'model.onnx');
    const general = await runTraining({ ...common, student: other, output: generalOut, distill: { stage: 'general', intermediate: 'tinybert', corpus } });
    expect(general.lineage!.phases.map((p) => p.name)).toEqual(['general distillation']);
    expect(general.lineage!.student.newClassifier).toBeUndefined();
  });

  it('a student with generic labels (LABEL_0…, the canonical order) is written with the task names in that order', async () => {
    const generic = swappedTwin(join(work, 'generic'), { '0': 'LABEL_0', '1': 'LABEL_1' }); // (its head's weights do not matter here)
    await runTraining({ ...common, student: generic, output: join(work, 'out-generic', 'model.onnx') });
    const written = JSON.parse(readFileSync(join(work, 'out-generic', 'config.json'), 'utf8'));
    expect(written.id2label).toEqual({ 0: 'negative', 1: 'positive' });
    expect(written.label2id).toEqual({ negative: 0, positive: 1 });
  });

  it('a student with generic labels out of order (LABEL_1, LABEL_0) is read by their numbers: trained and scored as its head orders them, written with the task names in that order', async () => {
    const reversed = swappedTwin(join(work, 'generic-reversed'), { '0': 'LABEL_1', '1': 'LABEL_0' });
    const twin = await runTraining({ ...common, student: reversed, output: join(work, 'out-generic-reversed', 'model.onnx') });
    const self = await distilledSelf();
    expect(twin.lineage!.epochs[0]!.score).toBe(self.lineage!.epochs[0]!.score);
    const written = JSON.parse(readFileSync(join(work, 'out-generic-reversed', 'config.json'), 'utf8'));
    expect(written.id2label).toEqual({ 0: 'positive', 1: 'negative' });
    expect(written.label2id).toEqual({ positive: 0, negative: 1 });
  });
});
