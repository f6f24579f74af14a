/**
 * Heads chosen in steps: scores comparable across layers (signed loss deltas ranked as measured, non-negative
 * sizes normalized per layer), the lowest heads under a per-layer minimum, and the steps themselves: each step
 * re-scores the model with the earlier steps' heads removed, in the original head numbering.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { applyHeadPruning, pruneHeadsPass } from '../../src/prune/heads.ts';
import { cloneModel, float32Tensor, readFloat32 } from '../../src/onnx/index.ts';
import { headScores } from '../../src/prune/head-importance.ts';
import { comparableScores, lowestHeads, selectHeadsInSteps } from '../../src/prune/head-selection.ts';
import { defaultSteps } from '../../src/prune/settings.ts';
import { tinyBert } from '../helpers/models.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { CalibrationRunner, predictedTargets } from '../../src/pass/measure.ts';

describe('comparableScores', () => {
  it('ranks signed ablation deltas as measured, across layers', () => {
    const scores = [
      [-0.2, 0.5],
      [0.001, 0.002],
    ];
    expect(comparableScores('ablation', scores)).toEqual(scores);
    // a per-layer L2 normalization would have stretched layer 1's tiny deltas above layer 0's head 1
    expect(lowestHeads(comparableScores('ablation', scores), 2, [2, 2])).toEqual({ 0: [0], 1: [0] });
  });

  it('normalizes non-negative sizes per layer and refuses negative ones', () => {
    const out = comparableScores('gradient', [
      [3, 4],
      [0, 0],
    ]);
    expect(out[0][0]).toBeCloseTo(0.6, 12);
    expect(out[0][1]).toBeCloseTo(0.8, 12);
    expect(out[1]).toEqual([0, 0]);
    expect(() => comparableScores('magnitude', [[1, -1]])).toThrow(/non-negative/);
  });
});

describe('non-finite importance', () => {
  it('is refused in one line naming the head, where NaN scores removed heads in an arbitrary order', async () => {
    expect(() => comparableScores('ablation', [[0.1, Number.NaN]])).toThrow(
      /^prune-heads: ablation importance of layer 0 head 1 is NaN: it computes NaN or Infinity on the calibration examples; fix or retrain the model before pruning it$/,
    );
    const model = cloneModel(tinyBert({ numLayers: 2 }, { std: 0.2 }));
    const s = findBert(model);
    const q = s.layers[1].attention!.q!;
    const w = readFloat32(model.graph.initializers.get(q.weight)!).slice();
    w[q.layout === 'in_out' ? 2 * q.outFeatures + 9 : 9 * q.inFeatures + 2] = Number.NaN; // an entry of head 1's columns (head size 8)
    model.graph.initializers.set(q.weight, float32Tensor(q.weight, model.graph.initializers.get(q.weight)!.dims, w));
    await expect(pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.25 }), {})).rejects.toThrow(
      /^prune-heads: magnitude importance of layer 1 head 1 is NaN: its attention weights hold NaN or Infinity; fix or retrain the model before pruning it$/,
    );
  });
});

describe('lowestHeads', () => {
  it('takes the lowest scores, keeps the per-layer minimum, breaks ties by layer then head', () => {
    const scores = [
      [0.1, 0.1, 0.9],
      [0.0, 0.05],
    ];
    expect(lowestHeads(scores, 3, [3, 2])).toEqual({ 0: [0], 1: [0, 1] });
    expect(lowestHeads(scores, 3, [3, 2], 1)).toEqual({ 0: [0, 1], 1: [0] });
    expect(lowestHeads(scores, 4, [3, 2], 1)).toEqual({ 0: [0, 1], 1: [0] });
    expect(lowestHeads(scores, 0, [3, 2])).toEqual({});
  });
});

describe('defaultSteps', () => {
  it('re-scores data-driven importance every 10% of the heads and scores the others once', () => {
    expect(defaultSteps('ablation', 0.5)).toBe(5);
    expect(defaultSteps('confidence', 0.3)).toBe(3);
    expect(defaultSteps('gradient', 0.05)).toBe(1);
    expect(defaultSteps('magnitude', 0.7)).toBe(1);
    expect(defaultSteps('random', 0.7)).toBe(1);
  });
});

describe('selectHeadsInSteps', () => {
  const model = tinyBert({ numLayers: 3, numHeads: 4 }, { seed: 3, std: 0.3 });
  const s = findBert(model);
  const calibration = syntheticCalibration([6, 5], 128, { classes: 2 });

  it('re-scores the model left by the earlier steps, in the original numbering', async () => {
    const choice = await selectHeadsInSteps(model, s, { importance: 'ablation', ratio: 0.5, steps: 2 }, { calibration }, applyHeadPruning);
    expect(choice.steps).toHaveLength(2);
    const count = (d: Record<number, number[]>) => Object.values(d).reduce((n, h) => n + h.length, 0);
    expect(count(choice.drop)).toBe(6);
    expect(count(choice.steps[0].removed)).toBe(3);
    expect(count(choice.steps[1].removed)).toBe(3);
    // the union of the steps is the choice, with no head removed twice
    const union: Record<number, number[]> = {};
    for (const st of choice.steps)
      for (const [l, hs] of Object.entries(st.removed)) union[Number(l)] = [...(union[Number(l)] ?? []), ...hs].sort((a, b) => a - b);
    expect(union).toEqual(choice.drop);
    // step 1 scored the whole model
    const first = await headScores('ablation', model, s, { calibration });
    first.forEach((row, l) => row.forEach((v, h) => expect(choice.steps[0].scores[l][h]).toBeCloseTo(v, 6)));
    // step 2 scored the model without step 1's heads: the same numbers as ablation measured on that model directly
    const pruned = applyHeadPruning(model, s, choice.steps[0].removed);
    const second = await headScores('ablation', pruned, findBert(pruned), { calibration });
    s.layers.forEach((layer, l) => {
      const gone = new Set(choice.steps[0].removed[l] ?? []);
      const kept = Array.from({ length: layer.attention!.numHeads }, (_, h) => h).filter((h) => !gone.has(h));
      for (const h of gone) expect(choice.steps[1].scores[l][h]).toBeNull();
      kept.forEach((orig, j) => expect(choice.steps[1].scores[l][orig]).toBeCloseTo(second[l][j], 6));
    });
    // and step 2 removed the lowest of those
    const lowest = lowestHeads(
      second,
      3,
      s.layers.map((l) => l.attention!.numHeads - (choice.steps[0].removed[l.index]?.length ?? 0)),
    );
    const mapped: Record<number, number[]> = {};
    s.layers.forEach((layer, l) => {
      const gone = new Set(choice.steps[0].removed[l] ?? []);
      const kept = Array.from({ length: layer.attention!.numHeads }, (_, h) => h).filter((h) => !gone.has(h));
      if (lowest[l]) mapped[l] = lowest[l].map((j) => kept[j]);
    });
    expect(choice.steps[1].removed).toEqual(mapped);
  });

  it('one step is the one-shot choice; a layer keeps its minimum', async () => {
    const once = await selectHeadsInSteps(model, s, { importance: 'ablation', ratio: 0.5, steps: 1 }, { calibration }, applyHeadPruning);
    expect(once.steps).toHaveLength(1);
    expect(once.drop).toEqual(lowestHeads(await headScores('ablation', model, s, { calibration }), 6, [4, 4, 4]));
    const kept = await selectHeadsInSteps(model, s, { importance: 'ablation', ratio: 0.9, steps: 3, minHeadsPerLayer: 1 }, { calibration }, applyHeadPruning);
    for (const l of [0, 1, 2]) expect(kept.drop[l]?.length ?? 0).toBeLessThanOrEqual(3);
  });
});

describe('importance target', () => {
  // weights under which the model predicts both classes on the calibration examples
  const model = tinyBert({ numLayers: 3, numHeads: 4 }, { seed: 6, std: 0.6 });
  const s = findBert(model);
  const calibration = syntheticCalibration([6, 5], 128, { classes: 2 });
  const relabeled = (label: number) => ({ ...calibration, batches: calibration.batches.map((b) => ({ ...b, labels: b.labels.map(() => label) })) });

  it.each(['ablation', 'gradient'] as const)('%s refuses regression calibration data for a 2-class model, in one line', async (importance) => {
    const scores = syntheticCalibration([4, 3], 128, 'regression');
    await expect(headScores(importance, model, s, { calibration: scores })).rejects.toThrow(
      /^prune-heads: regression calibration data for a model with 2 outputs$/,
    );
  });

  it('ablation and gradient against the labels refuse a label the model has no output for (another task), in one line', async () => {
    // before, ablation read no logit for label 2 of this 2-class model: every score NaN, heads removed at random
    for (const importance of ['ablation', 'gradient'] as const) {
      await expect(headScores(importance, model, s, { calibration: relabeled(2) })).rejects.toThrow(
        /^prune-heads: calibration label 2 is not one of the model's 2 outputs$/,
      );
      await expect(selectHeadsInSteps(model, s, { importance, ratio: 0.5, target: 'labels' }, { calibration: relabeled(2) }, applyHeadPruning)).rejects.toThrow(
        /calibration label 2/,
      );
    }
    // against the model's own predictions the labels are not read
    const p = await selectHeadsInSteps(
      model,
      s,
      { importance: 'ablation', ratio: 0.25, steps: 1, target: 'predictions' },
      { calibration: relabeled(2) },
      applyHeadPruning,
    );
    expect(p.steps[0].scores.flat().every(Number.isFinite)).toBe(true);
  });

  it("predictedTargets replaces the labels by the model's predicted classes", async () => {
    const targets = await predictedTargets(model, s, calibration);
    const runner = await CalibrationRunner.open(model, s, calibration);
    const argmax: number[] = [];
    await runner.forEach([runner.logits], (out) => {
      const l = out[runner.logits].data as Float32Array;
      for (let i = 0; i < l.length; i += 2) argmax.push(l[i + 1] > l[i] ? 1 : 0);
    });
    await runner.release();
    expect(targets.batches.flatMap((b) => Array.from(b.labels))).toEqual(argmax);
    expect(new Set(argmax).size).toBe(2); // both classes occur, so the labels below really differ from the targets
    expect(targets.batches.map((b) => b.inputIds)).toEqual(calibration.batches.map((b) => b.inputIds));
  });

  it("against the model's predictions, the choice does not depend on the calibration labels; against labels it does", async () => {
    const choose = (target: 'predictions' | 'labels', label: number) =>
      selectHeadsInSteps(model, s, { importance: 'ablation', ratio: 0.5, steps: 2, target }, { calibration: relabeled(label) }, applyHeadPruning);
    const [p0, p1, l0, l1] = await Promise.all([choose('predictions', 0), choose('predictions', 1), choose('labels', 0), choose('labels', 1)]);
    expect(p0.drop).toEqual(p1.drop);
    expect(p0.steps.map((st) => st.scores)).toEqual(p1.steps.map((st) => st.scores));
    expect(l0.steps[0].scores).not.toEqual(l1.steps[0].scores);
    // and the first step's scores are ablation against the predicted classes
    const first = await headScores('ablation', model, s, { calibration: await predictedTargets(model, s, calibration) });
    first.forEach((row, l) => row.forEach((v, h) => expect(p0.steps[0].scores[l][h]).toBeCloseTo(v, 6)));
  });

  it('is a prune-heads setting with a flag: predictions by default for ablation, labels for gradient, refused elsewhere', async () => {
    const { pruneHeadsPass } = await import('../../src/prune/heads.ts');
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'ablation' }).target).toBe('predictions');
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'gradient' }).target).toBe('labels');
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'ablation', target: 'labels' }).target).toBe('labels');
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'magnitude' }).target).toBeUndefined();
    expect(() => pruneHeadsPass.parse({ ratio: 0.5, importance: 'confidence', target: 'labels' })).toThrow(/target.*ablation and gradient importance only/);
    expect(() => pruneHeadsPass.parse({ heads: '0:1', target: 'labels' })).toThrow(/target/);
    expect(() => pruneHeadsPass.parse({ ratio: 0.5, importance: 'ablation', target: 'gold' })).toThrow(/target/);
    expect(pruneHeadsPass.flags.modifiers.map((f) => f.flag)).toContain('importance-target');
    expect(pruneHeadsPass.version).toBeGreaterThanOrEqual(3); // 3 when the target setting came
  });
});

describe('prune-heads steps setting', () => {
  it('is declared with the pass, has a flag, and applies to a ratio only', async () => {
    const { pruneHeadsPass } = await import('../../src/prune/heads.ts');
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'ablation', steps: 2 }).steps).toBe(2);
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'ablation' }).steps).toBeUndefined();
    expect(() => pruneHeadsPass.parse({ heads: '0:1', steps: 2 })).toThrow(/steps.*ratio only/);
    expect(() => pruneHeadsPass.parse({ ratio: 0.5, steps: 0 })).toThrow(/steps/);
    expect(pruneHeadsPass.flags.modifiers.map((f) => f.flag)).toContain('prune-steps');
  });
});
