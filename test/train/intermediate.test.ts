/**
 * Intermediate-layer distillation: the layer maps of the papers, each loss against a value computed here by hand,
 * the learned projection (trained, then absent from the exported student), and the teacher's features against a
 * direct onnxruntime run.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneModel, createModel, DataType, encodeModel, float32Tensor, loadModel, type Model } from '../../src/onnx/index.ts';
import { fixture, hasFixtures, GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { appendLoss, type IntermediateTerm } from '../../src/gradients/losses.ts';
import { DEFAULT_PKD_WEIGHT, layerPairs, parseLayerMap, parseMatches, presetMatches, checkMatch } from '../../src/train/intermediate.ts';
import { intermediatePlan, TeacherFeatures } from '../../src/train/teacher-features.ts';
import { createStepper, DEFAULT_TRAIN_SETTINGS, studentOnly } from '../../src/train/trainer.ts';
import { bertStudent, scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { OPTIMIZE, optimizeModel } from '../../src/optimize/index.ts';
import { refusal } from '../helpers/refusal.ts';
import { UserError } from '../../src/errors.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { buildBert } from '../../src/bert/build.ts';
import { lcg } from '../helpers/feeds.ts';
import type { Batch } from '../../src/train/data.ts';
import type { Student } from '../../src/train/student.ts';
import { runTraining } from '../../src/train/run.ts';

/** A stepper training `student` on intermediate terms alone (no dropout, one thread). */
function intermediateStepper(student: Student, plan: { terms: IntermediateTerm[] }, features: TeacherFeatures) {
  return createStepper({
    student,
    loss: [],
    intermediate: { terms: plan.terms, teacher: features },
    settings: { ...DEFAULT_TRAIN_SETTINGS, dropout: 0, threads: 1 },
  });
}
describe('layer maps', () => {
  it('uniform gives TinyBERT g(m) = m·N/M with the embeddings pair', () => {
    expect(layerPairs('uniform', 12, 4)).toEqual([
      [0, 0],
      [3, 1],
      [6, 2],
      [9, 3],
      [12, 4],
    ]);
    expect(layerPairs('uniform', 12, 6)).toEqual([
      [0, 0],
      [2, 1],
      [4, 2],
      [6, 3],
      [8, 4],
      [10, 5],
      [12, 6],
    ]);
    expect(layerPairs('uniform', 4, 2)).toEqual([
      [0, 0],
      [2, 1],
      [4, 2],
    ]);
  });

  it('skip and last give BERT-PKD pairs (the last student layer is left to prediction KD)', () => {
    expect(layerPairs('skip', 12, 6)).toEqual([
      [2, 1],
      [4, 2],
      [6, 3],
      [8, 4],
      [10, 5],
    ]);
    expect(layerPairs('last', 12, 6)).toEqual([
      [7, 1],
      [8, 2],
      [9, 3],
      [10, 4],
      [11, 5],
    ]);
    expect(layerPairs('skip', 12, 4)).toEqual([
      [3, 1],
      [6, 2],
      [9, 3],
    ]);
    expect(layerPairs('last', 12, 4)).toEqual([
      [9, 1],
      [10, 2],
      [11, 3],
    ]);
    expect(layerPairs('skip', 4, 2)).toEqual([[2, 1]]);
    expect(layerPairs('last', 4, 2)).toEqual([[3, 1]]);
  });

  it('refuses maps that do not fit, in one line', () => {
    expect(() => layerPairs('uniform', 12, 5)).toThrow(/not a multiple/);
    // a 3-layer teacher with a 2-layer student (or 12 and 5): the refusal names the flag and gives pairs that work
    expect(refusal(() => layerPairs('uniform', 3, 2))).toBe(
      "layer map 'uniform': 3 teacher layers are not a multiple of 2 student layers: give teacher:student pairs with --layer-map, e.g. 0:0,2:1,3:2",
    );
    expect(refusal(() => presetMatches('pkd-skip', 12, 5))).toBe(
      "layer map 'skip': 12 teacher layers are not a multiple of 5 student layers: give teacher:student pairs with --layer-map, e.g. 2:1,5:2,7:3,10:4",
    );
    expect(layerPairs(parseLayerMap('0:0,2:1,3:2'), 3, 2)).toEqual([
      [0, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(presetMatches('pkd-skip', 12, 5, { layerMap: parseLayerMap('2:1,5:2,7:3,10:4') })).toHaveLength(4);
    expect(refusal(() => layerPairs('uniform', 2, 4))).toBe(
      "layer map 'uniform': the student (4 layers) is deeper than the teacher (2): give teacher:student pairs with --layer-map (one teacher layer may feed several student layers)",
    );
    expect(refusal(() => presetMatches('pkd-skip', 2, 1))).toBe(
      'pkd-skip: a student of 1 layer has no intermediate layer to match (PKD leaves the last to prediction KD): give a teacher:student pair with --layer-map, e.g. 1:1',
    );
    expect(presetMatches('pkd-skip', 2, 1, { layerMap: [[1, 1]] }).map((m) => [m.teacherLayer, m.studentLayer])).toEqual([[1, 1]]);
    expect(() => layerPairs([[13, 1]], 12, 4)).toThrow(/teacher layer 13/);
    // a library caller's explicit pairs are checked as --layer-map's and a sweep's layerMap are
    expect(
      refusal(() =>
        presetMatches('tinybert', 2, 1, {
          layerMap: [
            [0, 0],
            [2, 1],
            [2, 1],
          ],
        }),
      ),
    ).toBe('layer map: the pair 2:1 is listed twice (its terms would count twice)');
    expect(refusal(() => layerPairs([], 2, 1))).toBe('layer map: no pairs');
    expect(() => checkMatch({ teacherLayer: 1, studentLayer: 1, feature: 'hidden', loss: 'attention-mse', weight: 1 }, 0, 2, 2)).toThrow(/does not fit/);
    expect(() => checkMatch({ teacherLayer: 0, studentLayer: 0, feature: 'attention', loss: 'attention-kl', weight: 1 }, 0, 2, 2)).toThrow(/no attention/);
  });

  it("refuses a match file's infinite or NaN weight (YAML .inf, .nan) naming the file's entry, not as 'weight must be a non-negative number'", () => {
    const match = { teacherLayer: 1, studentLayer: 1, feature: 'hidden', loss: 'mse' };
    expect(refusal(() => parseMatches([match, { ...match, weight: Infinity }], 'm.yaml'))).toBe(
      'm.yaml[1].weight: expected a finite number 0 or greater, got number Infinity (infinite: .inf, or a number too large to hold)',
    );
    expect(refusal(() => parseMatches([{ ...match, weight: Number.NaN }], 'm.yaml'))).toBe('m.yaml[0].weight: expected a number 0 or greater, got number NaN');
    expect(refusal(() => parseMatches([{ ...match, weight: '2' }], 'm.yaml'))).toBe('m.yaml[0].weight: expected a number 0 or greater, got string "2"');
    // (the one number wording, as --pkd-weight's: where a library caller's match said 'weight must be a non-negative number')
    expect(refusal(() => parseMatches([{ ...match, weight: -1 }], 'm.yaml'))).toBe('m.yaml[0].weight: expected a number 0 or greater, got number -1');
    expect(refusal(() => checkMatch({ teacherLayer: 1, studentLayer: 1, feature: 'hidden', loss: 'mse', weight: -1 }, 0, 2, 2))).toMatch(
      /: weight -1: expected a number 0 or greater$/,
    );
    expect(parseMatches([{ ...match, weight: 0.5 }], 'm.yaml')[0]!.weight).toBe(0.5);
    // (feature and loss said '(got "hiden")' and '(got undefined)', the layers 'got string "1"': one way, valueAndKind)
    expect(refusal(() => parseMatches([{ ...match, feature: 'hiden' }], 'm.yaml'))).toMatch(/^m\.yaml\[0\]\.feature: expected one of .*, got string "hiden"$/);
    expect(refusal(() => parseMatches([{ ...match, loss: undefined }], 'm.yaml'))).toMatch(/^m\.yaml\[0\]\.loss: expected one of .*, got nothing$/);
    // (the layers too, where they said 'got undefined' and 'got an object', a library caller's words)
    expect(refusal(() => parseMatches([{ ...match, teacherLayer: undefined }], 'm.yaml'))).toBe(
      'm.yaml[0].teacherLayer: expected an integer from 0 to 2^53 − 1, got nothing',
    );
    expect(refusal(() => parseMatches([{ ...match, studentLayer: { at: 1 } }], 'm.yaml'))).toBe(
      'm.yaml[0].studentLayer: expected an integer from 0 to 2^53 − 1, got a mapping',
    );
  });

  it("refuses a match file's entry repeating another's layers, feature and loss (its term counted twice, where it was taken), as a layer map's pair listed twice", () => {
    const match = { teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'mse' };
    expect(
      refusal(() => parseMatches([match, { ...match, loss: 'cosine' }, { layer_T: 2, layer_S: 1, feature: 'hidden', loss: 'mse', weight: 3 }], 'm.yaml')),
    ).toBe(
      'm.yaml[2]: repeats m.yaml[0] (teacher layer 2, student layer 1, feature hidden, loss mse): its term would count twice; give one entry, with the weight meant',
    );
    // (another loss or layer of the same feature is another term)
    expect(parseMatches([match, { ...match, loss: 'cosine' }, { ...match, studentLayer: 2 }], 'm.yaml')).toHaveLength(3);
  });

  it("refuses a match file's entry whose feature, loss and layers do not go together as it reads the file, naming the entry (m.yaml[1]), where it said 'intermediate match 2', without the file, once both models were read", () => {
    const match = { teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'mse' };
    expect(refusal(() => parseMatches([match, { ...match, feature: 'attention' }], 'm.yaml'))).toBe(
      "m.yaml[1]: loss 'mse' does not fit feature 'attention' (attention losses for attention features)",
    );
    expect(refusal(() => parseMatches([{ ...match, feature: 'attention-scores', loss: 'attention-kl' }], 'm.yaml'))).toBe(
      "m.yaml[0]: attention-kl compares probabilities: use feature 'attention'",
    );
    expect(refusal(() => parseMatches([{ ...match, teacherLayer: 0, feature: 'attention', loss: 'attention-mse' }], 'm.yaml'))).toBe(
      'm.yaml[0]: layer 0 (the embeddings) has no attention',
    );
    expect(refusal(() => parseMatches([{ ...match, feature: 'embeddings' }], 'm.yaml'))).toBe("m.yaml[0]: feature 'embeddings' is layer 0 on both sides");
    // (a library caller's list, checked against the models, keeps its words)
    expect(refusal(() => checkMatch({ ...match, feature: 'attention', weight: 1 } as never, 1, 2, 2))).toBe(
      "intermediate match 2: loss 'mse' does not fit feature 'attention' (attention losses for attention features)",
    );
  });

  it('presets expand to the matches of the papers', () => {
    const tiny = presetMatches('tinybert', 4, 2);
    expect(tiny.map((m) => [m.teacherLayer, m.studentLayer, m.feature, m.loss])).toEqual([
      [0, 0, 'embeddings', 'mse'],
      [2, 1, 'hidden', 'mse'],
      [2, 1, 'attention-scores', 'attention-mse'],
      [4, 2, 'hidden', 'mse'],
      [4, 2, 'attention-scores', 'attention-mse'],
    ]);
    // β weighs the mean of the patient terms over the layers, as BERT-PKD's code (one MSE over batch, layers, width)
    expect(presetMatches('pkd-skip', 12, 6, { pkdWeight: 500 }).map((m) => [m.teacherLayer, m.studentLayer, m.loss, m.weight])).toEqual([
      [2, 1, 'pkd', 100],
      [4, 2, 'pkd', 100],
      [6, 3, 'pkd', 100],
      [8, 4, 'pkd', 100],
      [10, 5, 'pkd', 100],
    ]);
    expect(presetMatches('pkd-last', 12, 3).map((m) => m.weight)).toEqual([DEFAULT_PKD_WEIGHT / 2, DEFAULT_PKD_WEIGHT / 2]);
  });
});

/** A forward graph whose student value is the input `s` itself, and the loss of one intermediate term on it. */
async function lossOf(term: Omit<IntermediateTerm, 'student' | 'teacher' | 'label'>, s: Float32Array, t: Float32Array, dims: number[], tDims: number[]) {
  const g = {
    name: 'g',
    nodes: [
      {
        name: 'logits_node',
        opType: 'ReduceSum',
        domain: '',
        inputs: ['s'],
        outputs: ['logits'],
        attributes: { keepdims: { type: 'int' as const, value: 0 } },
      },
    ],
    inputs: [{ name: 's', elemType: DataType.FLOAT, shape: dims }],
    outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: [] }],
    initializers: new Map(),
    valueInfo: [],
  };
  const forward: Model = createModel(g, [{ domain: '', version: 17 }]);
  const lg = appendLoss(forward, 'logits', 1, [], [{ ...term, student: 's', teacher: 'teacher', label: 'x' }], 3);
  const session = await openSession(encodeModel(lg.model));
  const out = await session.run({ s: new Tensor('float32', s, dims), teacher: new Tensor('float32', t, tDims) });
  await session.release();
  return { loss: Number(out[lg.loss].data[0]), params: lg.parameters };
}

function randoms(n: number, seed: number, scale = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

describe('intermediate losses against hand-computed values', () => {
  const B = 2,
    S = 3,
    H = 4;
  const s = randoms(B * S * H, 1);
  const t = randoms(B * S * H, 2);
  const common = { teacherDims: [B, S, H], studentWidth: H, teacherWidth: H, weight: 1 };

  it('mse: mean of squared differences', async () => {
    let want = 0;
    for (let i = 0; i < s.length; i++) want += (s[i] - t[i]) ** 2;
    want /= s.length;
    expect((await lossOf({ kind: 'mse', ...common }, s, t, [B, S, H], [B, S, H])).loss).toBeCloseTo(want, 6);
  });

  it('mse through the projection W [student width, teacher width]', async () => {
    const Hs = 3;
    const ss = randoms(B * S * Hs, 4);
    const r = await lossOf({ kind: 'mse', ...common, studentWidth: Hs }, ss, t, [B, S, Hs], [B, S, H]);
    const [w] = [...r.params.values()];
    expect(w.length).toBe(Hs * H);
    let want = 0;
    for (let row = 0; row < B * S; row++) {
      for (let j = 0; j < H; j++) {
        let p = 0;
        for (let k = 0; k < Hs; k++) p += ss[row * Hs + k] * w[k * H + j];
        want += (p - t[row * H + j]) ** 2;
      }
    }
    expect(r.loss).toBeCloseTo(want / (B * S * H), 6);
  });

  it('cosine: 1 − mean cosine similarity over tokens', async () => {
    let sum = 0;
    for (let row = 0; row < B * S; row++) {
      let dot = 0,
        na = 0,
        nb = 0;
      for (let j = 0; j < H; j++) {
        dot += s[row * H + j] * t[row * H + j];
        na += s[row * H + j] ** 2;
        nb += t[row * H + j] ** 2;
      }
      sum += dot / (Math.sqrt(na) * Math.sqrt(nb));
    }
    expect((await lossOf({ kind: 'cosine', ...common }, s, t, [B, S, H], [B, S, H])).loss).toBeCloseTo(1 - sum / (B * S), 5);
  });

  it("the pkd presets' patient loss is β times BERT-PKD's MSE over the stacked [batch, layers, width] [CLS] states", async () => {
    const matches = presetMatches('pkd-skip', 6, 3, { pkdWeight: 70 });
    expect(matches).toHaveLength(2);
    const students = [randoms(B * S * H, 11), randoms(B * S * H, 12)];
    const teachers = [randoms(B * S * H, 13), randoms(B * S * H, 14)];
    const identity = (i: number) => ({ name: `id${i}`, opType: 'Identity', domain: '', inputs: [`s${i}`], outputs: [`v${i}`], attributes: {} });
    const g = {
      name: 'g',
      nodes: [identity(0), identity(1), { name: 'logits_node', opType: 'Add', domain: '', inputs: ['v0', 'v1'], outputs: ['logits'], attributes: {} }],
      inputs: [0, 1].map((i) => ({ name: `s${i}`, elemType: DataType.FLOAT, shape: [B, S, H] })),
      outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: [B, S, H] }],
      initializers: new Map(),
      valueInfo: [],
    };
    const terms: IntermediateTerm[] = matches.map((m, i) => ({
      kind: 'pkd',
      weight: m.weight,
      student: `v${i}`,
      teacher: `t${i}`,
      teacherDims: [B, S, H],
      studentWidth: H,
      teacherWidth: H,
      label: String(i),
    }));
    const lg = appendLoss(createModel(g, [{ domain: '', version: 17 }]), 'logits', 1, [], terms, 3);
    const session = await openSession(encodeModel(lg.model));
    const feeds = Object.fromEntries(
      [0, 1].flatMap((i) => [
        [`s${i}`, new Tensor('float32', students[i]!, [B, S, H])],
        [`t${i}`, new Tensor('float32', teachers[i]!, [B, S, H])],
      ]),
    );
    const got = Number((await session.run(feeds))[lg.loss].data[0]);
    await session.release();
    // patience_loss: F.mse_loss of F.normalize(stacked [CLS] states, dim=2), times β
    let sum = 0;
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < 2; l++) {
        const cls = (x: Float32Array) => Array.from({ length: H }, (_, j) => x[b * S * H + j]!);
        const [a, c] = [cls(students[l]!), cls(teachers[l]!)];
        const [na, nc] = [Math.hypot(...a), Math.hypot(...c)];
        for (let j = 0; j < H; j++) sum += (a[j]! / na - c[j]! / nc) ** 2;
      }
    }
    expect(got).toBeCloseTo((70 * sum) / (B * 2 * H), 4);
  });

  it('pkd: mean squared difference of the normalized [CLS] states', async () => {
    let want = 0;
    for (let b = 0; b < B; b++) {
      const cls = (x: Float32Array) => Array.from({ length: H }, (_, j) => x[b * S * H + j]);
      const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      const a = cls(s),
        c = cls(t);
      const na = norm(a),
        nc = norm(c);
      for (let j = 0; j < H; j++) want += (a[j] / na - c[j] / nc) ** 2;
    }
    expect((await lossOf({ kind: 'pkd', ...common }, s, t, [B, S, H], [B, S, H])).loss).toBeCloseTo(want / (B * H), 6);
  });

  it('attention-mse on scores zeroes masked entries and averages heads when the counts differ', async () => {
    const A = 2;
    const ss = randoms(B * A * S * S, 5, 3);
    const tt = randoms(B * 1 * S * S, 6, 3);
    ss[1] = -3.4e38; // a masked position on the student side
    tt[2] = -1e4; // and on the teacher side
    const clean = (v: number) => (v < -100 ? 0 : v);
    let want = 0;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < S * S; i++) {
        const sm = (clean(ss[b * A * S * S + i]) + clean(ss[(b * A + 1) * S * S + i])) / 2;
        want += (sm - clean(tt[b * S * S + i])) ** 2;
      }
    }
    const r = await lossOf(
      { kind: 'attention-mse', weight: 1, teacherDims: [B, 1, S, S], studentWidth: A, teacherWidth: 1, scores: true },
      ss,
      tt,
      [B, A, S, S],
      [B, 1, S, S],
    );
    expect(r.loss).toBeCloseTo(want / (B * S * S), 4);
  });

  it('attention-kl: Σ t·log(t/s) over keys, mean over batch, heads and queries', async () => {
    const A = 2;
    const softmaxRows = (x: Float32Array) => {
      const out = new Float32Array(x.length);
      for (let r = 0; r < x.length / S; r++) {
        const m = Math.max(...x.subarray(r * S, r * S + S));
        let z = 0;
        for (let j = 0; j < S; j++) z += Math.exp(x[r * S + j] - m);
        for (let j = 0; j < S; j++) out[r * S + j] = Math.exp(x[r * S + j] - m) / z;
      }
      return out;
    };
    const ps = softmaxRows(randoms(B * A * S * S, 7, 2));
    const pt = softmaxRows(randoms(B * A * S * S, 8, 2));
    let want = 0;
    for (let i = 0; i < ps.length; i++) want += pt[i] * Math.log(pt[i] / ps[i]);
    const r = await lossOf(
      { kind: 'attention-kl', weight: 1, teacherDims: [B, A, S, S], studentWidth: A, teacherWidth: A },
      ps,
      pt,
      [B, A, S, S],
      [B, A, S, S],
    );
    expect(r.loss).toBeCloseTo(want / (B * A * S), 5);
  });
});

function batchOf(vocab: number, size = 3, seq = 6): Batch {
  const r = lcg(11);
  const n = size * seq;
  return {
    size,
    seq,
    inputIds: BigInt64Array.from({ length: n }, () => BigInt(1 + Math.floor(r() * (vocab - 1)))),
    attentionMask: BigInt64Array.from({ length: n }, (_, i) => (i % seq < seq - (Math.floor(i / seq) % 2) ? 1n : 0n)),
    tokenTypeIds: new BigInt64Array(n),
    labels: Float32Array.from({ length: size }, (_, i) => i % 2),
    indices: Int32Array.from({ length: size }, (_, i) => i),
  };
}

/** The loss of one intermediate training step of `student` on `teacher`'s features for `plan` (both released after). */
async function oneStepLoss(student: Student, plan: ReturnType<typeof intermediatePlan>, teacher: Model): Promise<number> {
  const features = await TeacherFeatures.open(teacher, plan.requests, 1);
  const stepper = await intermediateStepper(student, plan, features);
  try {
    return await stepper.step(batchOf(60), 0, 1e-2);
  } finally {
    await stepper.release();
    await features.release();
  }
}

describe('teacher features and the projection', () => {
  const teacher = tinyBert({ numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64, vocabSize: 60, maxPositions: 16 });

  it('teacher features equal the values of a direct onnxruntime run', async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const features = await TeacherFeatures.open(teacher, plan.requests, 1);
    const batch = batchOf(60);
    const got = await features.run(batch);
    await features.release();
    const direct = { ...teacher, graph: { ...teacher.graph, outputs: plan.requests.map((r) => ({ name: r.value })) } };
    const session = await openSession(encodeModel(direct));
    const want = await session.run({
      input_ids: new Tensor('int64', batch.inputIds, [3, 6]),
      attention_mask: new Tensor('int64', batch.attentionMask, [3, 6]),
      token_type_ids: new Tensor('int64', batch.tokenTypeIds, [3, 6]),
    });
    await session.release();
    for (const r of plan.requests) expect(Array.from(got[r.input].data as Float32Array)).toEqual(Array.from(want[r.value].data as Float32Array));
    const s = findBert(teacher);
    expect(plan.requests.map((r) => r.value)).toContain(s.layers[1].output);
  });

  it("a teacher onnxruntime cannot run on the batch is refused in one line, with onnxruntime's detail", async () => {
    // attention_mask fixed at [1, 16] while input_ids take any shape: the batch passes the input checks, and onnxruntime refuses it
    const fixedMask = {
      ...teacher,
      graph: { ...teacher.graph, inputs: teacher.graph.inputs.map((v) => (v.name === 'attention_mask' ? { ...v, shape: [1, 16] } : v)) },
    };
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), fixedMask, student.forward(false));
    const features = await TeacherFeatures.open(fixedMask, plan.requests, 1);
    try {
      const e = await features.run(batchOf(60)).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(UserError);
      expect((e as Error).message).toBe(
        'teacher: onnxruntime cannot run the model on a batch of [3, 6] tokens: Got invalid dimensions for input: attention_mask for the following indices; index: 0 Got: 3 Expected: 1; index: 1 Got: 6 Expected: 16',
      );
    } finally {
      await features.release();
    }
  });

  it("a teacher's feature holding NaN or Infinity is refused as computed, before it is cached; attention scores' −Infinity (a mask) is not", async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const scores = plan.requests.find((r) => r.scores)!;
    expect(scores.attention).toBe(true);
    /** The teacher whose scores feature is its scores plus `last` on the last key (of batchOf's 6), and the requests of it. */
    const withLastKey = (last: number) => {
      const m = cloneModel(teacher);
      const value = `${scores.value}.plus`;
      m.graph.initializers.set('last_key', float32Tensor('last_key', [6], [0, 0, 0, 0, 0, last]));
      m.graph.nodes.push({ name: 'plus_last_key', opType: 'Add', domain: '', inputs: [scores.value, 'last_key'], outputs: [value], attributes: {} });
      return { model: m, requests: plan.requests.map((r) => (r === scores ? { ...r, value } : r)), value };
    };
    /** The last key's entries: 3 rows × 4 heads × 6 queries. */
    const keyColumn = 3 * 4 * 6;
    const dir = mkdtempSync(join(tmpdir(), 'bc-features-non-finite-'));
    try {
      for (const [last, word] of [
        [Number.NaN, 'NaN'],
        [Number.POSITIVE_INFINITY, 'Infinity'],
      ] as const) {
        const t = withLastKey(last);
        const features = await TeacherFeatures.open(t.model, t.requests, 1, { dir, budgetBytes: 2 ** 26 });
        const e = await features.run(batchOf(60), 3).catch((err: unknown) => err);
        await features.release();
        expect((e as Error).message).toBe(
          `the teacher computes ${keyColumn} non-finite values (NaN or Infinity; the first ${word}) at '${t.value}' (the feature an intermediate-layer match reads) on the examples of step 3: fix or retrain it before distilling from it`,
        );
        expect(readdirSync(dir)).toEqual([]);
      }
      // (−Infinity on a masked key: read, and cached, as the loss zeroes it; a hidden state's would be refused)
      const masked = withLastKey(Number.NEGATIVE_INFINITY);
      const features = await TeacherFeatures.open(masked.model, masked.requests, 1, { dir, budgetBytes: 2 ** 26 });
      const got = await features.run(batchOf(60), 0);
      await features.release();
      expect((got[scores.input].data as Float32Array).filter((v) => v === Number.NEGATIVE_INFINITY).length).toBe(keyColumn);
      expect(readdirSync(dir)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a float16 teacher's features are float32 feeds (onnxruntime refused its float16 ones), equal to the float32 teacher's to float16 precision, cached alike", async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const teacher16 = toFloat16(teacher);
    expect(intermediatePlan(presetMatches('tinybert', 2, 1), teacher16, student.forward(false)).requests).toEqual(plan.requests);
    const dir = mkdtempSync(join(tmpdir(), 'bc-features16-'));
    try {
      const f32 = await TeacherFeatures.open(teacher, plan.requests, 1);
      const want = await f32.run(batchOf(60));
      await f32.release();
      for (const pass of ['run', 'cached'] as const) {
        const f16 = await TeacherFeatures.open(teacher16, plan.requests, 1, { dir, budgetBytes: 2 ** 26 });
        const got = await f16.run(batchOf(60));
        await f16.release();
        expect(f16.stats, pass).toEqual(pass === 'run' ? { hits: 0, runs: 1 } : { hits: 1, runs: 0 });
        for (const r of plan.requests) {
          expect(got[r.input].type, r.value).toBe('float32');
          expect(got[r.input].dims).toEqual(want[r.input].dims);
          const a = want[r.input].data as Float32Array;
          const b = got[r.input].data as Float32Array;
          // (attention scores: the masked keys' large negative mask, float16's clamped, is zeroed by the loss)
          const kept = [...a.keys()].filter((i) => Math.abs(a[i]!) < 1000);
          expect(kept.length).toBeGreaterThan(a.length / 2);
          const scale = Math.max(...kept.map((i) => Math.abs(a[i]!)));
          expect(Math.max(...kept.map((i) => Math.abs(a[i]! - b[i]!))) / scale, `${pass} ${r.value}`).toBeLessThan(0.01);
        }
      }
      // a training step takes them
      expect(Number.isFinite(await oneStepLoss(student, plan, teacher16))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a teacher layer that --optimize's first-token rewrite cut to token 0, and plans the layers before it", () => {
    const optimized = optimizeModel(teacher, findBert(teacher), OPTIMIZE.parse({ rewrites: 'first-token' })).model;
    expect(findBert(optimized).layers[1]!.firstToken).toBeDefined();
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=2,hidden=16,heads=2,intermediate=32', 1).forward(false);
    const match = (layer: number, feature: 'hidden' | 'attention') =>
      [{ teacherLayer: layer, studentLayer: layer, feature, loss: feature === 'hidden' ? 'mse' : 'attention-mse', weight: 1 }] as const;
    for (const feature of ['hidden', 'attention'] as const) {
      expect(refusal(() => intermediatePlan([...match(2, feature)], optimized, student))).toBe(
        'the teacher layer 2 computes the first token only (--optimize first-token): match another layer, or use the model before --optimize',
      );
    }
    expect(intermediatePlan([...match(1, 'hidden')], optimized, student).requests).toHaveLength(1);
  });

  it('refuses attention of a student layer whose heads were all pruned, naming it as compress inspect does too', () => {
    const layers = [
      { numHeads: 0, intermediateSize: 64 },
      { numHeads: 4, intermediateSize: 64 },
    ];
    const student = buildBert({ ...tinyBertConfig(), layers }, { kind: 'random', seed: 2 });
    const match = (layer: number) => [{ teacherLayer: layer, studentLayer: layer, feature: 'attention', loss: 'attention-mse', weight: 1 }] as const;
    expect(refusal(() => intermediatePlan([...match(1)], teacher, student))).toBe(
      "the student layer 1 (compress inspect's layer 0) has no attention left to match: all its heads were pruned; match its hidden states only (matches of feature 'hidden' in --intermediate)",
    );
    expect(intermediatePlan([...match(2)], teacher, student).requests).toHaveLength(1);
  });

  it('caches teacher features per batch: the cached values equal a fresh onnxruntime run, and the budget holds', async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const dir = mkdtempSync(join(tmpdir(), 'bc-features-'));
    try {
      const fresh = await TeacherFeatures.open(teacher, plan.requests, 1);
      const want = await fresh.run(batchOf(60));
      await fresh.release();
      const first = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 2 ** 26 });
      await first.run(batchOf(60));
      await first.release();
      expect(first.stats).toEqual({ hits: 0, runs: 1 });
      const second = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 2 ** 26 });
      const got = await second.run(batchOf(60));
      await second.release();
      expect(second.stats).toEqual({ hits: 1, runs: 0 });
      for (const r of plan.requests) {
        expect(got[r.input].dims).toEqual(want[r.input].dims);
        expect(Array.from(got[r.input].data as Float32Array)).toEqual(Array.from(want[r.input].data as Float32Array));
      }
      // another batch is another entry; a zero budget stores nothing
      const full = await TeacherFeatures.open(teacher, plan.requests, 1, { dir: join(dir, 'none'), budgetBytes: 0 });
      await full.run(batchOf(60));
      await full.release();
      expect(existsSync(join(dir, 'none'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("removes the temporary a run killed while storing a batch left, so it takes none of the cache's budget", async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const dir = mkdtempSync(join(tmpdir(), 'bc-features-'));
    try {
      // a dead writer's (its pid exited), unwritten for an hour, as large as the whole budget
      const pid = spawnSync(process.execPath, ['-e', '']).pid!;
      const left = join(dir, `features-${'0'.repeat(64)}.bin.${pid}.k1ll3d.tmp`);
      writeFileSync(left, Buffer.alloc(1 << 20));
      const hourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(left, hourAgo, hourAgo);
      const first = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 1 << 20 });
      await first.run(batchOf(60));
      await first.release();
      expect(existsSync(left)).toBe(false);
      const second = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 1 << 20 });
      await second.run(batchOf(60));
      await second.release();
      expect(second.stats, 'the batch was stored within the budget').toEqual({ hits: 1, runs: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens a cache whose listing names a file gone when it is measured (another run's temporary renamed into place meanwhile)", async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const dir = mkdtempSync(join(tmpdir(), 'bc-features-'));
    try {
      // a live writer's temporary (this process's pid) that is listed and then no longer there: a link to nothing,
      // deterministically what a rename between the listing and the measuring leaves
      symlinkSync(join(dir, 'renamed-away'), join(dir, `features-${'0'.repeat(64)}.bin.${process.pid}.r3nam3d.tmp`));
      const features = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 1 << 20 });
      await features.run(batchOf(60));
      await features.release();
      expect(features.stats).toEqual({ hits: 0, runs: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['the sequence length (keras exports)', ['batch', 9]],
    ['the batch size (a static export of 2 rows for 3-row batches)', [2, 6]],
    ['batch and sequence ([1, 9])', [1, 9]],
  ])('a teacher whose graph fixes %s gets batches of its shape, its features cut back to the batch', async (_, shape) => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const matches = [
      ...presetMatches('tinybert', 2, 1),
      { teacherLayer: 1, studentLayer: 1, feature: 'attention' as const, loss: 'attention-kl' as const, weight: 1 },
    ];
    const plan = intermediatePlan(matches, teacher, student.forward(false));
    const fixed: Model = { ...teacher, graph: { ...teacher.graph, inputs: teacher.graph.inputs.map((i) => ({ ...i, shape })) } };
    const batch = batchOf(60); // 6 tokens, the last row padded
    const dynamic = await TeacherFeatures.open(teacher, plan.requests, 1);
    const want = await dynamic.run(batch);
    await dynamic.release();
    const padded = await TeacherFeatures.open(fixed, plan.requests, 1);
    const got = await padded.run(batch);
    await padded.release();
    for (const r of plan.requests) {
      expect(got[r.input].dims).toEqual(want[r.input].dims);
      const [g, w] = [got[r.input].data as Float32Array, want[r.input].data as Float32Array];
      for (let i = 0; i < w.length; i++) expect(g[i]).toBeCloseTo(w[i]!, 4);
    }
  });

  it('a cached batch garbled in place (same length) fails its checksum: logged, recomputed, stored again', async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const dir = mkdtempSync(join(tmpdir(), 'bc-features-'));
    try {
      const first = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 2 ** 26 });
      const want = await first.run(batchOf(60));
      await first.release();
      const [name] = readdirSync(dir);
      const file = join(dir, name!);
      const bytes = readFileSync(file);
      bytes[bytes.length - 3]! ^= 0x10;
      writeFileSync(file, bytes);
      const logs: string[] = [];
      const second = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 2 ** 26, log: (l) => logs.push(l) });
      const got = await second.run(batchOf(60));
      await second.release();
      expect(second.stats).toEqual({ hits: 0, runs: 1 });
      expect(logs).toEqual([`teacher features cache ${file}: payload checksum mismatch; recomputing`]);
      for (const r of plan.requests) expect(Array.from(got[r.input].data as Float32Array)).toEqual(Array.from(want[r.input].data as Float32Array));
      const third = await TeacherFeatures.open(teacher, plan.requests, 1, { dir, budgetBytes: 2 ** 26 });
      await third.run(batchOf(60));
      await third.release();
      expect(third.stats).toEqual({ hits: 1, runs: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trains the projection and leaves it out of the exported student', async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, student.forward(false));
    const features = await TeacherFeatures.open(teacher, plan.requests, 1);
    const stepper = await intermediateStepper(student, plan, features);
    const projections = [...stepper.params.keys()].filter((k) => k.startsWith('distill.projection.'));
    expect(projections.length).toBeGreaterThan(0);
    const before = Float32Array.from(stepper.params.get(projections[0])!);
    const l0 = await stepper.step(batchOf(60), 0, 1e-2);
    for (let i = 1; i < 20; i++) await stepper.step(batchOf(60), i, 1e-2);
    const l1 = await stepper.step(batchOf(60), 20, 1e-2);
    await stepper.release();
    await features.release();
    expect(l1).toBeLessThan(l0);
    expect(Array.from(stepper.params.get(projections[0])!)).not.toEqual(Array.from(before));
    const exported = student.export(studentOnly(student, stepper.params));
    expect([...exported.graph.initializers.keys()].some((k) => k.includes('projection'))).toBe(false);
    // the exported student is a canonical BERT again, with the trained values
    const again = bertStudent(canonicalBert(exported), 'again');
    expect(again.numLabels).toBe(2);
  });

  it("a cosine match leaves the batch's padding out, as DistilBERT's loss does: a step's loss is the mean of 1 − cos over the tokens", async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=32,heads=4,intermediate=64', 1);
    const forward = student.forward(false);
    const plan = intermediatePlan([{ teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'cosine', weight: 1 }], teacher, forward);
    expect(plan.terms[0]!.mask).toBe(student.inputs.mask);
    const batch = batchOf(60);
    expect(batch.attentionMask).toContain(0n);
    // the two hidden states by direct runs of the teacher and of the student
    const features = await TeacherFeatures.open(teacher, plan.requests, 1);
    const t = (await features.run(batch))[plan.requests[0]!.input]!.data as Float32Array;
    await features.release();
    const session = await openSession(encodeModel({ ...forward, graph: { ...forward.graph, outputs: [{ name: plan.terms[0]!.student }] } }));
    const ids = (a: BigInt64Array) => new Tensor('int64', a, [batch.size, batch.seq]);
    const feeds = {
      [student.inputs.ids]: ids(batch.inputIds),
      [student.inputs.mask!]: ids(batch.attentionMask),
      [student.inputs.types!]: ids(batch.tokenTypeIds),
    };
    const s = (await session.run(feeds))[plan.terms[0]!.student]!.data as Float32Array;
    await session.release();
    const H = 32;
    let sum = 0;
    let tokens = 0;
    for (let r = 0; r < batch.size * batch.seq; r++) {
      if (!batch.attentionMask[r]) continue;
      let [dot, ns, nt] = [0, 0, 0];
      for (let j = 0; j < H; j++) {
        dot += s[r * H + j]! * t[r * H + j]!;
        ns += s[r * H + j]! ** 2;
        nt += t[r * H + j]! ** 2;
      }
      sum += 1 - dot / Math.sqrt(ns * nt);
      tokens++;
    }
    expect(await oneStepLoss(student, plan, teacher)).toBeCloseTo(sum / tokens, 5);
  });

  it("an attention-kl match reads the student's attention mask (padded query rows left out, as MiniLM's loss); the other losses do not", () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=32,heads=4,intermediate=64', 1);
    const plan = intermediatePlan(
      [
        { teacherLayer: 2, studentLayer: 1, feature: 'attention', loss: 'attention-kl', weight: 1 },
        { teacherLayer: 2, studentLayer: 1, feature: 'attention', loss: 'attention-mse', weight: 1 },
        { teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'mse', weight: 1 },
        { teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'pkd', weight: 1 },
      ],
      teacher,
      student.forward(false),
    );
    expect(plan.terms.map((t) => t.mask)).toEqual([student.inputs.mask, undefined, undefined, undefined]);
  });

  it('one teacher layer feeds several matches: its feature is requested and declared once, and the step runs', async () => {
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=2,hidden=16,heads=2,intermediate=32', 1);
    const matches = presetMatches('tinybert', 2, 2, {
      layerMap: [
        [2, 1],
        [2, 2],
        [1, 1],
        [1, 2],
      ],
    });
    const plan = intermediatePlan(matches, teacher, student.forward(false));
    expect(new Set(plan.requests.map((r) => r.input)).size).toBe(plan.requests.length);
    expect(plan.requests).toHaveLength(4); // hidden and scores of teacher layers 2 and 1
    expect(plan.terms).toHaveLength(matches.length);
    expect(Number.isFinite(await oneStepLoss(student, plan, teacher))).toBe(true);
  });

  it.skipIf(!hasFixtures)('refuses attention matching on a fused-attention teacher in one line (needs ../shared/fixtures/onnx)', () => {
    const fused = loadModel(fixture('bert-toy-pretraining-ort-fused.onnx'));
    const student = scratchStudent(teacherShape(fused), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1, 2).forward(false);
    expect(() => intermediatePlan([{ teacherLayer: 1, studentLayer: 1, feature: 'attention', loss: 'attention-mse', weight: 1 }], fused, student)).toThrow(
      /fused com.microsoft Attention/,
    );
    // hidden states of the same teacher are fine
    const plan = intermediatePlan([{ teacherLayer: 5, studentLayer: 1, feature: 'hidden', loss: 'mse', weight: 1 }], fused, student);
    expect(plan.terms[0].teacherWidth).toBe(32);
  });
});

describe.skipIf(!hasGlue || !existsSync(join(TEACHERS, 'sst2-L2H256', 'model.onnx')))('matches refused before any work (needs ../shared)', () => {
  it('a match the models cannot serve is refused in one line before the data, the teacher logits or any folder', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bc-match-refusal-'));
    try {
      const logs: string[] = [];
      const cacheDir = join(work, 'cache');
      await expect(
        runTraining({
          teacher: join(TEACHERS, 'sst2-L2H256'),
          student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
          task: 'SST-2',
          glueDir: GLUE_DIR,
          maxExamples: 8,
          maxLength: 16,
          cacheDir,
          distill: { intermediate: [{ teacherLayer: 5, studentLayer: 1, feature: 'hidden', loss: 'mse', weight: 1 }] },
          output: join(work, 'out', 'model.onnx'),
          log: (l) => logs.push(l),
        }),
      ).rejects.toThrow('intermediate match 1: teacher layer 5 is not in 0..2');
      expect(logs).toEqual([]);
      expect(existsSync(cacheDir)).toBe(false);
      expect(existsSync(join(work, 'out'))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('parseLayerMap', () => {
  it('reads names and teacher:student pairs', () => {
    expect(parseLayerMap('uniform')).toBe('uniform');
    expect(parseLayerMap('2:1, 4:2')).toEqual([
      [2, 1],
      [4, 2],
    ]);
  });

  it('refuses a pair listed twice, whose terms would count twice', () => {
    expect(() => parseLayerMap('2:1,4:2,2:1')).toThrow(/^layer map '2:1,4:2,2:1': the pair 2:1 is listed twice/);
    expect(() => parseLayerMap('2:1,4:1')).not.toThrow();
  });

  // (library code names no flag: the command line's refusals name --layer-map, its caller's frame; a library caller's
  // the layer map, as layerPairs names it, where each said '--layer-map …')
  it("names the text as its caller does, a library caller's as a layer map", () => {
    expect(() => parseLayerMap('sideways')).toThrow(/^layer map 'sideways': expected one of uniform, skip, last, or teacher:student pairs like 3:1,6:2$/);
    expect(() => parseLayerMap('3')).toThrow(/^layer map 3: expected one of uniform, skip, last, /);
    expect(() => parseLayerMap('1:x')).toThrow(/^layer map '1:x': the student layer 'x': expected an integer from 0 to 2\^53 − 1$/);
    expect(() => parseLayerMap('1:x', 'the map')).toThrow(/^the map: the student layer 'x': /);
    expect(() => parseLayerMap('x', 'the map')).toThrow(/^the map: expected one of uniform, /);
  });
});
