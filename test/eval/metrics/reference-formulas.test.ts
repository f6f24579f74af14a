/**
 * The GLUE metrics against the reference implementations' own formulas, written out here independently of
 * src/eval/metrics on many seeded cases with the edge cases a model produces (every prediction one class, every
 * reference one class, ties, constant scores): sklearn's matthews_corrcoef (from the confusion matrix), sklearn's
 * f1_score (precision and recall with zero_division 0), scipy's rankdata(method='average') and pearsonr (NaN for
 * constant input, told by comparing the values, then the normalized centred vectors' dot product).
 */
import { describe, expect, it } from 'vitest';
import { f1, matthewsCorrelation, pearson, spearmanr } from '../../../src/eval/metrics/index.ts';

/** A seeded generator of integers in [0, n) (a 32-bit LCG). */
function draws(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** sklearn.metrics.matthews_corrcoef: from the confusion matrix C[true][pred]. */
function sklearnMcc(pred: readonly number[], ref: readonly number[]): number {
  const classes = [...new Set([...pred, ...ref])].sort((a, b) => a - b);
  const k = classes.length;
  const C = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < pred.length; i++) C[classes.indexOf(ref[i]!)]![classes.indexOf(pred[i]!)]!++;
  const tSum = C.map((row) => row.reduce((a, b) => a + b, 0));
  const pSum = classes.map((_, j) => C.reduce((a, row) => a + row[j]!, 0));
  const nCorrect = classes.reduce((a, _, j) => a + C[j]![j]!, 0);
  const n = pSum.reduce((a, b) => a + b, 0);
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
  const covYtYp = nCorrect * n - dot(tSum, pSum);
  const covYpYp = n * n - dot(pSum, pSum);
  const covYtYt = n * n - dot(tSum, tSum);
  return covYpYp * covYtYt === 0 ? 0 : covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/** sklearn.metrics.f1_score(average='binary', pos_label=1, zero_division=0), through precision and recall. */
function sklearnF1(pred: readonly number[], ref: readonly number[]): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  pred.forEach((p, i) => {
    if (p === 1 && ref[i] === 1) tp++;
    else if (p === 1) fp++;
    else if (ref[i] === 1) fn++;
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** scipy.stats.rankdata(method='average'): values below, plus the middle of the values equal. */
function rankdata(v: readonly number[]): number[] {
  return v.map((x) => v.filter((y) => y < x).length + (v.filter((y) => y === x).length + 1) / 2);
}

/** scipy.stats.pearsonr(x, y)[0]: NaN for constant input, else the centred vectors' normalized dot product, clipped. */
function scipyPearson(x: readonly number[], y: readonly number[]): number {
  if (x.every((v) => v === x[0]) || y.every((v) => v === y[0])) return NaN;
  const centred = (v: readonly number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const d = v.map((a) => a - m);
    const norm = Math.hypot(...d);
    return d.map((a) => a / norm);
  };
  const [xm, ym] = [centred(x), centred(y)];
  return Math.max(
    -1,
    Math.min(
      1,
      xm.reduce((s, a, i) => s + a * ym[i]!, 0),
    ),
  );
}

const expectSame = (actual: number, expected: number) => {
  if (Number.isNaN(expected)) expect(actual).toBeNaN();
  else expect(actual).toBeCloseTo(expected, 12);
};

/** Seeded cases of n labels in [0, k): uniform, every prediction one class, every reference one class, both. */
function labelCases(k: number): Array<{ pred: number[]; ref: number[] }> {
  const out: Array<{ pred: number[]; ref: number[] }> = [];
  for (let seed = 1; seed <= 60; seed++) {
    const draw = draws(seed * 7919 + k);
    const n = 1 + draw(40);
    const ref = Array.from({ length: n }, () => draw(k));
    const pred = Array.from({ length: n }, () => draw(k));
    const one = draw(k);
    out.push({ pred, ref }, { pred: pred.map(() => one), ref }, { pred, ref: ref.map(() => one) }, { pred: pred.map(() => one), ref: ref.map(() => one) });
  }
  return out;
}

/** Seeded regression cases: scores with many ties (few distinct values), distinct scores, and constant predictions. */
function scoreCases(): Array<{ pred: number[]; ref: number[] }> {
  const out: Array<{ pred: number[]; ref: number[] }> = [];
  for (let seed = 1; seed <= 60; seed++) {
    const draw = draws(seed * 104729);
    const n = 2 + draw(40);
    const tied = Array.from({ length: n }, () => draw(4) * 1.25);
    const ref = Array.from({ length: n }, () => draw(26) / 5);
    const pred = Array.from({ length: n }, () => Math.fround(draw(1000) / 7 - 60));
    out.push({ pred: tied, ref }, { pred, ref }, { pred: pred.map(() => Math.fround(0.1)), ref }, { pred, ref: tied });
  }
  // a whole STS-B dev set scored alike: the mean of 1500 × 0.1 is not 0.1
  const draw = draws(1500);
  const ref = Array.from({ length: 1500 }, () => draw(26) / 5);
  out.push({ pred: new Array<number>(1500).fill(0.1), ref }, { pred: ref.map((r) => r + draw(3)), ref });
  return out;
}

describe('GLUE metrics against the reference formulas, written out independently', () => {
  it("matthews_correlation is sklearn's, for two and three classes, with one-class predictions or references (0)", () => {
    for (const k of [2, 3]) {
      for (const { pred, ref } of labelCases(k)) expectSame(matthewsCorrelation(pred, ref).matthews_correlation, sklearnMcc(pred, ref));
    }
  });

  it("f1 is sklearn's binary F1 of class 1 (0 without positive predictions, or without any positive)", () => {
    for (const { pred, ref } of labelCases(2)) expectSame(f1(pred, ref).f1, sklearnF1(pred, ref));
  });

  it("pearson is scipy's pearsonr and spearmanr its spearmanr (Pearson of average ranks), NaN for constant input", () => {
    for (const { pred, ref } of scoreCases()) {
      expectSame(pearson(pred, ref).pearson, scipyPearson(pred, ref));
      expectSame(spearmanr(pred, ref).spearmanr, scipyPearson(rankdata(pred), rankdata(ref)));
    }
  });
});
