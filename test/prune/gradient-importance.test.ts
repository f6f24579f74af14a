/**
 * Gradient head importance (Michel et al. 2019, Eq. 2): the scores must be E_x |∂L(x)/∂ξ_h|, checked against
 * central differences of the per-example loss with head h's output scaled by 1 ± ε in the original graph (the
 * feature mask of withHeadMasks); on the SST-2 teacher, pruning 40% of heads by it (and by ablation) must keep more
 * accuracy than the mean of three random choices.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { applyHeadPruning, pruneHeadsPass, selectHeads } from '../../src/prune/heads.ts';
import { HEAD_IMPORTANCE, headScores, normalizePerLayer, withHeadMasks } from '../../src/prune/head-importance.ts';
import { gradientScores } from '../../src/prune/head-gradient.ts';
import { batchFeeds, batchLoss, logitsOutput } from '../../src/pass/measure.ts';
import type { CalibrationBatch, CalibrationSource } from '../../src/pass/pass.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { SettingsError } from '../../src/errors.ts';
import { tinyBert } from '../helpers/models.ts';
import { byLength, syntheticCalibration as calibration } from '../helpers/calibration.ts';
import { GLUE_DIR, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { sst2TeacherPruning } from '../helpers/teacher-pruning.ts';

/** Example `i` of a batch as a batch of one. */
function row(b: CalibrationBatch, i: number): CalibrationBatch {
  const cut = (a: BigInt64Array) => a.slice(i * b.seq, (i + 1) * b.seq);
  return {
    ...b,
    inputIds: cut(b.inputIds),
    attentionMask: cut(b.attentionMask),
    tokenTypeIds: cut(b.tokenTypeIds),
    batch: 1,
    labels: b.labels.slice(i, i + 1),
  };
}

/**
 * Central differences in the original graph: for every example, ∂L(x)/∂ξ_h ≈ (L(1 + ε) − L(1 − ε)) / 2ε with head
 * h's features scaled; returns [example][layer][head].
 */
async function finiteDifferences(model: Model, source: CalibrationSource, eps = 1e-2): Promise<number[][][]> {
  const s = findBert(model);
  const { model: masked, inputs, layers } = withHeadMasks(model, s);
  const session = await openSession(encodeModel(masked), { graphOptimizationLevel: 'disabled', threads: 1 });
  const logits = logitsOutput(masked, s);
  const width = (l: number) => s.layers[l].attention!.numHeads * s.layers[l].attention!.headSize;
  const out: number[][][] = [];
  try {
    for (const b of source.batches) {
      for (let i = 0; i < b.batch; i++) {
        const one = row(b, i);
        const feeds = batchFeeds(masked, s, one, inputs);
        const loss = async (layer: number, head: number, scale: number) => {
          const maskFeeds = Object.fromEntries(
            inputs.map((name, k) => {
              const m = new Float32Array(width(layers[k])).fill(1);
              const d = s.layers[layers[k]].attention!.headSize;
              if (layers[k] === layer) m.fill(scale, head * d, (head + 1) * d);
              return [name, new Tensor('float32', m, [m.length])];
            }),
          );
          const r = await session.run({ ...feeds, ...maskFeeds }, [logits]);
          return batchLoss(r[logits].data as Float32Array, one);
        };
        const perLayer: number[][] = s.layers.map(() => []);
        for (const l of layers) {
          for (let h = 0; h < s.layers[l].attention!.numHeads; h++) perLayer[l].push(((await loss(l, h, 1 + eps)) - (await loss(l, h, 1 - eps))) / (2 * eps));
        }
        out.push(perLayer);
      }
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Expected scores from per-example derivatives: mean |d| (per example) or the batch-weighted mean of |batch mean d|. */
function expectedScores(d: number[][][], source: CalibrationSource, perExample: boolean): number[][] {
  const n = d.length;
  return d[0].map((rowL, l) =>
    rowL.map((_, h) => {
      if (perExample) return d.reduce((a, e) => a + Math.abs(e[l][h]), 0) / n;
      let k = 0,
        total = 0;
      for (const b of source.batches) {
        let mean = 0;
        for (let i = 0; i < b.batch; i++) mean += d[k + i][l][h] / b.batch;
        total += Math.abs(mean) * b.batch;
        k += b.batch;
      }
      return total / n;
    }),
  );
}

function expectClose(got: number[][], want: number[][]): void {
  expect(got.map((r) => r.length)).toEqual(want.map((r) => r.length));
  const scale = Math.max(...want.flat().map(Math.abs));
  expect(scale).toBeGreaterThan(1e-3); // the check means something
  for (const [l, r] of want.entries()) {
    for (const [h, w] of r.entries())
      expect(Math.abs(got[l][h] - w), `layer ${l} head ${h}: ${got[l][h]} vs ${w}`).toBeLessThan(5e-4 * scale + 2e-3 * Math.abs(w));
  }
}

describe('gradient head importance', () => {
  it('equals finite differences of the per-example loss (classification, uneven heads, a layer without attention)', async () => {
    const full = tinyBert({ numLayers: 3, numLabels: 3 }, { std: 0.2, seed: 4 });
    // layer 0 loses head 1 (3 heads left), layer 2 its attention block
    const model = applyHeadPruning(full, findBert(full), { 0: [1], 2: [0, 1, 2, 3] });
    const s = findBert(model);
    const source = calibration([3, 3, 2], 128, { classes: 3 });
    const d = await finiteDifferences(model, source);
    const got = await gradientScores(model, s, { calibration: source });
    expect(got.map((r) => r.length)).toEqual([3, 4, 0]);
    expectClose(got, expectedScores(d, source, true));
    expectClose(await gradientScores(model, s, { calibration: source }, { perExample: false }), expectedScores(d, source, false));
    // through the pass's dispatcher too
    expect(await headScores('gradient', model, s, { calibration: source })).toEqual(got);
  });

  it('equals finite differences of the squared error (regression)', async () => {
    const model = tinyBert({ numLayers: 2, numLabels: 1 }, { std: 0.2, seed: 6 });
    const source = calibration([4, 1], 128, 'regression');
    const d = await finiteDifferences(model, source);
    expectClose(await gradientScores(model, findBert(model), { calibration: source }), expectedScores(d, source, true));
  });

  it('is a pass setting, needs calibration, and refuses what the canonical rebuild refuses', async () => {
    expect(HEAD_IMPORTANCE).toContain('gradient');
    expect(pruneHeadsPass.parse({ ratio: 0.5, importance: 'gradient' }).importance).toBe('gradient');
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const s = findBert(model);
    await expect(pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, importance: 'gradient' }), {})).rejects.toThrow(
      /gradient importance needs calibration data/,
    );
    const source = calibration([4], 128, { classes: 2 });
    const res = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, importance: 'gradient' }), { calibration: source });
    // 50% by default in steps of ~10% of the heads: 4 heads, one per step, each step re-scoring the rest
    expect(res.report.summary).toBe('removed 4 of 8 heads by gradient importance against the gold labels in 4 steps');
    expect((res.report.details!.steps as unknown[]).length).toBe(4);
    const once = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, importance: 'gradient', steps: 1 }), { calibration: source });
    expect(once.report.summary).toBe('removed 4 of 8 heads by gradient importance against the gold labels');
    // scores alone (the pass refuses quantized attention before scoring): the rebuild's one-line refusal
    const { model: q } = await quantizePass.run(model, s, quantizePass.parse({ mode: 'int8' }), {});
    const run = headScores('gradient', q, findBert(q), { calibration: source });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(headScores('gradient', q, findBert(q), { calibration: source })).rejects.toThrow(/^canonical rebuild: .*quantized/);
  });
});

/**
 * Choosing heads by ablation or by gradient must keep more accuracy than choosing them at random (the control): on
 * the SST-2 teacher at 40% of heads removed, calibrated on 256 train examples, judged on the full dev set. The full
 * table over 20–60% and both teachers is `npm run bench -- prune-importance`.
 */
describe.skipIf(!hasTeachers || !hasGlue)('head importance on the SST-2 teacher (needs ../shared/teachers and ../shared/glue)', () => {
  /** The teacher, its calibration examples, and the dev accuracies of three random choices (seeds 1–3): made once for both tests. */
  let shared: ReturnType<typeof teacherAndControl> | undefined;
  async function teacherAndControl() {
    const teacher = sst2TeacherPruning();
    const { dir, model, s, accuracy } = teacher;
    const calibration = await loadCalibration({ model: dir, task: 'SST-2', examples: 256, glueDir: GLUE_DIR });
    const random: number[] = [];
    for (const seed of [1, 2, 3]) random.push(await accuracy(selectHeads(await headScores('random', model, s, { seed }), 0.4)));
    return { ...teacher, calibration, random, mean: random.reduce((a, b) => a + b, 0) / 3 };
  }
  const setup = () => (shared ??= teacherAndControl());
  beforeAll(async () => {
    await setup();
  });

  it('ablation beats the mean of three random choices at 40%', async () => {
    const { model, s, accuracy, calibration, mean, threads } = await setup();
    // (the same 256 examples batched by length: one run per head, each scoring every example as the loaded batches do,
    // at a third of their padded tokens)
    const ablation = await accuracy(
      selectHeads(normalizePerLayer(await headScores('ablation', model, s, { calibration: byLength(calibration), threads })), 0.4),
    );
    expect(ablation).toBeGreaterThan(mean);
  });

  it('gradient beats the mean of three random choices at 40% of heads removed', async () => {
    const { model, s, accuracy, calibration: source, random, mean } = await setup();
    const t0 = performance.now();
    const scores = await headScores('gradient', model, s, { calibration: source });
    const seconds = (performance.now() - t0) / 1000;
    const gradient = await accuracy(selectHeads(normalizePerLayer(scores), 0.4));
    console.log(
      `SST-2 teacher, 40% of heads: gradient ${(100 * gradient).toFixed(2)} (scores in ${seconds.toFixed(1)} s), random ${random.map((r) => (100 * r).toFixed(2)).join(' / ')} (mean ${(100 * mean).toFixed(2)})`,
    );
    expect(gradient).toBeGreaterThan(mean);
  });
});
