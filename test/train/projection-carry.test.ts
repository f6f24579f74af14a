/**
 * TinyBERT's two stages carry the hidden-state projection W_h (student width → teacher width): general_distill.py
 * saves the student's whole state_dict, fit_dense included, and task_distill.py's
 * TinyBertForSequenceClassification.from_pretrained loads it, so the task stage starts from the general stage's
 * projection. Here the run that learns projections writes them beside its student (OUT.projections.safetensors), and
 * a run from that student starts the matches of the same layers from them, whichever its teacher (TinyBERT's general
 * stage learns against BERT-base, its task stage against a fine-tuned teacher, and task_distill.py loads fit_dense all
 * the same); a model written over since, or equal widths (no projection) carry nothing.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining, type TrainRunOptions } from '../../src/train/run.ts';
import { projectionsPath, readProjections, writeProjections } from '../../src/train/projections.ts';
import { modelSha256 } from '../../src/onnx/identity.ts';
import { sha256FileSync } from '../../src/files.ts';
import { saveModel } from '../../src/onnx/save.ts';
import { writeGlueTask, writeModelFolder, WORDS } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-projection-carry-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
const otherTeacher = writeModelFolder(join(work, 'other-teacher'), tinyBert({}, { seed: 2 }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 16, ['train', 'dev']);
const corpus = join(work, 'corpus.txt');
writeFileSync(corpus, Array.from({ length: 16 }, (_, i) => `the ${WORDS[i % WORDS.length]} ${WORDS[(i * 5) % WORDS.length]} runs .`).join('\n') + '\n');

/** 16 wide: the 32-wide teacher's hidden states are matched through projections. */
const NARROW = 'bert:layers=1,hidden=16,heads=2,intermediate=32';

function run(student: string, output: string, more: Partial<TrainRunOptions> = {}, distill: TrainRunOptions['distill'] = {}) {
  const logs: string[] = [];
  const options: TrainRunOptions = {
    task: 'SST-2',
    teacher,
    student,
    glueDir,
    cacheDir: join(work, 'cache'),
    output,
    settings: { epochs: 1, batchSize: 4, threads: 1, lr: 1e-3 },
    distill: { intermediate: 'tinybert', alpha: 0, ...distill },
    log: (l) => logs.push(l),
    ...more,
  };
  return runTraining(options).then((r) => ({ ...r, logs }));
}

/**
 * The general stage of a NARROW student into `dir`/model.onnx, at a rate that moves its projections well away from
 * where they started (a new projection of the same seed and match starts there too).
 */
function general(dir: string, more: Partial<TrainRunOptions> = {}) {
  const settings = { epochs: 2, batchSize: 4, threads: 1, lr: 1e-2 };
  return run(NARROW, join(dir, 'model.onnx'), { task: undefined, settings, ...more }, { stage: 'general', corpus, alpha: undefined });
}

/** A task stage that barely moves its weights (lr 1e-9): its projections end where they started. */
const STILL = { settings: { epochs: 1, batchSize: 4, threads: 1, lr: 1e-9 } };

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe("the general stage's projections, carried into the task stage", () => {
  const gd = join(work, 'gd');

  it('the general stage writes the projections it learned beside its student, owned by the teacher and the student model', async () => {
    const g = await general(gd);
    const file = projectionsPath(join(gd, 'model.onnx'));
    expect(g.lineage!.output.projections).toBe(file);
    const read = readProjections(file);
    expect([...read.projections.keys()]).toEqual(['t0s0.mse', 't2s1.mse']);
    expect(read.projections.get('t2s1.mse')!.dims).toEqual([16, 32]);
    expect(read.teacher).toBe(await modelSha256(join(teacher, 'model.onnx')));
    expect(read.student).toBe(await modelSha256(join(gd, 'model.onnx')));
  });

  it('the task stage from that student with the same teacher starts every match from them', async () => {
    const before = readProjections(projectionsPath(join(gd, 'model.onnx'))).projections;
    const out = join(work, 'task', 'model.onnx');
    const t = await run(gd, out, STILL);
    expect(t.logs).toContain(`projections t0s0.mse, t2s1.mse start from ${projectionsPath(join(gd, 'model.onnx'))}`);
    expect(t.lineage!.student.projections).toEqual({
      from: projectionsPath(join(gd, 'model.onnx')),
      matches: ['t0s0.mse', 't2s1.mse'],
      learnedAgainst: { sha256: await modelSha256(join(teacher, 'model.onnx')) },
    });
    // (the student model hashed once, for its projections' owner and the lineage)
    expect(t.lineage!.student.sha256).toBe(sha256FileSync(join(gd, 'model.onnx')));
    // (a new projection starts where the general stage's started: 16 steps of lr 1e-2 away from the carried one)
    const after = readProjections(projectionsPath(out)).projections;
    for (const key of ['t0s0.mse', 't2s1.mse']) expect(maxDifference(after.get(key)!.data, before.get(key)!.data)).toBeLessThan(1e-5);
  });

  it('a task stage stopped in its first phase resumes with the carried projections, and ends as an uninterrupted run', async () => {
    const whole = join(work, 'whole', 'model.onnx');
    await run(gd, whole, { settings: { epochs: 1, batchSize: 4, threads: 1 } });
    const stop = new AbortController();
    const out = join(work, 'stopped', 'model.onnx');
    const stopped = await run(gd, out, {
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      signal: stop.signal,
      onStep: (s) => (s.step === 1 ? stop.abort() : undefined),
    });
    expect(stopped.interrupted).toBe(true);
    const resumed = await run(gd, out, { settings: { epochs: 1, batchSize: 4, threads: 1 } });
    expect(resumed.logs).toContain('resuming from step 1 (epoch 1)');
    const a = readProjections(projectionsPath(whole)).projections;
    const b = readProjections(projectionsPath(out)).projections;
    for (const key of a.keys()) expect(maxDifference(a.get(key)!.data, b.get(key)!.data)).toBe(0);
  });

  it('a general stage killed after writing its model resumes from its checkpoint and writes the same projections', async () => {
    const dir = join(work, 'gd-killed');
    const workDir = join(work, 'gd-killed.train');
    await general(dir, { workDir, keepWorkDir: true });
    const file = projectionsPath(join(dir, 'model.onnx'));
    const first = readProjections(file).projections;
    // (killed between the model and its lineage: the projections and the lineage not yet written)
    rmSync(file);
    rmSync(join(dir, 'model.onnx.json'));
    const again = await general(dir, { workDir });
    expect(again.logs.some((l) => l.startsWith('resuming from step'))).toBe(true);
    const second = readProjections(file).projections;
    for (const key of first.keys()) expect(maxDifference(first.get(key)!.data, second.get(key)!.data)).toBe(0);
  });

  it("another teacher starts from them too, as TinyBERT's task stage does, and says against which teacher they were learned", async () => {
    const file = projectionsPath(join(gd, 'model.onnx'));
    const out = join(work, 'other', 'model.onnx');
    const t = await run(gd, out, { ...STILL, teacher: otherTeacher });
    expect(t.logs).toContain(`projections t0s0.mse, t2s1.mse start from ${file}, learned against another teacher than this run's (${teacher})`);
    expect(t.lineage!.student.projections).toEqual({
      from: file,
      matches: ['t0s0.mse', 't2s1.mse'],
      learnedAgainst: { sha256: await modelSha256(join(teacher, 'model.onnx')), path: teacher },
      otherTeacher: true,
    });
    const before = readProjections(file).projections;
    const after = readProjections(projectionsPath(out));
    for (const key of ['t0s0.mse', 't2s1.mse']) expect(maxDifference(after.projections.get(key)!.data, before.get(key)!.data)).toBeLessThan(1e-5);
    // (what the task stage wrote was learned against its own teacher)
    expect(after.teacher).toBe(await modelSha256(join(otherTeacher, 'model.onnx')));
  });

  it('without the lineage of the run that wrote them, another teacher is named by its identity', async () => {
    const dir = join(work, 'gd-no-lineage');
    cpSync(gd, dir, { recursive: true });
    rmSync(join(dir, 'model.onnx.json'));
    const t = await run(dir, join(work, 'no-lineage-task', 'model.onnx'), { ...STILL, teacher: otherTeacher });
    const sha256 = await modelSha256(join(teacher, 'model.onnx'));
    expect(t.logs).toContain(
      `projections t0s0.mse, t2s1.mse start from ${projectionsPath(join(dir, 'model.onnx'))}, learned against another teacher than this run's (sha256 ${sha256.slice(0, 12)})`,
    );
    expect(t.lineage!.student.projections).toMatchObject({ learnedAgainst: { sha256 }, otherTeacher: true });
  });

  it('a task stage stopped, then rerun after its projections file changed, is refused naming that file', async () => {
    const dir = join(work, 'gd-changed');
    cpSync(gd, dir, { recursive: true });
    const file = projectionsPath(join(dir, 'model.onnx'));
    const out = join(work, 'changed-task', 'model.onnx');
    const stop = new AbortController();
    const stopped = await run(dir, out, { signal: stop.signal, onStep: (s) => (s.step === 1 ? stop.abort() : undefined) });
    expect(stopped.interrupted).toBe(true);
    const read = readProjections(file);
    const changed = new Map([...read.projections].map(([key, p]) => [key, { dims: p.dims, data: p.data.map((v) => v * 2) }]));
    writeProjections(file, { ...read, projections: changed });
    await expect(run(dir, out)).rejects.toThrow(`of a run with other starting projections than ${file} holds now`);
    rmSync(file);
    await expect(run(dir, out)).rejects.toThrow('of a run with projections started from a projections file (this run: new ones)');
  });

  it('projections beside a model written over since are not carried', async () => {
    const dir = join(work, 'gd-replaced');
    cpSync(gd, dir, { recursive: true });
    saveModel(tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32 }, { seed: 5 }), join(dir, 'model.onnx'));
    const t = await run(dir, join(work, 'replaced-task', 'model.onnx'), STILL);
    expect(t.logs).toContain(
      `${projectionsPath(join(dir, 'model.onnx'))}: not carried (it was written with another model than ${join(dir, 'model.onnx')}): the projections start new`,
    );
    expect(t.lineage!.student.projections).toBeUndefined();
  });

  it('a projections file that is not whole is refused in one line before any work', async () => {
    const dir = join(work, 'gd-garbled');
    cpSync(gd, dir, { recursive: true });
    const file = projectionsPath(join(dir, 'model.onnx'));
    const whole = readFileSync(file);
    const refusal = async () => {
      const e = await run(dir, join(work, 'garbled-task', 'model.onnx'), STILL).then(
        () => new Error('not refused'),
        (e: Error) => e,
      );
      expect(e.message).toMatch(/^[^\n]+; remove it to start new projections$/);
      expect(existsSync(join(work, 'garbled-task'))).toBe(false);
      return e.message;
    };
    writeFileSync(file, 'not safetensors');
    expect(await refusal()).toContain(`${file}: `);
    // (cut short, as a run killed while copying it leaves it: the same advice as a changed one's checksum gives)
    writeFileSync(file, whole.subarray(0, whole.length - 8));
    expect(await refusal()).toContain(`${file}: truncated safetensors file`);
    expect(existsSync(join(work, 'garbled-task'))).toBe(false);
  });

  it('with equal widths no projection is learned, written or read', async () => {
    const dir = join(work, 'gd-wide');
    const g = await run(
      'bert:layers=1,hidden=32,heads=2,intermediate=32',
      join(dir, 'model.onnx'),
      { task: undefined },
      {
        stage: 'general',
        corpus,
        alpha: undefined,
      },
    );
    expect(g.lineage!.output.projections).toBeUndefined();
    expect(existsSync(projectionsPath(join(dir, 'model.onnx')))).toBe(false);
    const t = await run(dir, join(work, 'wide-task', 'model.onnx'), STILL);
    expect(t.lineage!.student.projections).toBeUndefined();
    expect(t.logs.filter((l) => l.includes('projections'))).toEqual([]);
    expect(existsSync(projectionsPath(join(work, 'wide-task', 'model.onnx')))).toBe(false);
  });
});
