/**
 * Training end to end through the library's `runTraining` on real GLUE data and the shared teachers, kept tiny
 * (a 2-layer hidden-32 student, 16–64 examples, 32 tokens): the loss falls on a fixed set, the written model folder
 * evaluates, alpha = 0 leaves only the teacher term (its first value checked against a soft cross-entropy computed
 * here), and a regression task trains.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { TOKENIZER_FILES, copyModelFiles } from '../../src/eval/model-files.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import type { StepProgress } from '../../src/train/trainer.ts';
import { loadTrainingSet, textEncodings } from '../../src/train/data.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { predictRows } from '../../src/eval/predict.ts';
import { readModelConfig } from '../../src/eval/model-files.ts';
import { openSession } from '../../src/runtime/session.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { writeTinyBert } from '../helpers/models.ts';
import { trainingVersion } from '../../src/train/versions.ts';

const SST2_TEACHER = join(TEACHERS, 'sst2-L2H256');
const STSB_TEACHER = join(TEACHERS, 'stsb-L4H256');
const haveShared = hasGlue && existsSync(join(SST2_TEACHER, 'model.onnx')) && existsSync(join(STSB_TEACHER, 'model.onnx'));

const work = mkdtempSync(join(tmpdir(), 'bert-compress-trainer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A seeded tiny BERT (2 × 32) with the teacher's WordPiece vocabulary, tokenizer files and SST-2 labels. */
function tinyStudentFolder(): { dir: string; cleanup(): void } {
  const tiny = writeTinyBert({ vocabSize: 30522 }, { seed: 3 });
  copyModelFiles(SST2_TEACHER, tiny.dir, TOKENIZER_FILES);
  writeFileSync(join(tiny.dir, 'config.json'), JSON.stringify({ id2label: { 0: 'negative', 1: 'positive' }, max_length: 32 }));
  return tiny;
}

/** A 1 × 32 student distilled from the STS-B teacher on `examples` train examples into work/`name`/. */
function stsbJob(name: string, examples: number): Parameters<typeof runTraining>[0] {
  return {
    task: 'STS-B',
    teacher: STSB_TEACHER,
    student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
    output: join(work, name, 'model.onnx'),
    glueDir: GLUE_DIR,
    cacheDir: join(work, 'cache'),
    maxExamples: examples,
    maxLength: 32,
    settings: { epochs: 1, batchSize: Math.min(16, examples), threads: 1 },
  };
}

describe.skipIf(!haveShared)('runTraining (needs ../shared/glue and ../shared/teachers)', () => {
  it('lowers the training loss on a fixed small set and writes a model folder that evaluate runs', async () => {
    const student = tinyStudentFolder();
    const output = join(work, 'train', 'model.onnx');
    const r = await runTraining({
      task: 'SST-2',
      student: student.dir,
      output,
      glueDir: GLUE_DIR,
      maxExamples: 16,
      settings: { epochs: 20, batchSize: 16, lr: 1e-2, warmupRatio: 0, dropout: 0, threads: 1, evalEachEpoch: false },
    });
    student.cleanup();
    expect(r.interrupted).toBe(false);
    const losses = r.lineage!.epochs.map((e) => e.loss);
    expect(losses).toHaveLength(20);
    // 16 examples memorized: from about ln 2 to a small fraction of it.
    expect(losses[0]).toBeGreaterThan(0.6);
    expect(losses.at(-1)!).toBeLessThan(0.2 * losses[0]!);
    expect(r.lineage!).toMatchObject({
      kind: 'train',
      version: trainingVersion('train'),
      task: 'SST-2',
      steps: 20,
      examplesSeen: 320,
      loss: [{ kind: 'hard-ce', weight: 1 }],
    });
    expect(existsSync(`${output}.train`)).toBe(false);
    const config = JSON.parse(readFileSync(join(work, 'train', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ id2label: { 0: 'negative', 1: 'positive' }, hidden_size: 32, num_hidden_layers: 2, vocab_size: 30522 });

    const result = await evaluate({ model: join(work, 'train'), tasks: ['SST-2'], glueDir: GLUE_DIR, threads: 1 });
    expect(result.tasks[0]!.examples).toBe(872);
    expect(result.tasks[0]!.metrics.accuracy).toBeGreaterThan(0.3);
  });

  it('distils with alpha = 0 on the teacher term only: the first loss is T² · soft cross-entropy at the initial weights', async () => {
    const student = tinyStudentFolder();
    const T = 2;
    const steps: StepProgress[] = [];
    const r = await runTraining({
      task: 'SST-2',
      teacher: SST2_TEACHER,
      student: student.dir,
      output: join(work, 'alpha0', 'model.onnx'),
      glueDir: GLUE_DIR,
      cacheDir: join(work, 'cache'),
      maxExamples: 16,
      maxLength: 32,
      settings: { epochs: 1, batchSize: 16, dropout: 0, threads: 1, evalEachEpoch: false },
      distill: { alpha: 0, temperature: T },
      onStep: (p) => steps.push(p),
    });
    expect(r.lineage!.loss).toEqual([{ kind: 'soft-ce', weight: 1, temperature: T }]);
    expect(r.lineage!.distill).toMatchObject({ alpha: 0, temperature: T, logitLoss: 'ce' });

    // Independently: both models' logits on the 16 examples (one batch, so its order does not matter).
    const set = loadTrainingSet({
      task: 'SST-2',
      glueDir: GLUE_DIR,
      tokenizer: SST2_TEACHER,
      modelConfig: readModelConfig(SST2_TEACHER),
      maxLength: 32,
      maxExamples: 16,
      seed: 1,
    });
    const logits = async (path: string) => {
      const s = await openSession(path, { threads: 1 });
      try {
        return (await predictRows(s, textEncodings(set.examples), { batchSize: 16, padId: set.padId })).values;
      } finally {
        await s.release();
      }
    };
    const t = await logits(join(SST2_TEACHER, 'model.onnx'));
    const z = await logits(join(student.dir, 'model.onnx'));
    student.cleanup();
    const logSoftmax = (v: number[]) => {
      const m = Math.max(...v);
      const lse = m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
      return v.map((x) => x - lse);
    };
    let sum = 0;
    for (let b = 0; b < 16; b++) {
      const pt = logSoftmax([t[2 * b]! / T, t[2 * b + 1]! / T]).map(Math.exp);
      const ls = logSoftmax([z[2 * b]! / T, z[2 * b + 1]! / T]);
      sum -= pt[0]! * ls[0]! + pt[1]! * ls[1]!;
    }
    const expected = (T * T * sum) / 16;
    expect(steps).toHaveLength(1);
    expect(Math.abs(steps[0]!.loss - expected)).toBeLessThan(1e-4 * Math.max(1, expected));
  });

  it('refuses augmented examples with a gold-score term (STS-B, alpha > 0) in one line, before any work', async () => {
    await expect(runTraining({ ...stsbJob('stsb-augment', 8), distill: { alpha: 0.5, augment: 1 } })).rejects.toThrow(
      /^--augment with --alpha 0\.5 \(the default\): augmented STS-B examples have no gold score to regress on; use --alpha 0 \(the teacher's score is then the only target\)$/,
    );
    expect(existsSync(join(work, 'stsb-augment'))).toBe(false);
  });

  it('refuses a run whose last update leaves a student with outputs that are not finite (huge --lr, no clipping) and writes nothing', async () => {
    // every step's loss is finite here (each is checked before its update); after the last update the weights are
    // finite but so large that the student's logits overflow on the dev set
    const output = join(work, 'diverged', 'model.onnx');
    await expect(
      runTraining({
        task: 'SST-2',
        teacher: SST2_TEACHER,
        student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
        output,
        glueDir: GLUE_DIR,
        cacheDir: join(work, 'cache'),
        maxExamples: 16,
        settings: { epochs: 1, batchSize: 4, lr: 1e6, maxGradNorm: 0, threads: 1 },
      }),
    ).rejects.toThrow(/^training diverged at step 4 \(the student's outputs are not finite on \d+ of 872 dev examples\): lower --lr$/);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.json`)).toBe(false);
  });

  it('distils a regression task (STS-B): score MSE against gold and teacher, Pearson and Spearman per epoch', async () => {
    const r = await runTraining(stsbJob('stsb', 64));
    const l = r.lineage!;
    expect(l.loss.map((t) => t.kind)).toEqual(['score-mse', 'teacher-score-mse']);
    // the lineage records the distillation as run: the teacher's score by MSE, no temperature
    expect(l.distill).toMatchObject({ logitLoss: 'mse' });
    expect(l.distill).not.toHaveProperty('temperature');
    expect(l.epochs).toHaveLength(1);
    expect(Number.isFinite(l.epochs[0]!.loss)).toBe(true);
    expect(Object.keys(l.epochs[0]!.metrics ?? {}).sort()).toEqual(['pearson', 'spearmanr']);
    expect(JSON.parse(readFileSync(join(work, 'stsb', 'config.json'), 'utf8'))).toMatchObject({ num_labels: 1, hidden_size: 32 });
    const result = await evaluate({ model: join(work, 'stsb'), tasks: ['STS-B'], glueDir: GLUE_DIR, threads: 1 });
    expect(result.tasks[0]!.examples).toBe(1500);
  });
});
