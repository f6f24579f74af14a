/**
 * Gradient head importance (Michel et al. 2019, Eq. 2): I_h = E_x |∂L(x)/∂ξ_h|, where ξ_h is a gate on head h's
 * output (all ones, so the model computes what it always does) and L(x) the task loss of one calibration example.
 *
 * The model is rebuilt as the builder's graph (rebuildCanonical, opset 17), which the gradient engine differentiates;
 * in each layer with attention a Mul by a float initializer `head_mask.<layer>` of ones is inserted after the
 * probs·V MatMul (the context [batch, heads, seq, headSize], before the heads are merged), the task loss is appended
 * (cross-entropy with one-hot calibration labels, or squared error for regression), and buildGradientGraph
 * differentiates with respect to the masks only (the weights stay initializers).
 *
 * Per-example gradients in one batched run: the mask has one row per example, [batch, heads, 1, 1], so row i only
 * gates example i and its gradient is ∂(mean loss)/∂ξ_{i,h} = ∂L(x_i)/∂ξ_h / batch. One gradient graph is built per
 * distinct calibration batch size (usually one or two). `perExample: false` gives Michel's released code's
 * batch-level variant instead: one [1, heads, 1, 1] mask shared by the batch, |mean over the batch of the gradient|
 * per batch, averaged over batches.
 *
 * Refused like the canonical rebuild refuses (quantized weights, no sequence-classification head, layouts the
 * builder cannot write), with its one-line SettingsError.
 */
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { float32Tensor } from '../onnx/tensor.ts';
import { consumers, uniqueName } from '../onnx/analysis.ts';
import { Tensor, type Feeds } from '../runtime/session.ts';
import type { BertStructure } from '../bert/structure.ts';
import { findBert } from '../bert/discover.ts';
import { rebuildCanonical } from '../bert/canonical.ts';
import { appendLoss, buildGradientGraph, goldTargets, probeFeeds } from '../gradients/index.ts';
import type { CalibrationBatch, CalibrationSource, PassContext } from '../pass/pass.ts';
import { batchFeeds, openMeasuringSession, requireCalibration, requireClassifier, requireLabels } from '../pass/measure.ts';
import { SettingsError, counted, quotedText } from '../errors.ts';
import { importanceNeed } from './settings.ts';

export interface GradientImportanceOptions {
  /** Per-example |∂L/∂ξ_h| (Michel's Eq. 2; default), or |∂(batch loss)/∂ξ_h| per batch (his released code). */
  perExample?: boolean;
}

/** Name of the head-mask initializer of a layer. */
export const headMaskName = (layer: number) => `head_mask.${layer}`;

/**
 * A copy of `model` (the builder's graph; `s` its structure) with the context of every layer with attention
 * multiplied by a float initializer `head_mask.<layer>` of ones, [rows, heads, 1, 1]. Returns the mask names and
 * the layer each belongs to.
 */
export function withHeadGates(model: Model, s: BertStructure, rows: number): { model: Model; masks: string[]; layers: number[] } {
  const m = cloneModel(model);
  const g = m.graph;
  const readers = consumers(g);
  const masks: string[] = [];
  const layers: number[] = [];
  for (const layer of s.layers) {
    const a = layer.attention;
    if (!a) continue;
    const softmax = g.nodes.find((n) => n.name === a.softmax);
    const matmul = softmax && (readers.get(softmax.outputs[0]) ?? []).find((n) => n.opType === 'MatMul' && n.inputs[0] === softmax.outputs[0]);
    if (!matmul) throw new Error(`gradient importance: layer ${layer.index} has no probs·V MatMul after its Softmax`);
    const context = matmul.outputs[0];
    const name = headMaskName(layer.index);
    if (g.initializers.has(name)) throw new Error(`gradient importance: the graph already has ${quotedText(name)}`);
    g.initializers.set(name, float32Tensor(name, [rows, a.numHeads, 1, 1], new Float32Array(rows * a.numHeads).fill(1)));
    const gated = uniqueName(g, `${context}_head_gated`);
    for (const r of readers.get(context) ?? []) r.inputs = r.inputs.map((x) => (x === context ? gated : x));
    g.nodes.splice(g.nodes.indexOf(matmul) + 1, 0, {
      name: uniqueName(g, `HeadGate_${layer.index}`),
      opType: 'Mul',
      domain: '',
      inputs: [context, name],
      outputs: [gated],
      attributes: {},
    });
    masks.push(name);
    layers.push(layer.index);
  }
  return { model: m, masks, layers };
}

/**
 * Throws a SettingsError unless the model ends in a sequence classifier (a loss-based importance reads its class
 * scores), nor where `calibration` says its config.json names another head (requireClassifier).
 */
export function requireSequenceClassifier(
  model: Model,
  s: BertStructure,
  importance: 'ablation' | 'gradient',
  calibration: CalibrationSource | undefined,
): void {
  requireClassifier(model, s, 'prune-heads', importanceNeed(importance)!, calibration);
}

/**
 * Whether the calibration data are regression scores (else class labels); a SettingsError when they are scores and
 * the model's head (`numLabels` outputs) is not a regressor (the loss would compare scores with class logits), or
 * when a class label is not one of the model's outputs (another task's labels: the loss would read no logit, NaN).
 */
export function checkCalibrationFits(calibration: CalibrationSource, numLabels: number | undefined): boolean {
  const regression = !!calibration.batches[0]?.regression;
  if (regression && numLabels !== undefined && numLabels !== 1) {
    throw new SettingsError(`prune-heads: regression calibration data for a model with ${numLabels} outputs`);
  }
  if (!regression && numLabels !== undefined) {
    for (const b of calibration.batches)
      for (const k of b.labels)
        if (!Number.isNaN(k) && !(Number.isInteger(k) && k >= 0 && k < numLabels))
          throw new SettingsError(`prune-heads: calibration label ${k} is not one of the model's ${numLabels} outputs`);
  }
  return regression;
}

/** Gradient importance per layer [layer][head] of `model` (structure `s`), on ctx.calibration. */
export async function gradientScores(model: Model, s: BertStructure, ctx: PassContext, opts: GradientImportanceOptions = {}): Promise<number[][]> {
  requireSequenceClassifier(model, s, 'gradient', ctx.calibration);
  const calibration = requireCalibration(ctx.calibration, 'prune-heads', 'gradient importance');
  requireLabels(calibration, 'prune-heads', 'gradient importance'); // (with target predictions, the predictions are the labels)
  const perExample = opts.perExample ?? true;
  const canonical = rebuildCanonical(model, { opset: 17, structure: s });
  const cs = findBert(canonical);
  for (const l of s.layers) {
    if ((cs.layers[l.index]?.attention?.numHeads ?? 0) !== (l.attention?.numHeads ?? 0)) {
      throw new Error(`gradient importance: the canonical rebuild of layer ${l.index} has different heads`);
    }
  }
  const logits = cs.head!.outputs[0];
  const numLabels = cs.head!.numLabels;
  const regression = checkCalibrationFits(calibration, numLabels);

  /** The gradient graph for masks of `rows` rows. */
  const graphFor = async (rows: number) => {
    const gated = withHeadGates(canonical, cs, rows);
    const withLoss = appendLoss(gated.model, logits, numLabels, [{ kind: regression ? 'score-mse' : 'hard-ce', weight: 1 }]);
    // Per example the batch is the mask's rows; a shared mask broadcasts over a batch of any size (the default probe).
    const gg = await buildGradientGraph(withLoss.model, {
      loss: withLoss.loss,
      parameters: gated.masks,
      probeFeeds: perExample ? probeFeeds(withLoss.model.graph.inputs, { batch_size: rows }) : undefined,
    });
    return { gg, masks: gated.masks, layers: gated.layers };
  };

  const sums = s.layers.map((l) => new Float64Array(l.attention?.numHeads ?? 0));
  let count = 0;
  const targetsOf = (b: CalibrationBatch): Feeds => {
    try {
      return goldTargets(b.labels, numLabels, b.regression);
    } catch (e) {
      throw new SettingsError(`prune-heads: calibration ${(e as Error).message}`);
    }
  };

  // Batches grouped by the rows of their mask, so that one session is open at a time.
  const bySize = new Map<number, CalibrationBatch[]>();
  for (const b of calibration.batches) {
    if (b.regression !== regression) throw new SettingsError('prune-heads: calibration batches mix classification and regression');
    const rows = perExample ? b.batch : 1;
    bySize.set(rows, [...(bySize.get(rows) ?? []), b]);
  }
  for (const [rows, batches] of bySize) {
    const { gg, masks, layers } = await graphFor(rows);
    const session = await openMeasuringSession(gg.model, ctx);
    try {
      const ones = Object.fromEntries(
        masks.map((name) => {
          const dims = gg.parameterInfo.get(name)!.dims;
          return [name, new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(1), dims)];
        }),
      );
      const wanted = masks.map((name) => gg.dense.get(name));
      for (const b of batches) {
        const out = await session.run(
          { ...batchFeeds(canonical, cs, b), ...targetsOf(b), ...ones },
          wanted.filter((w): w is string => !!w),
        );
        layers.forEach((l, mi) => {
          const grad = wanted[mi] ? (out[wanted[mi]!].data as Float32Array) : undefined;
          const heads = sums[l].length;
          if (!grad) return; // the loss does not depend on this layer's heads: zero gradient
          // The loss is the batch mean: row r's gradient is ∂L(x_r)/∂ξ / batch (per example), the shared mask's is the
          // mean over the batch of ∂L(x)/∂ξ (batch-level, weighted by the batch size). Either way: |grad| · batch.
          for (let r = 0; r < rows; r++) for (let h = 0; h < heads; h++) sums[l][h] += Math.abs(grad[r * heads + h] * b.batch);
        });
        count += b.batch;
      }
    } finally {
      await session.release();
    }
    ctx.log?.(`prune-heads: gradient importance of ${counted(batches.length, 'batch', 'batches')} of ${rows === 1 && !perExample ? 'any size' : rows} done`);
  }
  return sums.map((row) => Array.from(row, (v) => v / Math.max(1, count)));
}
