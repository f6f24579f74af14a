/**
 * TinyBERT's intermediate loss (task_distill.py, not --pred_distill) on a tiny teacher and student, computed here
 * from the models' weights as TinyBERT's modeling.py computes its features, against the loss the training graph of
 * `--intermediate tinybert` gives on a batch with padding:
 *
 *   rep_loss = Σ_m MSE(fit(h_S[m]), h_T[m·N/M]) over m = 0 (the embedding output) .. M,
 *   att_loss = Σ_m MSE(where(s ≤ −100, 0, s)) of the attention scores QKᵀ/√d + mask (before Softmax) of student
 *   layer m and teacher layer m·N/M (here a student of 2 heads against a teacher of 4: the mean over heads on each
 *   side, this tool's choice where TinyBERT needs equal head counts).
 *
 * The embedding output is LayerNorm(word + position + type) from the tables, the scores are computed from that
 * output and the query/key weights, and the last hidden state is checked against the student's logits through its
 * pooler and classifier: what the loss reads is what TinyBERT's model returns, not only what this tool's graph names.
 */
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/index.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { presetMatches } from '../../src/train/intermediate.ts';
import { intermediatePlan, TeacherFeatures } from '../../src/train/teacher-features.ts';
import { createStepper, DEFAULT_TRAIN_SETTINGS } from '../../src/train/trainer.ts';
import { scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { tinyBert } from '../helpers/models.ts';
import { lcg } from '../helpers/feeds.ts';
import type { Batch } from '../../src/train/data.ts';

function floats(m: Model, name: string): Float64Array {
  const t = m.graph.initializers.get(name);
  if (!t) throw new Error(`no initializer ${name}`);
  return Float64Array.from(new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)));
}

/** The weight a named MatMul node multiplies by ([in, out]). */
function matmulWeight(m: Model, node: string): Float64Array {
  const n = m.graph.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no node ${node}`);
  return floats(m, n.inputs[1]!);
}

/** x [rows, k] · w [k, cols] + b. */
function affine(x: Float64Array, w: Float64Array, b: Float64Array | undefined, rows: number, k: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let s = b ? b[c]! : 0;
      for (let i = 0; i < k; i++) s += x[r * k + i]! * w[i * cols + c]!;
      out[r * cols + c] = s;
    }
  return out;
}

/** BertEmbeddings: LayerNorm(word[id] + position[p] + type[t]), eps 1e-12; [batch·seq, hidden]. */
function embeddingOutput(m: Model, batch: Batch, hidden: number): Float64Array {
  const [word, pos, type] = ['word', 'position', 'token_type'].map((t) => floats(m, `bert.embeddings.${t}_embeddings.weight`));
  const [gamma, beta] = ['weight', 'bias'].map((t) => floats(m, `bert.embeddings.LayerNorm.${t}`));
  const out = new Float64Array(batch.size * batch.seq * hidden);
  for (let r = 0; r < batch.size * batch.seq; r++) {
    const id = Number(batch.inputIds[r]);
    const tt = Number(batch.tokenTypeIds[r]);
    const p = r % batch.seq;
    const v = Array.from({ length: hidden }, (_, j) => word![id * hidden + j]! + pos![p * hidden + j]! + type![tt * hidden + j]!);
    const mean = v.reduce((a, x) => a + x, 0) / hidden;
    const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / hidden;
    for (let j = 0; j < hidden; j++) out[r * hidden + j] = ((v[j]! - mean) / Math.sqrt(variance + 1e-12)) * gamma![j]! + beta![j]!;
  }
  return out;
}

/** BertSelfAttention's attention_scores of encoder layer `layer` (0-based) on its input x: QKᵀ/√d + (1 − mask)·(−big). */
function attentionScores(m: Model, layer: number, x: Float64Array, batch: Batch, hidden: number, heads: number): Float64Array {
  const scope = `/bert/encoder/layer.${layer}/attention/self`;
  const rows = batch.size * batch.seq;
  const proj = (what: string) =>
    affine(x, matmulWeight(m, `${scope}/${what}/MatMul`), floats(m, `bert.encoder.layer.${layer}.attention.self.${what}.bias`), rows, hidden, hidden);
  const q = proj('query');
  const k = proj('key');
  const hs = hidden / heads;
  const S = batch.seq;
  const out = new Float64Array(batch.size * heads * S * S);
  for (let b = 0; b < batch.size; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          let s = 0;
          for (let d = 0; d < hs; d++) s += q[(b * S + i) * hidden + h * hs + d]! * k[(b * S + j) * hidden + h * hs + d]!;
          out[((b * heads + h) * S + i) * S + j] = s / Math.sqrt(hs) + (batch.attentionMask[b * S + j] ? 0 : -1e30);
        }
  return out;
}

/** TinyBERT's cleaning of the scores: where(s <= -1e2, 0, s). */
const clean = (x: ArrayLike<number>) => Float64Array.from(x as ArrayLike<number>, (v) => (v <= -100 ? 0 : v));

function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
}

/** [batch, heads, S, S] → [batch, S, S], the mean over heads. */
function headMean(x: ArrayLike<number>, batch: number, heads: number, s: number): Float64Array {
  const out = new Float64Array(batch * s * s);
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < s * s; i++) out[b * s * s + i] += x[(b * heads + h) * s * s + i]! / heads;
  return out;
}

function padded(vocab: number): Batch {
  const r = lcg(5);
  const [size, seq] = [3, 6];
  const lengths = [6, 4, 2];
  return {
    size,
    seq,
    inputIds: BigInt64Array.from({ length: size * seq }, (_, i) => (i % seq < lengths[Math.floor(i / seq)]! ? BigInt(1 + Math.floor(r() * (vocab - 1))) : 0n)),
    attentionMask: BigInt64Array.from({ length: size * seq }, (_, i) => (i % seq < lengths[Math.floor(i / seq)]! ? 1n : 0n)),
    tokenTypeIds: BigInt64Array.from({ length: size * seq }, (_, i) => (i % seq >= 3 && i % seq < lengths[Math.floor(i / seq)]! ? 1n : 0n)),
    labels: Float32Array.from({ length: size }, (_, i) => i % 2),
    indices: Int32Array.from({ length: size }, (_, i) => i),
  };
}

describe("TinyBERT's intermediate loss, features computed from the weights", () => {
  it("the training graph of --intermediate tinybert gives each of TinyBERT's rep_loss and att_loss terms on a padded batch", async () => {
    const [Ht, At, Hs, As] = [32, 4, 16, 2];
    const teacher = tinyBert({ numLayers: 2, hiddenSize: Ht, numHeads: At, intermediateSize: 64, vocabSize: 60, maxPositions: 16 });
    const student = scratchStudent(teacherShape(teacher), `bert:layers=1,hidden=${Hs},heads=${As},intermediate=32`, 1);
    const forward = student.forward(false);
    const plan = intermediatePlan(presetMatches('tinybert', 2, 1), teacher, forward);
    expect(plan.terms.map((t) => t.label.replace(/^\d+\./, ''))).toEqual(['t0s0.embeddings', 't2s1.hidden', 't2s1.attention-scores']);
    const batch = padded(60);
    const rows = batch.size * batch.seq;
    const ids = (a: BigInt64Array) => new Tensor('int64', a, [batch.size, batch.seq]);
    const feeds = { input_ids: ids(batch.inputIds), attention_mask: ids(batch.attentionMask), token_type_ids: ids(batch.tokenTypeIds) };

    // the student: embedding output and layer-1 scores from its weights; its last hidden state by a run, checked
    // against its logits through the pooler (tanh) and the classifier
    const hiddenS = plan.terms[1]!.student;
    const session = await openSession(encodeModel({ ...forward, graph: { ...forward.graph, outputs: [{ name: hiddenS }, { name: 'logits' }] } }));
    const out = await session.run(feeds);
    await session.release();
    const h1 = Float64Array.from(out[hiddenS]!.data as Float32Array);
    const cls = Float64Array.from({ length: batch.size * Hs }, (_, i) => h1[Math.floor(i / Hs) * batch.seq * Hs + (i % Hs)]!);
    const pooled = affine(
      cls,
      transposeOf(floats(forward, 'bert.pooler.dense.weight'), Hs, Hs),
      floats(forward, 'bert.pooler.dense.bias'),
      batch.size,
      Hs,
      Hs,
    ).map(Math.tanh);
    const logits = affine(pooled, transposeOf(floats(forward, 'classifier.weight'), 2, Hs), floats(forward, 'classifier.bias'), batch.size, Hs, 2);
    const gotLogits = out.logits!.data as Float32Array;
    for (let i = 0; i < logits.length; i++) expect(gotLogits[i]).toBeCloseTo(logits[i]!, 4);
    const e0s = embeddingOutput(forward, batch, Hs);
    const a1s = attentionScores(forward, 0, e0s, batch, Hs, As);

    // the teacher: the same from its weights (its layer-2 input, layer 1's output, and its layer-2 output by a run)
    const ts = findBert(teacher);
    const tSession = await openSession(
      encodeModel({ ...teacher, graph: { ...teacher.graph, outputs: [{ name: ts.layers[0]!.output }, { name: ts.layers[1]!.output }] } }),
    );
    const tOut = await tSession.run(feeds);
    await tSession.release();
    const e0t = embeddingOutput(teacher, batch, Ht);
    const h1t = Float64Array.from(tOut[ts.layers[0]!.output]!.data as Float32Array);
    const h2t = Float64Array.from(tOut[ts.layers[1]!.output]!.data as Float32Array);
    const a2t = attentionScores(teacher, 1, h1t, batch, Ht, At);

    // each term's loss in one step before its update, with the projection the step starts from
    const stepLoss = async (i: number): Promise<{ loss: number; projection?: Float64Array }> => {
      const terms = [plan.terms[i]!];
      const requests = plan.requests.filter((r) => r.input === terms[0]!.teacher);
      const features = await TeacherFeatures.open(teacher, requests, 1);
      const stepper = await createStepper({
        student,
        loss: [],
        intermediate: { terms, teacher: features },
        settings: { ...DEFAULT_TRAIN_SETTINGS, dropout: 0, threads: 1 },
      });
      const w = stepper.params.get(`distill.projection.${terms[0]!.label}`);
      const projection = w ? Float64Array.from(w) : undefined;
      try {
        return { loss: await stepper.step(batch, 0, 0), ...(projection ? { projection } : {}) };
      } finally {
        await stepper.release();
        await features.release();
      }
    };
    const close = (got: number, want: number) => expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
    const embeddings = await stepLoss(0);
    close(embeddings.loss, mse(affine(e0s, embeddings.projection!, undefined, rows, Hs, Ht), e0t));
    const hidden = await stepLoss(1);
    close(hidden.loss, mse(affine(h1, hidden.projection!, undefined, rows, Hs, Ht), h2t));
    const attention = await stepLoss(2);
    expect(attention.projection).toBeUndefined();
    close(attention.loss, mse(headMean(clean(a1s), batch.size, As, batch.seq), headMean(clean(a2t), batch.size, At, batch.seq)));
  });
});

/** torch's Linear weight [out, in] as the [in, out] a product by rows takes. */
function transposeOf(w: Float64Array, out: number, inp: number): Float64Array {
  const t = new Float64Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]!;
  return t;
}
