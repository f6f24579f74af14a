import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSplit } from '../../src/glue/dataset.ts';
import { AX, GLUE_TASKS, MNLI_M, MNLI_MM, SST2, trainingTask, type TaskName } from '../../src/glue/tasks.ts';
import { GLUE_DIR, hasGlue } from '../helpers/paths.ts';

/** Rows per dev file (header excluded), from shared/glue/MANIFEST.md. */
const MANIFEST_DEV_ROWS: Record<Exclude<TaskName, 'AX'>, number> = {
  CoLA: 1043,
  'SST-2': 872,
  MRPC: 408,
  'STS-B': 1500,
  QQP: 40430,
  'MNLI-m': 9815,
  'MNLI-mm': 9832,
  QNLI: 5463,
  RTE: 277,
  WNLI: 71,
};

/** Rows per test file present in shared/glue, from MANIFEST.md (MNLI and QQP test files are not there). */
const MANIFEST_TEST_ROWS: Partial<Record<TaskName, number>> = {
  CoLA: 1063,
  'SST-2': 1821,
  MRPC: 1725,
  'STS-B': 1379,
  QNLI: 5463,
  RTE: 3000,
  WNLI: 146,
  AX: 1104,
};

describe('task definitions', () => {
  it('has one definition per task, with unique names', () => {
    expect(GLUE_TASKS.map((t) => t.name)).toEqual(['CoLA', 'SST-2', 'MRPC', 'STS-B', 'QQP', 'MNLI-m', 'MNLI-mm', 'QNLI', 'RTE', 'WNLI', 'AX']);
  });

  it('defines MNLI-mm as MNLI-m with only the split files (their official row counts) and names changed', () => {
    const differing = Object.keys(MNLI_M).filter(
      (k) => JSON.stringify(MNLI_M[k as keyof typeof MNLI_M]) !== JSON.stringify(MNLI_MM[k as keyof typeof MNLI_MM]),
    );
    expect(differing.sort()).toEqual(['aliases', 'description', 'name', 'officialRows', 'splits']);
    expect(MNLI_MM.splits.dev!.path).toBe('MNLI/dev_mismatched.tsv');
  });

  it("trains each task on its own train split, AX (test only) on MNLI-m's", () => {
    expect(trainingTask(AX)).toBe(MNLI_M);
    expect(trainingTask(MNLI_MM)).toBe(MNLI_MM);
    expect(trainingTask(SST2)).toBe(SST2);
    for (const t of GLUE_TASKS) expect(trainingTask(t).splits.train).toBeDefined();
  });

  it('has AX test-only, unlabelled, outside the GLUE score, with MNLI labels', () => {
    expect(Object.keys(AX.splits)).toEqual(['test']);
    expect(AX.splits.test!.labelled).toBe(false);
    expect(AX.scoreGroup).toBeNull();
    expect(AX.labels).toEqual(MNLI_M.labels);
    expect(AX.modelTask).toBe('MNLI');
  });

  it("names each task's classes in Hugging Face glue's ClassLabel order, where a model's LABEL_k outputs and a file's index labels point (WNLI: not_entailment first, unlike QNLI and RTE)", () => {
    // (datasets' glue.py label_classes, label_column and text_features per config; a class index in a file ('1' in
    // WNLI/dev.tsv) and a generic LABEL_k of a model fine-tuned on it are positions in this list)
    const table = Object.fromEntries(GLUE_TASKS.map((t) => [t.name, [t.labels.join(' '), t.labelFormat, t.labelColumn, t.textColumns.join(' | ')]]));
    expect(table).toEqual({
      CoLA: ['unacceptable acceptable', 'index', 'label', 'sentence'],
      'SST-2': ['negative positive', 'index', 'label', 'sentence'],
      MRPC: ['not_equivalent equivalent', 'index', 'Quality', '#1 String | #2 String'],
      'STS-B': ['', 'score', 'score', 'sentence1 | sentence2'],
      QQP: ['not_duplicate duplicate', 'index', 'is_duplicate', 'question1 | question2'],
      'MNLI-m': ['entailment neutral contradiction', 'name', 'gold_label', 'sentence1 | sentence2'],
      'MNLI-mm': ['entailment neutral contradiction', 'name', 'gold_label', 'sentence1 | sentence2'],
      QNLI: ['entailment not_entailment', 'name', 'label', 'question | sentence'],
      RTE: ['entailment not_entailment', 'name', 'label', 'sentence1 | sentence2'],
      WNLI: ['not_entailment entailment', 'index', 'label', 'sentence1 | sentence2'],
      AX: ['entailment neutral contradiction', 'name', 'gold_label', 'sentence1 | sentence2'],
    });
  });

  it('uses the Hugging Face glue metrics per task', () => {
    const metrics = Object.fromEntries(GLUE_TASKS.map((t) => [t.name, t.metrics]));
    expect(metrics).toEqual({
      CoLA: ['matthews_correlation'],
      'SST-2': ['accuracy'],
      MRPC: ['accuracy', 'f1'],
      'STS-B': ['pearson', 'spearmanr'],
      QQP: ['accuracy', 'f1'],
      'MNLI-m': ['accuracy'],
      'MNLI-mm': ['accuracy'],
      QNLI: ['accuracy'],
      RTE: ['accuracy'],
      WNLI: ['accuracy'],
      AX: [],
    });
  });
});

describe.skipIf(!hasGlue)('shared GLUE files (needs ../shared/glue)', () => {
  for (const [name, rows] of Object.entries(MANIFEST_DEV_ROWS)) {
    it(`${name} dev parses with ${rows} labelled rows`, () => {
      const task = GLUE_TASKS.find((t) => t.name === name)!;
      const ds = loadSplit(task, 'dev', GLUE_DIR);
      expect(ds.examples).toHaveLength(rows);
      expect(ds.examples.every((e) => e.label !== null)).toBe(true);
      expect(ds.examples.every((e) => (task.textColumns.length === 2) === (e.textB !== null))).toBe(true);
    });
  }

  for (const [name, rows] of Object.entries(MANIFEST_TEST_ROWS)) {
    it(`${name} test parses with ${rows} unlabelled rows and ids`, () => {
      const task = GLUE_TASKS.find((t) => t.name === name)!;
      const ds = loadSplit(task, 'test', GLUE_DIR);
      expect(ds.examples).toHaveLength(rows);
      expect(ds.examples.every((e) => e.label === null)).toBe(true);
      expect(ds.examples[0]!.id).toBe('0');
      expect(ds.examples[rows - 1]!.id).toBe(String(rows - 1));
    });
  }

  it('SST-2 dev has 428 negative and 444 positive sentences: one class for all scores 49.08 or 50.92 (README)', () => {
    const ds = loadSplit(GLUE_TASKS.find((t) => t.name === 'SST-2')!, 'dev', GLUE_DIR);
    const positive = ds.examples.filter((e) => e.label === 1).length;
    expect([ds.examples.length - positive, positive]).toEqual([428, 444]);
    const n = ds.examples.length;
    expect([n - positive, positive].map((k) => ((100 * k) / n).toFixed(2))).toEqual(['49.08', '50.92']);
  });

  it('reads CoLA dev (no header, no final newline) by position, first and last row included', () => {
    const ds = loadSplit(GLUE_TASKS[0]!, 'dev', GLUE_DIR);
    expect(ds.examples[0]).toEqual({ id: '0', textA: 'The sailors rode the breeze clear of the rocks.', textB: null, label: 1 });
    const lastLine = readFileSync(join(GLUE_DIR, 'CoLA/dev.tsv'), 'utf8').split('\n').pop()!;
    expect(ds.examples[1042]!.textA).toBe(lastLine.split('\t')[3]);
  });

  it('strips the BOM of MRPC dev so its Quality column is found', () => {
    const ds = loadSplit(GLUE_TASKS.find((t) => t.name === 'MRPC')!, 'dev', GLUE_DIR);
    expect(ds.examples[0]!.label).toBe(1);
    expect(ds.examples[0]!.textB).toBe('" The foodservice pie business does not fit our long-term growth strategy .');
  });

  it('keeps SST-2 trailing spaces and QNLI stray quotes', () => {
    const sst = loadSplit(GLUE_TASKS.find((t) => t.name === 'SST-2')!, 'dev', GLUE_DIR);
    expect(sst.examples[0]!.textA).toBe("it 's a charming and often affecting journey . ");
    const qnli = loadSplit(GLUE_TASKS.find((t) => t.name === 'QNLI')!, 'dev', GLUE_DIR);
    expect(qnli.examples.some((e) => e.textB!.startsWith('"'))).toBe(true);
  });

  it('reads the reconstructed MNLI and QQP dev files by header name, with the MANIFEST label counts', () => {
    const count = (labels: (number | null)[], k: number) => labels.filter((l) => l === k).length;
    const m = loadSplit(MNLI_M, 'dev', GLUE_DIR).examples.map((e) => e.label);
    expect([count(m, 0), count(m, 1), count(m, 2)]).toEqual([3479, 3123, 3213]);
    const mm = loadSplit(MNLI_MM, 'dev', GLUE_DIR).examples.map((e) => e.label);
    expect([count(mm, 0), count(mm, 1), count(mm, 2)]).toEqual([3463, 3129, 3240]);
    const qqp = loadSplit(GLUE_TASKS.find((t) => t.name === 'QQP')!, 'dev', GLUE_DIR);
    expect([
      count(
        qqp.examples.map((e) => e.label),
        0,
      ),
      count(
        qqp.examples.map((e) => e.label),
        1,
      ),
    ]).toEqual([25545, 14885]);
    expect(qqp.examples[0]).toMatchObject({ textA: 'Why are African-Americans so beautiful?', textB: 'Why are hispanics so beautiful?', label: 0 });
  });

  it('reads STS-B scores as numbers', () => {
    const ds = loadSplit(GLUE_TASKS.find((t) => t.name === 'STS-B')!, 'dev', GLUE_DIR);
    expect(ds.examples[0]!.label).toBe(5);
    expect(ds.examples.every((e) => e.label! >= 0 && e.label! <= 5)).toBe(true);
  });
});
