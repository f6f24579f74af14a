/**
 * The general-distillation corpus and both stages end to end through `runTraining`, kept tiny: a from-scratch
 * 1-layer student of the shared 2×256 SST-2 teacher, 48 examples, 32 tokens.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusSet, glueSentences, readCorpusFile } from '../../src/train/corpus.ts';
import { runTraining } from '../../src/train/run.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { mapModelLabels } from '../../src/eval/labels.ts';
import { getTask } from '../../src/glue/registry.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { findBert } from '../../src/bert/discover.ts';
import { DataError } from '../../src/errors.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(TEACHER, 'model.onnx'));
const work = mkdtempSync(join(tmpdir(), 'bert-compress-stages-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('corpus files', () => {
  it('reads one sentence or a tab-separated pair per line, skipping blank lines', () => {
    const file = join(work, 'corpus.txt');
    writeFileSync(file, 'a first sentence\n\n  a question\tits answer  \nlast\n');
    expect(readCorpusFile(file)).toEqual([{ textA: 'a first sentence' }, { textA: 'a question', textB: 'its answer' }, { textA: 'last' }]);
  });

  it('refuses a missing or empty corpus in one line', () => {
    expect(() => readCorpusFile(join(work, 'none.txt'))).toThrow(DataError);
    const empty = join(work, 'empty.txt');
    writeFileSync(empty, '\n\n');
    expect(() => readCorpusFile(empty)).toThrow(/the corpus is empty/);
  });

  it('refuses a folder given as the corpus in one line naming it', () => {
    const folder = join(work, 'a-folder');
    mkdirSync(folder, { recursive: true });
    expect(() => readCorpusFile(folder)).toThrow(new DataError(`${folder}: a folder, not a corpus file (one sentence, or a tab-separated pair, per line)`));
  });
});

describe('a run without a task', () => {
  it('is refused, before any model is read, unless it is general distillation', async () => {
    const none = join(work, 'no-such-model');
    const output = join(work, 'no-task', 'model.onnx');
    for (const distill of [undefined, { stage: 'task' as const }]) {
      await expect(runTraining({ student: none, ...(distill ? { teacher: none, distill } : {}), output })).rejects.toThrow(
        'no task given: the GLUE task to train on (only the general distillation stage runs without one)',
      );
    }
    // the general stage gets past it (to the missing model)
    await expect(runTraining({ student: 'every-other', teacher: none, distill: { stage: 'general', intermediate: 'tinybert' }, output })).rejects.toThrow(
      /no-such-model/,
    );
    expect(existsSync(join(work, 'no-task'))).toBe(false);
  });
});

describe.skipIf(!haveShared)('general and task stages (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  it('GLUE sentences are deduplicated; a corpus subset is a seeded subset of a larger one, labels NaN', () => {
    const sentences = glueSentences(GLUE_DIR);
    expect(new Set(sentences.map((s) => s.textA)).size).toBe(sentences.length);
    const task = getTask('SST-2');
    const common = {
      texts: sentences,
      tokenizer: loadTokenizer(TEACHER),
      maxLength: 32,
      task,
      numLabels: 2,
      labelMapping: mapModelLabels(task, null, 2),
      seed: 4,
      file: GLUE_DIR,
    };
    const small = corpusSet({ ...common, maxExamples: 50 });
    const large = corpusSet({ ...common, maxExamples: 200 });
    expect(small.examples).toHaveLength(50);
    expect(small.examples.every((e) => Number.isNaN(e.label))).toBe(true);
    const largeRows = new Set(large.sourceRows);
    expect(Array.from(small.sourceRows).every((r) => largeRows.has(r))).toBe(true);
    expect(small.sha256).not.toBe(large.sha256);
  });

  it('prediction KD with alpha 1 (the labels alone) computes no teacher outputs: they would be unused', async () => {
    const logs: string[] = [];
    const cacheDir = join(work, 'alpha1-cache');
    const run = await runTraining({
      task: 'SST-2',
      teacher: TEACHER,
      glueDir: GLUE_DIR,
      cacheDir,
      maxExamples: 16,
      maxLength: 16,
      settings: { epochs: 1, batchSize: 16, threads: 1 },
      student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
      output: join(work, 'alpha1', 'model.onnx'),
      distill: { alpha: 1 },
      log: (line) => logs.push(line),
    });
    expect(run.lineage!.loss).toEqual([{ kind: 'hard-ce', weight: 1 }]);
    expect(logs.filter((l) => l.startsWith('teacher outputs'))).toEqual([]);
    expect(existsSync(join(cacheDir, 'teacher-logits'))).toBe(false);
  });

  it('general distillation trains intermediate layers only, then the task stage runs intermediate then prediction KD', async () => {
    const common = {
      task: 'SST-2',
      teacher: TEACHER,
      glueDir: GLUE_DIR,
      cacheDir: join(work, 'cache'),
      maxExamples: 48,
      maxLength: 32,
      settings: { epochs: 1, batchSize: 16, threads: 1, lr: 1e-3 },
    };
    const corpus = join(work, 'gd-corpus.txt');
    writeFileSync(corpus, 'a gripping, well acted film\nthe plot goes nowhere\na small miracle\tof a movie\n'.repeat(20));
    const generalLogs: string[] = [];
    const general = await runTraining({
      ...common,
      student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
      output: join(work, 'general', 'model.onnx'),
      distill: { stage: 'general', intermediate: 'tinybert', corpus },
      log: (line) => generalLogs.push(line),
    });
    // each epoch is said, without a dev score, as a log (no bar off a terminal) follows the run; it said nothing
    expect(generalLogs.filter((l) => l.startsWith('epoch'))).toEqual([expect.stringMatching(/^epoch 1: loss \d+\.\d{4}$/)]);
    const g = general.lineage!;
    expect(g.phases.map((p) => p.name)).toEqual(['general distillation']);
    expect(g.loss).toEqual([]);
    expect(g.epochs[0]!.score).toBeUndefined(); // no dev evaluation: the classifier is not trained
    expect(g.data).toMatchObject({ file: corpus, examples: 48 });
    expect(g.steps).toBe(3);

    const logs: string[] = [];
    const task = await runTraining({
      ...common,
      student: join(work, 'general'),
      output: join(work, 'task', 'model.onnx'),
      distill: { intermediate: 'tinybert', alpha: 0 },
      log: (line) => logs.push(line),
    });
    // the teacher's outputs, on a cold cache, are said to be computed, not "(cached)"
    expect(logs.filter((l) => l.startsWith('teacher outputs'))).toEqual([
      'teacher outputs on 48 examples: computing (not in the cache)',
      expect.stringMatching(/^teacher outputs computed and cached in /),
    ]);
    expect(logs.filter((l) => l.startsWith('epoch'))).toEqual([
      expect.stringMatching(/^epoch 1: loss \d+\.\d{4}$/), // (the intermediate phase)
      expect.stringMatching(/^epoch 1: loss \d+\.\d{4}, dev SST-2 \d+\.\d{2}$/),
    ]);
    const t = task.lineage!;
    expect(t.phases.map((p) => [p.name, p.steps])).toEqual([
      ['intermediate-layer distillation', 3],
      ['prediction-layer distillation', 3],
    ]);
    expect(t.phases[0]!.matches.map((m) => `${m.teacherLayer}:${m.studentLayer}:${m.feature}`)).toEqual([
      '0:0:embeddings',
      '2:1:hidden',
      '2:1:attention-scores',
    ]);
    expect(t.phases[1]!.loss).toEqual([{ kind: 'soft-ce', weight: 1, temperature: 2 }]);
    // the top-level counts are of both phases
    expect(t.steps).toBe(3 + 3);
    expect(t.examplesSeen).toBe(48 + 48);
    expect(t.epochs[0]!.score).toBeGreaterThan(0);
    // the written student is the 1 × 32 BERT: no projection left in it
    const s = findBert(loadModel(join(work, 'task', 'model.onnx')));
    expect([s.numLayers, s.hiddenSize]).toEqual([1, 32]);
    expect([...loadModel(join(work, 'task', 'model.onnx')).graph.initializers.keys()].some((k) => k.includes('projection'))).toBe(false);
  });
});
