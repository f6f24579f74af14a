import { describe, expect, it } from 'vitest';
import { glueScore, shareOfBaseline, taskScore } from '../../src/eval/glue-score.ts';
import { computeTaskMetrics, undefinedMetrics } from '../../src/eval/metrics/index.ts';
import { AX, COLA, MNLI_M, MNLI_MM, MRPC, QNLI, QQP, RTE, SST2, STSB, WNLI } from '../../src/glue/tasks.ts';

/** BERT-base-like dev results (fractions); the expected arithmetic is written out in the test. */
const RESULTS = [
  { task: COLA, metrics: { matthews_correlation: 0.52 } },
  { task: SST2, metrics: { accuracy: 0.93 } },
  { task: MRPC, metrics: { accuracy: 0.86, f1: 0.9 } },
  { task: STSB, metrics: { pearson: 0.88, spearmanr: 0.86 } },
  { task: QQP, metrics: { accuracy: 0.91, f1: 0.88 } },
  { task: MNLI_M, metrics: { accuracy: 0.84 } },
  { task: MNLI_MM, metrics: { accuracy: 0.82 } },
  { task: QNLI, metrics: { accuracy: 0.91 } },
  { task: RTE, metrics: { accuracy: 0.66 } },
  { task: WNLI, metrics: { accuracy: 0.56 } },
  { task: AX, metrics: {} },
];

describe('GLUE score', () => {
  it('averages a multi-metric task once, as the mean of its metrics', () => {
    expect(taskScore(MRPC, { accuracy: 0.86, f1: 0.9 })).toBeCloseTo(0.88, 15);
    expect(taskScore(SST2, {})).toBeNull();
  });

  it('is the macro-average over tasks, MNLI once as the mean of m and mm, AX excluded, WNLI included', () => {
    // CoLA .52, SST-2 .93, MRPC .88, STS-B .87, QQP .895, MNLI .83, QNLI .91, RTE .66, WNLI .56 → 7.055 / 9.
    const g = glueScore(RESULTS, { includeWnli: true });
    expect(g.score).toBeCloseTo(7.055 / 9, 12);
    expect(g.includesWnli).toBe(true);
    expect(Object.keys(g.entries)).toEqual(['CoLA', 'SST-2', 'MRPC', 'STS-B', 'QQP', 'MNLI', 'QNLI', 'RTE', 'WNLI']);
    expect(g.entries.MNLI).toBeCloseTo(0.83, 15);
  });

  it("gives the GLUE leaderboard's score of BERT-large, 80.5 (the BERT paper's abstract), from its test-set row", () => {
    // the leaderboard row: CoLA 60.5, SST-2 94.9, MRPC 89.3/85.4 (F1/acc), STS-B 87.6/86.5, QQP 72.1/89.3 (F1/acc),
    // MNLI-m 86.7, MNLI-mm 85.9, QNLI 92.7, RTE 70.1, WNLI 65.1, AX 39.6. Counting MNLI-m and MNLI-mm as two tasks gives
    // 81.1, MNLI-m alone 80.6, AX as a task 76.4: only MNLI once (m and mm averaged), AX out and WNLI in give 80.5.
    const row = [
      { task: COLA, metrics: { matthews_correlation: 0.605 } },
      { task: SST2, metrics: { accuracy: 0.949 } },
      { task: MRPC, metrics: { f1: 0.893, accuracy: 0.854 } },
      { task: STSB, metrics: { pearson: 0.876, spearmanr: 0.865 } },
      { task: QQP, metrics: { f1: 0.721, accuracy: 0.893 } },
      { task: MNLI_M, metrics: { accuracy: 0.867 } },
      { task: MNLI_MM, metrics: { accuracy: 0.859 } },
      { task: QNLI, metrics: { accuracy: 0.927 } },
      { task: RTE, metrics: { accuracy: 0.701 } },
      { task: WNLI, metrics: { accuracy: 0.651 } },
      { task: AX, metrics: {} },
    ];
    expect((100 * glueScore(row, { includeWnli: true }).score!).toFixed(1)).toBe('80.5');
  });

  it('leaves WNLI out when asked and says so', () => {
    const g = glueScore(RESULTS, { includeWnli: false });
    expect(g.score).toBeCloseTo(6.495 / 8, 12);
    expect(g.includesWnli).toBe(false);
    expect('WNLI' in g.entries).toBe(false);
  });

  it('uses MNLI-m alone when MNLI-mm was not run', () => {
    expect(glueScore([RESULTS[5]!], { includeWnli: true }).score).toBeCloseTo(0.84, 15);
  });

  it('is null when nothing scored ran (test split)', () => {
    const g = glueScore(
      [
        { task: SST2, metrics: {} },
        { task: AX, metrics: {} },
      ],
      { includeWnli: true },
    );
    expect(g).toEqual({ score: null, undefinedReason: null, includesWnli: false, entries: {}, tasks: {} });
  });

  it('is undefined, with the tasks and reasons, when a task that counts has an undefined metric (not dropped, not 0)', () => {
    const stsb = { pearson: Number.NaN, spearmanr: Number.NaN };
    const g = glueScore(
      [
        { task: SST2, metrics: { accuracy: 0.9 } },
        { task: STSB, metrics: stsb, undefinedMetrics: { pearson: 'constant predictions', spearmanr: 'constant predictions' } },
      ],
      { includeWnli: true },
    );
    expect(g.score).toBeNull();
    expect(g.undefinedReason).toBe('STS-B: Pearson and Spearman undefined (constant predictions)');
    expect(g.entries).toEqual({ 'SST-2': 0.9 });
    // computed from the predictions: constant STS-B predictions have no correlation
    const predictions = [3, 3, 3, 3];
    const references = [1, 2, 3, 4];
    expect(undefinedMetrics(computeTaskMetrics(STSB, predictions, references), predictions, references)).toEqual({
      pearson: 'constant predictions',
      spearmanr: 'constant predictions',
    });
    expect(undefinedMetrics(computeTaskMetrics(STSB, references, references), references, references)).toEqual({});
    // one example has no correlation, and its being 'constant' says nothing of the model (scipy's pearsonr refuses it)
    expect(undefinedMetrics(computeTaskMetrics(STSB, [2.5], [3.8]), [2.5], [3.8])).toEqual({
      pearson: '1 example: a correlation needs 2 or more',
      spearmanr: '1 example: a correlation needs 2 or more',
    });
  });
});

describe('shareOfBaseline', () => {
  it('is score / baseline, and null when either is missing or NaN or the baseline is 0 or below', () => {
    expect(shareOfBaseline(0.6, 0.8)).toBeCloseTo(0.75, 12);
    expect(shareOfBaseline(0.05, -0.02)).toBeNull(); // a weak CoLA baseline's MCC: no share means anything
    expect(shareOfBaseline(0.05, 0)).toBeNull();
    expect(shareOfBaseline(Number.NaN, 0.8)).toBeNull(); // Pearson of constant predictions
    expect(shareOfBaseline(0.6, Number.NaN)).toBeNull();
    expect(shareOfBaseline(null, 0.8)).toBeNull();
    expect(shareOfBaseline(0.6, undefined)).toBeNull();
  });
});
