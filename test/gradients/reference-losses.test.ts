/**
 * Each distillation loss term against the formula of the reference implementation it cites, computed here
 * independently in plain TypeScript (float64) on a tiny case, and compared with what the float32 training graph
 * (appendLoss, then buildGradientGraph) outputs: the term's value and the gradient of the student's value.
 *
 * - soft-ce: DistilBERT's distiller (KLDivLoss(batchmean) of log_softmax(s/T) and softmax(t/T), × T²) and TextBrewer's
 *   kd_ce_loss × T², which differ by the teacher's entropy (a constant: the same gradient, T·(q − p)/batch).
 * - hard-ce: torch's CrossEntropyLoss (mean over the batch).
 * - logit-mse: TextBrewer's kd_mse_loss at T = 1 (F.mse_loss, mean over every logit).
 * - score-mse / teacher-score-mse: TinyBERT's regression loss (MSELoss of logits.view(-1) against the scores).
 * - mse with a projection: TinyBERT's loss_mse(fit_dense(h_S), h_T) (a projection without bias), mean over elements.
 * - attention-mse on scores: TinyBERT's loss_mse after torch.where(att <= -1e2, 0, att) on both sides; with other
 *   head counts, the mean over heads (TextBrewer's att_mse_sum sums them: the loss scale differs by heads²).
 * - cosine: DistilBERT's CosineEmbeddingLoss(target 1), mean of 1 − cos over the positions (with the student's
 *   attention mask, over the tokens it selects, as DistilBERT's distiller does).
 * - pkd: BERT-PKD's patience_loss (F.mse_loss of F.normalize'd [CLS] states, mean over batch and width).
 * - attention-kl: KL(teacher ‖ student) of the attention rows, summed over keys, mean over batch, heads and rows
 *   (with the student's attention mask, MiniLM's mean over heads and the tokens' rows).
 */
import { describe, expect, it } from 'vitest';
import { createModel, DataType, encodeModel, float32Tensor, type Model, type Node } from '../../src/onnx/index.ts';
import { appendLoss, buildGradientGraph, LOSS_INPUTS, type IntermediateTerm, type LossTerm } from '../../src/gradients/index.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { lcg } from '../helpers/feeds.ts';

function randoms(n: number, seed: number, scale = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

interface Outputs {
  /** The total loss, then each term's value in order. */
  loss: number;
  terms: number[];
  /** The gradient of the student value `s`, and of each loss parameter (projections) by name. */
  grad: Float64Array;
  paramGrads: Map<string, Float64Array>;
  /** The loss's own parameters as initialized (projections). */
  params: Map<string, Float32Array>;
}

/**
 * The float32 training graph of `terms` / `intermediate` over a student value `s` (the parameter `p` through
 * Identity, or through a Softmax over the last axis), run once: the loss, the terms and the gradients.
 */
async function runTerms(opts: {
  p: Float32Array;
  dims: number[];
  softmax?: boolean;
  terms?: LossTerm[];
  numLabels?: number;
  intermediate?: Array<Omit<IntermediateTerm, 'student' | 'label' | 'teacher'>>;
  feeds: Record<string, { values: Float32Array; dims: number[] }>;
  /** An int64 graph input `attention_mask` [batch, seq] (the terms name it as their `mask`). */
  mask?: { values: BigInt64Array; dims: number[] };
}): Promise<Outputs> {
  const logitsNode: Node = opts.terms?.length
    ? { name: 'logits_node', opType: 'Identity', domain: '', inputs: ['s'], outputs: ['logits'], attributes: {} }
    : { name: 'logits_node', opType: 'ReduceSum', domain: '', inputs: ['s'], outputs: ['logits'], attributes: { keepdims: { type: 'int', value: 0 } } };
  const nodes: Node[] = [
    {
      name: 's_node',
      opType: opts.softmax ? 'Softmax' : 'Identity',
      domain: '',
      inputs: ['p'],
      outputs: ['s'],
      attributes: opts.softmax ? { axis: { type: 'int', value: -1 } } : {},
    },
    logitsNode,
  ];
  const forward: Model = createModel(
    {
      name: 'g',
      nodes,
      inputs: opts.mask ? [{ name: 'attention_mask', elemType: DataType.INT64, shape: opts.mask.dims }] : [],
      outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: opts.terms?.length ? opts.dims : [] }],
      initializers: new Map([['p', float32Tensor('p', opts.dims, opts.p)]]),
      valueInfo: [],
    },
    [{ domain: '', version: 17 }],
  );
  const inter = (opts.intermediate ?? []).map((t, i) => ({ ...t, student: 's', teacher: `teacher.${i}`, label: `t${i}` }));
  const lg = appendLoss(forward, 'logits', opts.numLabels ?? 1, opts.terms ?? [], inter, 3);
  const parameters = ['p', ...lg.parameters.keys()];
  const gg = await buildGradientGraph(lg.model, { loss: lg.loss, parameters, sparse: [], keep: lg.terms.map((t) => t.output) });
  const session = await openSession(encodeModel(gg.model), { graphOptimizationLevel: 'disabled', threads: 1 });
  try {
    const feeds: Feeds = { p: new Tensor('float32', opts.p, opts.dims) };
    for (const [name, v] of lg.parameters) feeds[name] = new Tensor('float32', v, [...gg.parameterInfo.get(name)!.dims]);
    for (const [name, f] of Object.entries(opts.feeds)) feeds[name] = new Tensor('float32', f.values, f.dims);
    if (opts.mask) feeds.attention_mask = new Tensor('int64', opts.mask.values, opts.mask.dims);
    const out = await session.run(feeds);
    const grads = new Map<string, Float64Array>();
    for (const name of parameters) grads.set(name, Float64Array.from(out[gg.dense.get(name)!]!.data as Float32Array));
    return {
      loss: Number(out[gg.loss]!.data[0]),
      terms: lg.terms.map((t) => Number(out[t.output]!.data[0])),
      grad: grads.get('p')!,
      paramGrads: grads,
      params: lg.parameters,
    };
  } finally {
    await session.release();
  }
}

/** |a − b| ≤ tol · (1 + |b|) elementwise (float32 graph against float64 references). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 2e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  expect(worst).toBeLessThan(tol);
}

// ---- the references, row-major float64 ----

function softmaxRows(x: ArrayLike<number>, width: number, scale = 1): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, x[r * width + j]! * scale);
    let z = 0;
    for (let j = 0; j < width; j++) z += Math.exp(x[r * width + j]! * scale - max);
    for (let j = 0; j < width; j++) out[r * width + j] = Math.exp(x[r * width + j]! * scale - max) / z;
  }
  return out;
}

/** torch.nn.functional.mse_loss (mean) and its gradient with respect to `a`. */
function mse(a: ArrayLike<number>, b: ArrayLike<number>): { value: number; grad: Float64Array } {
  let sum = 0;
  const grad = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
    grad[i] = (2 * d) / a.length;
  }
  return { value: sum / a.length, grad };
}

/** [rows, k] × [k, cols]. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, k: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let i = 0; i < k; i++) out[r * cols + c] += a[r * k + i]! * b[i * cols + c]!;
  return out;
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/** softmax(x) / ‖·‖ etc. over the last axis: F.normalize(x, dim=-1) (norm floored at 1e-12). */
function normalizeRow(x: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < x.length; i++) n += x[i]! * x[i]!;
  n = Math.max(Math.sqrt(n), 1e-12);
  return Float64Array.from(x, (v) => v / n);
}

function numericGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const v = Float64Array.from(x);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i]!;
    v[i] = keep + eps;
    const plus = f(v);
    v[i] = keep - eps;
    const minus = f(v);
    v[i] = keep;
    g[i] = (plus - minus) / (2 * eps);
  }
  return g;
}

describe('prediction-layer losses against their references', () => {
  const B = 3,
    C = 3;
  const z = randoms(B * C, 11, 3);
  const t = randoms(B * C, 12, 3);

  for (const T of [1, 2, 4]) {
    it(`soft-ce at T = ${T}: DistilBERT's KL(batchmean) × T² plus the teacher's entropy × T², TextBrewer's kd_ce_loss × T², gradient T·(q − p)/batch`, async () => {
      const o = await runTerms({
        p: z,
        dims: [B, C],
        numLabels: C,
        terms: [{ kind: 'soft-ce', weight: 1, temperature: T }],
        feeds: { [LOSS_INPUTS.teacher]: { values: t, dims: [B, C] } },
      });
      const p = softmaxRows(t, C, 1 / T);
      const q = softmaxRows(z, C, 1 / T);
      let ce = 0;
      let kl = 0;
      let entropy = 0;
      for (let i = 0; i < B * C; i++) {
        ce -= p[i]! * Math.log(q[i]!);
        kl += p[i]! * (Math.log(p[i]!) - Math.log(q[i]!));
        entropy -= p[i]! * Math.log(p[i]!);
      }
      // kd_ce_loss: −(p_T · log_softmax(s/T)).sum(-1).mean(); DistilBERT: KLDivLoss(reduction='batchmean') · T²
      expectClose([o.terms[0]!], [(ce / B) * T * T]);
      expectClose([o.terms[0]!], [(kl / B) * T * T + (entropy / B) * T * T]);
      expectClose(
        o.grad,
        Float64Array.from(q, (qi, i) => (T * (qi - p[i]!)) / B),
      );
    });
  }

  it("hard-ce: torch's CrossEntropyLoss (mean over the batch); weights α and 1 − α add the terms", async () => {
    const labels = [2, 0, 1];
    const onehot = new Float32Array(B * C);
    labels.forEach((k, b) => (onehot[b * C + k] = 1));
    const alpha = 0.3;
    const o = await runTerms({
      p: z,
      dims: [B, C],
      numLabels: C,
      terms: [
        { kind: 'hard-ce', weight: alpha },
        { kind: 'soft-ce', weight: 1 - alpha, temperature: 2 },
      ],
      feeds: { [LOSS_INPUTS.labels]: { values: onehot, dims: [B, C] }, [LOSS_INPUTS.teacher]: { values: t, dims: [B, C] } },
    });
    const q = softmaxRows(z, C);
    const ce = -labels.reduce((s, k, b) => s + Math.log(q[b * C + k]!), 0) / B;
    expectClose([o.terms[0]!], [ce]);
    expectClose([o.loss], [alpha * o.terms[0]! + (1 - alpha) * o.terms[1]!]);
    const p2 = softmaxRows(t, C, 0.5);
    const q2 = softmaxRows(z, C, 0.5);
    expectClose(
      o.grad,
      Float64Array.from(q, (qi, i) => (alpha * (qi - (labels[Math.floor(i / C)] === i % C ? 1 : 0))) / B + ((1 - alpha) * 2 * (q2[i]! - p2[i]!)) / B),
    );
  });

  it("logit-mse: TextBrewer's kd_mse_loss at T = 1 (mean over every logit)", async () => {
    const o = await runTerms({
      p: z,
      dims: [B, C],
      numLabels: C,
      terms: [{ kind: 'logit-mse', weight: 1 }],
      feeds: { [LOSS_INPUTS.teacher]: { values: t, dims: [B, C] } },
    });
    const r = mse(z, t);
    expectClose([o.terms[0]!], [r.value]);
    expectClose(o.grad, r.grad);
  });

  it("score-mse and teacher-score-mse: TinyBERT's MSELoss(logits.view(-1), scores)", async () => {
    const s = randoms(B, 13, 2);
    const gold = Float32Array.from([0.5, 4.2, 2.0]);
    const teacherScores = randoms(B, 14, 2);
    const o = await runTerms({
      p: s,
      dims: [B, 1],
      numLabels: 1,
      terms: [
        { kind: 'score-mse', weight: 0.5 },
        { kind: 'teacher-score-mse', weight: 0.5 },
      ],
      feeds: { [LOSS_INPUTS.scores]: { values: gold, dims: [B, 1] }, [LOSS_INPUTS.teacher]: { values: teacherScores, dims: [B, 1] } },
    });
    const a = mse(s, gold);
    const b = mse(s, teacherScores);
    expectClose(o.terms, [a.value, b.value]);
    expectClose(
      o.grad,
      Float64Array.from(a.grad, (g, i) => 0.5 * g + 0.5 * b.grad[i]!),
    );
  });
});

describe('intermediate-layer losses against their references', () => {
  const B = 2,
    S = 3;

  it("hidden mse through the learned projection: TinyBERT's loss_mse(h_S W, h_T), gradients of h_S and W", async () => {
    const hs = 3,
      ht = 4;
    const s = randoms(B * S * hs, 21);
    const tv = randoms(B * S * ht, 22);
    const o = await runTerms({
      p: s,
      dims: [B, S, hs],
      intermediate: [{ kind: 'mse', weight: 1, teacherDims: [B, S, ht], studentWidth: hs, teacherWidth: ht }],
      feeds: { 'teacher.0': { values: tv, dims: [B, S, ht] } },
    });
    const [wName, w] = [...o.params][0]!;
    const projected = matmul(s, w, B * S, hs, ht);
    const r = mse(projected, tv);
    expectClose([o.terms[0]!], [r.value]);
    // d/dh_S = dL/d(h_S W) · Wᵀ; d/dW = h_Sᵀ · dL/d(h_S W)
    expectClose(o.grad, matmul(r.grad, transpose(w, hs, ht), B * S, ht, hs));
    expectClose(o.paramGrads.get(wName)!, matmul(transpose(s, B * S, hs), r.grad, hs, B * S, ht));
  });

  it("hidden mse, embeddings (one width): TinyBERT's loss_mse with no projection", async () => {
    const s = randoms(B * S * 4, 23);
    const tv = randoms(B * S * 4, 24);
    const o = await runTerms({
      p: s,
      dims: [B, S, 4],
      intermediate: [{ kind: 'mse', weight: 2, teacherDims: [B, S, 4], studentWidth: 4, teacherWidth: 4 }],
      feeds: { 'teacher.0': { values: tv, dims: [B, S, 4] } },
    });
    expect(o.params.size).toBe(0);
    const r = mse(s, tv);
    expectClose([o.terms[0]!, o.loss], [r.value, 2 * r.value]);
    expectClose(
      o.grad,
      Float64Array.from(r.grad, (g) => 2 * g),
    );
  });

  it("attention-mse on scores: TinyBERT's where(att <= -1e2, 0, att) on both sides, then loss_mse; masked entries get no gradient", async () => {
    const A = 2;
    const s = randoms(B * A * S * S, 25, 3);
    const tv = randoms(B * A * S * S, 26, 3);
    // the last key padded in the second example: the extended mask's −3.4e38 (the student) and −10000 (a teacher exported by torch)
    for (let h = 0; h < A; h++)
      for (let q = 0; q < S; q++) {
        s[((1 * A + h) * S + q) * S + (S - 1)] += -3.4e38;
        tv[((1 * A + h) * S + q) * S + (S - 1)] += -10000;
      }
    // a score of exactly −100 on each side, which TinyBERT's <= zeroes too
    s[0] = -100;
    tv[1] = -100;
    const o = await runTerms({
      p: s,
      dims: [B, A, S, S],
      intermediate: [{ kind: 'attention-mse', weight: 1, teacherDims: [B, A, S, S], studentWidth: A, teacherWidth: A, scores: true }],
      feeds: { 'teacher.0': { values: tv, dims: [B, A, S, S] } },
    });
    const clean = (x: ArrayLike<number>) => Float64Array.from(x as ArrayLike<number>, (v) => (v <= -100 ? 0 : v));
    const r = mse(clean(s), clean(tv));
    expectClose([o.terms[0]!], [r.value]);
    expectClose(
      o.grad,
      Float64Array.from(r.grad, (g, i) => (s[i]! <= -100 ? 0 : g)),
    );
  });

  it('attention-mse on scores, 2 student heads against 4 teacher heads: the mean over heads on each side, then the mse', async () => {
    const [As, At] = [2, 4];
    const s = randoms(B * As * S * S, 27, 3);
    const tv = randoms(B * At * S * S, 28, 3);
    const o = await runTerms({
      p: s,
      dims: [B, As, S, S],
      intermediate: [{ kind: 'attention-mse', weight: 1, teacherDims: [B, At, S, S], studentWidth: As, teacherWidth: At, scores: true }],
      feeds: { 'teacher.0': { values: tv, dims: [B, At, S, S] } },
    });
    const headMean = (x: ArrayLike<number>, heads: number) => {
      const out = new Float64Array(B * S * S);
      for (let b = 0; b < B; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < S * S; i++) out[b * S * S + i] += x[(b * heads + h) * S * S + i]! / heads;
      return out;
    };
    const ref = (x: Float64Array) => mse(headMean(x, As), headMean(tv, At)).value;
    expectClose([o.terms[0]!], [ref(Float64Array.from(s))]);
    expectClose(o.grad, numericGrad(ref, s), 1e-4);
  });

  it("cosine: DistilBERT's CosineEmbeddingLoss(target 1), the mean of 1 − cos over positions", async () => {
    const H = 4;
    const s = randoms(B * S * H, 29);
    const tv = randoms(B * S * H, 30);
    const o = await runTerms({
      p: s,
      dims: [B, S, H],
      intermediate: [{ kind: 'cosine', weight: 1, teacherDims: [B, S, H], studentWidth: H, teacherWidth: H }],
      feeds: { 'teacher.0': { values: tv, dims: [B, S, H] } },
    });
    const ref = (x: Float64Array) => {
      let sum = 0;
      for (let r = 0; r < B * S; r++) {
        const a = normalizeRow(x.subarray(r * H, (r + 1) * H));
        const b = normalizeRow(tv.subarray(r * H, (r + 1) * H));
        sum += 1 - a.reduce((acc, v, i) => acc + v * b[i]!, 0);
      }
      return sum / (B * S);
    };
    expectClose([o.terms[0]!], [ref(Float64Array.from(s))]);
    expectClose(o.grad, numericGrad(ref, s), 1e-4);
  });

  it("cosine with the attention mask: DistilBERT's CosineEmbeddingLoss over the tokens the mask selects (padding left out, no gradient)", async () => {
    const H = 4;
    const s = randoms(B * S * H, 35);
    const tv = randoms(B * S * H, 36);
    // the second example is one token shorter: its last position is padding
    const mask = BigInt64Array.from({ length: B * S }, (_, i) => (i === B * S - 1 ? 0n : 1n));
    const o = await runTerms({
      p: s,
      dims: [B, S, H],
      intermediate: [{ kind: 'cosine', weight: 1, teacherDims: [B, S, H], studentWidth: H, teacherWidth: H, mask: 'attention_mask' }],
      feeds: { 'teacher.0': { values: tv, dims: [B, S, H] } },
      mask: { values: mask, dims: [B, S] },
    });
    // torch.masked_select of the tokens, then F.cosine_embedding_loss(target 1): the mean of 1 − cos over them
    const ref = (x: Float64Array) => {
      let sum = 0;
      let count = 0;
      for (let r = 0; r < B * S; r++) {
        if (!mask[r]) continue;
        const a = normalizeRow(x.subarray(r * H, (r + 1) * H));
        const b = normalizeRow(tv.subarray(r * H, (r + 1) * H));
        sum += 1 - a.reduce((acc, v, i) => acc + v * b[i]!, 0);
        count++;
      }
      return sum / count;
    };
    expectClose([o.terms[0]!], [ref(Float64Array.from(s))]);
    expectClose(o.grad, numericGrad(ref, s), 1e-4);
    for (let i = (B * S - 1) * H; i < B * S * H; i++) expect(Math.abs(o.grad[i]!)).toBe(0);
  });

  it("pkd: BERT-PKD's patience_loss, F.mse_loss of the F.normalize'd [CLS] states (mean over batch and width)", async () => {
    const H = 4;
    const s = randoms(B * S * H, 31);
    const tv = randoms(B * S * H, 32);
    const o = await runTerms({
      p: s,
      dims: [B, S, H],
      intermediate: [{ kind: 'pkd', weight: 1, teacherDims: [B, S, H], studentWidth: H, teacherWidth: H }],
      feeds: { 'teacher.0': { values: tv, dims: [B, S, H] } },
    });
    const cls = (x: ArrayLike<number>, b: number) => normalizeRow(Array.from({ length: H }, (_, i) => x[b * S * H + i]!));
    const ref = (x: Float64Array) => {
      const a: number[] = [];
      const t: number[] = [];
      for (let b = 0; b < B; b++) {
        a.push(...cls(x, b));
        t.push(...cls(tv, b));
      }
      return mse(a, t).value;
    };
    expectClose([o.terms[0]!], [ref(Float64Array.from(s))]);
    expectClose(o.grad, numericGrad(ref, s), 1e-4);
  });

  it('attention-kl on probabilities: KL(teacher ‖ student) summed over keys, mean over batch, heads and query rows', async () => {
    const A = 2;
    const logits = randoms(B * A * S * S, 33, 2);
    const tv = Float32Array.from(softmaxRows(randoms(B * A * S * S, 34, 2), S));
    const o = await runTerms({
      p: logits,
      dims: [B, A, S, S],
      softmax: true,
      intermediate: [{ kind: 'attention-kl', weight: 1, teacherDims: [B, A, S, S], studentWidth: A, teacherWidth: A }],
      feeds: { 'teacher.0': { values: tv, dims: [B, A, S, S] } },
    });
    const ref = (x: Float64Array) => {
      const q = softmaxRows(x, S);
      let kl = 0;
      for (let i = 0; i < q.length; i++) kl += tv[i]! * (Math.log(tv[i]!) - Math.log(q[i]!));
      return kl / (B * A * S);
    };
    expectClose([o.terms[0]!], [ref(Float64Array.from(logits))]);
    // through the student's Softmax: (q − p) / rows
    const q = softmaxRows(logits, S);
    expectClose(
      o.grad,
      Float64Array.from(q, (qi, i) => (qi - tv[i]!) / (B * A * S)),
    );
  });
  for (const [As, At] of [
    [2, 2],
    [2, 4],
  ] as const) {
    it(`attention-kl with the attention mask, ${As} student heads against ${At}: MiniLM's KL over heads and the tokens' query rows (TextBrewer's attention_ce with its inputs mask), padded rows left out`, async () => {
      const logits = randoms(B * As * S * S, 37, 2);
      const tv = Float32Array.from(softmaxRows(randoms(B * At * S * S, 38, 2), S));
      // the second example is one token shorter: its last query row is padding, left out
      const mask = BigInt64Array.from({ length: B * S }, (_, i) => (i === B * S - 1 ? 0n : 1n));
      const o = await runTerms({
        p: logits,
        dims: [B, As, S, S],
        softmax: true,
        intermediate: [{ kind: 'attention-kl', weight: 1, teacherDims: [B, At, S, S], studentWidth: As, teacherWidth: At, mask: 'attention_mask' }],
        feeds: { 'teacher.0': { values: tv, dims: [B, At, S, S] } },
        mask: { values: mask, dims: [B, S] },
      });
      const heads = As === At ? As : 1;
      const mean = (x: ArrayLike<number>, from: number) => {
        if (from === heads) return Float64Array.from(x as ArrayLike<number>);
        const out = new Float64Array(B * S * S);
        for (let b = 0; b < B; b++) for (let h = 0; h < from; h++) for (let i = 0; i < S * S; i++) out[b * S * S + i] += x[(b * from + h) * S * S + i]! / from;
        return out;
      };
      const pt = mean(tv, At);
      const ref = (x: Float64Array) => {
        const q = mean(softmaxRows(x, S), As);
        let kl = 0;
        let rows = 0;
        for (let b = 0; b < B; b++)
          for (let h = 0; h < heads; h++)
            for (let i = 0; i < S; i++) {
              if (!mask[b * S + i]) continue;
              const r = ((b * heads + h) * S + i) * S;
              for (let j = 0; j < S; j++) kl += pt[r + j]! * (Math.log(pt[r + j]!) - Math.log(q[r + j]!));
              rows++;
            }
        return kl / rows;
      };
      expectClose([o.terms[0]!], [ref(Float64Array.from(logits))]);
      expectClose(o.grad, numericGrad(ref, logits), 1e-4);
    });
  }
});
